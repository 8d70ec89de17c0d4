// The Security activity page (#/account/activity; GET /me/security-events), newest
// first and grouped by day ("Today", "Yesterday", "Thursday, December 3"): what
// happened, with an icon for its kind, from which device and address, and when — so
// a person can spot a sign-in that was not theirs. The sign-in that started this
// browser's session says "This device" (the API's `current`, so an identical browser
// elsewhere is not mistaken for this one). Failures and locks stand out; each change
// someone else could have made ("Wasn't you?") leads to Change password and to Where
// you're signed in, and one quiet line at the top offers the same two for anything else
// (a new device's sign-in is tagged, not questioned). "Show older" pages on with the
// API's cursor.

import { run } from "../../lib/action.js";
import { ApiError } from "../../lib/api.js";
import { byId, el, say } from "../../lib/dom.js";
import { deviceName } from "../../lib/devices.js";
import { SessionEnded, authed } from "../../lib/session.js";
import { dayKey, dayLabel, feedTime, fullTime } from "../../lib/time.js";
import { eventIcon } from "./icons.js";
import { start as changePassword } from "./password.js";

const LIMIT = 10;
const PAGE_MOST = 100; // the API's largest page
const PAGES_MOST = 5; // events are kept 90 days: a few pages reach back that far
const PASSWORD_EVENTS = ["password_changed", "password_reset"];
const ATTENTION = ["sign_in_failed", "locked"];
export const RECENT_DAYS = 7; // the overview's "failed sign-ins" look back this far
// What someone else could have done with the account: these get "Wasn't you?". A sign-in
// from a new device is most often the person on a new phone: its tag says so, and the
// page's one line at the top covers it, rather than a question on every such row.
const SUSPICIOUS = [...ATTENTION, ...PASSWORD_EVENTS, "email_changed", "totp_enabled", "totp_disabled"];
const METHODS = {
  password: "a password", totp: "a password and a code", recovery_code: "a recovery code",
  passkey: "a passkey",
};

let ui = null;
let cursor = null; // the next page's, from the API
let listing = 0; // which load the list belongs to, so a stale page is dropped
let lastDay = null; // the newest page's last day group ({ key, list }), which older events join
let headings = 0; // for the day headings' ids

/** A sentence for one event (API.md, Security events). */
export function describe(event) {
  const details = event.details ?? {};
  switch (event.type) {
    case "sign_in":
      return `Signed in with ${METHODS[details.method] ?? "a password"}`;
    case "sign_in_failed":
      return details.reason === "code" ? "A wrong two-factor code was entered" : "A wrong password was entered";
    case "locked": return "Sign-in paused after too many wrong attempts";
    case "password_changed": return "Password changed";
    case "password_reset": return "Password reset by email";
    case "totp_enabled": return "Two-factor authentication turned on";
    case "totp_disabled": return "Two-factor authentication turned off";
    case "recovery_code_used":
      return Number.isInteger(details.left) ? `Recovery code used (${details.left} left)` : "Recovery code used";
    case "recovery_codes_regenerated": return "New recovery codes made";
    case "passkey_added": return "Passkey added";
    case "passkey_removed": return "Passkey removed";
    // The row's device is the session that did it; the one it ended is in the details
    // ("self" when a session signed itself out). Older events name neither.
    case "session_ended":
      if (details.self === true) return "Signed out";
      return typeof details.ended_device === "string"
        ? `Signed out ${deviceName(details.ended_device, details.ended_device_kind)}`
        : "Signed out another session";
    case "email_changed": return "Email address changed";
    case "email_verified": return "Email address verified";
    default: return event.type.replace(/_/g, " ");
  }
}

function suspicious(event) {
  if (event.current === true) return false; // this very browser's sign-in was the person
  return SUSPICIOUS.includes(event.type);
}

/** The two ways out of something not the person's: change the password, see the sessions. */
function waysOut(className) {
  return el("span", { className },
    el("button", { className: "quiet", text: "Change password…",
      attrs: { type: "button", "aria-haspopup": "dialog" }, on: { click: changePassword } }),
    el("a", { attrs: { href: "#/account/sessions" }, text: "Where you're signed in" }));
}

/** "Wasn't you?": a small disclosure with the step to take (and where to look first). */
function wasntYou() {
  return el("details", { className: "event-help" },
    el("summary", { text: "Wasn't you?" }),
    el("p", {},
      "Someone may know your password. Changing it signs out every other session.",
      waysOut("event-help-actions")));
}

/** The page's one quiet line for anything unrecognised, above the list. */
function unrecognised() {
  return el("p", { className: "activity-unknown", attrs: { id: "activity-unknown" } },
    "See something you don't recognise? ", waysOut("activity-unknown-actions"));
}

