// The Account page: an overview that sums up how the account is protected (from
// GET /me, /me/passkeys and /me/sessions), linking to its pages: Profile, Sign-in &
// security (password, two-factor, passkeys, recent activity), Where you're signed in,
// Delete account. The password's age comes from the security events (GET
// /me/security-events, kept 90 days). Fields the API does not send are left out
// rather than guessed.

import { avatar } from "../../lib/avatar.js";
import { byId, el, say } from "../../lib/dom.js";
import { SessionEnded, authed } from "../../lib/session.js";
import { daysAgo, fullTime, relativeTime } from "../../lib/time.js";
import { supported as passkeysSupported } from "../../lib/webauthn.js";
import * as activity from "./activity.js";
import * as danger from "./danger.js";
import * as passkeys from "./passkeys.js";
import * as password from "./password.js";
import * as profile from "./profile.js";
import * as sessions from "./sessions.js";
import * as twoFactor from "./two-factor.js";

const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "long" });
const EVENTS_KEPT_DAYS = 90;
const TITLES = {
  "": "Account",
  profile: "Profile",
  security: "Sign-in & security",
  activity: "Sign-in & security", // the security page, at its activity section
  "two-factor": "Sign-in & security", // … at its two-factor section
  sessions: "Where you're signed in",
  danger: "Delete account",
};
const PAGE_OF = { activity: "security", "two-factor": "security" };
const FEW_CODES = 3; // at most this many recovery codes left: time to make new ones

let ui = null;
let onProfile = () => {};
let loading = null; // the /me request in flight, so a stale answer is dropped

/** Show one page of the account ("" for the overview); returns its title. */
export function showAccount(page) {
  const shown = PAGE_OF[page] ?? page;
  for (const [name, node] of Object.entries(ui.pages)) node.hidden = name !== shown;
  ui.back.hidden = page === "";
  ui.title.textContent = TITLES[page];
  say(ui.error, "");
  load(page);
  return TITLES[page];
}

async function load(page) {
  const request = authed("GET", "/me");
  loading = request;
  try {
    const me = await request;
    if (loading !== request) return;
    showMe(me);
    twoFactor.show(me);
    if (page === "two-factor") twoFactor.reveal();
    const security = (PAGE_OF[page] ?? page) === "security";
    if (page === "" || security) {
      // Unknown (the list failed to load) reads as plain "Set", as when the API has no list.
      const shown = (summary) => loading === request && showActivity(me, summary);
      activity.summary().then(shown, () => shown(null));
    }
    if (page === "" || security) passkeys.load().then(showPasskeyCount);
    if (page === "" || page === "sessions") sessions.load().then(showSessionCount);
    if (security) {
      activity.load().then(() => {
        if (page === "activity" && loading === request) activity.reveal();
      });
    }
  } catch (error) {
    if (loading === request && !(error instanceof SessionEnded)) say(ui.error, error.message);
  }
}

function showMe(me) {
  const created = new Date(me.created_at);
  const name = me.display_name || me.username;
  ui.name.textContent = name;
  ui.username.textContent = me.username;
  ui.since.textContent = dateOnly.format(created);
  ui.since.setAttribute("title", fullTime(created));
  ui.avatar.replaceChildren(avatar(name, me.username, "avatar large"));
  ui.ovName.textContent = name;
  profile.show(me);
  onProfile(me);
  // Two-factor: on, or off (a fact, not an error) with a way to turn it on; the
  // recovery codes left when it is on.
  ui.totp.textContent = me.totp_enabled ? "On" : "Off";
  ui.totp.classList.toggle("good", Boolean(me.totp_enabled));
  ui.totpAction.hidden = Boolean(me.totp_enabled);
  const left = me.recovery_codes_left;
  ui.codesItem.hidden = !(me.totp_enabled && Number.isInteger(left));
  ui.codes.textContent = Number.isInteger(left) ? `${left} left` : "";
  ui.codes.classList.toggle("warn", Number.isInteger(left) && left <= FEW_CODES);
  // Email: only once the API has it.
  const hasEmailField = Object.hasOwn(me, "email");
  ui.emailItem.hidden = !hasEmailField;
  if (hasEmailField) {
    ui.emailAdd.hidden = Boolean(me.email);
    ui.email.textContent = !me.email
      ? "None"
      : me.email_verified ? `${me.email} · verified` : `${me.email} · not verified yet`;
  }
  showCheckup(me);
  ui.banner.hidden = !(me.email && !me.email_verified);
  if (!ui.banner.hidden) {
    ui.bannerText.textContent = `Verify your email address: open the link we sent to ${me.email}.`;
  }
}

/**
 * The security check-up (as Google's): what is left to do to protect the account, each
 * a link to where it is done; no banner when nothing is.
 */
