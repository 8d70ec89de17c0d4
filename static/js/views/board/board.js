// The board, read as a chat (as Slack and Discord are): the oldest message at the top,
// the newest at the bottom just above the composer docked there (composer.js), in
// groups by author (see feed.js); the view opens at the newest. New ones arrive by
// themselves at the bottom (see live.js); "Older messages" at the top loads the page
// before; Refresh; deleting one's own messages. Message text only ever goes in as text
// (see feed.js).

import { run } from "../../lib/action.js";
import { ApiError } from "../../lib/api.js";
import { byId, el, flash, say } from "../../lib/dom.js";
import { askNewer, createPoller } from "../../lib/live.js";
import { stampTime } from "../../lib/time.js";
import { SessionEnded, authed, currentUser } from "../../lib/session.js";
import * as composer from "./composer.js";
import {
  collapseLong, excerpt, keepOneTabStop, layout, makeActive, messageItem, messageRows,
  removeRows, updateTimes, wireKeys,
} from "./feed.js";
import { updatePeople } from "./people.js";

const PAGE_SIZE = 20;
const TIME_TICK_MS = 30_000;
const ROW_SLACK = 64; // px: about a row; this near the composer is "at the bottom"
const number = new Intl.NumberFormat();
const UNREACHABLE_NOTE = "unreachable"; // the connection state says it, once, for the page

let ui = null; // the board's elements, looked up by init()
let pinned = true; // the reader was at the newest when the page last scrolled
let poller = null;

const state = {
  owner: null, // whose board is shown
  shown: new Set(), // ids of the messages on the page or waiting behind the pill
  newestId: null, // ids sort by creation time: the newest one seen
  pending: [], // new messages held while the reader is scrolled up, newest first
  wholeNext: false, // something was new: the next check reads the newest page (see checkForNew)
  nextCursor: null,
  loaded: false,
  // What is in flight: at most one of each, and the handlers check these (one place).
  loading: null, // "first" or "older" while a page loads
  deleting: null, // { message, item, opener } while the delete dialog is open
  acting: null, // { message, item, opener } while a message's actions sheet is open
};

/**
 * A failed board request, as run() explains it: being offline is said once by the
 * page's connection state (which clears itself), not left behind in a red box.
 */
function explain(error) {
  if (error instanceof ApiError && error.unreachable) {
    state.failedOffline = true;
    return "";
  }
  return error.message;
}

/** "Older messages" failing is said beside the button pressed, where the person looks. */
function explainOlder(error) {
  if (error instanceof ApiError && error.unreachable) state.failedOffline = true;
  return error.message;
}

// ---- reading -------------------------------------------------------------

/** Show the board for the signed-in person; loads the first page unless already shown. */
export function showBoard({ reload = false } = {}) {
  const username = currentUser();
  if (state.owner !== username) {
    reset({ keepDraft: true });
    state.owner = username;
    composer.restoreDraft();
  }
  if (reload || !state.loaded) loadFirstPage();
  poller.start();
}

/** Where "Skip to content" lands: the feed's tab stop, or the composer on an empty board. */
export function skipTarget() {
  return ui.list.querySelector('li[tabindex="0"]') ?? byId("post-content");
}

/** The board is off screen: stop asking for new messages. */
export function leaveBoard() {
  poller?.stop();
}

/**
 * Forget everything shown (on sign-out, or when the session ends). keepDraft keeps
 * the unsent text for its writer, should they sign in again (not for anyone else).
 */
export function reset({ keepDraft = false } = {}) {
  poller.stop();
  state.owner = null;
  state.shown.clear();
  state.newestId = null;
  state.pending = [];
  state.wholeNext = false;
  state.nextCursor = null;
  state.loaded = false;
  ui.list.replaceChildren();
  composer.clear(); // the stored draft stays for its writer unless they signed out
  say(ui.error, "");
  say(ui.olderError, "");
  updatePill();
  ui.empty.hidden = true;
  ui.older.hidden = true;
  ui.end.hidden = true;
  updatePeople(ui.people, ui.list, { loaded: false }); // hidden, the last person's list cleared
  if (ui.deleteDialog.open) ui.deleteDialog.close();
  if (ui.actionsDialog.open) ui.actionsDialog.close();
  void keepDraft; // the draft is kept in storage by session.js, which sign-out clears
}

