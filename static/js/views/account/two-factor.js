// Sign-in & security: two-factor authentication, for someone who has never used it.
// Off: one "Set up" button, then a dialog one step at a time, with Cancel (and ✕) at
// each, the same four steps on every device: 1 confirm it's you (the password, once:
// the API's step-up, asked inside the flow rather than before it), 2 get an
// authenticator app (with examples), 3 add chalkboard to it (a computer: scan the QR
// code, or type the key in groups of four, with Copy; a touch screen: open the app by
// its link, or paste the key, the QR code for another device on asking), 4 enter the
// code. Then, in the
// same dialog titled "Two-factor authentication is on", the success said first and the
// recovery codes in a box with Download (.txt), Copy and Print along its top. On: a
// clear "On" with the codes left, "New recovery codes…" (shown in the same dialog,
// "Your new recovery codes", its one heading) and one "Turn off…", each asking password and code.
//
// Secrets shown once (the setup key, recovery codes) live only in the page and are
// removed when the person moves on; nothing here is put in storage.

import { run } from "../../lib/action.js";
import { ApiError } from "../../lib/api.js";
import * as dialog from "../../lib/dialog.js";
import { byId, el, fieldError, flash, passwordToggle, say } from "../../lib/dom.js";
import { authed, currentUser } from "../../lib/session.js";
import { ANY_CODE_REFUSED, codeRefusal } from "../auth/code-step.js";
import { icon } from "./icons.js";

// At setup the app's code may be a second from changing, or the one just typed: say so.
const SETUP_CODE_REFUSED = "That code didn't work. Enter the code your app shows now, or wait for its next one.";

const SVG = "http://www.w3.org/2000/svg";
const QR_BORDER = 4;

export const FEW_CODES = 3; // at most this many recovery codes left: time to make new ones

let ui = null;
let keptByButton = false; // Download, Copy or Print was used for the codes shown
let onChanged = () => {};
let enabled = false;
let hidePassword = () => {};

/** Whether two-factor is on (as last heard from the API): step-ups then ask a code too. */
export function isOn() {
  return enabled;
}

/** Fill the section from GET /me's answer (unless a setup or the codes are on screen). */
export function show(me) {
  enabled = Boolean(me.totp_enabled);
  if (ui.dialog.open) return;
  showState(me);
}

function showState(me) {
  ui.badge.textContent = enabled ? "On" : "Off";
  ui.badge.className = enabled ? "badge good" : "badge";
  ui.state.textContent = enabled
    ? "Signing in asks for a code from your authenticator app after your password."
    : "Add a second step to signing in: after your password, a 6-digit code from an app on your phone. Someone who learns your password still cannot sign in.";
  const left = me?.recovery_codes_left;
  // Few left: said as the overview says it (amber, its warning icon), and making new ones is the step to take.
  const few = Number.isInteger(left) && left <= FEW_CODES;
  const text = Number.isInteger(left)
    ? `${left} of 10 recovery codes left.${few ? " Make new ones soon: each works once." : ""}`
    : "";
  ui.left.replaceChildren(few ? icon("warning") : "", text);
  ui.left.hidden = !text;
  ui.left.classList.toggle("few-codes", few);
  ui.regenerate.classList.toggle("primary", few);
  ui.off.hidden = enabled;
  ui.on.hidden = !enabled;
}

/** Bring the section into view and move to it (#/account/two-factor, the overview's "Turn on"). */
export function reveal() {
  ui.section.scrollIntoView({ block: "start" });
  ui.title.focus({ preventScroll: true });
}

export function reset() {
  closeDialog();
  for (const region of [ui.error, ui.done]) say(region, "");
}

function forgetSecrets() {
  ui.qr.replaceChildren();
  ui.openApp.removeAttribute("href");
  ui.secret.textContent = "";
  ui.codes.replaceChildren();
  ui.confirmForm.reset();
  ui.passwordForm.reset(); // no password stays on the page
  hidePassword();
  fieldError(ui.password, ui.passwordProblem, "");
  for (const region of [ui.passwordError, ui.confirmError, ui.copyDone, ui.codesDone, ui.savedNote]) {
    say(region, "");
  }
}

// ---- the dialog, one step at a time ----------------------------------------------

/** Show one step ("password", "app", "scan", "code", "codes") and move to its heading. */
function goTo(step) {
  for (const [name, node] of Object.entries(ui.steps)) node.hidden = name !== step;
  ui.close.hidden = step === "codes"; // the codes close only once saved
  pinButtons();
  ui.dialog.scrollTop = 0; // a step starts at its top, under the dialog's title
  // The step's own heading, or the dialog's when the step shows none (new codes).
  const title = ui.steps[step].querySelector(".step-title:not([hidden])") ?? ui.dialogTitle;
  title.focus({ preventScroll: true });
}