function item(event) {
  const date = new Date(event.created_at);
  const warn = ATTENTION.includes(event.type);
  const today = dayKey(date) === dayKey(new Date());
  return el("li", { className: warn ? "event attention" : "event" },
    eventIcon(event.type),
    el("span", { className: "event-what" },
      describe(event),
      // Quiet tags: facts to notice, not the event. "This device" for the sign-in that
      // started this browser's session (new to the API then, but this is the person, so
      // no "New device" beside it); "New device" on others only when the API says so.
      event.current === true ? el("span", { className: "badge good event-here", text: "This device" })
        : event.type === "sign_in" && event.details?.new_device === true
          ? el("span", { className: "badge event-tag", text: "New device" }) : null),
    // Device · address · time, each a unit that wraps whole, its " · " hidden when it
    // starts a line (as on Where you're signed in).
    el("span", { className: "event-where" },
      ...[
        // Named as on Where you're signed in ("Safari on iPhone"), the versions in a tooltip.
        el("span", { text: deviceName(event.device, event.device_kind), attrs: { title: event.device } }),
        event.ip || null,
        el("time", {
          className: "event-when", text: feedTime(date),
          // Today's times are relative and move on; earlier ones are clock times under their day.
          attrs: { datetime: event.created_at, title: fullTime(date), "data-relative": today },
        }),
      ].filter(Boolean).map((fact, index) => el("span", { className: "event-fact" },
        index ? el("span", { className: "event-sep", text: " · " }) : null, fact))),
    suspicious(event) ? wasntYou() : null);
}

/** Add events under their day's heading, continuing the last day when it goes on. */
function addEvents(events) {
  for (const event of events) {
    const date = new Date(event.created_at);
    const key = dayKey(date);
    if (lastDay?.key !== key) {
      headings += 1;
      const id = `activity-day-${headings}`;
      const list = el("ul", { className: "events", attrs: { "aria-labelledby": id } });
      ui.list.append(el("div", { className: "event-day" },
        el("h2", { className: "event-day-title", text: dayLabel(date), attrs: { id } }), list));
      lastDay = { key, list };
    }
    lastDay.list.append(item(event));
  }
}

/**
 * For the overview: the newest event, when the password was last changed or reset
 * (null when not within the 90 days the API keeps), and how many failed sign-in attempts
 * (and pauses) were made on other devices in the last RECENT_DAYS days since that
 * change. Null when the API has no such list.
 */
export async function summary() {
  let cursor = null;
  let latest = null;
  let failed = 0; // wrong passwords or codes, and pauses, since RECENT_DAYS and the last change
  const since = Date.now() - RECENT_DAYS * 86_400_000;
  const count = (events) => {
    for (const event of events) {
      if (new Date(event.created_at).getTime() < since) return false;
      if (ATTENTION.includes(event.type) && event.current !== true) failed += 1;
    }
    return true;
  };
  let counting = true;
  try {
    for (let page = 0; page < PAGES_MOST; page += 1) {
      const answer = await authed("GET", "/me/security-events", { query: { limit: PAGE_MOST, cursor } });
      latest ??= answer.events[0] ?? null;
      const at = answer.events.findIndex((event) => PASSWORD_EVENTS.includes(event.type));
      // Attempts before a change of password no longer matter: it locked out whoever it was.
      if (counting) counting = count(at < 0 ? answer.events : answer.events.slice(0, at));
      if (at >= 0) return { latest, passwordChanged: new Date(answer.events[at].created_at), failed };
      cursor = answer.next_cursor ?? null;
      if (!cursor) break;
    }
  } catch (error) {
    if (error instanceof ApiError && [403, 404].includes(error.status)) return null;
    throw error;
  }
  return { latest, passwordChanged: null, failed };
}

/** Load the list (a server without it, 404/403, says so). */
export async function load() {
  say(ui.error, "");
  listing += 1;
  const mine = listing;
  try {
    const answer = await authed("GET", "/me/security-events", { query: { limit: LIMIT } });
    if (mine !== listing) return;
    ui.list.replaceChildren();
    lastDay = null;
    addEvents(answer.events);
    ui.empty.textContent = "Nothing yet.";
    ui.empty.hidden = answer.events.length > 0;
    ui.end.hidden = true;
    showMore(answer.next_cursor);
  } catch (error) {
    if (mine !== listing) return;
    if (error instanceof ApiError && [403, 404].includes(error.status)) {
      ui.list.replaceChildren();
      ui.empty.textContent = "This server keeps no security activity.";
      ui.empty.hidden = false;
    } else if (!(error instanceof SessionEnded)) {
      say(ui.error, error.message);
    }
  }
}

function showMore(next) {
  cursor = next ?? null;
  ui.older.hidden = !cursor;
}

/** "Show older": the next page, added under the list; at the end, say so and move there. */
async function older() {
  const mine = listing;
  const answer = await run(ui.older, "Loading…",
    () => authed("GET", "/me/security-events", { query: { limit: LIMIT, cursor } }),
    { errorRegion: ui.error });
  if (!answer || mine !== listing) return;
  addEvents(answer.events);
  showMore(answer.next_cursor);
  if (!cursor) {
    ui.end.hidden = false;
    ui.end.focus();
  }
}

export function reset() {
  listing += 1;
  ui.list.replaceChildren();
  lastDay = null;
  showMore(null);
  ui.end.hidden = true;
  say(ui.error, "");
}

export function init() {
  ui = {
    list: byId("activity-list"),
    empty: byId("activity-empty"),
    error: byId("activity-error"),
    older: byId("activity-older"),
    end: byId("activity-end"),
  };
  ui.list.before(unrecognised());
  ui.older.addEventListener("click", older);
}
