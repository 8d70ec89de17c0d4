// The board: newest messages first, "Older messages" paging, refresh, posting in a
// dialog and deleting one's own messages. Message text only ever goes in as text.

import { busy, byId, characterCount, el, say } from "./dom.js";
import { SessionEnded, authed, currentUser } from "./session.js";
import { fullTime, relativeTime, updateRelativeTimes } from "./time.js";

const PAGE_SIZE = 20;
export const CONTENT_MAX = 1000;
const number = new Intl.NumberFormat();

const ui = {
  title: byId("board-title"),
  list: byId("messages"),
  error: byId("board-error"),
  loading: byId("board-loading"),
  empty: byId("board-empty"),
  older: byId("older"),
  end: byId("board-end"),
  refresh: byId("refresh"),
  compose: byId("new-message"),
  status: byId("status"),
  postDialog: byId("post-dialog"),
  postForm: byId("post-form"),
  postContent: byId("post-content"),
  postCount: byId("post-count"),
  postLimit: byId("post-limit"),
  postError: byId("post-error"),
  postSubmit: byId("post-submit"),
  postCancel: byId("post-cancel"),
  deleteDialog: byId("delete-dialog"),
  deletePreview: byId("delete-preview"),
  deleteError: byId("delete-error"),
  deleteConfirm: byId("delete-confirm"),
  deleteCancel: byId("delete-cancel"),
};

const state = {
  owner: null, // whose board is shown
  draftOwner: null, // whose unsent text is in the post dialog
  shown: new Set(), // ids of the messages on the page
  nextCursor: null,
  loaded: false,
  loading: false,
  posting: false,
  deleting: null, // { message, item } while the delete dialog is open
};

/** Errors of a board action: the session's end is handled elsewhere; others are shown. */
function report(region, error) {
  if (error instanceof SessionEnded) return;
  say(region, error.message || String(error));
}

// ---- reading -------------------------------------------------------------

/** Show the board for the signed-in person; loads the first page unless already shown. */
export function showBoard({ reload = false } = {}) {
  const username = currentUser();
  if (state.owner !== username) {
    reset({ keepDraft: state.draftOwner === username });
    state.owner = username;
    state.draftOwner = username;
  }
  if (reload || !state.loaded) loadFirstPage();
}

/**
 * Forget everything shown (on logout, or when the session ends). keepDraft keeps
 * the unsent text for its writer, should they log in again (not for anyone else).
 */
export function reset({ keepDraft = false } = {}) {
  state.owner = null;
  state.shown.clear();
  state.nextCursor = null;
  state.loaded = false;
  ui.list.replaceChildren();
  if (!keepDraft) {
    ui.postContent.value = "";
    state.draftOwner = null;
  }
  updateCounter();
  say(ui.postError, "");
  say(ui.error, "");
  ui.empty.hidden = true;
  ui.older.hidden = true;
  ui.end.hidden = true;
  if (ui.postDialog.open) ui.postDialog.close();
  if (ui.deleteDialog.open) ui.deleteDialog.close();
}

async function loadFirstPage() {
  if (state.loading) return;
  await loadPage(null, ui.refresh, "Refreshing…");
}

async function loadOlder() {
  if (state.loading || !state.nextCursor) return;
  await loadPage(state.nextCursor, ui.older, "Loading older messages…");
}

async function loadPage(cursor, button, busyLabel) {
  state.loading = true;
  const owner = state.owner;
  say(ui.error, "");
  ui.list.setAttribute("aria-busy", "true");
  ui.loading.hidden = false;
  const done = busy(button, busyLabel);
  try {
    const page = await authed("GET", "/messages", { query: { limit: PAGE_SIZE, cursor } });
    if (state.owner !== owner) return; // signed out or someone else signed in meanwhile
    if (!cursor) {
      ui.list.replaceChildren();
      state.shown.clear();
    }
    for (const message of page.messages) appendMessage(message);
    state.nextCursor = page.next_cursor ?? null;
    state.loaded = true;
    if (!cursor) say(ui.status, "Board up to date.");
  } catch (error) {
    report(ui.error, error);
  } finally {
    done();
    state.loading = false;
    ui.loading.hidden = true;
    ui.list.removeAttribute("aria-busy");
    updateEnds();
  }
}

function updateEnds() {
  const count = state.shown.size;
  ui.empty.hidden = !(state.loaded && count === 0);
  ui.older.hidden = !state.nextCursor;
  ui.end.hidden = !(state.loaded && count > 0 && !state.nextCursor);
}

function appendMessage(message) {
  if (state.shown.has(message.id)) return; // never show a message twice
  state.shown.add(message.id);
  ui.list.append(messageItem(message));
}

function prependMessage(message) {
  if (state.shown.has(message.id)) return;
  state.shown.add(message.id);
  ui.list.prepend(messageItem(message));
}

function messageItem(message) {
  const created = new Date(message.created_at);
  const mine = message.username === currentUser();
  const time = el("time", {
    text: relativeTime(created),
    attrs: { datetime: message.created_at, title: fullTime(created) },
    dataset: { relative: "" },
  });
  const meta = el(
    "p",
    { className: "meta" },
    el("span", { className: "author", text: message.username }),
    mine ? el("span", { className: "you", text: "(you)" }) : null,
    el("span", { className: "dot", text: "·", attrs: { "aria-hidden": "true" } }),
    time,
  );
  const item = el(
    "li",
    { className: mine ? "message mine" : "message", dataset: { id: message.id } },
    meta,
    el("p", { className: "content", text: message.content }),
  );
  if (mine) {
    item.append(
      el("button", {
        className: "delete quiet",
        text: "Delete",
        attrs: { type: "button", "aria-label": `Delete your message: ${excerpt(message.content)}` },
        on: { click: () => askToDelete(message, item) },
      }),
    );
  }
  return item;
}

