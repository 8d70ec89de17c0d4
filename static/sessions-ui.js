// The account page's "Where you're signed in" and "Delete account" sections.
//
// Every sign-in is a session (GET /me/sessions); ending one (DELETE
// /me/sessions/{id}) stops all its tokens at once, so that browser's next request
// sends it back to the login page. Deleting the account (DELETE /me, with the
// password) removes the account, its messages, sessions, two-factor and passkeys;
// this tab then forgets its tokens and shows the login page with a notice.

import { ApiError } from "./api.js";
import { busy, byId, el, fieldError, say } from "./dom.js";
import { SessionEnded, authed, currentUser, forgetDeletedAccount } from "./session.js";
import { fullTime, relativeTime, updateRelativeTimes } from "./time.js";

const TIME_TICK_MS = 30_000;
export const DELETED_NOTICE =
  "Your account has been deleted, with all its messages and sessions. " +
  "Its username is free again.";

let ui = null;
let accountDeleted = () => {};
let loading = null; // the list request in flight, so a stale answer is dropped
let ending = false; // a sign-out of one or more sessions is in flight
let deleting = false; // the account deletion is in flight

function lookUp() {
  return {
    heading: byId("sessions-title"),
    list: byId("sessions-list"),
    error: byId("sessions-error"),
    done: byId("sessions-done"),
    others: byId("sessions-others"),
    form: byId("delete-account-form"),
    usernameField: byId("delete-account-username"),
    password: byId("delete-account-password"),
    passwordProblem: byId("delete-account-password-problem"),
    submit: byId("delete-account-submit"),
    dialog: byId("delete-account-dialog"),
    name: byId("delete-account-name"),
    dialogError: byId("delete-account-dialog-error"),
    cancel: byId("delete-account-cancel"),
    confirm: byId("delete-account-confirm"),
  };
}

// ---- where you're signed in ------------------------------------------------------

function timeElement(iso) {
  const date = new Date(iso);
  return el("time", {
    text: relativeTime(date),
    attrs: { datetime: iso, title: fullTime(date), "data-relative": true },
  });
}

function sessionItem(session) {
  const describedBy = `session-${session.id}-what`;
  const what = el(
    "p",
    { className: "session-what", attrs: { id: describedBy } },
    el("strong", { text: session.current ? "This device" : "Another browser or device" }),
    el("span", { className: "session-times" }, "Signed in ", timeElement(session.created_at),
      " · last used ", timeElement(session.last_used_at)),
  );
  const item = el("li", { className: "session", dataset: { sessionId: session.id } }, what);
  if (session.current) item.classList.add("current");
  else {
    item.append(el("button", {
      className: "quiet",
      text: "Sign out",
      attrs: { type: "button", "aria-describedby": describedBy },
      on: { click: () => endOne(session.id, item) },
    }));
  }
  return item;
}

function otherItems() {
  return Array.from(ui.list.querySelectorAll("li.session:not(.current)"));
}

function render(sessions) {
  ui.list.replaceChildren(...sessions.map(sessionItem));
  ui.others.hidden = otherItems().length === 0;
}

/** Load the sessions list; account.js calls this whenever the account page is shown. */
export async function showSessions() {
  say(ui.error, "");
  ui.usernameField.value = currentUser() ?? ""; // for password managers
  ui.list.setAttribute("aria-busy", "true");
  const request = authed("GET", "/me/sessions");
  loading = request;
  try {
    const answer = await request;
    if (loading === request) render(answer.sessions);
  } catch (error) {
    if (loading === request && !(error instanceof SessionEnded)) say(ui.error, error.message);
  } finally {
    if (loading === request) {
      loading = null;
      ui.list.setAttribute("aria-busy", "false");
    }
  }
}

/** End one session; a session that is already gone counts as ended. */
async function endSession(id) {
  try {
    await authed("DELETE", `/me/sessions/${encodeURIComponent(id)}`);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) throw error;
  }
}

