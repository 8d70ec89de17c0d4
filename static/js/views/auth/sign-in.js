// Sign in and sign up: one form with a switch between the two. Fields are checked
// as the person types with the server's own rules (rules.js), and errors appear
// next to the field at fault, in sentences. The password lives only in the field,
// never in storage.

import { ApiError } from "../../lib/api.js";
import { busy, byId, characterCount, el, fieldError, passwordToggle, say, sentence } from "../../lib/dom.js";
import {
  DISPLAY_NAME_MAX,
  PASSWORD_MAX,
  PASSWORD_MIN,
  USERNAME_MAX,
  USERNAME_MIN,
  USERNAME_PATTERN,
} from "../../lib/rules.js";
import { login, signup } from "../../lib/session.js";
import { watchStrength } from "../../lib/strength.js";
import { offerAutofill, startCodeStep, stopAutofill } from "./code-step.js";

let ui = null; // the form's elements, looked up by init()
let setRevealed = () => {}; // the Show/Hide button's (passwordToggle)

const MODES = {
  login: {
    title: "Sign in",
    lead: "Welcome back to your team's board.",
    submit: "Sign in",
    working: "Signing in…",
    switchText: "New to chalkboard?",
    switchLink: "Create an account",
    switchHref: "#/signup",
    passwordAutocomplete: "current-password",
    // The browser may offer this device's passkeys in the username field (code-step.js).
    usernameAutocomplete: "username webauthn",
  },
  signup: {
    title: "Create an account",
    lead: "Join your team's board.",
    submit: "Sign up",
    working: "Creating your account…",
    switchText: "Already have an account?",
    switchLink: "Sign in",
    switchHref: "#/login",
    passwordAutocomplete: "new-password",
    usernameAutocomplete: "username",
  },
};

const state = {
  mode: "login",
  submitting: false,
  touched: new Set(), // fields left (blurred) or submitted once: their errors show as they change
  refused: null, // { name, value, message }: the server's reason, shown until that field changes
};
let onSignedIn = () => {};

// ---- the rules, as sentences --------------------------------------------------

function normalized(username) {
  return username.normalize("NFKC").toLowerCase();
}

const USERNAME_CHARACTERS = "_ . -"; // besides a–z and 0–9 (USERNAME_PATTERN)

/** What is wrong with the username as typed, or "" (the server's rules, in words). */
function usernameProblem() {
  const value = ui.username.value.trim();
  if (!value) return "Enter a username.";
  if (state.mode === "login") return "";
  const username = normalized(value);
  const length = characterCount(username);
  if (length < USERNAME_MIN || length > USERNAME_MAX) {
    return `A username has ${USERNAME_MIN} to ${USERNAME_MAX} characters; this one has ${length}.`;
  }
  if (!USERNAME_PATTERN.test(username)) {
    // Capitals are allowed as typed: the server stores them lowercase (API.md), so only
    // what is still refused after that is named.
    return `Usernames cannot contain ${refusedCharacters(username)}. ` +
      `Use letters, digits and ${USERNAME_CHARACTERS}`;
  }
  return "";
}

const ALLOWED = /^[a-z0-9_.-]$/u; // one character of USERNAME_PATTERN
const NAMED_AT_MOST = 3;

/** The characters a username may not hold, named as people see them: “!”, “@” or spaces. */
function refusedCharacters(username) {
  const names = new Set();
  const graphemes = new Intl.Segmenter("en", { granularity: "grapheme" }).segment(username);
  for (const { segment } of graphemes) {
    if (ALLOWED.test(segment)) continue;
    if (/^\s+$/u.test(segment)) names.add("spaces");
    else if (/^[\p{Cc}\p{Cf}]+$/u.test(segment)) names.add("invisible characters");
    else names.add(`“${segment}”`);
  }
  // Characters first, then the kinds named in words ("“!” or spaces" reads best).
  const named = [...names].sort((a, b) => Number(!a.startsWith("“")) - Number(!b.startsWith("“")));
  const shown = named.length > NAMED_AT_MOST
    ? [...named.slice(0, NAMED_AT_MOST), "other characters"]
    : named;
  // No comma before "or", as the app's other lists of characters write it.
  return shown.length > 1 ? `${shown.slice(0, -1).join(", ")} or ${shown.at(-1)}` : shown[0];
}

