// Getting back in, and proving an address: "Forgot password?" (#/forgot), the reset
// page a mailed link opens (#/reset?token=…), and the verification page
// (#/verify-email?token=…). A token is read from the URL's fragment (never sent to
// the web server), then the address bar is cleaned so it stays out of history; it
// lives only in this module until used.

import { run } from "../../lib/action.js";
import { ApiError, request } from "../../lib/api.js";
import { byId, fieldError, passwordToggle, say } from "../../lib/dom.js";
import { currentUser } from "../../lib/session.js";
import { watchStrength } from "../../lib/strength.js";
import { ANY_CODE_REFUSED, codeRefusal } from "./code-step.js";

let hideResetPasswords = () => {};
let ui = null;
let token = null; // the link's token, while its page is on screen
let onDone = () => {};
let onSendAgain = () => {};
let onTitled = () => {}; // main.js: the tab's title follows the page's heading

const SENT_TITLE = "Check your email";
const TITLES = { forgot: "Forgot your password?", reset: "Choose a new password", "verify-email": "Verify your email address" };

/** The token in "#/reset?token=…", then the address bar without it. */
function takeToken(route) {
  const query = location.hash.split("?")[1] ?? "";
  const found = new URLSearchParams(query).get("token");
  if (found) {
    token = found;
    history.replaceState(null, "", `#/${route}`);
  }
  return token;
}

/** Show one of the pages; returns its title. */
export function show(route) {
  for (const [name, node] of Object.entries(ui.pages)) node.hidden = name !== route;
  ui.title.textContent = TITLES[route];
  if (route === "forgot") showForgotForm();
  else if (route === "reset") {
    takeToken("reset");
    ui.resetMissing.hidden = Boolean(token);
    ui.resetForm.hidden = !token;
    hideResetPasswords();
  } else {
    verify();
  }
  return TITLES[route];
}

export function focusFirst(route) {
  ({ forgot: ui.forgotName, reset: token ? ui.resetPassword : ui.title, "verify-email": ui.title })[route].focus();
}

async function forgot(event) {
  event.preventDefault();
  const value = ui.forgotName.value.trim();
  if (!value) {
    fieldError(ui.forgotName, ui.forgotProblem, "Enter your username or your email address.");
    ui.forgotName.focus();
    return;
  }
  fieldError(ui.forgotName, ui.forgotProblem, "");
  const body = value.includes("@") ? { email: value } : { username: value };
  const sent = await run(ui.forgotSubmit, "Sending…",
    () => request("POST", "/password/forgot", { body }).then(() => true),
    { errorRegion: ui.forgotError });
  if (!sent) return;
  ui.forgotForm.hidden = true;
  ui.forgotSent.hidden = false;
  // The page is now about the inbox, as GitHub's and Google's say after sending.
  ui.title.textContent = SENT_TITLE;
  onTitled(SENT_TITLE);
  say(ui.forgotDone,
    "If that account has a verified email address, a link to choose a new password is on its way. " +
    "It works for 30 minutes. Check your spam folder if it does not arrive.");
  ui.title.focus();
}

/** The form to ask for a link (again: "Try again" keeps what was typed, to correct it). */
function showForgotForm() {
  say(ui.forgotDone, "");
  ui.forgotSent.hidden = true;
  ui.forgotForm.hidden = false;
  ui.title.textContent = TITLES.forgot;
}

async function reset(event) {
  event.preventDefault();
  const password = ui.resetPassword.value;
  for (const [input, region] of [[ui.resetPassword, ui.resetProblem], [ui.resetRepeat, ui.resetRepeatProblem], [ui.resetCode, ui.resetCodeProblem]]) {
    fieldError(input, region, "");
  }
  if (!password) {
    fieldError(ui.resetPassword, ui.resetProblem, "Enter a new password.");
    ui.resetPassword.focus();
    return;
  }
  if (password !== ui.resetRepeat.value) {
    fieldError(ui.resetRepeat, ui.resetRepeatProblem, "The two new passwords differ. Type the same new password twice.");
    ui.resetRepeat.focus();
    return;
  }
  const body = { token, new_password: password };
  if (!ui.resetCodeField.hidden) body.code = ui.resetCode.value.trim();
  let refusal = null;
  const done = await run(ui.resetSubmit, "Saving…",
    () => request("POST", "/password/reset", { body }).then(() => true),
    { errorRegion: ui.resetError, explain: (error) => { refusal = error; return ""; } });
  if (done) {
    token = null;
    ui.resetForm.reset();
    hideResetPasswords();
    onDone("Your password has been changed, and every session of your account has ended. Sign in with your new password.");
    return;
  }
  placeResetRefusal(refusal);
}

