// The Account page's Profile: username, member since, and the display name shown
// beside the username on every message (old ones too, since the board shows each
// author's current name).

import { run } from "../../lib/action.js";
import * as dialog from "../../lib/dialog.js";
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
  ui.saved = me.display_name;
  if (document.activeElement !== ui.input) ui.input.value = me.display_name;
  updateSubmit();
  showEmail(me);
}

/** #/account/email: bring the email section into view and move to it. */
export function revealEmail() {
  if (ui.emailSection.hidden) return;
  ui.emailSection.scrollIntoView({ block: "start" });
  ui.emailTitle.focus({ preventScroll: true });
}

/** The email part, once the API has addresses (GET /me says "email"). */
function showEmail(me) {
  ui.emailSection.hidden = !Object.hasOwn(me, "email");
  if (ui.emailSection.hidden) return;
  ui.emailState.textContent = !me.email
    ? "No email address yet. Without one, a forgotten password cannot be reset."
    : me.email_verified
      ? `${me.email} — verified.`
      : `${me.email} — not verified yet: open the link we sent to it.`;
  ui.emailChange.textContent = me.email ? "Change email address…" : "Add an email address…";
  ui.emailAddress = me.email ?? "";
}

/**
 * Add or change the address (POST /me/email, with the password). Also "Send a new
 * link" from the verification page (main.js): then address is the pending one, if known.
 */
export async function changeEmail({ address = ui.emailAddress, title = null } = {}) {
  say(ui.emailDone, "");
  const email = await dialog.ask({
    title: title ?? (ui.emailAddress ? "Change your email address" : "Add an email address"),
    text: "We'll email you a link; the address is saved when you open it.",
    name: { label: "Email address", value: address, type: "email", autocomplete: "email",
      maxLength: 254, missing: "Enter an email address." },
    submit: "Send the link",
    busy: "Sending…",
    explain: (error) =>
      error instanceof ApiError && error.status === 400 && /email/i.test(error.message)
        ? { field: "name", message: error.message }
        : null,
    action: async ({ name, password }) => {
      await authed("POST", "/me/email", { body: { email: name, password } });
      return name;
    },
  });
  if (!email) return;
  ui.emailState.textContent = `${email} — not verified yet: open the link we sent to it.`;
  flash(ui.emailDone, `We sent a link to ${email}. Open it to verify the address (it works for 24 hours).`);
  onSaved(null);
}

/**
 * "Save name" waits for a change (aria-disabled: still focusable, and its reason is
 * read with it), as GitHub's profile form does: saving the same name would say "saved".
 */
function updateSubmit() {
  const unchanged = ui.input.value.trim() === ui.saved;
  ui.submit.setAttribute("aria-disabled", String(unchanged));
  if (unchanged) ui.submit.setAttribute("aria-describedby", "name-unchanged");
  else ui.submit.removeAttribute("aria-describedby");
}

export function reset() {
  ui.form.reset();
  ui.saved = "";
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
  if (name === ui.saved) return; // nothing changed (see updateSubmit)
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
    ui.saved = me.display_name;
    ui.input.value = me.display_name;
    updateSubmit();
    flash(ui.done, "Name saved. Your messages show it now.");
    onSaved(me);
  }
}

/** Look up the page's elements and wire them; account.js's init() calls this once. */
export function init({ onSaved: saved }) {
  onSaved = saved;
  ui = {
    emailSection: byId("email-section"),
    emailTitle: byId("email-title"),
    emailState: byId("email-state"),
    emailDone: byId("email-done"),
    emailChange: byId("email-change"),
    emailAddress: "",
    username: byId("profile-username"),
    since: byId("profile-since"),
    form: byId("name-form"),
    input: byId("account-display-name"),
    problem: byId("account-display-name-problem"),
    done: byId("name-done"),
    submit: byId("name-submit"),
    saved: "", // the name as the API last said it
  };
  ui.form.addEventListener("submit", submit);
  ui.input.addEventListener("input", updateSubmit);
  ui.emailChange.addEventListener("click", () => changeEmail());
}