/** The connection came back (lib/connection.js): load what could not be loaded meanwhile. */
export function reconnected() {
  if (!state.owner) return;
  if (state.failedOffline) {
    state.failedOffline = false;
    say(ui.olderError, "");
  }
  if (!state.loaded) loadFirstPage();
  else poller.now(); // what was written meanwhile, now rather than after the back-off
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
  // Older rows go in above: whatever "Older messages" shows then (the button, or the
  // board's start after the last page) stays where the reader saw the button.
  const olderTop = cursor ? ui.older.getBoundingClientRect().top : 0;
  let added = [];
  let arrived = false; // the page came (not failed, nor meant for someone else)
  await run(button, cursor ? "Loading…" : "Refreshing…", async () => {
    if (!cursor) await poller.settled(); // a check in flight would add to the old list
    const page = await authed("GET", "/messages", { query: { limit: PAGE_SIZE, cursor } });
    if (state.owner !== owner) return; // signed out or someone else signed in meanwhile
    if (!cursor) {
      const hadFocus = ui.list.contains(document.activeElement);
      ui.list.replaceChildren();
      state.shown.clear();
      state.pending = [];
      state.newestId = null;
      if (hadFocus) ui.title.focus();
    }
    added = page.messages.map(appendMessage).filter(Boolean);
    noteNewest(page.messages);
    state.nextCursor = page.next_cursor ?? null;
    state.loaded = true;
    arrived = true;
    if (!cursor) say(ui.status, "Board up to date.");
  }, { errorRegion: region, explain: cursor ? explainOlder : explain });
  // Asked before "Older messages" may hide: a hidden button loses focus at the next layout.
  const olderFocused = Boolean(cursor) && document.activeElement === ui.older;
  state.loading = null;
  ui.loading.hidden = true;
  ui.list.removeAttribute("aria-busy");
  layout(ui.list);
  updateEnds();
  updatePill();
  keepOneTabStop(ui.list);
  collapseLong(added);
  if (arrived && cursor) {
    const top = (ui.older.hidden ? ui.end : ui.older).getBoundingClientRect().top;
    window.scrollBy({ top: top - olderTop, behavior: "instant" });
    pinned = false; // reading back from the older page: the list growing keeps this view
  } else if (arrived) {
    toBottom(); // the newest message, just above the composer
  }
  // "Older messages" is gone after the last page: go on reading at the first new row,
  // just below where the button was (the top of the board).
  if (olderFocused && ui.older.hidden) {
    const first = firstShown(added);
    if (first) makeActive(ui.list, first);
    (first ?? ui.title).focus();
  }
}

/**
 * Messages newer than the newest shown, asked for every few seconds by the poller.
 * Deleted messages are seen only where the newest page is read anyway, one ask for
 * another, never an ask more: on catching up (the person came back to the tab, the
 * window or from idling), on the check after something was new, on an empty board
 * (see reconcile()); and Refresh reloads the whole list.
 */
async function checkForNew({ catchUp = false } = {}) {
  if (state.loading) return;
  if (!state.loaded) {
    // The first page never came (offline at the time): try it again, quietly.
    await loadFirstPage();
    if (!state.loaded) throw new Error("the first page did not load"); // the poller backs off
    return;
  }
  const owner = state.owner;
  const whole = catchUp || state.wholeNext || state.newestId === null;
  const shownBefore = new Set(state.shown); // all on the server before this ask began
  let page;
  try {
    page = await askNewer({ limit: PAGE_SIZE, since: whole ? undefined : state.newestId });
  } catch (error) {
    if (error instanceof SessionEnded) {
      poller.stop();
      return;
    }
    throw error; // the poller backs off
  }
  if (state.owner !== owner || state.loading) return;
  state.wholeNext &&= !whole;
  if (page.gap || (whole && !reachesNewest(page))) {
    // More arrived than one answer holds: start again from the top, once this check is over.
    setTimeout(() => loadFirstPage(), 0);
    return;
  }
  if (whole) reconcile(page, shownBefore);
  const fresh = page.messages.filter((message) => !state.shown.has(message.id));
  noteNewest(fresh);
  for (const message of fresh) state.shown.add(message.id);
  updateTimes(ui.list);
  if (!fresh.length) return;
  state.wholeNext = true; // others are writing (and may delete): the next check reads the page
  state.pending = [...fresh, ...state.pending];
  if (readerAtBottom()) {
    showPending();
    toBottom(); // the reader was at the newest: they stay there
  } else {
    updatePill();
    say(ui.status, pillText(state.pending.length));
  }
}

