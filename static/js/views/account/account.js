// The Account page: an overview that sums up how the account is protected (from
// GET /me, /me/passkeys and /me/sessions) under one check-up line, linking to its
// pages: Profile, Sign-in & security (password, two-factor, passkeys), Security
// activity, Where you're signed in, Delete account; on a wide screen the same pages
// are listed beside each (#account-nav). The password's age comes from the security events (GET
// /me/security-events, kept 90 days). Fields the API does not send are left out
// rather than guessed.

import { avatar } from "../../lib/avatar.js";
import { deviceName } from "../../lib/devices.js";
import { byId, el, say } from "../../lib/dom.js";
import { SessionEnded, authed } from "../../lib/session.js";
import { daysAgo, fullTime, relativeTime } from "../../lib/time.js";
import * as activity from "./activity.js";
import * as danger from "./danger.js";
import { icon } from "./icons.js";
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
  email: "Profile", // the profile page, at its email section
  security: "Sign-in & security",
  "two-factor": "Sign-in & security", // … at its two-factor section
  activity: "Security activity",
  sessions: "Where you're signed in",
  danger: "Delete account",
};
const PAGE_OF = { email: "profile", "two-factor": "security" };

let ui = null;
let onProfile = () => {};
let loading = null; // the /me request in flight, so a stale answer is dropped

