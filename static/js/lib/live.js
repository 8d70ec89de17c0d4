// Polling that is kind to the server and the battery: every few seconds while the
// page is visible, nothing while it is hidden, at once when the person comes back,
// slower after each failure, and never before a 429's Retry-After has passed.

import { ApiError } from "./api.js";

export const POLL_INTERVAL_MS = 5_000;
const MAX_BACKOFF_MS = 60_000;

/**
 * A poller that calls check() (an async function) while started and visible.
 * check() may throw: an ApiError 429 waits its Retry-After, other errors back off.
 */
export function createPoller(check, { interval = POLL_INTERVAL_MS } = {}) {
  let started = false;
  let timer = null;
  let running = null; // the check in flight, if any
  let failures = 0;
  let notBefore = 0; // ms since the epoch: the server asked us to wait until then

  const visible = () => document.visibilityState === "visible";

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
    let delay = interval;
    running = (async () => {
      try {
        await check();
        failures = 0;
      } catch (error) {
        failures += 1;
        delay = Math.min(interval * 2 ** failures, MAX_BACKOFF_MS);
        if (error instanceof ApiError && error.status === 429 && error.retryAfter) {
          notBefore = Date.now() + error.retryAfter * 1000;
        }
      }
    })();
    await running;
    running = null;
    schedule(delay);
  }

  /** Check now (unless a check is in flight or the server asked to wait). */
  function now() {
    schedule(0);
  }

  document.addEventListener("visibilitychange", () => {
    if (visible()) now();
    else {
      clearTimeout(timer);
      timer = null;
    }
  });
  window.addEventListener("focus", now);

  return {
    start() {
      if (started) return;
      started = true;
      failures = 0;
      schedule(interval);
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
