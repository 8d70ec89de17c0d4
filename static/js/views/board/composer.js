// The composer, always open and docked below the board (as in Slack and Discord):
// it grows with its text, Ctrl/Cmd+Enter posts, the draft survives a reload (kept
// per person by session.js, gone at sign-out), and a count appears near the limit.

import { run } from "../../lib/action.js";
import { ApiError } from "../../lib/api.js";
import { byId, characterCount, el, say } from "../../lib/dom.js";
import { CONTENT_MAX } from "../../lib/rules.js";
import { authed, currentUser, loadDraft, saveDraft } from "../../lib/session.js";

const COUNT_FROM = CONTENT_MAX - 200; // the count shows once it is worth watching
const number = new Intl.NumberFormat();

let ui = null;
let onPosted = () => {};
let wait = null; // { until, timer } while the server asks for a pause between posts (429)

function postable() {
  const count = characterCount(ui.content.value.trim());
  return count > 0 && count <= CONTENT_MAX && !wait;
}

/** The textarea as tall as its text (its max-height in styles.css caps it: then it scrolls). */
function grow() {
  const field = ui.content;
  field.style.height = "auto";
  const borders = field.offsetHeight - field.clientHeight; // its spacing is its border
  field.style.height = `${field.scrollHeight + borders}px`;
}

function update() {
  const count = characterCount(ui.content.value.trim());
  const over = count > CONTENT_MAX;
  ui.count.hidden = count < COUNT_FROM;
  ui.count.textContent = over
    ? `Too long by ${characters(count - CONTENT_MAX)}: shorten it to post (limit ${number.format(CONTENT_MAX)})`
    : `${number.format(CONTENT_MAX - count)} left`;
  ui.count.classList.toggle("over", over);
  // Announced once when the limit is crossed, not on every keystroke.
  const limitMessage = over ? `${characters(count - CONTENT_MAX)} over the limit` : "";
  if (ui.limit.textContent !== limitMessage) ui.limit.textContent = limitMessage;
  ui.content.setAttribute("aria-invalid", over ? "true" : "false");
  ui.submit.setAttribute("aria-disabled", String(!postable()));
  // Why Post does nothing, said with the button itself.
  if (wait) ui.submit.setAttribute("aria-describedby", "post-error");
  else if (over) ui.submit.setAttribute("aria-describedby", "post-count");
  else ui.submit.removeAttribute("aria-describedby");
  grow();
}

function characters(count) {
  return count === 1 ? "1 character" : `${number.format(count)} characters`;
}

function postError(error) {
  if (error instanceof ApiError && error.status === 429) {
    if (error.retryAfter) {
      waitToPost(error.retryAfter);
      return ""; // waitToPost says it, counting down
    }
    return "You're posting too fast. Your message is kept here: wait a moment, then post it again.";
  }
  if (error instanceof ApiError && error.unreachable) {
    return "Not posted: the server cannot be reached. Your message is kept here; post it again when the connection is back.";
  }
  return error.message;
}

/**
 * The server asked for a pause (429, Retry-After: seconds): the draft stays, Post stays
 * unavailable (saying why), and where the composer's errors show, a countdown says when
 * posting works again; at 0 it goes, and Post is back. The sentence is announced once
 * (an alert); the seconds ticking in it are not (aria-live="off"), each would be.
 */
function waitToPost(seconds) {
  stopWaiting();
  const until = Date.now() + seconds * 1000;
  const left = el("span", { attrs: { "aria-live": "off" } });
  const tick = () => {
    const remaining = Math.ceil((until - Date.now()) / 1000);
    if (remaining <= 0) {
      stopWaiting();
      say(ui.error, "");
      update();
      return;
    }
    left.textContent = `${number.format(remaining)} s`;
  };
  wait = { until, timer: setInterval(tick, 1000) };
  tick();
  ui.error.replaceChildren("You're posting too fast. You can post again in ", left, ".");
  update();
}

function stopWaiting() {
  if (!wait) return;
  clearInterval(wait.timer);
  wait = null;
}

async function submit(event) {
  event.preventDefault();
  if (!postable()) {
    ui.content.focus();
    return;
  }
  const author = currentUser();
  // The server trims and checks the length too.
  const message = await run(ui.submit, "Posting…",
    () => authed("POST", "/messages", { body: { content: ui.content.value } }),
    { errorRegion: ui.error, explain: postError });
  if (!message) {
    update(); // Post as the answer left it (unavailable while the server asks for a pause)
    if (ui.error.textContent) ui.content.focus();
    return;
  }
  ui.content.value = "";
  saveDraft(author, "");
  update();
  onPosted(message);
}

/** Put the person's kept draft back (after a reload, or signing in again). */
export function restoreDraft() {
  const draft = loadDraft(currentUser());
  if (draft && !ui.content.value) ui.content.value = draft;
  update();
}

/** Empty the composer (its stored draft stays unless forgetDraft). */
export function clear() {
  stopWaiting();
  ui.content.value = "";
  ui.error.textContent = "";
  update();
}

/** Focus the field; atEnd puts the caret after the text (coming back to a draft). */
export function focus({ atEnd = false } = {}) {
  ui.content.focus();
  if (atEnd) ui.content.setSelectionRange(ui.content.value.length, ui.content.value.length);
}

/** The message being written, trimmed ("" when there is none). */
export function unsent() {
  return ui.content.value.trim();
}

/** Look up the composer's elements and wire them; onPostedMessage(message) after a post. */
export function init({ onPostedMessage }) {
  ui = {
    form: byId("composer"),
    content: byId("post-content"),
    count: byId("post-count"),
    limit: byId("post-limit"),
    error: byId("post-error"),
    submit: byId("post-submit"),
  };
  onPosted = onPostedMessage;
  // The shortcut is worth a word where there is a keyboard and room for it on one
  // line; on a phone there is neither (and a placeholder that wraps doubles the box).
  const apple = /mac|iphone|ipad/i.test(navigator.userAgentData?.platform || navigator.platform);
  const keys = `${apple ? "⌘" : "Ctrl"}+Enter posts`;
  byId("post-keys").textContent = `${keys}.`; // what screen readers hear with the field
  const plain = ui.content.placeholder;
  const hinted = `${plain} (${keys})`;
  const roomForHint = window.matchMedia("(pointer: fine) and (min-width: 36rem)");
  const placeHint = () => {
    ui.content.placeholder = roomForHint.matches ? hinted : plain;
    grow();
  };
  roomForHint.addEventListener("change", placeHint);
  placeHint();
  ui.form.addEventListener("submit", submit);
  ui.content.addEventListener("input", () => {
    saveDraft(currentUser(), ui.content.value);
    update();
  });
  ui.content.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      if (postable()) ui.form.requestSubmit();
    }
  });
  update();
}