function placeResetRefusal(error) {
  if (!(error instanceof ApiError)) {
    say(ui.resetError, error?.message ?? "");
    return;
  }
  if (error.status === 400 && /\bcode\b/i.test(error.message) && ui.resetCodeField.hidden) {
    // The account has two-factor on: the API asks for a code too.
    ui.resetCodeField.hidden = false;
    fieldError(ui.resetCode, ui.resetCodeProblem, "Your account has two-factor authentication on: enter a code from your authenticator app, or a recovery code.");
    ui.resetCode.focus();
  } else if (error.status === 401 || (error.status === 400 && /\bcode\b/i.test(error.message))) {
    fieldError(ui.resetCode, ui.resetCodeProblem, codeRefusal(error, ANY_CODE_REFUSED));
    ui.resetCode.select();
    ui.resetCode.focus();
  } else if (error.status === 400 && /password/i.test(error.message)) {
    fieldError(ui.resetPassword, ui.resetProblem, error.message);
    ui.resetPassword.focus();
  } else if (error.status === 400) {
    say(ui.resetError, "This link has expired or was already used. Ask for a new one below.");
    ui.resetAgain.hidden = false;
    ui.resetAgain.focus();
  } else {
    say(ui.resetError, error.message);
  }
}

/**
 * The way forward from a link that cannot verify: a new link is sent from Account →
 * Profile (POST /me/email needs the password), so "Send a new link" opens that dialog
 * when signed in, and "Sign in to send a new link" lands on that page after signing in.
 */
function offerNewLink() {
  const signedIn = Boolean(currentUser());
  ui.verifyAgain.hidden = false;
  ui.verifySendAgain.hidden = !signedIn;
  ui.verifySignIn.hidden = signedIn;
  ui.verifyNext.hidden = !signedIn;
}

async function verify() {
  const found = takeToken("verify-email");
  ui.verifyResult.className = "notice";
  ui.verifyNext.hidden = true;
  ui.verifyAgain.hidden = true;
  if (!found) {
    ui.verifyResult.className = "error";
    say(ui.verifyResult, currentUser()
      ? "This link is incomplete. Open the link from the email again, or send a new one."
      : "This link is incomplete. Open the link from the email again, or sign in to send a new one.");
    offerNewLink();
    return;
  }
  say(ui.verifyResult, "Verifying…");
  try {
    await request("POST", "/email/verify", { body: { token: found } });
    ui.verifyResult.className = "success";
    say(ui.verifyResult, "Your email address is verified. It can now be used to reset your password.");
  } catch (error) {
    ui.verifyResult.className = "error";
    const expired = error instanceof ApiError && error.status === 400;
    say(ui.verifyResult, error instanceof ApiError && error.status === 409
      ? "Another account has verified this address meanwhile, so it cannot be used here."
      : expired
        ? currentUser()
          ? "This link has expired or was already used. Links work once, for 24 hours: send a new one to your address."
          : "This link has expired or was already used. Links work once, for 24 hours: sign in to send a new one."
        : error.message);
    token = null;
    if (expired) {
      offerNewLink();
      return;
    }
  }
  token = null;
  ui.verifyNext.hidden = false;
}

/** done(notice) after a password reset; sendAgain() for "Send a new link" (signed in). */
export function init({ done, sendAgain, titled }) {
  onDone = done;
  onTitled = titled;
  onSendAgain = sendAgain;
  ui = {
    title: byId("recovery-title"),
    pages: { forgot: byId("forgot-page"), reset: byId("reset-page"), "verify-email": byId("verify-page") },
    forgotForm: byId("forgot-form"),
    forgotSent: byId("forgot-sent"),
    forgotAgain: byId("forgot-again"),
    forgotName: byId("forgot-name"),
    forgotProblem: byId("forgot-name-problem"),
    forgotError: byId("forgot-error"),
    forgotSubmit: byId("forgot-submit"),
    forgotDone: byId("forgot-done"),
    resetForm: byId("reset-form"),
    resetMissing: byId("reset-missing"),
    resetPassword: byId("reset-password"),
    resetProblem: byId("reset-password-problem"),
    resetStrength: byId("reset-strength"),
    resetRepeat: byId("reset-repeat"),
    resetRepeatProblem: byId("reset-repeat-problem"),
    resetCodeField: byId("reset-code-field"),
    resetCode: byId("reset-code"),
    resetCodeProblem: byId("reset-code-problem"),
    resetError: byId("reset-error"),
    resetSubmit: byId("reset-submit"),
    resetAgain: byId("reset-again"),
    verifyResult: byId("verify-result"),
    verifyNext: byId("verify-next"),
    verifyAgain: byId("verify-again"),
    verifySendAgain: byId("verify-send-again"),
    verifySignIn: byId("verify-sign-in"),
  };
  ui.verifySendAgain.addEventListener("click", () => onSendAgain());
  ui.forgotForm.addEventListener("submit", forgot);
  ui.forgotAgain.addEventListener("click", () => {
    showForgotForm();
    onTitled(TITLES.forgot);
    ui.forgotName.focus();
  });
  ui.resetForm.addEventListener("submit", reset);
  watchStrength(ui.resetPassword, ui.resetStrength, () => []);
  const showNew = passwordToggle(byId("reset-password-reveal"), [ui.resetPassword], "new password");
  const showRepeat = passwordToggle(byId("reset-repeat-reveal"), [ui.resetRepeat], "new password again");
  hideResetPasswords = () => {
    showNew(false);
    showRepeat(false);
  };
}
