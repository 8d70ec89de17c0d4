// The sign-in page's second step (a code from the authenticator app, or a recovery
// code) and "Sign in with a passkey".

import { run } from "../../lib/action.js";
import { ApiError } from "../../lib/api.js";
import { byId, fieldError, say } from "../../lib/dom.js";
import { loginWithCode, loginWithPasskey } from "../../lib/session.js";
import { getAssertion, problemText, supported } from "../../lib/webauthn.js";

// One short sentence, said next to the field (the hint already says what a code is).
export const CODE_REFUSED = "Code not accepted: wait for the next one.";

let login = null;
let onSignedIn = () => {};
let mfaToken = null;

/** A sentence for a refused two-factor code, wherever one is typed. */
export function codeRefusal(error) {
  if (!(error instanceof ApiError)) return problemText(error);
  if (error.status === 429) return error.message;
  if (error.status === 401 && /expired/i.test(error.message)) {
    return "This sign-in has expired. Start over with your password.";
  }
  if ([400, 401, 403].includes(error.status)) return CODE_REFUSED;
  return error.message;
}

/** Look up the elements and wire the handlers, once (main.js). */
export function init({ signedIn }) {
  login = {
    passwordForm: byId("auth-form"),
    switchLine: byId("auth-switch-line"),
    forgotLine: byId("forgot-line"),
    form: byId("mfa-form"),
    code: byId("mfa-code"),
    codeProblem: byId("mfa-code-problem"),
    error: byId("mfa-error"),
    submit: byId("mfa-submit"),
    cancel: byId("mfa-cancel"),
    passkeyBox: byId("passkey-login-box"),
    passkey: byId("passkey-login"),
    passkeyError: byId("passkey-login-error"),
  };
  onSignedIn = signedIn;
  login.passkeyBox.hidden = !supported();
  login.form.addEventListener("submit", submitCode);
  login.cancel.addEventListener("click", startOver);
  login.passkey.addEventListener("click", signInWithPasskey);
}

function startOver() {
  endCodeStep();
  byId("username").focus();
}

/** The password was right and the account has two-factor on: ask for a code. */
export function startCodeStep(token) {
  mfaToken = token;
  login.passwordForm.hidden = true;
  login.passkeyBox.hidden = true;
  login.switchLine.hidden = true; // no "Create an account" in the middle of signing in
  login.forgotLine.hidden = true;
  login.form.hidden = false;
  say(login.error, "");
  fieldError(login.code, login.codeProblem, "");
  login.code.value = "";
  login.code.focus();
}

/** Back to the password form (also when the login page is shown afresh). */
export function endCodeStep() {
  mfaToken = null;
  login.form.reset();
  login.form.hidden = true;
  login.passwordForm.hidden = false;
  login.switchLine.hidden = false;
  login.forgotLine.hidden = false;
  login.passkeyBox.hidden = !supported();
  say(login.error, "");
  fieldError(login.code, login.codeProblem, "");
  say(login.passkeyError, "");
}

async function submitCode(event) {
  event.preventDefault();
  if (!mfaToken) return;
  fieldError(login.code, login.codeProblem, "");
  const username = await run(login.submit, "Checking…",
    () => loginWithCode(mfaToken, login.code.value.trim()),
    { errorRegion: login.error, explain: placeCodeRefusal });
  if (username) {
    endCodeStep();
    onSignedIn(username);
  } else if (mfaToken) {
    login.code.select();
    login.code.focus();
  }
}

/** A refused code is said next to the field (as the other forms do); the rest above the button. */
function placeCodeRefusal(error) {
  const message = codeRefusal(error);
  if (message !== CODE_REFUSED) return message;
  fieldError(login.code, login.codeProblem, message);
  return "";
}

async function signInWithPasskey() {
  const username = await run(login.passkey, "Waiting for your passkey…",
    () => loginWithPasskey(getAssertion),
    { errorRegion: login.passkeyError,
      explain: (error) => (error instanceof ApiError ? error.message : problemText(error)) });
  if (username) onSignedIn(username);
}