function passwordProblem() {
  const password = ui.password.value;
  if (!password) return "Enter a password.";
  if (state.mode === "login") return "";
  const length = characterCount(password.normalize("NFKC"));
  if (length < PASSWORD_MIN) {
    return `Use at least ${PASSWORD_MIN} characters for your password; this one has ${length}.`;
  }
  if (length > PASSWORD_MAX) {
    return `Use at most ${PASSWORD_MAX} characters for your password; this one has ${length}.`;
  }
  if (normalized(password) === normalized(ui.username.value.trim())) {
    return "Choose a password that is not your username.";
  }
  return "";
}

/** The optional name (sign-up only): empty means "show my username". */
function nameProblem() {
  if (state.mode !== "signup") return "";
  const length = characterCount(ui.name.value.trim());
  if (length > DISPLAY_NAME_MAX) {
    return `A name has at most ${DISPLAY_NAME_MAX} characters; this one has ${length}.`;
  }
  return "";
}

const FIELDS = { // in the form's order: the first wrong one takes the focus
  username: { problem: usernameProblem },
  name: { problem: nameProblem },
  password: { problem: passwordProblem },
};

/**
 * The username's other characters, kept together as the hint keeps them (plain text in
 * a span that does not wrap): "_ . -" at a line's end otherwise leaves a lone "-" on a
 * phone's next line.
 */
function setApartCharacters(region) {
  const text = region.textContent;
  if (!text.endsWith(USERNAME_CHARACTERS)) return;
  region.replaceChildren(text.slice(0, -USERNAME_CHARACTERS.length),
    el("span", { className: "chars", text: USERNAME_CHARACTERS }));
}

/** Show each field's problem; a field's error shows once it was left or submitted. */
function check({ all = false } = {}) {
  if (all) for (const name of Object.keys(FIELDS)) state.touched.add(name);
  let first = null;
  for (const [name, field] of Object.entries(FIELDS)) {
    const input = ui[name];
    const refused = state.refused?.name === name && state.refused.value === input.value;
    const problem = field.problem() || (refused ? state.refused.message : "");
    // Hints turn to a warning as the person types; the sentence waits until they leave the
    // field, and then replaces the warning (one red statement of a rule, not two).
    const shown = state.touched.has(name) || input.getAttribute("aria-invalid") === "true";
    ui[`${name}Hint`].classList.toggle(
      "warn", state.mode === "signup" && Boolean(problem) && input.value !== "" && !shown,
    );
    fieldError(input, ui[`${name}Problem`], shown ? problem : "");
    if (name === "username") setApartCharacters(ui.usernameProblem);
    if (problem && !first) first = input;
  }
  return first;
}

/** The server refused: put its reason beside the field at fault, as a sentence. */
function showRefusal(error) {
  if (!(error instanceof ApiError)) {
    say(ui.error, String(error));
    return ui.password;
  }
  const message = sentence(error.message).replace(/([^.!?])$/, "$1.");
  const field =
    error.status === 409
      ? "username"
      : error.status === 400
        ? /^(username|password|display_name)/i.exec(message)?.[1]
        : null;
  if (field) {
    const name = field.toLowerCase() === "display_name" ? "name" : field.toLowerCase();
    state.refused = {
      name,
      value: ui[name].value,
      message:
        error.status === 409
          ? "That username is taken. Choose another one."
          : message.replace(/^display_name/i, "Your name"),
    };
    check();
    return ui[name];
  }
  if (error.status === 401) {
    say(ui.error, "That username and password do not match an account. Check both and try again.");
    return ui.password;
  }
  say(ui.error, error.message);
  return ui.password;
}

// ---- the view ------------------------------------------------------------

export function setMode(next) {
  if (state.mode !== next) {
    say(ui.error, "");
    state.touched.clear();
    state.refused = null;
    for (const name of Object.keys(FIELDS)) fieldError(ui[name], ui[`${name}Problem`], "");
  }
  state.mode = next;
  const text = MODES[state.mode];
  ui.title.textContent = text.title;
  ui.lead.textContent = text.lead;
  ui.submit.textContent = text.submit;
  ui.switchText.textContent = text.switchText;
  ui.switchLink.textContent = text.switchLink;
  ui.switchLink.setAttribute("href", text.switchHref);
  ui.password.setAttribute("autocomplete", text.passwordAutocomplete);
  ui.username.setAttribute("autocomplete", text.usernameAutocomplete);
  // Rule hints help when choosing a name and password, not when recalling them.
  ui.usernameHint.hidden = state.mode !== "signup";
  ui.passwordHint.hidden = state.mode !== "signup";
  ui.nameField.hidden = state.mode !== "signup"; // a name is asked for only when signing up
  ui.forgotLine.hidden = state.mode !== "login";
  ui.strength.hidden = state.mode !== "signup";
  // The view's mode for the stylesheet: "Sign in with a passkey" belongs to signing in only.
  ui.title.closest("section").dataset.mode = state.mode;
  check();
  return text.title;
}

