// Strong sign-in: the login page's code step and "Sign in with a passkey", and the
// Account page's "Two-factor authentication" and "Passkeys" sections.
//
// Secrets shown once (the setup key, recovery codes) live only in the page and are
// removed when the person moves on; nothing here is put in storage.

import { busy, byId, el, say } from "./dom.js";
import {
  SessionEnded,
  authed,
  loginWithCode,
  loginWithPasskey,
} from "./session.js";
import { fullTime } from "./time.js";
import { createCredential, getAssertion, problemText, supported } from "./webauthn.js";

const SVG = "http://www.w3.org/2000/svg";
const QR_BORDER = 4;
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

let login = null; // the elements, looked up by init()
let totp = null;
let keys = null;

function lookUp() {
  login = {
    passwordForm: byId("auth-form"),
    form: byId("mfa-form"),
    code: byId("mfa-code"),
    error: byId("mfa-error"),
    submit: byId("mfa-submit"),
    cancel: byId("mfa-cancel"),
    passkeyBox: byId("passkey-login-box"),
    passkey: byId("passkey-login"),
    passkeyError: byId("passkey-login-error"),
  };

  totp = {
    state: byId("two-factor-state"),
    startForm: byId("totp-start-form"),
    startPassword: byId("totp-start-password"),
    startError: byId("totp-start-error"),
    startSubmit: byId("totp-start-submit"),
    confirmForm: byId("totp-confirm-form"),
    qr: byId("totp-qr"),
    secret: byId("totp-secret"),
    confirmCode: byId("totp-confirm-code"),
    confirmError: byId("totp-confirm-error"),
    confirmSubmit: byId("totp-confirm-submit"),
    recovery: byId("totp-recovery"),
    recoveryCodes: byId("totp-recovery-codes"),
    recoveryDone: byId("totp-recovery-done"),
    disableForm: byId("totp-disable-form"),
    disablePassword: byId("totp-disable-password"),
    disableCode: byId("totp-disable-code"),
    disableError: byId("totp-disable-error"),
    disableSubmit: byId("totp-disable-submit"),
    done: byId("two-factor-done"),
  };

  keys = {
    list: byId("passkey-list"),
    empty: byId("passkeys-empty"),
    error: byId("passkeys-error"),
    done: byId("passkeys-done"),
    add: byId("passkey-add"),
  };
}

let onSignedIn = () => {};
let mfaToken = null;

// ---- the login page -----------------------------------------------------------

/** Look up the elements and wire the handlers, once (main.js). */
export function init({ signedIn }) {
  lookUp();
  onSignedIn = signedIn;
  login.passkeyBox.hidden = !supported();
  login.form.addEventListener("submit", submitCode);
  login.cancel.addEventListener("click", startOver);
  login.passkey.addEventListener("click", signInWithPasskey);
  totp.startForm.addEventListener("submit", startTotp);
  totp.confirmForm.addEventListener("submit", confirmTotp);
  totp.recoveryDone.addEventListener("click", putRecoveryCodesAway);
  totp.disableForm.addEventListener("submit", disableTotp);
  keys.add.addEventListener("click", addPasskey);
}

function startOver() {
  endCodeStep();
  byId("password").focus();
}

/** The password was right and the account has two-factor on: ask for a code. */
export function startCodeStep(token) {
  mfaToken = token;
  login.passwordForm.hidden = true;
  login.passkeyBox.hidden = true;
  login.form.hidden = false;
  say(login.error, "");
  login.code.value = "";
  login.code.focus();
}

/** Back to the password form (also when the login page is shown afresh). */
export function endCodeStep() {
  mfaToken = null;
  login.form.reset();
  login.form.hidden = true;
  login.passwordForm.hidden = false;
  login.passkeyBox.hidden = !supported();
  say(login.error, "");
  say(login.passkeyError, "");
}

async function submitCode(event) {
  event.preventDefault();
  if (login.submit.disabled || !mfaToken) return;
  say(login.error, "");
  const done = busy(login.submit, "Checking…");
  let username = null;
  try {
    username = await loginWithCode(mfaToken, login.code.value.trim());
  } catch (error) {
    say(login.error, error.status === 401 && /expired/i.test(error.message)
      ? "This sign-in has expired. Start over with your password."
      : error.message);
  } finally {
    done();
  }
  if (username) {
    endCodeStep();
    onSignedIn(username);
  } else {
    login.code.select();
    login.code.focus();
  }
}