function excerpt(text, length = 60) {
  const characters = Array.from(text.replace(/\s+/g, " ").trim());
  return characters.length > length ? `${characters.slice(0, length).join("")}…` : characters.join("");
}

// ---- posting -------------------------------------------------------------

function openPostDialog() {
  say(ui.postError, "");
  updateCounter();
  ui.postDialog.showModal();
  ui.postContent.focus();
}

function closePostDialog() {
  if (state.posting) return; // stays open until the post is answered
  ui.postDialog.close();
}

function updateCounter() {
  const count = characterCount(ui.postContent.value.trim());
  const over = count > CONTENT_MAX;
  ui.postCount.textContent = `${number.format(count)} / ${number.format(CONTENT_MAX)}`;
  ui.postCount.classList.toggle("over", over);
  // Announced once when the limit is crossed, not on every keystroke.
  const limitMessage = over ? `${number.format(count - CONTENT_MAX)} characters over the limit` : "";
  if (ui.postLimit.textContent !== limitMessage) ui.postLimit.textContent = limitMessage;
  ui.postContent.setAttribute("aria-invalid", over ? "true" : "false");
}

async function submitPost(event) {
  event.preventDefault();
  if (state.posting) return;
  state.posting = true;
  say(ui.postError, "");
  ui.postForm.setAttribute("aria-busy", "true");
  ui.postCancel.disabled = true;
  const done = busy(ui.postSubmit, "Posting…");
  try {
    // The server trims and checks the length; its message is shown if it refuses.
    const message = await authed("POST", "/messages", { body: { content: ui.postContent.value } });
    state.posting = false;
    ui.postContent.value = "";
    updateCounter();
    ui.postDialog.close();
    prependMessage(message);
    state.loaded = true;
    updateEnds();
    say(ui.status, "Message posted.");
  } catch (error) {
    report(ui.postError, error);
    if (!(error instanceof SessionEnded)) ui.postContent.focus();
  } finally {
    state.posting = false;
    done();
    ui.postCancel.disabled = false;
    ui.postForm.removeAttribute("aria-busy");
  }
}

// ---- deleting ------------------------------------------------------------

function askToDelete(message, item) {
  state.deleting = { message, item };
  ui.deletePreview.textContent = excerpt(message.content, 200);
  say(ui.deleteError, "");
  ui.deleteDialog.showModal();
  ui.deleteCancel.focus(); // the safe choice first
}

async function confirmDelete() {
  const target = state.deleting;
  if (!target || ui.deleteConfirm.disabled) return;
  say(ui.deleteError, "");
  ui.deleteCancel.disabled = true;
  const done = busy(ui.deleteConfirm, "Deleting…");
  let removed = false;
  try {
    await authed("DELETE", `/messages/${encodeURIComponent(target.message.id)}`);
    removed = true;
    say(ui.status, "Message deleted.");
  } catch (error) {
    if (error.status === 404) {
      removed = true;
      say(ui.status, "That message had already been deleted.");
    } else {
      report(ui.deleteError, error);
    }
  } finally {
    done();
    ui.deleteCancel.disabled = false;
  }
  if (removed) {
    const next = target.item.nextElementSibling ?? target.item.previousElementSibling;
    target.item.remove();
    state.shown.delete(target.message.id);
    state.deleting = null;
    ui.deleteDialog.close();
    updateEnds();
    // Focus goes to a neighbouring message's delete button, or the board's heading.
    (next?.querySelector("button.delete") ?? ui.title).focus();
  }
}

function cancelDelete() {
  if (ui.deleteConfirm.getAttribute("aria-busy")) return;
  ui.deleteDialog.close();
}

// ---- wiring --------------------------------------------------------------

// A dialog's "close" event arrives as a later task, after the person may already
// have pressed Tab: move focus only if it is still nowhere (body) or in the dialog.
function returnFocus(dialog, element) {
  const active = document.activeElement;
  if (!active || active === document.body || dialog.contains(active)) element?.focus();
}

ui.refresh.addEventListener("click", () => loadFirstPage());
ui.older.addEventListener("click", () => loadOlder());
ui.compose.addEventListener("click", openPostDialog);
ui.postContent.addEventListener("input", updateCounter);
ui.postForm.addEventListener("submit", submitPost);
ui.postCancel.addEventListener("click", closePostDialog);
ui.postDialog.addEventListener("cancel", (event) => {
  if (state.posting) event.preventDefault(); // Escape waits for the answer too
});
ui.postDialog.addEventListener("close", () => returnFocus(ui.postDialog, ui.compose));
ui.deleteConfirm.addEventListener("click", confirmDelete);
ui.deleteCancel.addEventListener("click", cancelDelete);
ui.deleteDialog.addEventListener("cancel", (event) => {
  if (ui.deleteConfirm.getAttribute("aria-busy")) event.preventDefault();
});
ui.deleteDialog.addEventListener("close", () => {
  const target = state.deleting;
  state.deleting = null;
  // Cancelled: back to the message's own delete button.
  if (target?.item.isConnected) {
    returnFocus(ui.deleteDialog, target.item.querySelector("button.delete"));
  }
});
setInterval(() => updateRelativeTimes(ui.list), 30_000);