function showCheckup(me) {
  const left = me.recovery_codes_left;
  const todo = [
    Object.hasOwn(me, "email") && !me.email
      ? ["#/account/profile", "Add an email address", " so you can reset a forgotten password"] : null,
    !me.totp_enabled
      ? ["#/account/two-factor", "Turn on two-factor authentication", " so a stolen password is not enough"] : null,
    me.totp_enabled && Number.isInteger(left) && left <= FEW_CODES
      ? ["#/account/two-factor", "Make new recovery codes", ` — only ${left} left`] : null,
  ].filter(Boolean);
  ui.checkup.hidden = todo.length === 0;
  ui.checkupTitle.textContent = todo.length === 1 ? "1 recommendation" : `${todo.length} recommendations`;
  ui.checkupList.replaceChildren(...todo.map(([href, action, why]) =>
    el("li", {}, el("a", { attrs: { href }, text: action }), why)));
}

/**
 * The password's age and the newest security event. Without a change or reset in the
 * 90 days the API keeps, a younger account's password dates from its creation.
 */
function showActivity(me, summary) {
  const age = passwordAge(me, summary);
  ui.password.textContent = age;
  ui.passwordAge.textContent = `${age}.`; // the security page's password section says it too
  ui.activityRow.hidden = !summary;
  if (!summary) return;
  ui.activity.textContent = summary.latest
    ? `Latest: ${activity.describe(summary.latest)}, ${relativeTime(new Date(summary.latest.created_at))}`
    : "Nothing yet";
}

function passwordAge(me, summary) {
  if (!summary) return "Set";
  const created = new Date(me.created_at);
  const recent = Date.now() - created.getTime() < EVENTS_KEPT_DAYS * 86_400_000;
  if (summary.passwordChanged) return `Changed ${daysAgo(summary.passwordChanged)}`;
  return recent ? `Set ${daysAgo(created)}` : `Not changed in the last ${EVENTS_KEPT_DAYS} days`;
}

function showPasskeyCount(list) {
  if (!list) return;
  ui.passkeys.textContent = list.length === 0 ? "None" : `${list.length}`;
  ui.passkeysAdd.hidden = list.length > 0 || !passkeysSupported();
}

function showSessionCount(list) {
  if (!list) return;
  ui.sessions.textContent = list.length === 1 ? "1 session (this device)" : `${list.length} sessions`;
}

/**
 * An overview "Add": go to the page that does it and press its button there, so the
 * dialog opens from (and gives the focus back to) the button it belongs to.
 */
function openOn(hash, buttonId) {
  window.addEventListener("hashchange", () => {
    const button = byId(buttonId);
    button.focus();
    button.click();
  }, { once: true }); // after main.js's route() has shown the page
  window.location.hash = hash;
}

export function resetAccount() {
  loading = null;
  const facts = [ui.name, ui.username, ui.since, ui.totp, ui.passkeys, ui.sessions, ui.email,
    ui.ovName, ui.password, ui.passwordAge, ui.codes, ui.activity];
  for (const node of facts) {
    node.textContent = "";
  }
  ui.avatar.replaceChildren();
  ui.emailAdd.hidden = true;
  ui.passkeysAdd.hidden = true;
  ui.checkup.hidden = true;
  ui.checkupList.replaceChildren();
  profile.reset();
  password.reset();
  twoFactor.reset();
  passkeys.reset();
  sessions.reset();
  danger.reset();
  activity.reset();
}

/** Look up the page's elements and wire its sections; main.js calls this once. */
export function init({ onAccountDeleted, onProfile: profileChanged }) {
  ui = {
    title: byId("account-title"),
    back: byId("account-back"),
    error: byId("account-error"),
    name: byId("account-name"),
    username: byId("account-username"),
    since: byId("account-since"),
    avatar: byId("account-avatar"),
    ovName: byId("ov-name"),
    password: byId("ov-password"),
    passwordAge: byId("password-age"),
    totp: byId("ov-totp"),
    totpAction: byId("ov-totp-action"),
    codesItem: byId("ov-codes-item"),
    codes: byId("ov-codes"),
    activityRow: byId("ov-activity-row"),
    activity: byId("ov-activity"),
    passkeys: byId("ov-passkeys"),
    passkeysAdd: byId("ov-passkeys-add"),
    sessions: byId("ov-sessions"),
    emailItem: byId("ov-email-item"),
    email: byId("ov-email"),
    emailAdd: byId("ov-email-add"),
    checkup: byId("checkup"),
    checkupTitle: byId("checkup-title"),
    checkupList: byId("checkup-list"),
    banner: byId("verify-banner"),
    bannerText: byId("verify-banner-text"),
    pages: {
      "": byId("page-overview"),
      profile: byId("page-profile"),
      security: byId("page-security"),
      sessions: byId("page-sessions"),
      danger: byId("page-danger"),
    },
  };
  onProfile = profileChanged;
  ui.emailAdd.addEventListener("click", () => openOn("#/account/profile", "email-change"));
  ui.passkeysAdd.addEventListener("click", () => openOn("#/account/security", "passkey-add"));
  profile.init({ onSaved: (me) => (me ? showMe(me) : load("profile")) });
  password.init();
  twoFactor.init({ onChanged: () => load("security") });
  passkeys.init({ onChanged: showPasskeyCount, onSteppedUp: () => load("security") });
  sessions.init();
  danger.init({ onAccountDeleted });
  activity.init();
}