async function signInWithPasskey() {
  if (login.passkey.disabled) return;
  say(login.passkeyError, "");
  const done = busy(login.passkey, "Waiting for your passkey…");
  let username = null;
  try {
    username = await loginWithPasskey(getAssertion);
  } catch (error) {
    say(login.passkeyError, error.name === "ApiError" ? error.message : problemText(error));
  } finally {
    done();
  }
  if (username) onSignedIn(username);
}


// ---- the Account page: two-factor authentication --------------------------------

/** Fill both sections from GET /me's answer. */
export function showSecurity(me) {
  showTotpState(Boolean(me.totp_enabled));
  loadPasskeys();
}

export function resetSecurity() {
  for (const form of [totp.startForm, totp.confirmForm, totp.disableForm]) form.reset();
  forgetSecrets();
  for (const region of [totp.startError, totp.confirmError, totp.disableError, totp.done,
    keys.error, keys.done]) say(region, "");
  keys.list.replaceChildren();
}

function forgetSecrets() {
  totp.qr.replaceChildren();
  totp.secret.textContent = "";
  totp.recoveryCodes.replaceChildren();
  totp.recovery.hidden = true;
}

function showTotpState(enabled) {
  totp.state.textContent = enabled
    ? "Two-factor authentication is on: signing in asks for a code from your authenticator app."
    : "Two-factor authentication is off. Turn it on to have signing in also ask for a code from an authenticator app.";
  totp.startForm.hidden = enabled;
  totp.disableForm.hidden = !enabled;
  totp.confirmForm.hidden = true;
}

function drawQr(rows) {
  const size = rows.length + 2 * QR_BORDER;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${size} ${size}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "QR code for your authenticator app");
  svg.setAttribute("shape-rendering", "crispEdges");
  const background = document.createElementNS(SVG, "rect");
  background.setAttribute("width", String(size));
  background.setAttribute("height", String(size));
  background.setAttribute("fill", "#fff");
  const path = [];
  rows.forEach((row, y) => {
    for (let x = 0; x < row.length; x += 1) {
      if (row[x] === "1") path.push(`M${x + QR_BORDER} ${y + QR_BORDER}h1v1h-1z`);
    }
  });
  const modules = document.createElementNS(SVG, "path");
  modules.setAttribute("d", path.join(""));
  modules.setAttribute("fill", "#000");
  svg.append(background, modules);
  totp.qr.replaceChildren(svg);
}

async function guarded(button, label, errorRegion, action) {
  if (button.disabled) return;
  say(errorRegion, "");
  say(totp.done, "");
  const done = busy(button, label);
  try {
    await action();
  } catch (error) {
    if (!(error instanceof SessionEnded)) say(errorRegion, error.message);
  } finally {
    done();
  }
}

function startTotp(event) {
  event.preventDefault();
  guarded(totp.startSubmit, "Starting…", totp.startError, async () => {
    const setup = await authed("POST", "/me/totp", {
      body: { password: totp.startPassword.value },
    });
    totp.startForm.reset();
    totp.startForm.hidden = true;
    drawQr(setup.qr);
    totp.secret.textContent = setup.secret;
    totp.confirmForm.hidden = false;
    totp.confirmCode.focus();
  });
}

function confirmTotp(event) {
  event.preventDefault();
  guarded(totp.confirmSubmit, "Turning on…", totp.confirmError, async () => {
    const { recovery_codes: codes } = await authed("POST", "/me/totp/confirm", {
      body: { code: totp.confirmCode.value.trim() },
    });
    totp.confirmForm.reset();
    forgetSecrets();
    showTotpState(true);
    totp.disableForm.hidden = true; // until the codes are put away
    totp.recoveryCodes.replaceChildren(...codes.map((code) => el("li", { text: code })));
    totp.recovery.hidden = false;
    say(totp.done, "Two-factor authentication is on.");
    totp.recoveryDone.focus();
  });
}

function putRecoveryCodesAway() {
  forgetSecrets();
  totp.disableForm.hidden = false;
}

