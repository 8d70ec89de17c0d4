// Sign-in & security: passkeys. Adding one asks its name first (suggested as "Where
// you're signed in" names this browser, e.g. "Chrome on an Android phone", numbered so
// two never look alike); renaming is in the same dialog; removing one — a way to sign
// in — is confirmed with the password.

import * as dialog from "../../lib/dialog.js";
import { ApiError } from "../../lib/api.js";
import { byId, el, flash, say } from "../../lib/dom.js";
import { SessionEnded, authed } from "../../lib/session.js";
import { daysAgo, fullTime } from "../../lib/time.js";
import { createCredential, problemText, supported } from "../../lib/webauthn.js";
import { thisDeviceName } from "./sessions.js";
import { stepUpRefusal, isOn as twoFactorOn } from "./two-factor.js";


let ui = null;
let onChanged = () => {};
let onSteppedUp = () => {}; // a step-up may have spent a recovery code: the page re-reads /me
let names = []; // the current passkeys' names, to suggest a new one that differs

// A new passkey's name when the API knows no browser for this one.
const PASSKEY = "Passkey";

/** The base name ("Chrome on macOS"), or "Chrome on macOS (2)" and on when a passkey has it. */
function suggestedName(base, taken = names) {
  let name = base;
  for (let n = 2; taken.includes(name); n += 1) name = `${base} (${n})`;
  return name;
}

/** Load the list; resolves to the passkeys, or null when it failed. */
export async function load() {
  say(ui.error, "");
  ui.add.hidden = !supported();
  try {
    const { passkeys } = await authed("GET", "/me/passkeys");
    render(passkeys);
    onChanged(passkeys);
    return passkeys;
  } catch (error) {
    if (!(error instanceof SessionEnded)) say(ui.error, error.message);
    return null;
  }
}

function render(passkeys) {
  names = passkeys.map((passkey) => passkey.name);
  ui.empty.hidden = passkeys.length > 0;
  ui.list.replaceChildren(...passkeys.map(passkeyItem));
}

// Relative, as every other time in the app ("Added 3 days ago"); the date in the tooltip.
function when(timestamp) {
  const date = new Date(timestamp);
  return el("time", { text: daysAgo(date), attrs: { datetime: timestamp, title: fullTime(date) } });
}

function passkeyItem(passkey) {
  const name = el("span", { className: "passkey-name", text: passkey.name, attrs: { dir: "auto" } });
  const facts = el("span", { className: "passkey-facts" },
    "Added ", when(passkey.created_at), " · ",
    ...(passkey.last_used_at ? ["Last used ", when(passkey.last_used_at)] : ["Never used"]));
  const rename = el("button", {
    className: "word", text: "Rename", attrs: { type: "button", "aria-label": `Rename passkey ${passkey.name}`, "aria-haspopup": "dialog" },
  });
  const remove = el("button", {
    className: "word danger-quiet", text: "Remove", attrs: { type: "button", "aria-label": `Remove passkey ${passkey.name}`, "aria-haspopup": "dialog" },
  });
  const item = el("li", { className: "passkey" }, name, facts,
    el("span", { className: "passkey-actions" }, rename, remove));
  rename.addEventListener("click", () => renamePasskey(passkey, rename));
  remove.addEventListener("click", () => removePasskey(passkey));
  return item;
}

async function renamePasskey(passkey, button) {
  say(ui.done, "");
  const renamed = await dialog.ask({
    title: "Rename passkey",
    text: "A name that says where the passkey lives, such as the device or the password manager.",
    name: { label: "Name", value: passkey.name },
    password: false,
    submit: "Save",
    busy: "Saving…",
    explain: (error) => (error instanceof ApiError && error.status === 400 ? { field: "name", message: error.message } : null),
    action: ({ name }) =>
      authed("PATCH", `/me/passkeys/${encodeURIComponent(passkey.id)}`, { body: { name } }),
  });
  if (!renamed) {
    button.focus();
    return;
  }
  flash(ui.done, "Passkey renamed.");
  await load();
  ui.add.focus();
}

async function removePasskey(passkey) {
  say(ui.done, "");
  const removed = await dialog.ask({
    title: `Remove the passkey “${passkey.name}”?`,
    text: "It will no longer sign you in, and any session it signed in is ended. The passkey stays in your device or password manager: delete it there too. You can add it again later.",
    submit: "Remove passkey",
    busy: "Removing…",
    danger: true,
    action: async ({ password }) => {
      try {
        await authed("DELETE", `/me/passkeys/${encodeURIComponent(passkey.id)}`, { body: { password } });
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 404)) throw error;
      }
      return true;
    },
  });
  if (!removed) return;
  flash(ui.done, `Passkey “${passkey.name}” removed. It no longer signs you in.`);
  await load();
  ui.add.focus();
}

let naming = false; // a click is waiting for this browser's name: another click meanwhile does nothing

async function addPasskey() {
  if (naming) return;
  say(ui.done, "");
  naming = true;
  const device = await thisDeviceName().finally(() => { naming = false; });
  const added = await dialog.ask({
    title: "Add a passkey",
    text: "Name it and confirm it is you, then follow your browser's prompt: it uses this device's screen lock, a phone or a security key.",
    name: { label: "Name for this passkey", value: suggestedName(device ?? PASSKEY) },
    code: twoFactorOn(), // step-up (API.md): the password, and a code with two-factor on
    submit: "Continue",
    busy: "Waiting for your device…",
    explain: (error) => (error instanceof ApiError ? stepUpRefusal(error) : { message: problemText(error) }),
    action: async ({ name, password, code }) => {
      const body = code === undefined ? { password } : { password, code };
      const { publicKey } = await authed("POST", "/me/passkeys/options", { body });
      const credential = await createCredential(publicKey);
      return authed("POST", "/me/passkeys", { body: { credential, name } });
    },
  });
  if (!added) return;
  flash(ui.done, `Passkey “${added.name}” added. You can now sign in with it.`);
  onSteppedUp();
  await load();
  ui.add.focus();
}

export function reset() {
  ui.list.replaceChildren();
  for (const region of [ui.error, ui.done]) say(region, "");
}

export function init({ onChanged: changed, onSteppedUp: steppedUp }) {
  onChanged = changed;
  onSteppedUp = steppedUp;
  ui = {
    list: byId("passkey-list"),
    empty: byId("passkeys-empty"),
    error: byId("passkeys-error"),
    done: byId("passkeys-done"),
    add: byId("passkey-add"),
  };
  ui.add.addEventListener("click", addPasskey);
}
