// The Account page's "Where you're signed in": every sign-in is a session (GET
// /me/sessions). This device comes first, set apart; then "Other sessions (N)", the
// most recently active first, each with an icon for its kind of device, the browser
// and system people know it by ("Safari on iPhone"), when it was last active and from
// which address, when and how it signed in, and under "Technical details" the browser's
// version and the system, then the raw User-Agent.
// Ending one (DELETE /me/sessions/{id}) stops all its tokens at once, so that
// browser's next request sends it back to the sign-in page.

import * as dialog from "../../lib/dialog.js";
import { ApiError } from "../../lib/api.js";
import { deviceIcon, deviceName as knownName, deviceParts } from "../../lib/devices.js";
import { byId, el, flash, say } from "../../lib/dom.js";
import { SessionEnded, authed } from "../../lib/session.js";
import { dayKey, fullTime, relativeTime, timeUntil, updateRelativeTimes } from "../../lib/time.js";

const TIME_TICK_MS = 30_000;
const ACTIVE_NOW_MS = 2 * 60_000; // used this recently: "Active now"
const METHODS = {
  password: "with a password",
  totp: "with a password and a two-factor code",
  recovery_code: "with a password and a recovery code",
  passkey: "with a passkey",
};

let ui = null;
let loading = null; // the list request in flight, so a stale answer is dropped
let here = null; // this browser's session, as the list last said it

function lookUp() {
  return {
    heading: byId("account-title"),
    list: byId("sessions-list"),
    current: byId("sessions-current"),
    othersTitle: byId("sessions-others-title"),
    othersList: byId("sessions-others-list"),
    empty: byId("sessions-empty"),
    error: byId("sessions-error"),
    done: byId("sessions-done"),
    others: byId("sessions-others"),
  };
}

// ---- where you're signed in ------------------------------------------------------

const shortDate = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const shortDateYear = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", year: "numeric" });
const clockTime = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const DAY_MS = 86_400_000;

/** "today at 9:14 AM", "yesterday at 6:02 PM", "Dec 3 at 9:14 AM" (with the year if not this one). */
function dayAndTime(date, now = Date.now()) {
  const today = new Date(now);
  let day;
  if (dayKey(date) === dayKey(today)) day = "today";
  else if (dayKey(date) === dayKey(new Date(now - DAY_MS))) day = "yesterday";
  else day = (date.getFullYear() === today.getFullYear() ? shortDate : shortDateYear).format(date);
  return `${day} at ${clockTime.format(date)}`;
}

function timeElement(iso, text, relative = false) {
  const date = new Date(iso);
  return el("time", {
    text,
    attrs: { datetime: iso, title: fullTime(date), "data-relative": relative },
  });
}

// The API's label when a User-Agent names no browser (chalicelib/clients.py); the
// security activity says it the same way.
const UNKNOWN_DEVICE = "Unknown device";
const AGENT_SHOWN = 40;

/** A name a person recognises: "Safari on iPhone", else the API's label and the start of the raw User-Agent. */
export function sessionName(session) {
  if (session.device && session.device !== UNKNOWN_DEVICE) return knownName(session.device, session.device_kind);
  const agent = (session.user_agent ?? "").trim();
  if (agent) {
    const shown = agent.length > AGENT_SHOWN ? `${agent.slice(0, AGENT_SHOWN)}…` : agent;
    return `${UNKNOWN_DEVICE} (${shown})`;
  }
  return session.current ? "This browser" : UNKNOWN_DEVICE;
}

/**
 * A line of facts ("Active now · IP address …"), each fact a unit that a narrow screen
 * moves to the next line whole. Each fact after the first starts with its " · ", which
 * the CSS hides when the fact starts a line: no line starts or ends with a "·".
 */
function factsLine(className, id, facts) {
  return el("p", { className: `${className} session-facts`, attrs: { id } },
    ...facts.filter(Boolean).map(([fact, parts], index) => el("span", { className: `session-fact ${fact}` },
      index ? el("span", { className: "session-sep", text: " · " }) : null, ...parts)));
}

