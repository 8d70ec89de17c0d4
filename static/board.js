// The board: newest messages first, new ones arriving by themselves (see live.js),
// "Older messages" paging, Refresh, posting in a dialog and deleting one's own
// messages. Message text only ever goes in as text (see feed.js).

import { ApiError, waitText } from "./api.js";
import { busy, byId, characterCount, el, say } from "./dom.js";
import { collapseLong, excerpt, messageItem, regroup } from "./feed.js";
import { askNewer, createPoller } from "./live.js";
import { CONTENT_MAX } from "./rules.js";
import { SessionEnded, authed, currentUser } from "./session.js";
import { updateRelativeTimes } from "./time.js";

const PAGE_SIZE = 20;
const TIME_TICK_MS = 30_000;
const number = new Intl.NumberFormat();

let ui = null; // the board's elements, looked up by init()
let poller = null;

const state = {
  owner: null, // whose board is shown
  draftOwner: null, // whose unsent text is in the post dialog
  shown: new Set(), // ids of the messages on the page or waiting behind the pill
  newestId: null, // ids sort by creation time: the newest one seen
  pending: [], // new messages held while the reader is scrolled down, newest first
  nextCursor: null,
  loaded: false,
  // What is in flight: at most one of each, and the handlers check these (one place).
  loading: null, // "first" or "older" while a page loads
  posting: false,
  deleting: null, // { message, item, busy } while the delete dialog is open
  opener: null, // the button that opened the post dialog
};

/** Errors of a board action: the session's end is handled elsewhere; others are shown. */
function report(region, error) {
  if (error instanceof SessionEnded) return;
  say(region, error instanceof Error ? error.message : String(error));
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
  poller.start();
}

/** The board is off screen: stop asking for new messages. */
export function leaveBoard() {
  poller?.stop();
}

/**
 * Forget everything shown (on logout, or when the session ends). keepDraft keeps
 * the unsent text for its writer, should they log in again (not for anyone else).
 */
export function reset({ keepDraft = false } = {}) {
  poller.stop();
  state.owner = null;
  state.shown.clear();
  state.newestId = null;
  state.pending = [];
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
  say(ui.olderError, "");
  updatePill();
  ui.empty.hidden = true;
  ui.older.hidden = true;
  ui.end.hidden = true;
  if (ui.postDialog.open) ui.postDialog.close();
  if (ui.deleteDialog.open) ui.deleteDialog.close();
}

async function loadFirstPage() {
  if (state.loading) return;
  await loadPage(null);
}

async function loadOlder() {
  if (state.loading || !state.nextCursor) return;
  await loadPage(state.nextCursor);
}

async function loadPage(cursor) {
  state.loading = cursor ? "older" : "first";
  const owner = state.owner;
  const button = cursor ? ui.older : ui.refresh;
  const region = cursor ? ui.olderError : ui.error;
  say(ui.error, "");
  say(ui.olderError, "");
  ui.list.setAttribute("aria-busy", "true");
  ui.loading.hidden = Boolean(cursor) || state.loaded;
  const done = busy(button, cursor ? "Loading older messages…" : "Refreshing…");
  let added = [];
  try {
    if (!cursor) await poller.settled(); // a check in flight would add to the old list
    const page = await authed("GET", "/messages", { query: { limit: PAGE_SIZE, cursor } });
    if (state.owner !== owner) return; // signed out or someone else signed in meanwhile
    if (!cursor) {
      const hadFocus = ui.list.contains(document.activeElement);
      ui.list.replaceChildren();
      state.shown.clear();
      state.pending = [];
      state.newestId = null;
      if (hadFocus) ui.list.focus();
    }
    added = page.messages.map(appendMessage).filter(Boolean);
    noteNewest(page.messages);
    state.nextCursor = page.next_cursor ?? null;
    state.loaded = true;
    if (!cursor) say(ui.status, "Board up to date.");
  } catch (error) {
    report(region, error);
  } finally {
    done();
    state.loading = null;
    ui.loading.hidden = true;
    ui.list.removeAttribute("aria-busy");
    updateEnds();
    updatePill();
    regroup(ui.list);
    collapseLong(added);
  }
  // "Older messages" is gone after the last page: go on reading at the first new row.
  if (cursor && ui.older.hidden && document.activeElement === ui.older) {
    (added[0] ?? ui.title).focus();
  }
}