/** Whether a newest page reaches back to the newest message shown (else some are missed). */
function reachesNewest(page) {
  const oldest = page.messages.at(-1);
  return !page.next_cursor || !oldest || state.newestId === null || oldest.id <= state.newestId;
}

/**
 * Take off the board every message shown (or held) before the ask began that the newest
 * page should hold and does not: deleted. The page covers the ids from the newest down
 * to its oldest, everything older too when it is the last page; a message shown before
 * the ask was on the server by then, so missing from the page, even above its newest
 * (the board's newest message deleted), it is gone. Those shown since may be newer.
 */
function reconcile(page, shownBefore) {
  const ids = new Set(page.messages.map((message) => message.id));
  const oldest = page.next_cursor ? page.messages.at(-1)?.id : undefined;
  const covered = (id) =>
    shownBefore.has(id) && !ids.has(id) && (oldest === undefined || id >= oldest);
  const held = state.pending.filter((message) => covered(message.id));
  const rows = messageRows(ui.list).filter((row) => covered(row.dataset.id));
  if (!held.length && !rows.length) return;
  for (const message of held) state.shown.delete(message.id);
  for (const row of rows) state.shown.delete(row.dataset.id);
  state.pending = state.pending.filter((message) => !held.includes(message));
  // Being asked about deleting a message that is gone: the question goes with it (unless
  // the answer is on its way; it will say the message had already been deleted).
  const asked = ui.deleteDialog.open && rows.includes(state.deleting?.item)
    && !ui.deleteConfirm.hasAttribute("aria-busy");
  if (asked) {
    state.deleting = null;
    ui.deleteDialog.close();
  }
  const sheet = ui.actionsDialog.open && rows.includes(state.acting?.item);
  if (sheet) {
    state.acting = null;
    ui.actionsDialog.close();
  }
  removeRows(ui.list, rows, { fallback: ui.title, moveFocus: asked || sheet });
  updateEnds();
  updatePill();
  // One row going needs no word; several at once are said, politely, once.
  if (rows.length > 1) say(ui.status, `${number.format(rows.length)} messages were removed.`);
}

/**
 * Whether the reader is at the newest message: the last row's bottom within about a row
 * of the composer docked below it (an empty board counts as the bottom).
 */
function readerAtBottom() {
  const last = messageRows(ui.list).at(-1);
  if (!last) return true;
  return last.getBoundingClientRect().bottom <= ui.dock.getBoundingClientRect().top + ROW_SLACK;
}

/** Whether the window's foot (the composer, the connection strip above it) covers the newest row. */
function newestCovered() {
  const last = messageRows(ui.list).at(-1);
  if (!last) return false;
  const foot = ui.strip.checkVisibility() ? ui.strip : ui.dock;
  return last.getBoundingClientRect().bottom > foot.getBoundingClientRect().top + 1;
}

/**
 * The heading row kept under the header marks its foot while the feed is scrolled under
 * it (styles.css): its natural foot (the edge marker just below it) has gone up past it.
 */
function markHeadEdge() {
  const stuck = ui.headEdge.getBoundingClientRect().top < ui.head.getBoundingClientRect().bottom - 1;
  ui.head.classList.toggle("stuck", stuck);
}

/** To the bottom of the page: the newest message sits just above the composer. */
function toBottom() {
  pinned = true;
  window.scrollTo({ top: document.documentElement.scrollHeight, behavior: "instant" });
}

/** Of some rows just added, the one shown first (nearest the top), if any. */
function firstShown(items) {
  return messageRows(ui.list).find((row) => items.includes(row)) ?? null;
}

/**
 * Show the held new messages: at the bottom, joining the bottom group when by its
 * author (layout() puts them where they belong).
 */
function showPending() {
  const messages = state.pending;
  state.pending = [];
  const items = messages.map(itemFor);
  ui.list.append(...items);
  layout(ui.list);
  keepOneTabStop(ui.list);
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
  ui.pill.replaceChildren(el("span", { text: "↓", attrs: { "aria-hidden": "true" } }), pillText(count));
}

/**
 * To the first new message, below what was read (or where it joined the bottom group):
 * at the top of the view, so the new ones read on down from it.
 */
function showNewFromPill() {
  const first = firstShown(showPending());
  if (!first) { // they were deleted meanwhile: to the newest there is
    toBottom();
    skipTarget().focus({ preventScroll: true });
    return;
  }
  makeActive(ui.list, first);
  first.scrollIntoView({ block: "start", behavior: "instant" });
  first.focus({ preventScroll: true });
}