/** A notice above the form, e.g. why the session ended. */
/** The sign-in page's notice: why the person is here; success: it is good news (green). */
export function setNotice(message, { success = false } = {}) {
  ui.notice.classList.toggle("success", success);
  say(ui.notice, message);
}

export function prefill(username) {
  if (username && !ui.username.value) ui.username.value = username;
}

export function focusFirstField() {
  (ui.username.value ? ui.password : ui.username).focus();
}

async function submit(event) {
  event.preventDefault();
  if (state.submitting) return;
  say(ui.error, "");
  say(ui.notice, "");
  const invalid = check({ all: true });
  if (invalid) {
    invalid.focus();
    return;
  }
  const username = ui.username.value.trim();
  const password = ui.password.value;
  const displayName = ui.name.value.trim() || null; // empty: the server shows the username
  stopAutofill(); // the password is on its way: no passkey prompt meanwhile
  state.submitting = true;
  ui.form.setAttribute("aria-busy", "true");
  const done = busy(ui.submit, MODES[state.mode].working);
  let signedIn = null;
  let refusal = null;
  try {
    signedIn =
      state.mode === "signup"
        ? await signup(username, password, displayName)
        : await login(username, password);
  } catch (error) {
    refusal = error;
  } finally {
    done();
    state.submitting = false;
    ui.form.removeAttribute("aria-busy");
  }
  if (signedIn?.mfaToken) {
    clearForm(); // the password is not needed again for the code step
    startCodeStep(signedIn.mfaToken, normalized(username));
  } else if (signedIn) {
    clearForm(); // the password leaves the page with the form's contents
    onSignedIn(signedIn);
  } else {
    showRefusal(refusal).focus();
    if (state.mode === "login") offerAutofill();
  }
}

/** Empty the form and forget which fields were visited, so nothing shows red afterwards. */
function clearForm() {
  ui.form.reset();
  state.touched.clear();
  state.refused = null;
  for (const name of Object.keys(FIELDS)) fieldError(ui[name], ui[`${name}Problem`], "");
  check();
  setRevealed(false);
  ui.strength.replaceChildren();
}

/** Look up the form's elements and wire them; signedIn(username) runs after a sign-in. */
export function init({ signedIn }) {
  ui = {
    title: byId("auth-title"),
    lead: byId("auth-lead"),
    notice: byId("auth-notice"),
    form: byId("auth-form"),
    username: byId("username"),
    usernameHint: byId("username-hint"),
    usernameProblem: byId("username-problem"),
    password: byId("password"),
    passwordHint: byId("password-hint"),
    passwordProblem: byId("password-problem"),
    nameField: byId("name-field"),
    name: byId("display-name"),
    nameHint: byId("display-name-hint"),
    nameProblem: byId("display-name-problem"),
    reveal: byId("reveal-password"),
    strength: byId("password-strength"),
    forgotLine: byId("forgot-line"),
    error: byId("auth-error"),
    submit: byId("auth-submit"),
    switchText: byId("switch-text"),
    switchLink: byId("auth-switch"),
  };
  onSignedIn = signedIn;
  ui.form.addEventListener("submit", submit);
  ui.form.addEventListener("input", () => check());
  for (const name of Object.keys(FIELDS)) {
    ui[name].addEventListener("blur", (event) => {
      // Leaving for the submit button: the submit shows every error, and showing this one
      // first would move the button from under the pointer between press and release.
      if (event.relatedTarget === ui.submit) return;
      if (ui[name].value !== "") state.touched.add(name);
      check();
    });
  }
  setRevealed = passwordToggle(ui.reveal, [ui.password]);
  watchStrength(ui.password, ui.strength, () =>
    state.mode === "signup" ? [ui.username.value.trim(), ui.name.value.trim()] : null);
}
