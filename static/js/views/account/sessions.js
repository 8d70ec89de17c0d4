// The Account page's "Where you're signed in": every sign-in is a session (GET
// /me/sessions), shown by device, how it signed in, IP address and last activity;
// ending one (DELETE /me/sessions/{id}) stops all its tokens at once, so that
// browser's next request sends it back to the login page.

import { run } from "../../lib/action.js";
import { ApiError } from "../../lib/api.js";
import { byId, el, flash, say } from "../../lib/dom.js";
import { SessionEnded, authed } from "../../lib/session.js";
import { fullTime, relativeTime, timeUntil, updateRelativeTimes } from "../../lib/time.js";

const TIME_TICK_MS = 30_000;
const METHODS = {
  password: "Password",
  totp: "Password and two-factor code",
  recovery_code: "Password and a recovery code",
  passkey: "Passkey",
};

let ui = null;
let loading = null; // the list request in flight, so a stale answer is dropped

function lookUp() {
  return {
    heading: byId("account-title"),
    list: byId("sessions-list"),
    error: byId("sessions-error"),
    done: byId("sessions-done"),
    others: byId("sessions-others"),
  };
}

// ---- where you're signed in ------------------------------------------------------

function timeElement(iso) {
  const date = new Date(iso);
  return el("time", {
    text: relativeTime(date),
    attrs: { datetime: iso, title: fullTime(date), "data-relative": true },
  });
}

/** When a session ends if left alone: "in 29 days" (the date in its title). */
function untilElement(iso) {
  const date = new Date(iso);
  return el("time", { text: timeUntil(date), attrs: { datetime: iso, title: fullTime(date) } });
}

// The API's label when a User-Agent names no browser (chalicelib/clients.py); the
// security activity says it the same way.
const UNKNOWN_DEVICE = "Unknown device";
const AGENT_SHOWN = 40;
const SAME_MOMENT_MS = 60_000; // signed in and last active within a minute: said once

/** A name a person recognises: the browser and system, else the API's label and the start of the raw User-Agent. */
function deviceName(session) {
  if (session.device && session.device !== UNKNOWN_DEVICE) return session.device;
  const agent = (session.user_agent ?? "").trim();
  if (agent) {
    const shown = agent.length > AGENT_SHOWN ? `${agent.slice(0, AGENT_SHOWN)}…` : agent;
    return `${UNKNOWN_DEVICE} (${shown})`;
  }
  return session.current ? "This browser" : UNKNOWN_DEVICE;
}

/** "Active now", then "signed in 3 days ago" only when that was another moment, then "expires in 29 days". */
function timesLine(session) {
  const active = new Date(session.last_used_at).getTime();
  const signedIn = new Date(session.created_at).getTime();
  const parts = ["Active ", timeElement(session.last_used_at)];
  if (Math.abs(active - signedIn) >= SAME_MOMENT_MS) parts.push(" · signed in ", timeElement(session.created_at));
  if (session.expires_at) parts.push(" · expires ", untilElement(session.expires_at));
  return el("p", { className: "session-times" }, ...parts);
}

function sessionItem(session) {
  const describedBy = `session-${session.id}-what`;
  const device = deviceName(session);
  const facts = [
    session.method && METHODS[session.method] ? `Signed in with: ${METHODS[session.method]}` : null,
    session.ip ? `IP address ${session.ip}` : null,
  ].filter(Boolean);
  const what = el(
    "div",
    { className: "session-what", attrs: { id: describedBy } },
    el("p", { className: "session-device" },
      el("strong", { text: device }),
      session.current ? el("span", { className: "badge good", text: "This device" }) : null),
    facts.length ? el("p", { className: "session-facts", text: facts.join(" · ") }) : null,
    timesLine(session),
  );
  if (session.user_agent) what.setAttribute("title", session.user_agent);
  const item = el("li", { className: "session", dataset: { sessionId: session.id } }, what);
  if (session.current) item.classList.add("current");
  else {
    item.append(el("button", {
      className: "quiet",
      text: "Sign out",
      // Named for its device, as the passkeys' buttons are for theirs: not the header's "Sign out".
      attrs: { type: "button", "aria-label": `Sign out ${device}`, "aria-describedby": describedBy },
      on: { click: () => endOne(session.id, item) },
    }));
  }
  return item;
}

function otherItems() {
  return Array.from(ui.list.querySelectorAll("li.session:not(.current)"));
}

function render(sessions) {
  ui.list.replaceChildren(...sessions.map(sessionItem));
  ui.others.hidden = otherItems().length === 0;
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

/** End one session; a session that is already gone counts as ended. */
async function endSession(id) {
  try {
    await authed("DELETE", `/me/sessions/${encodeURIComponent(id)}`);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) throw error;
  }
}

async function endOne(id, item) {
  say(ui.done, "");
  const button = item.querySelector("button");
  const ended = await run(button, "Signing out…", async () => {
    await endSession(id);
    return true;
  }, { errorRegion: ui.error });
  if (!ended) return;
  item.remove();
  ui.others.hidden = otherItems().length === 0;
  flash(ui.done, "Signed out. That browser or device must sign in again.");
  ui.heading.focus(); // the button is gone with its item
}

async function endOthers() {
  say(ui.done, "");
  const items = otherItems();
  const ended = await run(ui.others, "Signing out…", async () => {
    for (const item of items) {
      await endSession(item.dataset.sessionId);
      item.remove();
    }
    return true;
  }, { errorRegion: ui.error });
  if (!ended) return;
  ui.others.hidden = true;
  ui.heading.focus();
  flash(ui.done, items.length === 1
    ? "Signed out of 1 other session. Only this device is signed in now."
    : `Signed out of ${items.length} other sessions. Only this device is signed in now.`);
}

/** Clear everything this module shows (signed out). */
export function reset() {
  loading = null;
  ui.list.replaceChildren();
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