/** Messages newer than the newest shown, asked for every few seconds by the poller. */
async function checkForNew() {
  if (!state.loaded || state.loading) return;
  const owner = state.owner;
  let page;
  try {
    page = await askNewer({ limit: PAGE_SIZE, since: state.newestId ?? undefined });
  } catch (error) {
    if (error instanceof SessionEnded) {
      poller.stop();
      return;
    }
    throw error; // the poller backs off
  }
  if (state.owner !== owner || state.loading) return;
  if (page.gap) {
    // More arrived than one answer holds: start again from the top, once this check is over.
    setTimeout(() => loadFirstPage(), 0);
    return;
  }
  const fresh = page.messages.filter((message) => !state.shown.has(message.id));
  noteNewest(fresh);
  for (const message of fresh) state.shown.add(message.id);
  updateRelativeTimes(ui.list);
  if (!fresh.length) return;
  state.pending = [...fresh, ...state.pending];
  if (readerAtTop()) showPending();
  else {
    updatePill();
    say(ui.status, pillText(state.pending.length));
  }
}

function readerAtTop() {
  return ui.list.getBoundingClientRect().top >= 0;
}

/** Put the held new messages at the top of the list. */
function showPending() {
  const messages = state.pending;
  state.pending = [];
  const items = messages.map(itemFor);
  ui.list.prepend(...items);
  regroup(ui.list);
  collapseLong(items);
  updateEnds();
  updatePill();
  if (items.length) say(ui.status, pillText(items.length));
  return items;
}

function pillText(count) {
  return count === 1 ? "1 new message" : `${number.format(count)} new messages`;
}

function updatePill() {
  const count = state.pending.length;
  ui.pill.hidden = count === 0;
  ui.pill.replaceChildren(el("span", { text: "↑", attrs: { "aria-hidden": "true" } }), pillText(count));
}

function showNewFromPill() {
  const items = showPending();
  ui.list.scrollIntoView({ block: "start" });
  window.scrollTo({ top: 0 });
  (items[0] ?? ui.list).focus({ preventScroll: true });
}

function noteNewest(messages) {
  for (const message of messages) {
    if (state.newestId === null || message.id > state.newestId) state.newestId = message.id;
  }
}

function updateEnds() {
  const count = ui.list.children.length;
  ui.empty.hidden = !(state.loaded && count === 0);
  ui.older.hidden = !state.nextCursor;
  ui.end.hidden = !(state.loaded && count > 0 && !state.nextCursor);
}

function itemFor(message) {
  const mine = message.username === currentUser();
  return messageItem(message, { mine, onDelete: askToDelete });
}

/** Add a message at the bottom; returns its row, or null if it is already shown. */
function appendMessage(message) {
  if (state.shown.has(message.id)) return null; // never show a message twice
  state.shown.add(message.id);
  const item = itemFor(message);
  ui.list.append(item);
  return item;
}

// ---- posting -------------------------------------------------------------

function openPostDialog(event) {
  state.opener = event?.currentTarget ?? ui.compose;
  say(ui.postError, "");
  updateCounter();
  ui.postDialog.showModal();
  ui.postContent.focus();
}

function closePostDialog() {
  if (state.posting) return; // stays open until the post is answered
  ui.postDialog.close();
}

function postable() {
  const count = characterCount(ui.postContent.value.trim());
  return count > 0 && count <= CONTENT_MAX;
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
  ui.postSubmit.disabled = !postable();
}

function postError(error) {
  if (error instanceof ApiError && error.status === 429) {
    const wait = error.retryAfter ? `in ${waitText(error.retryAfter)}` : "in a minute";
    return `You are posting faster than the board allows. Your message is kept here: post it ${wait}.`;
  }
  return error.message;
}

async function submitPost(event) {
  event.preventDefault();
  if (state.posting || !postable()) return;
  state.posting = true;
  say(ui.postError, "");
  ui.postForm.setAttribute("aria-busy", "true");
  ui.postCancel.disabled = true;
  const done = busy(ui.postSubmit, "Posting…");
  try {
    // The server trims and checks the length too.
    const message = await authed("POST", "/messages", { body: { content: ui.postContent.value } });
    state.posting = false;
    ui.postContent.value = "";
    updateCounter();
    ui.postDialog.close();
    if (!state.shown.has(message.id)) {
      state.shown.add(message.id);
      state.pending.unshift(message);
    }
    noteNewest([message]);
    showPending();
    state.loaded = true;
    updateEnds();
    say(ui.status, "Message posted.");
  } catch (error) {
    if (error instanceof SessionEnded) return;
    say(ui.postError, postError(error));
    ui.postContent.focus();
  } finally {
    state.posting = false;
    done();
    ui.postCancel.disabled = false;
    ui.postForm.removeAttribute("aria-busy");
    if (ui.postDialog.open) updateCounter();
  }
}