/**
 * On a phone each step's buttons are pinned over the dialog's foot (security.css): the
 * dialog keeps that much room as its scroll padding, so what the focus moves to (and
 * the QR code, once asked for) is scrolled into view above them rather than under them.
 */
function pinButtons() {
  const step = Object.values(ui.steps).find((node) => !node.hidden);
  const foot = step?.querySelector(":scope > .dialog-actions, :scope > .dialog-foot");
  const pinned = foot && getComputedStyle(foot).position === "sticky" ? foot.offsetHeight : 0;
  ui.dialog.style.setProperty("--pinned", `${pinned}px`);
}

// What step 2 says where the app is on this device (a touch screen: a phone or tablet)
// or elsewhere (a computer: scan the QR code with the phone).
const SCAN_TEXT = {
  touch: { scan: "Scan this QR code with the authenticator app on your other device.",
    key: "Or in the app choose “Enter a setup key” and paste this key (choose “time-based” if asked):" },
  desk: { scan: "In the app, choose “Add” or “+”, then scan this QR code.",
    key: "Can't scan? Choose “Enter a setup key” in the app and type this key (spaces do not matter; choose “time-based” if asked):" },
};

/**
 * Lay step 2 out for this device; the steps and their titles are the same everywhere.
 * On a touch screen the app is most likely on it: the otpauth:// link that opens the
 * app comes first, then the key to paste, and the QR code (for an app on another
 * device) only on asking, in a disclosure after them; the reading order is the shown
 * order (the nodes move, not just their boxes).
 */
function layOutSetup(otpauthUri) {
  const touch = window.matchMedia("(pointer: coarse)").matches;
  const text = touch ? SCAN_TEXT.touch : SCAN_TEXT.desk;
  ui.openRow.hidden = !touch;
  ui.openApp.setAttribute("href", otpauthUri);
  ui.scanText.textContent = text.scan;
  ui.keyHint.textContent = text.key;
  ui.otherDevice.hidden = !touch;
  ui.otherDevice.open = false;
  if (touch) ui.otherDevice.append(ui.scanPart);
  else ui.steps.scan.insertBefore(ui.scanPart, ui.keyPart);
}

function openDialog(title, step) {
  ui.dialogTitle.textContent = title;
  if (!ui.dialog.open) ui.dialog.showModal();
  goTo(step);
}

/** Close the dialog and remove every secret it showed. */
function closeDialog() {
  forgetSecrets();
  if (ui.dialog.open) ui.dialog.close();
}

function drawQr(rows) {
  const size = rows.length + 2 * QR_BORDER;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${size} ${size}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "QR code for your authenticator app (the key below says the same)");
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
  ui.qr.replaceChildren(svg);
}

/** "JBSWY3DPEHPK3PXP" -> "JBSW Y3DP EHPK 3PXP": easier to read and type. */
export function groupsOfFour(secret) {
  return secret.replace(/\s+/g, "").match(/.{1,4}/g)?.join(" ") ?? "";
}

function startSetup() {
  say(ui.done, "");
  forgetSecrets();
  ui.username.value = currentUser() ?? "";
  openDialog("Set up two-factor authentication", "password");
  ui.password.focus(); // the step's heading is its label's context; the field is the task
}

/** Step 1: the password (the API's step-up) starts the setup and answers its key. */
async function confirmPassword(event) {
  event.preventDefault();
  const password = ui.password.value;
  fieldError(ui.password, ui.passwordProblem, password ? "" : "Enter your password.");
  if (!password) {
    ui.password.focus();
    return;
  }
  const setup = await run(ui.passwordSubmit, "Checking…",
    () => authed("POST", "/me/totp", { body: { password } }),
    { errorRegion: ui.passwordError, explain: passwordRefusal });
  if (!setup) {
    if (ui.dialog.open && ui.password.getAttribute("aria-invalid") === "true") {
      ui.password.select();
      ui.password.focus();
    }
    return;
  }
  if (!ui.dialog.open || ui.steps.password.hidden) return; // cancelled meanwhile
  ui.passwordForm.reset();
  hidePassword();
  drawQr(setup.qr);
  ui.secret.textContent = groupsOfFour(setup.secret);
  layOutSetup(setup.otpauth_uri);
  goTo("app");
}

/** A wrong password is said beside its field (""); anything else in the step's region. */
function passwordRefusal(error) {
  if (!(error instanceof ApiError && error.status === 403)) return null;
  fieldError(ui.password, ui.passwordProblem, "That password is not right. Check it and try again.");
  return "";
}

/** Cancel, Escape: before two-factor is on, the setup is dropped; after, only closed. */
function cancelSetup() {
  if ([ui.passwordSubmit, ui.confirmSubmit].some((button) => button.hasAttribute("aria-busy"))) return;
  closeDialog();
  showState(null);
  (enabled ? ui.disable : ui.start).focus();
}

