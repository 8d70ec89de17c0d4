// The Account page: an overview that sums up how the account is protected (from
// GET /me, /me/passkeys and /me/sessions), linking to its pages: Profile, Sign-in &
// security (password, two-factor, passkeys), Where you're signed in, Delete account.
// Fields the API does not send (yet) are left out rather than guessed.

import { avatar } from "../../lib/avatar.js";
import { byId, say } from "../../lib/dom.js";
import { SessionEnded, authed } from "../../lib/session.js";
import { fullTime } from "../../lib/time.js";
import * as activity from "./activity.js";
import * as danger from "./danger.js";
import * as passkeys from "./passkeys.js";
import * as password from "./password.js";
import * as profile from "./profile.js";
import * as sessions from "./sessions.js";
import * as twoFactor from "./two-factor.js";

const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "long" });
const TITLES = {
  "": "Account",
  profile: "Profile",
  security: "Sign-in & security",
  sessions: "Where you're signed in",
  danger: "Delete account",
};

let ui = null;
let onProfile = () => {};
let loading = null; // the /me request in flight, so a stale answer is dropped

/** Show one page of the account ("" for the overview); returns its title. */
export function showAccount(page) {
  for (const [name, node] of Object.entries(ui.pages)) node.hidden = name !== page;
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
    if (page === "" || page === "security") passkeys.load().then(showPasskeyCount);
    if (page === "" || page === "sessions") sessions.load().then(showSessionCount);
    if (page === "security") activity.load();
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
  profile.show(me);
  onProfile(me);
  // Two-factor: on or off, with the recovery codes left when the API says.
  const left = me.recovery_codes_left;
  ui.totp.textContent = me.totp_enabled
    ? `On${Number.isInteger(left) ? ` · ${left} recovery code${left === 1 ? "" : "s"} left` : ""}`
    : "Off · Turn on";
  ui.totp.classList.toggle("good", Boolean(me.totp_enabled));
  ui.totp.classList.toggle("attention", !me.totp_enabled);
  // Email: only once the API has it.
  const hasEmailField = Object.hasOwn(me, "email");
  ui.emailItem.hidden = !hasEmailField;
  if (hasEmailField) {
    ui.email.textContent = !me.email
      ? "None · Add"
      : me.email_verified ? `${me.email} · verified` : `${me.email} · not verified yet`;
  }
  ui.banner.hidden = !(me.email && !me.email_verified);
  if (!ui.banner.hidden) {
    ui.bannerText.textContent = `Verify your email address: open the link we sent to ${me.email}.`;
  }
}

function showPasskeyCount(list) {
  if (!list) return;
  ui.passkeys.textContent = list.length === 0 ? "None · Add" : `${list.length}`;
}

function showSessionCount(list) {
  if (!list) return;
  ui.sessions.textContent = list.length === 1 ? "1 session (this device)" : `${list.length} sessions`;
}

export function resetAccount() {
  loading = null;
  for (const node of [ui.name, ui.username, ui.since, ui.totp, ui.passkeys, ui.sessions, ui.email]) {
    node.textContent = "";
  }
  ui.avatar.replaceChildren();
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
    totp: byId("ov-totp"),
    passkeys: byId("ov-passkeys"),
    sessions: byId("ov-sessions"),
    emailItem: byId("ov-email-item"),
    email: byId("ov-email"),
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
  profile.init({ onSaved: (me) => (me ? showMe(me) : load("profile")) });
  password.init();
  twoFactor.init({ onChanged: () => load("security") });
  passkeys.init({ onChanged: showPasskeyCount, onSteppedUp: () => load("security") });
  sessions.init();
  danger.init({ onAccountDeleted });
  activity.init();
}
