// Sign-in & security: "Change password…" opens the one step-up dialog asking the
// current password and the new one twice (with the strength meter). The API then
// ends every other session; this tab logs in again with the new password.

import * as dialog from "../../lib/dialog.js";
import { ApiError } from "../../lib/api.js";
import { byId, flash, say } from "../../lib/dom.js";
import { changePassword, currentUser } from "../../lib/session.js";

let ui = null;

/** Open the change-password dialog (the section's button, and "Wasn't you?" in the activity). */
export async function start() {
  say(ui.done, "");
  const changed = await dialog.ask({
    title: "Change password",
    text: "Your other browsers and devices will be signed out. You stay signed in here.",
    newPassword: true,
    submit: "Change password",
    busy: "Changing…",
    userInputs: [currentUser() ?? "", byId("account-display-name").value],
    explain: (error) =>
      error instanceof ApiError && error.status === 400
        ? { field: "newPassword", message: error.message }
        : null,
    action: ({ password, newPassword }) => changePassword(password, newPassword),
  });
  if (changed) {
    flash(ui.done, "Password changed. Your other sessions have been signed out.");
    ui.button.focus();
  }
}

export function reset() {
  say(ui.done, "");
}

export function init() {
  ui = { button: byId("password-change"), done: byId("password-done") };
  ui.button.addEventListener("click", start);
}