/** Show one page of the account ("" for the overview); returns its title. */
export function showAccount(page) {
  const shown = PAGE_OF[page] ?? page;
  for (const [name, node] of Object.entries(ui.pages)) node.hidden = name !== shown;
  ui.back.hidden = page === "";
  ui.title.textContent = TITLES[page];
  // The side navigation (wide screens) says which page this is.
  const here = shown ? `#/account/${shown}` : "#/account";
  for (const link of ui.nav.querySelectorAll("a")) {
    if (link.getAttribute("href") === here) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  say(ui.error, "");
  load(page);
  return TITLES[page];
}

async function load(page) {
  const shown = PAGE_OF[page] ?? page;
  if (shown === "activity") activity.load();
  const request = authed("GET", "/me");
  loading = request;
  try {
    const me = await request;
    if (loading !== request) return;
    showMe(me);
    twoFactor.show(me);
    if (page === "two-factor") twoFactor.reveal();
    if (page === "email") profile.revealEmail();
    if (page === "" || shown === "security") {
      // Unknown (the list failed to load) reads as plain "Set", as when the API has no list.
      const said = (summary) => loading === request && showActivity(me, summary);
      activity.summary().then(said, () => said(null));
      passkeys.load().then(showPasskeyCount);
    }
    if (page === "" || page === "sessions") sessions.load().then(showSessionCount);
  } catch (error) {
    if (loading === request && !(error instanceof SessionEnded)) say(ui.error, error.message);
  }
}

/** A status mark before a fact: a check when it is as it should be, else a warning. */
function mark(node, good) {
  node.replaceChildren(icon(good ? "check" : "warning", good ? "mark-good" : "mark-warn"));
}

function showMe(me) {
  const created = new Date(me.created_at);
  const name = me.display_name || me.username;
  ui.name.textContent = name;
  ui.username.textContent = me.username;
  // As on the board: "alice", not "alice" over "@alice", when the name is the username.
  ui.handle.hidden = name.toLowerCase() === me.username.toLowerCase();
  ui.since.textContent = dateOnly.format(created);
  ui.since.setAttribute("title", fullTime(created));
  ui.avatar.replaceChildren(avatar(name, me.username, "avatar large"));
  ui.ovName.textContent = name;
  profile.show(me);
  onProfile(me);
  // Each fact says how it stands; what to do about it is the check-up's, above.
  ui.totp.textContent = me.totp_enabled ? "On" : "Off";
  mark(ui.totpMark, Boolean(me.totp_enabled));
  const left = me.recovery_codes_left;
  ui.codesItem.hidden = !(me.totp_enabled && Number.isInteger(left));
  ui.codes.textContent = Number.isInteger(left) ? `${left} left` : "";
  if (Number.isInteger(left)) mark(ui.codesMark, left > twoFactor.FEW_CODES);
  // Email: only once the API has it.
  const hasEmailField = Object.hasOwn(me, "email");
  ui.emailItem.hidden = !hasEmailField;
  if (hasEmailField) {
    ui.email.textContent = !me.email
      ? "None"
      : me.email_verified ? `${me.email} · verified` : `${me.email} · not verified yet`;
    mark(ui.emailMark, Boolean(me.email && me.email_verified));
  }
  showCheckup(me);
}

/**
 * The one summary at the top (as Google's security checkup): "Your account is
 * protected", or what is left to do, each a link to the place where it is done. Shown
 * from GET /me first, then again with the security activity's summary (failed attempts).
 */
function showCheckup(me, summary = null) {
  const left = me.recovery_codes_left;
  const hasEmail = Object.hasOwn(me, "email");
  const failed = summary?.failed ?? 0;
  const todo = [
    // Someone else tried to sign in: not "protected" until the person has looked.
    failed ? ["#/account/activity", `Review ${failed === 1 ? "1 failed sign-in attempt" : `${failed} failed sign-in attempts`}`,
      ` from the last ${activity.RECENT_DAYS} days. If they were not you, change your password.`] : null,
    hasEmail && !me.email
      ? ["#/account/email", "Add an email address", " so you can reset a forgotten password"] : null,
    hasEmail && me.email && !me.email_verified
      ? ["#/account/email", "Verify your email address", `: open the link we sent to ${me.email}.`] : null,
    !me.totp_enabled
      ? ["#/account/two-factor", "Turn on two-factor authentication", " so a stolen password is not enough"] : null,
    me.totp_enabled && Number.isInteger(left) && left <= twoFactor.FEW_CODES
      ? ["#/account/two-factor", "Make new recovery codes", ` — only ${left} left`] : null,
  ].filter(Boolean);
  const done = todo.length === 0;
  ui.checkup.hidden = false;
  ui.checkup.classList.toggle("todo", !done);
  ui.checkupIcon.replaceChildren(icon(done ? "check" : "warning"));
  ui.checkupTitle.textContent = done
    ? "Your account is protected"
    : todo.length === 1 ? "1 thing to do" : `${todo.length} things to do`;
  ui.checkupText.textContent = done
    ? ["Two-factor authentication is on", hasEmail ? "your email address is verified" : null]
      .filter(Boolean).join(" and ") + "."
    : "";
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
  const latest = summary.latest;
  ui.activity.textContent = latest
    ? `Latest: ${[activity.describe(latest), deviceName(latest.device, latest.device_kind),
      relativeTime(new Date(latest.created_at))].join(" · ")}`
    : "Nothing yet";
  ui.failed.textContent = summary.failed ? `${summary.failed} in ${activity.RECENT_DAYS} days`
    : `None in ${activity.RECENT_DAYS} days`;
  mark(ui.failedMark, !summary.failed);
  showCheckup(me, summary);
}

function passwordAge(me, summary) {
  if (!summary) return "Set";
  const created = new Date(me.created_at);
  const recent = Date.now() - created.getTime() < EVENTS_KEPT_DAYS * 86_400_000;
  if (summary.passwordChanged) return `Changed ${daysAgo(summary.passwordChanged)}`;
  return recent ? `Created ${daysAgo(created)}` : `Not changed in the last ${EVENTS_KEPT_DAYS} days`;
}

function showPasskeyCount(list) {
  if (!list) return;
  ui.passkeys.textContent = list.length === 0 ? "None" : `${list.length}`;
}

const OTHERS_NAMED = 2; // the overview names the most recently used others, as Google's "Your devices"

function showSessionCount(list) {
  if (!list) return;
  // Counted from where the person is, as Google's account page does ("This device + 2 others").
  const others = list.filter((session) => !session.current)
    .sort((a, b) => Date.parse(b.last_used_at) - Date.parse(a.last_used_at));
  ui.sessions.textContent = others.length === 0 ? "This device only"
    : `This device + ${others.length} ${others.length === 1 ? "other" : "others"}`;
  // Then who they are, so a session that is not the person's stands out from here.
  for (const line of ui.sessionsFacts.querySelectorAll(".overview-other")) line.remove();
  ui.sessionsFacts.append(...others.slice(0, OTHERS_NAMED).map((session) =>
    el("span", { className: "overview-fact overview-other" },
      `${sessions.sessionName(session)} · `,
      el("time", {
        text: relativeTime(new Date(session.last_used_at)),
        attrs: { datetime: session.last_used_at, title: fullTime(new Date(session.last_used_at)) },
      }))));
}

export function resetAccount() {
  loading = null;
  const facts = [ui.name, ui.username, ui.since, ui.totp, ui.passkeys, ui.sessions, ui.email,
    ui.ovName, ui.password, ui.passwordAge, ui.codes, ui.activity, ui.failed];
  for (const node of facts) {
    node.textContent = "";
  }
  ui.avatar.replaceChildren();
  for (const node of [ui.totpMark, ui.codesMark, ui.emailMark, ui.failedMark]) node.replaceChildren();
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
    nav: byId("account-nav"),
    error: byId("account-error"),
    name: byId("account-name"),
    username: byId("account-username"),
    since: byId("account-since"),
    avatar: byId("account-avatar"),
    ovName: byId("ov-name"),
    password: byId("ov-password"),
    passwordAge: byId("password-age"),
    totp: byId("ov-totp"),
    totpMark: byId("ov-totp-mark"),
    codesItem: byId("ov-codes-item"),
    codesMark: byId("ov-codes-mark"),
    codes: byId("ov-codes"),
    activityRow: byId("ov-activity-row"),
    activity: byId("ov-activity"),
    failed: byId("ov-failed"),
    failedMark: byId("ov-failed-mark"),
    handle: byId("account-handle"),
    sessionsFacts: byId("ov-sessions-facts"),
    passkeys: byId("ov-passkeys"),
    sessions: byId("ov-sessions"),
    emailItem: byId("ov-email-item"),
    email: byId("ov-email"),
    emailMark: byId("ov-email-mark"),
    checkup: byId("checkup"),
    checkupIcon: byId("checkup-icon"),
    checkupTitle: byId("checkup-title"),
    checkupText: byId("checkup-text"),
    checkupList: byId("checkup-list"),
    pages: {
      "": byId("page-overview"),
      profile: byId("page-profile"),
      security: byId("page-security"),
      activity: byId("page-activity"),
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