async function copy(text, region, what) {
  try {
    await navigator.clipboard.writeText(text);
    flash(region, `${what} copied.`);
  } catch {
    flash(region, `Could not copy: select the ${what.toLowerCase()} and copy it yourself.`);
  }
}

async function confirmSetup(event) {
  event.preventDefault();
  const answer = await run(ui.confirmSubmit, "Turning on…",
    () => authed("POST", "/me/totp/confirm", { body: { code: ui.confirmCode.value.trim() } }),
    { errorRegion: ui.confirmError, explain: (error) => codeRefusal(error, SETUP_CODE_REFUSED) });
  if (!answer) {
    ui.confirmCode.select();
    ui.confirmCode.focus();
    return;
  }
  enabled = true;
  ui.qr.replaceChildren();
  ui.secret.textContent = "";
  showCodes(answer.recovery_codes,
    "Signing in now asks for your password and a code from your app.",
    "Two-factor authentication is on");
}

/**
 * The recovery codes, in the dialog, under the title and a line that say what just
 * happened. Turning two-factor on, the step has its own heading under the dialog's
 * ("Save your recovery codes"); new codes (``renewed``) have the dialog's title only
 * ("Your new recovery codes"), as two headings there would say one thing twice.
 */
function showCodes(codes, message, title, { renewed = false } = {}) {
  ui.codes.replaceChildren(...codes.map((code) => el("li", { text: code })));
  keptByButton = false;
  ui.writtenDown.checked = false;
  keptCodes(false);
  showState({ recovery_codes_left: codes.length });
  ui.codesTitle.hidden = renewed;
  openDialog(title, "codes");
  say(ui.codesDone, message);
}

function codesText() {
  const codes = Array.from(ui.codes.children, (item) => item.textContent);
  return [
    `chalkboard recovery codes for ${currentUser() ?? ""}`,
    "Each code signs you in once instead of a code from your authenticator app.",
    "",
    ...codes,
    "",
  ].join("\n");
}

function download() {
  const blob = new Blob([codesText()], { type: "text/plain" });
  const url = URL.createObjectURL(blob);
  const link = el("a", { attrs: { href: url, download: "chalkboard-recovery-codes.txt" } });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
  flash(ui.savedNote, "Downloaded chalkboard-recovery-codes.txt.");
}

function print() {
  document.body.classList.add("printing-codes");
  window.addEventListener("afterprint", () => document.body.classList.remove("printing-codes"), { once: true });
  window.print();
}

/**
 * "I have saved them" stays aria-disabled (focusable, its reason read with it and shown
 * above the codes) until Download, Copy or Print was used or "I wrote them down" is
 * ticked: a click straight through lost codes. One of those is enough.
 */
function keptCodes(kept) {
  ui.savedButton.setAttribute("aria-disabled", String(!kept));
  if (kept) ui.savedButton.removeAttribute("aria-describedby");
  else ui.savedButton.setAttribute("aria-describedby", ui.keepFirst.id);
}

function codesSaved() {
  if (ui.savedButton.getAttribute("aria-disabled") === "true") return;
  say(ui.done, ""); // the On badge says it now; the box beside it would only repeat it
  closeDialog();
  showState(null);
  onChanged();
  ui.disable.focus();
}

async function regenerate() {
  say(ui.done, "");
  const answer = await dialog.ask({
    title: "Make new recovery codes",
    text: "Your old recovery codes stop working. Enter your password and a code from your app.",
    code: true,
    submit: "Make new codes",
    busy: "Making…",
    explain: stepUpRefusal,
    action: ({ password, code }) =>
      authed("POST", "/me/totp/recovery-codes", { body: { password, code } }),
  });
  if (answer) {
    showCodes(answer.recovery_codes, "New recovery codes made. The old ones no longer work.",
      "Your new recovery codes", { renewed: true });
  }
}

async function disable() {
  say(ui.done, "");
  const off = await dialog.ask({
    title: "Turn off two-factor authentication?",
    text: "Signing in will ask only for your password. Your recovery codes stop working.",
    code: true,
    submit: "Turn off",
    busy: "Turning off…",
    danger: true,
    explain: stepUpRefusal,
    action: ({ password, code }) => authed("DELETE", "/me/totp", { body: { password, code } }),
  });
  if (!off) return;
  enabled = false;
  showState(null);
  flash(ui.done, "Two-factor authentication is off.");
  onChanged();
  ui.start.focus();
}

/** A refused password or code in the dialog, said next to the field at fault. */
export function stepUpRefusal(error) {
  if (error.status === 403 && /code/i.test(error.message)) return { field: "code", message: codeRefusal(error, ANY_CODE_REFUSED) };
  if (error.status === 400 && /code/i.test(error.message)) return { field: "code", message: codeRefusal(error, ANY_CODE_REFUSED) };
  return null;
}