function postOnCtrlEnter(event) {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    if (!state.posting && postable()) ui.postForm.requestSubmit();
  }
}

// ---- deleting ------------------------------------------------------------

function askToDelete(message, item) {
  state.deleting = { message, item, busy: false };
  ui.deletePreview.textContent = excerpt(message.content, 200);
  say(ui.deleteError, "");
  ui.deleteDialog.showModal();
  ui.deleteCancel.focus(); // the safe choice first
}

async function confirmDelete() {
  const target = state.deleting;
  if (!target || target.busy) return;
  target.busy = true;
  say(ui.deleteError, "");
  ui.deleteCancel.disabled = true;
  const done = busy(ui.deleteConfirm, "Deleting…");
  let removed = false;
  try {
    await authed("DELETE", `/messages/${encodeURIComponent(target.message.id)}`);
    removed = true;
    say(ui.status, "Message deleted.");
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      removed = true;
      say(ui.status, "That message had already been deleted.");
    } else {
      report(ui.deleteError, error);
    }
  } finally {
    done();
    target.busy = false;
    ui.deleteCancel.disabled = false;
  }
  if (removed) {
    const next = target.item.nextElementSibling ?? target.item.previousElementSibling;
    target.item.remove();
    state.shown.delete(target.message.id);
    state.deleting = null;
    ui.deleteDialog.close();
    regroup(ui.list);
    updateEnds();
    // Focus goes to a neighbouring message's delete button, or the board's heading.
    (next?.querySelector("button.delete") ?? ui.title).focus();
  }
}

function cancelDelete() {
  if (state.deleting?.busy) return;
  ui.deleteDialog.close();
}

// ---- wiring --------------------------------------------------------------

// A dialog's "close" event arrives as a later task, after the person may already
// have pressed Tab: move focus only if it is still nowhere (body, or an element just
// hidden, such as the empty board's button once there is a message) or in the dialog.
function returnFocus(dialog, element) {
  const active = document.activeElement;
  const nowhere = !active || active === document.body || !active.checkVisibility();
  if (nowhere || dialog.contains(active)) element?.focus();
}

/** Look up the board's elements and wire them; main.js calls this once. */
export function init() {
  ui = {
    title: byId("board-title"),
    list: byId("messages"),
    error: byId("board-error"),
    loading: byId("board-loading"),
    empty: byId("board-empty"),
    firstMessage: byId("first-message"),
    older: byId("older"),
    olderError: byId("older-error"),
    end: byId("board-end"),
    refresh: byId("refresh"),
    compose: byId("new-message"),
    pill: byId("new-pill"),
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
  poller = createPoller(checkForNew);
  ui.refresh.addEventListener("click", () => loadFirstPage());
  ui.older.addEventListener("click", () => loadOlder());
  ui.pill.addEventListener("click", showNewFromPill);
  ui.compose.addEventListener("click", openPostDialog);
  ui.firstMessage.addEventListener("click", openPostDialog);
  ui.postContent.addEventListener("input", updateCounter);
  ui.postContent.addEventListener("keydown", postOnCtrlEnter);
  ui.postForm.addEventListener("submit", submitPost);
  ui.postCancel.addEventListener("click", closePostDialog);
  ui.postDialog.addEventListener("cancel", (event) => {
    if (state.posting) event.preventDefault(); // Escape waits for the answer too
  });
  ui.postDialog.addEventListener("close", () => {
    const opener = state.opener?.checkVisibility?.() ? state.opener : ui.compose;
    returnFocus(ui.postDialog, opener);
  });
  ui.deleteConfirm.addEventListener("click", confirmDelete);
  ui.deleteCancel.addEventListener("click", cancelDelete);
  ui.deleteDialog.addEventListener("cancel", (event) => {
    if (state.deleting?.busy) event.preventDefault();
  });
  ui.deleteDialog.addEventListener("close", () => {
    const target = state.deleting;
    state.deleting = null;
    // Cancelled: back to the message's own delete button.
    if (target?.item.isConnected) {
      returnFocus(ui.deleteDialog, target.item.querySelector("button.delete"));
    }
  });
  window.addEventListener(
    "scroll",
    () => {
      if (state.pending.length && readerAtTop()) showPending();
    },
    { passive: true },
  );
  setInterval(() => updateRelativeTimes(ui.list), TIME_TICK_MS);
}