/** "Active now" or "Last active 2 hr. ago", then the address it signed in from. */
function activeLine(session, id) {
  const last = new Date(session.last_used_at);
  const when = session.current || Date.now() - last.getTime() < ACTIVE_NOW_MS
    ? ["Active now"]
    : ["Last active ", timeElement(session.last_used_at, relativeTime(last), true)];
  return factsLine("session-active", `${id}-active`, [
    ["session-last", when],
    session.ip ? ["session-ip", [`IP address ${session.ip}`]] : null,
  ]);
}

/** "Signed in Dec 3 at 9:14 AM · with a passkey". */
function signedInLine(session, id) {
  const method = METHODS[session.method];
  return factsLine("session-signed-in", `${id}-signed-in`, [
    ["session-since", ["Signed in ", timeElement(session.created_at, dayAndTime(new Date(session.created_at)))]],
    method ? ["session-method", [method]] : null,
  ]);
}

/**
 * Under "Technical details": the browser with its version and the system ("Safari 17",
 * "iOS") first, the raw User-Agent it came from, and when it ends if left alone (kept off the
 * row's visible lines: reviewers read "Expires in 7 days" as a warning on every row).
 */
function moreLine(session) {
  const facts = [];
  if (session.device && session.device !== UNKNOWN_DEVICE) {
    // By the names the row uses ("Safari", not "Mobile Safari"), the version added.
    const { browser, version, system } = deviceParts(session.device);
    facts.push(el("dt", { text: "Browser" }), el("dd", { text: `${browser} ${version}`.trim() }));
    if (system) facts.push(el("dt", { text: "System" }), el("dd", { text: system }));
  }
  if (session.user_agent) {
    facts.push(el("dt", { text: "User-Agent" }),
      el("dd", {}, el("code", { className: "session-agent", text: session.user_agent })));
  }
  if (session.expires_at) {
    const ends = new Date(session.expires_at);
    facts.push(el("dt", { text: "Expires" }), el("dd", {},
      el("time", { text: timeUntil(ends), attrs: { datetime: session.expires_at, title: fullTime(ends) } })));
  }
  return facts.length
    ? el("div", { className: "session-more" },
      el("details", { className: "session-details" },
        el("summary", { text: "Technical details" }),
        el("dl", {}, ...facts)))
    : null;
}

function sessionItem(session) {
  const id = `session-${session.id}`;
  const name = sessionName(session);
  const item = el("li", { className: "session", dataset: { sessionId: session.id, name } },
    el("span", { className: "session-icon" }, deviceIcon(session.device_kind)),
    el("div", { className: "session-what" },
      el("p", { className: "session-device" },
        el("strong", { className: "session-name", text: name }),
        session.current ? el("span", { className: "badge good", text: "This device" }) : null),
      activeLine(session, id),
      signedInLine(session, id),
      moreLine(session)));
  if (session.current) item.classList.add("current");
  else {
    // A word in red, as a passkey's Remove: one per row; "Sign out everywhere else…"
    // below the list stays the one outlined button.
    item.append(el("button", {
      className: "word danger-quiet",
      attrs: {
        type: "button", "aria-haspopup": "dialog", "aria-label": `Sign out ${name}…`,
        "aria-describedby": `${id}-active ${id}-signed-in`,
      },
      on: { click: () => endOne(session.id, item) },
    }, "Sign out…"));
  }
  return item;
}

function otherItems() {
  return Array.from(ui.othersList.querySelectorAll("li.session"));
}

/**
 * The heading's count, the empty state and "Sign out everywhere else", from the rows
 * shown. With one other session its own Sign out does the same, so the button for all
 * of them waits for two.
 */
function showCount() {
  const count = otherItems().length;
  ui.othersTitle.textContent = count ? `Other sessions (${count})` : "Other sessions";
  ui.othersTitle.hidden = false;
  ui.empty.hidden = count > 0;
  ui.others.hidden = count < 2;
}

function render(sessions) {
  here = sessions.find((session) => session.current) ?? null;
  const others = sessions.filter((session) => !session.current)
    .sort((a, b) => Date.parse(b.last_used_at) - Date.parse(a.last_used_at));
  ui.current.replaceChildren(...sessions.filter((session) => session.current).map(sessionItem));
  ui.othersList.replaceChildren(...others.map(sessionItem));
  showCount();
}