export function init({ onChanged: changed }) {
  onChanged = changed;
  ui = {
    section: byId("two-factor"),
    title: byId("two-factor-title"),
    badge: byId("totp-badge"),
    state: byId("two-factor-state"),
    off: byId("totp-off"),
    start: byId("totp-start"),
    dialog: byId("totp-dialog"),
    dialogTitle: byId("totp-dialog-title"),
    close: byId("totp-close"),
    steps: {
      password: byId("totp-step-password"),
      app: byId("totp-step-app"),
      scan: byId("totp-step-scan"),
      code: byId("totp-confirm-form"),
      codes: byId("totp-recovery"),
    },
    passwordForm: byId("totp-step-password"),
    username: byId("totp-username"),
    password: byId("totp-password"),
    passwordProblem: byId("totp-password-problem"),
    passwordError: byId("totp-password-error"),
    passwordSubmit: byId("totp-password-submit"),
    qr: byId("totp-qr"),
    secret: byId("totp-secret"),
    openRow: byId("totp-open-row"),
    openApp: byId("totp-open-app"),
    scanPart: byId("totp-scan-part"),
    scanText: byId("totp-scan-text"),
    keyPart: byId("totp-key-part"),
    keyHint: byId("totp-key-hint"),
    otherDevice: byId("totp-other-device"),
    copyKey: byId("totp-copy-key"),
    copyDone: byId("totp-copy-done"),
    confirmForm: byId("totp-confirm-form"),
    confirmCode: byId("totp-confirm-code"),
    confirmError: byId("totp-confirm-error"),
    confirmSubmit: byId("totp-confirm-submit"),
    codes: byId("totp-recovery-codes"),
    codesTitle: byId("totp-recovery-title"),
    codesDone: byId("totp-codes-done"),
    savedNote: byId("totp-recovery-done-note"),
    keepFirst: byId("totp-recovery-first"),
    writtenDown: byId("totp-written-down"),
    savedButton: byId("totp-recovery-done"),
    on: byId("totp-on"),
    left: byId("totp-codes-left"),
    regenerate: byId("totp-regenerate"),
    disable: byId("totp-disable"),
    error: byId("totp-error"),
    done: byId("two-factor-done"),
  };
  ui.start.addEventListener("click", startSetup);
  ui.passwordForm.addEventListener("submit", confirmPassword);
  hidePassword = passwordToggle(byId("totp-reveal-password"), [ui.password]);
  for (const button of ui.dialog.querySelectorAll(".totp-cancel")) button.addEventListener("click", cancelSetup);
  ui.close.addEventListener("click", cancelSetup);
  for (const button of ui.dialog.querySelectorAll(".totp-back")) {
    button.addEventListener("click", () => goTo(button.dataset.to));
  }
  byId("totp-to-scan").addEventListener("click", () => goTo("scan"));
  byId("totp-to-code").addEventListener("click", () => {
    goTo("code");
    ui.confirmCode.focus();
  });
  ui.otherDevice.addEventListener("toggle", () => {
    if (ui.otherDevice.open) ui.qr.scrollIntoView({ block: "nearest" });
  });
  // A foot's height changes with the width (a turned phone) and with its note ("Downloaded…").
  const feet = new ResizeObserver(() => pinButtons());
  for (const foot of ui.dialog.querySelectorAll(".totp-step > .dialog-actions, .dialog-foot")) {
    feet.observe(foot);
  }
  ui.dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    // Escape: Cancel while setting up; with the codes on screen, only "I have saved them" closes.
    if (ui.steps.codes.hidden) cancelSetup();
  });
  ui.copyKey.addEventListener("click", () =>
    copy(ui.secret.textContent.replace(/\s+/g, ""), ui.copyDone, "Key"));
  ui.confirmForm.addEventListener("submit", confirmSetup);
  byId("totp-download").addEventListener("click", download);
  byId("totp-copy-codes").addEventListener("click", () => copy(codesText(), ui.savedNote, "Codes"));
  byId("totp-print").addEventListener("click", print);
  // Any of the three counts (a failed copy says how to copy them by hand), or ticking
  // "I wrote them down" (unticking it again takes back only that).
  for (const id of ["totp-download", "totp-copy-codes", "totp-print"]) {
    byId(id).addEventListener("click", () => {
      keptByButton = true;
      keptCodes(true);
    });
  }
  ui.writtenDown.addEventListener("change", () => keptCodes(keptByButton || ui.writtenDown.checked));
  byId("totp-recovery-done").addEventListener("click", codesSaved);
  ui.regenerate.addEventListener("click", regenerate);
  ui.disable.addEventListener("click", disable);
}
