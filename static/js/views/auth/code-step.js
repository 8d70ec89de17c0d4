// The sign-in page's second step (a code from the authenticator app, or a recovery
// code), "Sign in with a passkey", and passkeys offered in the username field's
// autofill (WebAuthn conditional mediation) while the password form is shown.

import { run } from "../../lib/action.js";
import { ApiError } from "../../lib/api.js";
import { byId, fieldError, say } from "../../lib/dom.js";
import { loginWithCode, loginWithPasskey } from "../../lib/session.js";
import { autofillAvailable, getAssertion, problemText, supported } from "../../lib/webauthn.js";

// One short sentence, said next to the field (the hint already says what a code is).
// A refused code was most often mistyped, so each says to check it first; where a code
// may have just been used, it says the next one will do.
export const CODE_REFUSED = "Wrong code: check it, or try the next one.";
// Where either kind of code is typed with the password (step-up dialogs, password reset).
export const ANY_CODE_REFUSED = "That code didn't work. Check it, or enter the next code your app shows or a recovery code.";
const RECOVERY_REFUSED = "That recovery code didn't work. Check it: each one works only once.";
// The field takes either kind of code (POST /login/totp); the link only changes how it is
// asked for. Each way has its title: the page's one heading while the step is shown.
const ASK = {
  // The same label as two-factor setup's code field (index.html), so the step reads as known.
  app: { title: "Two-factor code", label: "Authenticator code", inputmode: "numeric",
    hint: "Open your authenticator app and enter the 6-digit code it shows for chalkboard.",
    other: "Use a recovery code" },
  recovery: { title: "Enter a recovery code", label: "Recovery code", inputmode: "text",
    // The shape of chalicelib/totp.py's codes, so a person knows which line of a saved file it
    // is (a non-breaking hyphen: the example is not split over two lines on a phone).
    hint: "Enter one of the recovery codes you saved when you turned on two-factor authentication. Each looks like k7m2p\u2011x9qrt and works once.",
    other: "Use a code from your app" },
};

let login = null;
let onSignedIn = () => {};
let onTitled = () => {}; // main.js: the tab's title follows the page's heading
let titleBefore = null; // the password form's heading ("Sign in"), while the code step replaces it
let mfaToken = null;
let autofill = null; // the AbortController of the waiting autofill request, if any
// Settles once the browser has let go of the last autofill request: aborting one is not
// immediate, and a new navigator.credentials.get before then is refused as a second request.
let autofillSettled = Promise.resolve();
// The API's challenge lives 5 minutes (chalicelib/passkeys.py): a request waiting in
// the autofill is renewed before then, so a passkey picked later still signs in.
const AUTOFILL_RENEW_MS = 4 * 60_000;

/**
 * A sentence for a refused two-factor code, wherever one is typed; refused is what a
 * wrong code means there (the sign-in step's sentence unless given).
 */
export function codeRefusal(error, refused = CODE_REFUSED) {
  if (!(error instanceof ApiError)) return problemText(error);
  if (error.status === 429) return error.message;
  if (error.status === 401 && /expired/i.test(error.message)) {
    return "This sign-in has expired. Start over with your password.";
  }
  if ([400, 401, 403].includes(error.status)) return refused;
  return error.message;
}

/** Look up the elements and wire the handlers, once (main.js); titled(title) retitles the tab. */
export function init({ signedIn, titled }) {
  login = {
    title: byId("auth-title"),
    passwordForm: byId("auth-form"),
    switchLine: byId("auth-switch-line"),
    forgotLine: byId("forgot-line"),
    form: byId("mfa-form"),
    code: byId("mfa-code"),
    codeProblem: byId("mfa-code-problem"),
    codeLabel: document.querySelector('label[for="mfa-code"]'),
    codeHint: byId("mfa-code-hint"),
    who: byId("mfa-username"),
    useRecovery: byId("mfa-use-recovery"),
    usePasskey: byId("mfa-use-passkey"),
    usePasskeyError: byId("mfa-passkey-error"),
    error: byId("mfa-error"),
    submit: byId("mfa-submit"),
    cancel: byId("mfa-cancel"),
    passkeyBox: byId("passkey-login-box"),
    passkey: byId("passkey-login"),
    passkeyError: byId("passkey-login-error"),
  };
  onSignedIn = signedIn;
  onTitled = titled;
  login.passkeyBox.hidden = !supported();
  login.form.addEventListener("submit", submitCode);
  login.cancel.addEventListener("click", startOver);
  login.passkey.addEventListener("click", () => signInWithPasskey(login.passkey, login.passkeyError));
  login.usePasskey.addEventListener("click", () => signInWithPasskey(login.usePasskey, login.usePasskeyError));
  login.useRecovery.addEventListener("click", () => {
    ask(login.asking === "app" ? "recovery" : "app");
    login.code.value = ""; // a code of the other kind, refused or not, is no start for this one
    fieldError(login.code, login.codeProblem, "");
    login.code.focus();
  });
  ask("app");
}

