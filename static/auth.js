// Log in and sign up: one form with a switch between the two. The hints mirror
// the server's rules as the person types; when the server refuses, its message
// is what is shown. The password lives only in the field, never in storage.

import { busy, byId, characterCount, say } from "./dom.js";
import { login, signup } from "./session.js";

const USERNAME = /^[a-z0-9_.-]{3,32}$/;
const PASSWORD_MIN = 12;
const PASSWORD_MAX = 128;

const ui = {
  title: byId("auth-title"),
  notice: byId("auth-notice"),
  form: byId("auth-form"),
  username: byId("username"),
  usernameHint: byId("username-hint"),
  password: byId("password"),
  passwordHint: byId("password-hint"),
  reveal: byId("reveal-password"),
  error: byId("auth-error"),
  submit: byId("auth-submit"),
  switchText: byId("switch-text"),
  switchLink: byId("auth-switch"),
};

const MODES = {
  login: {
    title: "Log in",
    submit: "Log in",
    working: "Logging in…",
    switchText: "New to chalkboard?",
    switchLink: "Create an account",
    switchHref: "#/signup",
    passwordAutocomplete: "current-password",
  },
  signup: {
    title: "Create an account",
    submit: "Sign up",
    working: "Creating your account…",
    switchText: "Already have an account?",
    switchLink: "Log in",
    switchHref: "#/login",
    passwordAutocomplete: "new-password",
  },
};

let mode = "login";
let onSignedIn = () => {};

export function initAuth({ signedIn }) {
  onSignedIn = signedIn;
}

export function setMode(next) {
  if (mode !== next) say(ui.error, "");
  mode = next;
  const text = MODES[mode];
  ui.title.textContent = text.title;
  ui.submit.textContent = text.submit;
  ui.switchText.textContent = text.switchText;
  ui.switchLink.textContent = text.switchLink;
  ui.switchLink.setAttribute("href", text.switchHref);
  ui.password.setAttribute("autocomplete", text.passwordAutocomplete);
  // Rule hints help when choosing a name and password, not when recalling them.
  ui.usernameHint.hidden = mode !== "signup";
  ui.passwordHint.hidden = mode !== "signup";
  for (const input of [ui.username, ui.password]) {
    if (mode === "signup") input.setAttribute("aria-describedby", `${input.id}-hint`);
    else input.removeAttribute("aria-describedby");
  }
  checkHints();
  return text.title;
}

/** A notice above the form, e.g. why the session ended. */
export function setNotice(message) {
  say(ui.notice, message);
}

export function prefill(username) {
  if (username && !ui.username.value) ui.username.value = username;
}

export function focusFirstField() {
  (ui.username.value ? ui.password : ui.username).focus();
}

function checkHints() {
  if (mode !== "signup") return;
  const username = ui.username.value.normalize("NFKC").toLowerCase();
  const usernameOff = username !== "" && !USERNAME.test(username);
  ui.usernameHint.classList.toggle("warn", usernameOff);
  const password = ui.password.value;
  const length = characterCount(password);
  const passwordOff =
    password !== "" &&
    (length < PASSWORD_MIN ||
      length > PASSWORD_MAX ||
      password.normalize("NFKC").toLowerCase() === username);
  ui.passwordHint.classList.toggle("warn", passwordOff);
}

async function submit(event) {
  event.preventDefault();
  if (ui.submit.disabled) return;
  say(ui.error, "");
  say(ui.notice, "");
  const username = ui.username.value.trim();
  const password = ui.password.value;
  ui.form.setAttribute("aria-busy", "true");
  const done = busy(ui.submit, MODES[mode].working);
  let signedIn = null;
  try {
    signedIn = mode === "signup" ? await signup(username, password) : await login(username, password);
  } catch (error) {
    say(ui.error, error.message);
  } finally {
    done();
    ui.form.removeAttribute("aria-busy");
  }
  if (signedIn) {
    ui.form.reset(); // the password leaves the page with the form's contents
    checkHints();
    setRevealed(false);
    onSignedIn(signedIn);
  } else {
    ui.password.focus();
  }
}

function setRevealed(revealed) {
  ui.password.type = revealed ? "text" : "password";
  ui.reveal.textContent = revealed ? "Hide" : "Show";
  ui.reveal.setAttribute("aria-label", revealed ? "Hide password" : "Show password");
}

ui.form.addEventListener("submit", submit);
ui.form.addEventListener("input", checkHints);
ui.reveal.addEventListener("click", () => setRevealed(ui.password.type === "password"));
