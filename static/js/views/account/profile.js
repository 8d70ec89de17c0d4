// The Account page's Profile: username, member since, and the display name shown
// beside the username on every message (old ones too, since the board shows each
// author's current name).

import { run } from "../../lib/action.js";
import { ApiError } from "../../lib/api.js";
import { byId, characterCount, fieldError, flash, say, sentence } from "../../lib/dom.js";
import { DISPLAY_NAME_MAX } from "../../lib/rules.js";
import { authed } from "../../lib/session.js";
import { fullTime } from "../../lib/time.js";

const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "long" });
let ui = null; // the page's elements, looked up by init()
let onSaved = () => {};

/** Fill the page from GET /me's answer (the name unless the person is typing in it). */
export function show(me) {
  const created = new Date(me.created_at);
  ui.username.textContent = me.username;
  ui.since.textContent = dateOnly.format(created);
  ui.since.setAttribute("title", fullTime(created));
  if (document.activeElement !== ui.input) ui.input.value = me.display_name;
}

export function reset() {
  ui.form.reset();
  fieldError(ui.input, ui.problem, "");
  say(ui.done, "");
}

function problem(name) {
  if (!name) return "Enter a name, or your username to show only that.";
  const length = characterCount(name);
  if (length > DISPLAY_NAME_MAX) {
    return `A name has at most ${DISPLAY_NAME_MAX} characters; this one has ${length}.`;
  }
  return "";
}

async function submit(event) {
  event.preventDefault();
  say(ui.done, "");
  const name = ui.input.value.trim();
  const wrong = problem(name);
  fieldError(ui.input, ui.problem, wrong);
  if (wrong) {
    ui.input.focus();
    return;
  }
  const me = await run(ui.submit, "Saving…",
    () => authed("PATCH", "/me", { body: { display_name: name } }),
    { explain: (error) => {
      const message = error instanceof ApiError ? error.message : String(error);
      fieldError(ui.input, ui.problem, sentence(message.replace(/^display_name/i, "Your name")));
      ui.input.focus();
      return "";
    } });
  if (me) {
    ui.input.value = me.display_name;
    flash(ui.done, "Name saved. Your messages show it now.");
    onSaved(me);
  }
}

/** Look up the page's elements and wire them; account.js's init() calls this once. */
export function init({ onSaved: saved }) {
  onSaved = saved;
  ui = {
    username: byId("profile-username"),
    since: byId("profile-since"),
    form: byId("name-form"),
    input: byId("account-display-name"),
    problem: byId("account-display-name-problem"),
    done: byId("name-done"),
    submit: byId("name-submit"),
  };
  ui.form.addEventListener("submit", submit);
}
