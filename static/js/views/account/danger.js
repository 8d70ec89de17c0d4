// Delete account: one button; the dialog says what goes, and asks the password once.
// DELETE /me removes the account, its messages, sessions, two-factor and passkeys;
// this tab then forgets its tokens and shows the login page with a notice.

import * as dialog from "../../lib/dialog.js";
import { byId, el } from "../../lib/dom.js";
import { authed, currentUser, forgetDeletedAccount } from "../../lib/session.js";

export const DELETED_NOTICE =
  "Your account has been deleted, with all its messages and sessions. " +
  "Its username is free again.";

let ui = null;
let accountDeleted = () => {};

async function start() {
  const deleted = await dialog.ask({
    title: "Delete your account?",
    text: [
      el("p", { text: "This cannot be undone. It deletes, at once and for good:" }),
      el("ul", { className: "loss" },
        el("li", {}, "your account, ", el("strong", { text: currentUser() ?? "" })),
        el("li", { text: "all your messages, from the board, for everyone" }),
        el("li", { text: "all your sessions: you are signed out everywhere, here too" }),
        el("li", { text: "your two-factor authentication and your passkeys" })),
      el("p", { text: "Your username becomes free: anyone can sign up with it." }),
    ],
    submit: "Delete my account",
    busy: "Deleting…",
    danger: true,
    action: ({ password }) => authed("DELETE", "/me", { body: { password } }),
  });
  if (deleted) {
    forgetDeletedAccount();
    accountDeleted(DELETED_NOTICE);
  }
}

export function reset() {
  ui.error.textContent = "";
}

export function init({ onAccountDeleted }) {
  ui = { start: byId("delete-account-start"), error: byId("delete-account-error") };
  accountDeleted = onAccountDeleted;
  ui.start.addEventListener("click", start);
}