function noteNewest(messages) {
  for (const message of messages) {
    if (state.newestId === null || message.id > state.newestId) state.newestId = message.id;
  }
}

function updateEnds() {
  const count = messageRows(ui.list).length;
  ui.empty.hidden = !(state.loaded && count === 0);
  ui.older.hidden = !state.nextCursor;
  ui.end.hidden = !(state.loaded && count > 0 && !state.nextCursor);
  updatePeople(ui.people, ui.list, { loaded: state.loaded });
}

function itemFor(message) {
  const mine = message.username === currentUser();
  return messageItem(message, { mine, onDelete: askToDelete, onMore: openActions });
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

/** The composer posted a message: show it at the bottom at once, and go there. */
function posted(message) {
  if (!state.shown.has(message.id)) {
    state.shown.add(message.id);
    state.pending.unshift(message);
  }
  noteNewest([message]);
  showPending();
  state.loaded = true;
  updateEnds();
  toBottom();
  say(ui.status, "Message posted.");
}

// ---- deleting ------------------------------------------------------------

/** opener: the button that asked (focus goes back to it if the person cancels). */
function askToDelete(message, item, opener = null) {
  state.deleting = { message, item, opener };
  ui.deletePreview.textContent = excerpt(message.content, 200);
  say(ui.deleteError, "");
  ui.deleteDialog.showModal();
  ui.deleteCancel.focus(); // the safe choice first
}

async function confirmDelete() {
  const target = state.deleting;
  if (!target) return;
  ui.deleteCancel.disabled = true;
  const removed = await run(ui.deleteConfirm, "Deleting…", async () => {
    try {
      await authed("DELETE", `/messages/${encodeURIComponent(target.message.id)}`);
      say(ui.status, "Message deleted.");
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
      say(ui.status, "That message had already been deleted.");
    }
    return true;
  }, { errorRegion: ui.deleteError });
  ui.deleteCancel.disabled = false;
  if (removed) {
    state.shown.delete(target.message.id);
    state.deleting = null;
    ui.deleteDialog.close();
    // Gone at once (the person just confirmed it). Focus goes to the neighbouring message
    // (the list's tab stop), or the board's heading; the next row may then head the
    // group, or two groups become one.
    removeRows(ui.list, [target.item], { fallback: ui.title, moveFocus: true, fade: false });
    updateEnds();
  }
}

/**
 * A touch screen's "More actions" (⋯) on one's own message: a small sheet with the
 * message's full date and time (no mouse to hover its time), Copy text, and Delete, which
 * asks as the Delete button does.
 */
function openActions(message, item, opener) {
  state.acting = { message, item, opener };
  ui.actionsWhen.textContent = stampTime(new Date(message.created_at));
  ui.actionsWhen.dateTime = message.created_at;
  ui.actionsPreview.textContent = excerpt(message.content, 120);
  ui.actionsDialog.showModal();
}

/**
 * "Copy text": the whole message on the clipboard (a feed's text is hard to select with a
 * finger), said in the page's status region as the recovery codes' Copy says it.
 */
async function chooseCopy() {
  const target = state.acting;
  ui.actionsDialog.close(); // back to the row's ⋯
  if (!target) return;
  try {
    await navigator.clipboard.writeText(target.message.content);
    flash(ui.status, "Copied.");
  } catch {
    flash(ui.status, "Could not copy the message's text.");
  }
}

function chooseDelete() {
  const target = state.acting;
  state.acting = null; // the sheet's close gives focus back to no one: the question takes it
  ui.actionsDialog.close();
  if (target?.item.isConnected) askToDelete(target.message, target.item, target.opener);
}

function cancelDelete() {
  if (ui.deleteConfirm.hasAttribute("aria-busy")) return;
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

/** The "?" note on the list's keys closes as a popup does: Escape, or a click elsewhere. */
function wireKeysHelp(details) {
  details.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !details.open) return;
    details.open = false;
    details.querySelector("summary").focus();
  });
  document.addEventListener("click", (event) => {
    if (details.open && !details.contains(event.target)) details.open = false;
  });
}

