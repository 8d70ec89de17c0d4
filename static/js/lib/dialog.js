// The one dialog that asks for what a sensitive action needs, once, when the person
// starts it: the password (the API's step-up), a two-factor code when that is on, a
// name (e.g. a new passkey's), or a new password. Nothing here stays on the page:
// the fields are emptied when the dialog closes. The action runs while the dialog is
// open (its button busy), so a wrong password is said in the dialog, next to it.

import { ApiError } from "./api.js";
import { run } from "./action.js";
import { byId, fieldError, passwordToggle, say } from "./dom.js";
import { currentUser } from "./session.js";
import { watchStrength } from "./strength.js";

let ui = null;
let current = null; // { options, resolve } while open
let hidePasswords = () => {};

/** Look up the dialog's elements and wire them (main.js, once). */
export function init() {
  ui = {
    dialog: byId("step-up-dialog"),
    form: byId("step-up-form"),
    title: byId("step-up-title"),
    text: byId("step-up-text"),
    username: byId("step-up-username"),
    nameField: byId("step-up-name-field"),
    nameLabel: byId("step-up-name-label"),
    name: byId("step-up-name"),
    nameProblem: byId("step-up-name-problem"),
    passwordField: byId("step-up-password-field"),
    passwordLabel: byId("step-up-password-label"),
    password: byId("step-up-password"),
    passwordProblem: byId("step-up-password-problem"),
    codeField: byId("step-up-code-field"),
    code: byId("step-up-code"),
    codeProblem: byId("step-up-code-problem"),
    newField: byId("step-up-new-field"),
    newPassword: byId("step-up-new-password"),
    newProblem: byId("step-up-new-password-problem"),
    strength: byId("step-up-strength"),
    repeat: byId("step-up-repeat"),
    repeatProblem: byId("step-up-repeat-problem"),
    error: byId("step-up-error"),
    cancel: byId("step-up-cancel"),
    submit: byId("step-up-submit"),
  };
  // Each dialog's ✕ is its Cancel's twin (the page's other dialogs too): pressing it
  // presses that Cancel, which knows whether cancelling is possible now.
  for (const close of document.querySelectorAll(".dialog-close[data-cancels]")) {
    close.addEventListener("click", () => byId(close.dataset.cancels).click());
  }
  ui.form.addEventListener("submit", submit);
  ui.cancel.addEventListener("click", () => close(null));
  ui.dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    if (!ui.submit.hasAttribute("aria-busy")) close(null);
  });
  const showCurrent = passwordToggle(byId("step-up-reveal-password"), [ui.password]);
  const showNew = passwordToggle(byId("step-up-new-password-reveal"), [ui.newPassword], "new password");
  const showRepeat = passwordToggle(byId("step-up-repeat-reveal"), [ui.repeat], "new password again");
  hidePasswords = () => {
    showCurrent(false);
    showNew(false);
    showRepeat(false);
  };
  watchStrength(ui.newPassword, ui.strength, () =>
    ui.newField.hidden ? null : (current?.options.userInputs ?? [currentUser() ?? ""]));
}

/**
 * Ask, then run options.action(answers) with answers = { password, code, name,
 * newPassword } (only what was asked). Resolves to the action's result, or null when
 * the person cancelled. options: title, text (a string or nodes), submit (the button's
 * words), cancel (the other button's, "Cancel"), focus ("cancel" to start on the safe
 * choice), busy ("Deleting…"), danger, password (true), code (bool), name ({ label,
 * value }), newPassword (bool) with userInputs (names the new password must not lean
 * on), explain(error) -> { field, message } for a refusal.
 */
