// The account page's "Name" section: the display name shown beside the username on
// every message (old ones too, since the board shows each author's current name).

import { ApiError } from "./api.js";
import { busy, byId, characterCount, fieldError, say, sentence } from "./dom.js";
import { DISPLAY_NAME_MAX } from "./rules.js";
import { SessionEnded, authed } from "./session.js";

let ui = null; // the section's elements, looked up by initName()
let saving = false;

/** Fill the form from GET /me's answer (unless the person is typing in it). */
export function showName(me) {
  if (document.activeElement !== ui.input) ui.input.value = me.display_name;
}

export function resetName() {
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
  if (saving) return;
  say(ui.done, "");
  const name = ui.input.value.trim();
  const wrong = problem(name);
  fieldError(ui.input, ui.problem, wrong);
  if (wrong) {
    ui.input.focus();
    return;
  }
  saving = true;
  ui.form.setAttribute("aria-busy", "true");
  const done = busy(ui.submit, "Saving…");
  try {
    const me = await authed("PATCH", "/me", { body: { display_name: name } });
    ui.input.value = me.display_name;
    say(ui.done, "Name saved. Your messages show it now.");
  } catch (error) {
    if (!(error instanceof SessionEnded)) {
      const message = error instanceof ApiError ? error.message : String(error);
      fieldError(ui.input, ui.problem, sentence(message.replace(/^display_name/i, "Your name")));
      ui.input.focus();
    }
  } finally {
    done();
    saving = false;
    ui.form.removeAttribute("aria-busy");
  }
}

/** Look up the section's elements and wire them; account.js's init() calls this once. */
export function initName() {
  ui = {
    form: byId("name-form"),
    input: byId("account-display-name"),
    problem: byId("account-display-name-problem"),
    done: byId("name-done"),
    submit: byId("name-submit"),
  };
  ui.form.addEventListener("submit", submit);
}
