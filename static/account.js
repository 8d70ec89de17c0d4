// The account page: who you are, and changing your password (which ends your
// other sessions; this tab logs in again with the new password and stays signed in).

import { initName, resetName, showName } from "./account-name.js";
import { ApiError } from "./api.js";
import { busy, byId, say } from "./dom.js";
import { resetSecurity, showSecurity } from "./security.js";
import { SessionEnded, authed, changePassword, currentUser } from "./session.js";
import { resetSessions, showSessions } from "./sessions-ui.js";
import { fullTime } from "./time.js";

const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "long" });

let ui = null; // the page's elements, looked up by init()
let changing = false; // a password change is in flight

function lookUp() {
  return {
    username: byId("account-username"),
    since: byId("account-since"),
    error: byId("account-error"),
    form: byId("password-form"),
    usernameField: byId("password-form-username"),
    current: byId("current-password"),
    next: byId("new-password"),
    repeat: byId("repeat-password"),
    formError: byId("password-error"),
    done: byId("password-done"),
    submit: byId("password-submit"),
  };
}

export async function showAccount() {
  const username = currentUser();
  ui.username.textContent = username ?? "";
  ui.usernameField.value = username ?? ""; // for password managers
  say(ui.error, "");
  ui.since.textContent = "Loading…";
  ui.since.removeAttribute("title");
  try {
    const me = await authed("GET", "/me");
    const created = new Date(me.created_at);
    ui.username.textContent = me.username;
    ui.since.textContent = dateOnly.format(created);
    ui.since.setAttribute("title", fullTime(created));
    showName(me);
    showSessions();
    showSecurity(me);
  } catch (error) {
    ui.since.textContent = "–";
    if (!(error instanceof SessionEnded)) say(ui.error, error instanceof Error ? error.message : String(error));
  }
}

export function resetAccount() {
  ui.form.reset();
  say(ui.formError, "");
  say(ui.done, "");
  ui.username.textContent = "";
  ui.since.textContent = "";
  resetName();
  resetSessions();
  resetSecurity();
}

async function submit(event) {
  event.preventDefault();
  if (changing) return;
  say(ui.formError, "");
  say(ui.done, "");
  if (ui.next.value !== ui.repeat.value) {
    say(ui.formError, "The new passwords do not match. Type the same new password twice.");
    ui.repeat.focus();
    return;
  }
  changing = true;
  ui.form.setAttribute("aria-busy", "true");
  const done = busy(ui.submit, "Changing password…");
  try {
    await changePassword(ui.current.value, ui.next.value);
    ui.form.reset(); // no password stays on the page
    ui.usernameField.value = currentUser() ?? "";
    say(ui.done, "Password changed. Your other sessions have been logged out.");
  } catch (error) {
    if (!(error instanceof SessionEnded)) {
      say(ui.formError, error.message);
      (error instanceof ApiError && error.status === 403 ? ui.current : ui.next).focus();
    }
  } finally {
    done();
    changing = false;
    ui.form.removeAttribute("aria-busy");
  }
}

/** Look up the account page's elements and wire them; main.js calls this once. */
export function init() {
  ui = lookUp();
  ui.form.addEventListener("submit", submit);
  initName();
}