export function ask(options) {
  if (current) close(null);
  const { title, text, submit: submitLabel = "Continue", danger = false } = options;
  ui.title.textContent = title;
  ui.text.replaceChildren(...(Array.isArray(text) ? text : [text ?? ""]));
  ui.submit.textContent = submitLabel;
  ui.submit.className = danger ? "danger" : "primary";
  ui.cancel.textContent = options.cancel ?? "Cancel";
  ui.username.value = currentUser() ?? "";
  ui.nameField.hidden = !options.name;
  ui.passwordField.hidden = options.password === false;
  ui.passwordLabel.textContent = options.newPassword ? "Current password" : "Your password";
  ui.codeField.hidden = !options.code;
  ui.newField.hidden = !options.newPassword;
  if (options.name) {
    ui.nameLabel.textContent = options.name.label;
    ui.name.value = options.name.value ?? "";
    ui.name.type = options.name.type ?? "text";
    ui.name.setAttribute("autocomplete", options.name.autocomplete ?? "off");
    ui.name.maxLength = options.name.maxLength ?? 50;
  }
  clearProblems();
  ui.dialog.showModal();
  const first =
    options.focus === "cancel" ? ui.cancel
      : options.name ? ui.name : options.password === false ? ui.submit : ui.password;
  first.focus();
  if (options.name) ui.name.select();
  return new Promise((resolve) => {
    current = { options, resolve };
  });
}

function clearProblems() {
  say(ui.error, "");
  for (const [input, region] of pairs()) fieldError(input, region, "");
}

function pairs() {
  return [
    [ui.name, ui.nameProblem],
    [ui.password, ui.passwordProblem],
    [ui.code, ui.codeProblem],
    [ui.newPassword, ui.newProblem],
    [ui.repeat, ui.repeatProblem],
  ];
}

function close(result) {
  const open = current;
  current = null;
  ui.form.reset(); // no password stays on the page
  hidePasswords();
  ui.strength.replaceChildren();
  if (ui.dialog.open) ui.dialog.close();
  open?.resolve(result);
}

/** The first empty or wrong field, marked next to itself. */
function missing(options) {
  const checks = [
    [Boolean(options.name), ui.name, ui.nameProblem, options.name?.missing ?? "Enter a name."],
    [options.password !== false, ui.password, ui.passwordProblem, "Enter your password."],
    [Boolean(options.code), ui.code, ui.codeProblem, "Enter the code from your authenticator app, or a recovery code."],
    [Boolean(options.newPassword), ui.newPassword, ui.newProblem, "Enter a new password."],
  ];
  let first = null;
  for (const [asked, input, region, message] of checks) {
    const wrong = asked && !input.value.trim() ? message : "";
    fieldError(input, region, wrong);
    if (wrong && !first) first = input;
  }
  if (!first && options.newPassword && ui.newPassword.value !== ui.repeat.value) {
    fieldError(ui.repeat, ui.repeatProblem, "The two new passwords differ. Type the same new password twice.");
    first = ui.repeat;
  }
  return first;
}

async function submit(event) {
  event.preventDefault();
  if (!current) return;
  const { options } = current;
  const first = missing(options);
  if (first) {
    first.focus();
    return;
  }
  const answers = {};
  if (options.name) answers.name = ui.name.value.trim();
  if (options.password !== false) answers.password = ui.password.value;
  if (options.code) answers.code = ui.code.value.trim();
  if (options.newPassword) answers.newPassword = ui.newPassword.value;
  let refused = null;
  const outcome = await run(ui.submit, options.busy ?? "Working…", async () => ({ value: await options.action(answers) }), {
    errorRegion: ui.error,
    explain: (error) => {
      refused = error;
      return placeRefusal(options, error);
    },
  });
  if (outcome) {
    close(outcome.value ?? true);
  } else if (!current || !refused) {
    close(null); // the session ended meanwhile
  }
}

/** Put a refusal next to the field it is about; "" when it was placed there. */
function placeRefusal(options, error) {
  const explained = options.explain?.(error);
  const fields = { name: ui.name, password: ui.password, code: ui.code, newPassword: ui.newPassword };
  const regions = { name: ui.nameProblem, password: ui.passwordProblem, code: ui.codeProblem, newPassword: ui.newProblem };
  let field = explained?.field ?? null;
  let message = explained?.message ?? error.message;
  if (!field && error instanceof ApiError && error.status === 403 && options.password !== false) {
    field = options.code && /code/i.test(error.message) ? "code" : "password";
    if (field === "password") message = "That password is not right. Check it and try again.";
  }
  if (field && fields[field] && !fields[field].closest("[hidden]")) {
    fieldError(fields[field], regions[field], message);
    fields[field].select?.();
    fields[field].focus();
    return "";
  }
  return message;
}