/** Ask for a code from the app, or a recovery code (title, label, keyboard and hint). */
function ask(kind) {
  const how = ASK[kind];
  login.asking = kind;
  if (mfaToken) showTitle(how.title);
  login.codeLabel.textContent = how.label;
  login.code.setAttribute("inputmode", how.inputmode);
  login.codeHint.textContent = how.hint;
  login.useRecovery.textContent = how.other;
}

/** The sign-in page's one heading, and the tab's title with it. */
function showTitle(title) {
  login.title.textContent = title;
  onTitled(title);
}

function startOver() {
  endCodeStep();
  byId("username").focus();
  offerAutofill();
}

/**
 * Offer this browser's passkeys in the username field's autofill, when it can
 * (PublicKeyCredential.isConditionalMediationAvailable): a request with the same
 * usernameless options as "Sign in with a passkey" waits until the person picks one,
 * and then signs in exactly as the button does. main.js calls this while the sign-in
 * form is shown, and stopAutofill() when it is left.
 */
export async function offerAutofill() {
  if (autofill || mfaToken) return;
  const controller = new AbortController();
  autofill = controller;
  const available = await autofillAvailable();
  if (autofill !== controller) return; // stopped meanwhile
  if (!available) {
    autofill = null;
    return;
  }
  const renew = setTimeout(() => {
    if (autofill !== controller) return;
    stopAutofill();
    offerAutofill();
  }, AUTOFILL_RENEW_MS);
  let username = null;
  let picked = false;
  let settle;
  autofillSettled = new Promise((resolve) => { settle = resolve; });
  try {
    username = await loginWithPasskey(async (options) => {
      const credential = await getAssertion(options, { mediation: "conditional", signal: controller.signal });
      picked = true;
      return credential;
    });
  } catch (error) {
    if (autofill === controller) autofill = null;
    // Before a pick, the autofill is only an offer: when it cannot be made (no passkeys
    // on this address, the server unreachable, stopped) nothing is said; the button stays.
    // After one, e.g. the API refused the passkey picked (one removed from the account):
    // said, and not offered again until the form is shown afresh (the button tries again).
    if (picked && !controller.signal.aborted) {
      say(login.passkeyError, error instanceof ApiError ? error.message : problemText(error));
    }
    return;
  } finally {
    clearTimeout(renew);
    settle();
  }
  if (autofill !== controller) return; // the person moved on meanwhile
  autofill = null;
  onSignedIn(username);
}

/**
 * Withdraw the autofill request: the form was left, the password sent, or the button
 * used. Resolves once the browser has let go of it (await it before another request).
 */
export function stopAutofill() {
  autofill?.abort();
  autofill = null;
  return autofillSettled;
}

/**
 * The password was right and the account has two-factor on: ask for a code, saying
 * whose sign-in it is (username as the server knows it), with "Not you? Start over".
 */
export function startCodeStep(token, username) {
  stopAutofill();
  titleBefore ??= login.title.textContent;
  mfaToken = token;
  login.who.textContent = username;
  login.passwordForm.hidden = true;
  login.passkeyBox.hidden = true;
  login.switchLine.hidden = true; // no "Create an account" in the middle of signing in
  login.forgotLine.hidden = true;
  login.form.hidden = false;
  login.usePasskey.hidden = !supported();
  ask("app");
  say(login.error, "");
  say(login.usePasskeyError, "");
  fieldError(login.code, login.codeProblem, "");
  login.code.value = "";
  login.code.focus();
}

/** Back to the password form (also when the login page is shown afresh). */
export function endCodeStep() {
  mfaToken = null;
  if (titleBefore !== null) showTitle(titleBefore);
  titleBefore = null;
  login.who.textContent = "";
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
  const refused = login.asking === "recovery" ? RECOVERY_REFUSED : CODE_REFUSED;
  const message = codeRefusal(error, refused);
  if (message !== refused) return message;
  fieldError(login.code, login.codeProblem, message);
  return "";
}

/** Sign in with a passkey: from the password form, or instead of the code. */
async function signInWithPasskey(button, errorRegion) {
  const released = stopAutofill(); // one WebAuthn request at a time: the button's replaces the autofill's
  let refused = false;
  const username = await run(button, "Waiting for your passkey…",
    async () => {
      await released;
      return loginWithPasskey((options) => getAssertion(options));
    },
    { errorRegion,
      explain: (error) => {
        refused = error instanceof ApiError;
        return refused ? error.message : problemText(error);
      } });
  if (!username) {
    // Cancelled in the browser: the autofill offers the passkeys again (not after the API
    // refused one: the same passkey would only be refused again).
    if (!refused && !mfaToken && !login.passwordForm.closest("[hidden]")) offerAutofill();
    return;
  }
  if (mfaToken) endCodeStep();
  onSignedIn(username);
}