/** Look up the board's elements and wire them; main.js calls this once. */
export function init() {
  ui = {
    title: byId("board-title"),
    head: byId("board-head"),
    headEdge: byId("board-head-edge"),
    list: byId("messages"),
    dock: byId("dock"),
    error: byId("board-error"),
    loading: byId("board-loading"),
    empty: byId("board-empty"),
    older: byId("older"),
    olderError: byId("older-error"),
    end: byId("board-end"),
    people: byId("people"),
    view: byId("board-view"),
    strip: byId("connection-bar"), // the page's connection strip (lib/connection.js)
    refresh: byId("refresh"),
    keysHelp: byId("keys-help"),
    pill: byId("new-pill"),
    status: byId("status"),
    deleteDialog: byId("delete-dialog"),
    deletePreview: byId("delete-preview"),
    deleteError: byId("delete-error"),
    deleteConfirm: byId("delete-confirm"),
    deleteCancel: byId("delete-cancel"),
    actionsDialog: byId("actions-dialog"),
    actionsWhen: byId("actions-when"),
    actionsPreview: byId("actions-preview"),
    actionsCopy: byId("actions-copy"),
    actionsDelete: byId("actions-delete"),
    actionsCancel: byId("actions-cancel"),
  };
  poller = createPoller(checkForNew);
  // How much of the window's foot the dock covers, for the rows' scroll-margin (styles.css);
  // and a reader at the newest stays there as the foot grows (the composer growing with
  // its text, the connection strip above it): the newest message is never covered.
  const resized = new ResizeObserver(() => {
    const gap = parseFloat(getComputedStyle(ui.dock).bottom) || 0;
    document.body.style.setProperty("--dock-room", `${ui.dock.offsetHeight + gap}px`);
    document.body.style.setProperty("--strip-room", `${ui.strip.offsetHeight}px`); // two lines on a phone
    if (pinned && !ui.view.hidden && newestCovered()) toBottom();
    markHeadEdge();
  });
  resized.observe(ui.dock);
  resized.observe(ui.strip); // shown or gone: the feed's end gains or loses room
  // The list grows after the view went to the bottom, too: a row's emoji font coming in
  // wraps its line (a phone's newest row was left half under the composer), "Show more",
  // a row taken off above. A reader at the newest stays there.
  resized.observe(ui.list);
  document.fonts?.ready.then(() => {
    if (pinned && !ui.view.hidden && newestCovered()) toBottom();
  });
  ui.refresh.addEventListener("click", () => loadFirstPage());
  wireKeysHelp(ui.keysHelp);
  ui.older.addEventListener("click", () => loadOlder());
  ui.pill.addEventListener("click", showNewFromPill);
  composer.init({ onPostedMessage: posted });
  wireKeys(ui.list);
  ui.deleteConfirm.addEventListener("click", confirmDelete);
  ui.deleteCancel.addEventListener("click", cancelDelete);
  ui.deleteDialog.addEventListener("cancel", (event) => {
    if (ui.deleteConfirm.hasAttribute("aria-busy")) event.preventDefault();
  });
  ui.deleteDialog.addEventListener("close", () => {
    const target = state.deleting;
    state.deleting = null;
    // Cancelled: back to the button that asked (Delete, or ⋯ on a touch screen), or the
    // message's own Delete when the Delete key asked.
    if (target?.item.isConnected) {
      makeActive(ui.list, target.item);
      const back = target.opener?.checkVisibility() ? target.opener : null;
      returnFocus(ui.deleteDialog, back ?? target.item.querySelector("button.delete"));
    }
  });
  ui.actionsCopy.addEventListener("click", chooseCopy);
  ui.actionsDelete.addEventListener("click", chooseDelete);
  ui.actionsCancel.addEventListener("click", () => ui.actionsDialog.close());
  // A tap on the dimmed page around the sheet closes it, as a phone's sheets do.
  ui.actionsDialog.addEventListener("click", (event) => {
    if (event.target === ui.actionsDialog) ui.actionsDialog.close();
  });
  ui.actionsDialog.addEventListener("close", () => {
    const target = state.acting;
    state.acting = null;
    if (target?.item.isConnected) {
      makeActive(ui.list, target.item);
      returnFocus(ui.actionsDialog, target.opener);
    }
  });
  window.addEventListener(
    "scroll",
    () => {
      if (!ui.view.hidden) pinned = readerAtBottom();
      markHeadEdge();
      if (!state.pending.length || !readerAtBottom()) return;
      showPending();
      toBottom(); // scrolled down to the newest: on to the new ones below
    },
    { passive: true },
  );
  setInterval(() => {
    updateTimes(ui.list);
    updatePeople(ui.people, ui.list, { loaded: state.loaded });
  }, TIME_TICK_MS);
}