/** Load the sessions list; resolves to the sessions, or null when it failed. */
export async function load() {
  say(ui.error, "");
  ui.list.setAttribute("aria-busy", "true");
  const request = authed("GET", "/me/sessions");
  loading = request;
  try {
    const answer = await request;
    if (loading === request) render(answer.sessions);
    return answer.sessions;
  } catch (error) {
    if (loading === request && !(error instanceof SessionEnded)) say(ui.error, error.message);
  } finally {
    if (loading === request) {
      loading = null;
      ui.list.setAttribute("aria-busy", "false");
    }
  }
  return null;
}

/**
 * This browser as the list names it ("Chrome on an Android phone"), for a new passkey's
 * name, so one device has one name everywhere; null when the API knows no browser for
 * it. Asks for the list once, if it has not been shown yet.
 */
export async function thisDeviceName() {
  if (!here) await load();
  if (!here?.device || here.device === UNKNOWN_DEVICE) return null;
  return knownName(here.device, here.device_kind);
}

/** End one session; a session that is already gone counts as ended. */
async function endSession(id) {
  try {
    await authed("DELETE", `/me/sessions/${encodeURIComponent(id)}`);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) throw error;
  }
}

/** One session's "Sign out…": asked first, as for all of them (a tap on a phone is easily a slip). */
async function endOne(id, item) {
  say(ui.done, "");
  const name = item.dataset.name;
  const ended = await dialog.ask({
    title: `Sign out ${name}?`,
    text: [
      el("p", { text: `${name} will have to sign in again.` }),
      el("p", { text: "This device stays signed in." }),
    ],
    submit: "Sign out",
    busy: "Signing out…",
    danger: true,
    password: false,
    action: async () => {
      await endSession(id);
      return true;
    },
  });
  if (!ended) return;
  // Focus goes where the person was: the next row's Sign out, else the previous one's,
  // else the heading above the (now empty) list.
  const next = item.nextElementSibling ?? item.previousElementSibling;
  item.remove();
  showCount();
  flash(ui.done, `Signed out ${name}.`);
  (next?.querySelector("button") ?? ui.othersTitle).focus();
}

async function endOthers() {
  say(ui.done, "");
  const items = otherItems();
  const count = items.length;
  const names = items.map((item) => item.dataset.name);
  const sessions = count === 1 ? "1 other session" : `${count} other sessions`;
  const ended = await dialog.ask({
    title: `Sign out of ${sessions}?`,
    text: [
      el("p", { text: count === 1
        ? `${names[0]} will have to sign in again.`
        : `${listed(names)} will each have to sign in again.` }),
      el("p", { text: "This device stays signed in." }),
    ],
    submit: count === 1 ? "Sign out 1 session" : `Sign out ${count} sessions`,
    busy: "Signing out…",
    danger: true,
    password: false,
    action: async () => {
      for (const item of items) {
        await endSession(item.dataset.sessionId);
        item.remove();
      }
      return true;
    },
  });
  showCount(); // some may have ended before a failure, then Cancel
  if (!ended) {
    (ui.others.hidden ? ui.othersTitle : ui.others).focus();
    return;
  }
  ui.othersTitle.focus();
  flash(ui.done, `Signed out of ${sessions}. Only this device is signed in now.`);
}

const listFormat = new Intl.ListFormat(undefined, { type: "conjunction" });
const NAMES_SHOWN = 3;

/** "A, B and C", or "A, B, C and 2 more": a long list is not read out whole. */
function listed(names) {
  if (names.length <= NAMES_SHOWN + 1) return listFormat.format(names);
  return listFormat.format([...names.slice(0, NAMES_SHOWN), `${names.length - NAMES_SHOWN} more`]);
}

/** Clear everything this module shows (signed out). */
export function reset() {
  loading = null;
  here = null;
  ui.current.replaceChildren();
  ui.othersList.replaceChildren();
  ui.othersTitle.hidden = true;
  ui.empty.hidden = true;
  ui.others.hidden = true;
  say(ui.error, "");
  say(ui.done, "");
}

/** Look up the elements and wire them; account.js calls this once. */
export function init() {
  ui = lookUp();
  ui.others.addEventListener("click", endOthers);
  setInterval(() => updateRelativeTimes(ui.list), TIME_TICK_MS);
}