async function endOne(id, item) {
  if (ending) return;
  ending = true;
  say(ui.error, "");
  say(ui.done, "");
  const button = item.querySelector("button");
  const done = busy(button, "Signing out…");
  try {
    await endSession(id);
    item.remove();
    ui.others.hidden = otherItems().length === 0;
    say(ui.done, "Signed out. That browser or device must log in again.");
    ui.heading.focus(); // the button is gone with its item
  } catch (error) {
    done();
    if (!(error instanceof SessionEnded)) say(ui.error, error.message);
  } finally {
    ending = false;
  }
}

async function endOthers() {
  if (ending) return;
  ending = true;
  say(ui.error, "");
  say(ui.done, "");
  const done = busy(ui.others, "Signing out…");
  try {
    const items = otherItems();
    for (const item of items) {
      await endSession(item.dataset.sessionId);
      item.remove();
    }
    ui.others.hidden = true;
    ui.heading.focus();
    say(ui.done, items.length === 1
      ? "Signed out of 1 other session. Only this device is signed in now."
      : `Signed out of ${items.length} other sessions. Only this device is signed in now.`);
  } catch (error) {
    if (!(error instanceof SessionEnded)) say(ui.error, error.message);
  } finally {
    done();
    ending = false;
  }
}

// ---- delete account ----------------------------------------------------------------

function askToDelete(event) {
  event.preventDefault();
  if (deleting) return;
  if (!ui.password.value) {
    fieldError(ui.password, ui.passwordProblem, "Enter your password to delete your account.");
    ui.password.focus();
    return;
  }
  fieldError(ui.password, ui.passwordProblem, "");
  say(ui.dialogError, "");
  ui.name.textContent = currentUser() ?? "";
  ui.dialog.showModal();
  ui.cancel.focus(); // the safe choice first
}

async function deleteAccount() {
  if (deleting) return;
  deleting = true;
  say(ui.dialogError, "");
  const done = busy(ui.confirm, "Deleting…");
  try {
    await authed("DELETE", "/me", { body: { password: ui.password.value } });
    ui.form.reset();
    forgetDeletedAccount();
    ui.dialog.close();
    accountDeleted(DELETED_NOTICE);
  } catch (error) {
    if (error instanceof SessionEnded) {
      ui.dialog.close();
    } else if (error instanceof ApiError && (error.status === 403 || error.status === 429)) {
      // Wrong password, or too many wrong ones: said next to the field.
      ui.dialog.close();
      fieldError(ui.password, ui.passwordProblem, error.message);
      ui.password.select();
      ui.password.focus();
    } else {
      say(ui.dialogError, error.message);
    }
  } finally {
    done();
    deleting = false;
  }
}

function cancelDeletion() {
  if (deleting) return;
  ui.dialog.close();
}

/** Clear everything this module shows (signed out). */
export function resetSessions() {
  loading = null;
  ui.list.replaceChildren();
  ui.others.hidden = true;
  say(ui.error, "");
  say(ui.done, "");
  ui.form.reset();
  fieldError(ui.password, ui.passwordProblem, "");
  if (ui.dialog.open) ui.dialog.close();
}

/**
 * Look up the elements and wire them; main.js calls this once.
 * onAccountDeleted(notice): this tab's account is gone and its tokens forgotten.
 */
export function init({ onAccountDeleted } = {}) {
  ui = lookUp();
  accountDeleted = onAccountDeleted ?? accountDeleted;
  ui.others.addEventListener("click", endOthers);
  ui.form.addEventListener("submit", askToDelete);
  ui.password.addEventListener("input", () => fieldError(ui.password, ui.passwordProblem, ""));
  ui.cancel.addEventListener("click", cancelDeletion);
  ui.confirm.addEventListener("click", deleteAccount);
  ui.dialog.addEventListener("cancel", (event) => {
    if (deleting) event.preventDefault(); // Escape does not hide a deletion in flight
  });
  ui.dialog.addEventListener("close", () => {
    if (!ui.form.isConnected || ui.form.closest("[hidden]")) return;
    if (ui.password.getAttribute("aria-invalid") !== "true") ui.submit.focus();
  });
  setInterval(() => updateRelativeTimes(ui.list), TIME_TICK_MS);
}
