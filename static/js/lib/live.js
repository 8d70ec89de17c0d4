// Live updates that cost almost nothing while nothing happens (issue 26):
// - how often: every 3 s while the person is active (an input in the last minute),
//   every 30 s while the tab is visible but idle, never while it is hidden; at once
//   when they come back (tab shown, window focused, first input after idling);
//   slower after each failure, and never before a 429's Retry-After has passed;
// - catching up: the check made at once on coming back is told so (check({ catchUp })),
//   for the board to read the newest page instead of what is newer (one ask either way)
//   and so see what was deleted meanwhile;
// - what: GET /live with a short-lived live ticket instead of the bearer token
//   (askNewer), which a Lambda function URL answers when deployed (config.liveUrl)
//   without an API Gateway request or an authorizer call. Same answer as
//   GET /messages?since; the server reads the session on every ask.

import { config } from "../../config.js";
import { ApiError, request } from "./api.js";
import { authed } from "./session.js";

export const ACTIVE_INTERVAL_MS = 3_000;
export const IDLE_INTERVAL_MS = 30_000;
export const ACTIVE_FOR_MS = 60_000; // "active": an input within this long
const MAX_BACKOFF_MS = 60_000;
const TICKET_MARGIN_MS = 30_000; // ask for the next ticket this long before one ends
const INPUTS = ["pointerdown", "pointermove", "keydown", "wheel", "scroll", "touchstart"];

/**
 * A poller that calls check({ catchUp }) (an async function) while started and visible,
 * every ACTIVE_INTERVAL_MS while the person is active, IDLE_INTERVAL_MS otherwise;
 * catchUp is true for the check made on coming back (tab shown, window focused, first
 * input after idling), until one such check succeeds.
 * check() may throw: an ApiError 429 waits its Retry-After, other errors back off.
 */
export function createPoller(
  check,
  { active = ACTIVE_INTERVAL_MS, idle = IDLE_INTERVAL_MS } = {},
) {
  let started = false;
  let timer = null;
  let running = null; // the check in flight, if any
  let failures = 0;
  let notBefore = 0; // ms since the epoch: the server asked us to wait until then
  let lastInput = Date.now();
  let catchUp = false; // the person came back: the next check catches up

  const visible = () => document.visibilityState === "visible";
  const isActive = () => Date.now() - lastInput < ACTIVE_FOR_MS;
  const interval = () => (isActive() ? active : idle);

  function schedule(delay) {
    clearTimeout(timer);
    timer = null;
    if (!started || !visible() || running) return;
    const wait = Math.max(delay, notBefore - Date.now(), 0);
    timer = setTimeout(run, wait);
  }

  async function run() {
    timer = null;
    if (!started || !visible() || running) return;
    let delay = null;
    const catchingUp = catchUp;
    catchUp = false;
    running = (async () => {
      try {
        await check({ catchUp: catchingUp });
        failures = 0;
      } catch (error) {
        catchUp ||= catchingUp; // the next check catches up instead
        failures += 1;
        delay = Math.min(interval() * 2 ** failures, MAX_BACKOFF_MS);
        if (error instanceof ApiError && error.status === 429 && error.retryAfter) {
          notBefore = Date.now() + error.retryAfter * 1000;
        }
      }
    })();
    await running;
    running = null;
    schedule(delay ?? interval());
  }

  /** Check now (unless a check is in flight or the server asked to wait). */
  function now() {
    schedule(0);
  }

  /** The person is back: catch up now (or with the next check, if one is in flight). */
  function cameBack() {
    lastInput = Date.now();
    catchUp = true;
    now();
  }

  function noteInput() {
    if (isActive()) lastInput = Date.now();
    else cameBack(); // back from idling: catch up at once, then the active pace
  }

  document.addEventListener("visibilitychange", () => {
    if (visible()) {
      cameBack(); // showing the tab is the person's doing
    } else {
      clearTimeout(timer);
      timer = null;
    }
  });
  window.addEventListener("focus", cameBack);
  for (const type of INPUTS) {
    window.addEventListener(type, noteInput, { capture: true, passive: true });
  }

  return {
    start() {
      if (started) return;
      started = true;
      failures = 0;
      schedule(interval());
    },
    stop() {
      started = false;
      clearTimeout(timer);
      timer = null;
    },
    now,
    /** The check in flight, so that a full reload can wait for it instead of racing. */
    settled: () => running ?? Promise.resolve(),
  };
}

// ---- the ask: GET /live with a live ticket -------------------------------------------

let ticket = null; // { value, expiresAt: ms since the epoch }

async function currentTicket() {
  if (!ticket || ticket.expiresAt - Date.now() < TICKET_MARGIN_MS) {
    const answer = await authed("GET", "/live/ticket");
    ticket = { value: answer.ticket, expiresAt: Date.parse(answer.expires_at) };
  }
  return ticket.value;
}

/**
 * What GET /messages?since answers ({ messages, next_cursor, gap }), asked with a live
 * ticket. A refused ticket (expired, or its session ended) is replaced once; if the
 * session is over, authed() throws SessionEnded while fetching the next one.
 */
export async function askNewer(query) {
  for (let attempt = 0; ; attempt += 1) {
    const t = await currentTicket();
    try {
      return await ask({ ...query, t });
    } catch (error) {
      if (attempt > 0 || !(error instanceof ApiError) || error.status !== 401) throw error;
      ticket = null;
    }
  }
}

async function ask(query) {
  // Deployed, the live function's URL answers; locally (and with `chalice deploy`)
  // the API's own GET /live does. Either way through api.js, without a bearer token.
  if (!config.liveUrl) return request("GET", "/live", { query });
  return request("GET", "", { query, base: config.liveUrl.replace(/\/+$/, "") });
}