function disableTotp(event) {
  event.preventDefault();
  guarded(totp.disableSubmit, "Turning off…", totp.disableError, async () => {
    await authed("DELETE", "/me/totp", {
      body: { password: totp.disablePassword.value, code: totp.disableCode.value.trim() },
    });
    totp.disableForm.reset();
    showTotpState(false);
    say(totp.done, "Two-factor authentication is off.");
  });
}

// ---- the Account page: passkeys ---------------------------------------------------

async function loadPasskeys() {
  say(keys.error, "");
  keys.add.hidden = !supported();
  try {
    const { passkeys } = await authed("GET", "/me/passkeys");
    renderPasskeys(passkeys);
  } catch (error) {
    if (!(error instanceof SessionEnded)) say(keys.error, error.message);
  }
}

function renderPasskeys(passkeys) {
  keys.empty.hidden = passkeys.length > 0;
  keys.list.replaceChildren(...passkeys.map(passkeyItem));
}

function when(timestamp) {
  const date = new Date(timestamp);
  return el("time", { text: dateOnly.format(date), attrs: { datetime: timestamp, title: fullTime(date) } });
}

function passkeyItem(passkey) {
  const name = el("span", { className: "passkey-name", text: passkey.name });
  const facts = el("span", { className: "passkey-facts" },
    "Added ", when(passkey.created_at), " · ",
    ...(passkey.last_used_at ? ["Last used ", when(passkey.last_used_at)] : ["Never used"]));
  const rename = el("button", {
    text: "Rename", attrs: { type: "button", "aria-label": `Rename passkey ${passkey.name}` },
  });
  const remove = el("button", {
    text: "Delete", attrs: { type: "button", "aria-label": `Delete passkey ${passkey.name}` },
  });
  const item = el("li", { className: "passkey" }, name, facts,
    el("span", { className: "passkey-actions" }, rename, remove));
  rename.addEventListener("click", () => startRename(item, passkey));
  remove.addEventListener("click", () => deletePasskey(remove, passkey));
  return item;
}

function startRename(item, passkey) {
  const input = el("input", {
    attrs: { type: "text", maxlength: "50", "aria-label": "New name for the passkey", value: passkey.name },
  });
  const save = el("button", { text: "Save", className: "primary", attrs: { type: "submit" } });
  const cancel = el("button", { text: "Cancel", attrs: { type: "button" } });
  const form = el("form", { className: "passkey-rename", attrs: { novalidate: true } }, input, save, cancel);
  item.replaceChildren(form);
  input.focus();
  input.select();
  cancel.addEventListener("click", loadPasskeys);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (save.disabled) return;
    say(keys.error, "");
    const done = busy(save, "Saving…");
    try {
      await authed("PATCH", `/me/passkeys/${encodeURIComponent(passkey.id)}`, {
        body: { name: input.value },
      });
      say(keys.done, "Passkey renamed.");
      await loadPasskeys();
    } catch (error) {
      done();
      if (!(error instanceof SessionEnded)) say(keys.error, error.message);
      input.focus();
    }
  });
}

async function deletePasskey(button, passkey) {
  if (button.disabled) return;
  say(keys.error, "");
  say(keys.done, "");
  const done = busy(button, "Deleting…");
  try {
    await authed("DELETE", `/me/passkeys/${encodeURIComponent(passkey.id)}`);
    say(keys.done, `Passkey “${passkey.name}” deleted. It no longer signs you in.`);
    await loadPasskeys();
    keys.add.focus();
  } catch (error) {
    done();
    if (!(error instanceof SessionEnded)) say(keys.error, error.message);
  }
}

async function addPasskey() {
  if (keys.add.disabled) return;
  say(keys.error, "");
  say(keys.done, "");
  const done = busy(keys.add, "Waiting for your device…");
  try {
    const { publicKey } = await authed("POST", "/me/passkeys/options", { body: {} });
    const credential = await createCredential(publicKey);
    const added = await authed("POST", "/me/passkeys", { body: { credential } });
    say(keys.done, `Passkey “${added.name}” added. You can now sign in with it.`);
    await loadPasskeys();
  } catch (error) {
    if (!(error instanceof SessionEnded)) {
      say(keys.error, error.name === "ApiError" ? error.message : problemText(error));
    }
  } finally {
    done();
  }
}
