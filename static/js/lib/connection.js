// The page's one connection state, cleared as soon as a request gets through: a strip
// over the foot of the window (it moves nothing on the page) with a crossed-out signal
// icon, that speaks of the unsent text only when the composer holds some, and a
// "Retry now". While it shows, the page asks the API's /health now and then (5 s, then
// 10, 20 and every 30 s; never from a hidden tab), so "Retrying…" is true on every
// page, not only where the board polls. When the connection comes back the strip says
// so ("Connected again."), politely, and goes by itself a few seconds later (flash).

import { run } from "./action.js";
import { onConnection, request } from "./api.js";
import { byId, flash } from "./dom.js";

const RETRY_MS = [5_000, 10_000, 20_000, 30_000];
const OFFLINE = "Cannot reach the server. Retrying…";

let ui = null;
let offline = false; // the last request got no answer
let retries = 0; // asks since the connection went
let timer = null;
let hasUnsentText = () => false;
let onReconnected = () => {};

/**
 * Wire the strip (main.js, once). hasUnsentText(): whether the composer holds text;
 * onReconnected(): called once each time the connection comes back.
 */
export function init({ unsentText, reconnected }) {
  hasUnsentText = unsentText;
  onReconnected = reconnected;
  ui = { bar: byId("connection-bar"), text: byId("connection"), retry: byId("connection-retry") };
  ui.retry.addEventListener("click", retryNow);
  document.addEventListener("visibilitychange", () => {
    if (offline && document.visibilityState === "visible" && timer === null) schedule();
  });
  onConnection(show);
}

function show(reachable) {
  const recovered = offline && reachable;
  offline = !reachable;
  say();
  if (offline) {
    if (timer === null) schedule();
    return;
  }
  clearTimeout(timer);
  timer = null;
  retries = 0;
  if (recovered) {
    ui.bar.classList.add("restored");
    flash(ui.text, "Connected again.");
    onReconnected();
  }
}

/** Say the state again (the composer's text changed: whether it is kept is said). */
export function say() {
  // Online, "Connected again." stays until it goes by itself (later requests get through too).
  if (!offline && ui.bar.classList.contains("restored")) return;
  ui.bar.classList.remove("restored");
  let text = "";
  if (offline) text = hasUnsentText() ? `${OFFLINE} Your unsent text is kept.` : OFFLINE;
  if (ui.text.textContent !== text) ui.text.textContent = text;
  if (!offline && document.activeElement === ui.retry) byId("main").focus({ preventScroll: true });
  ui.retry.hidden = !offline;
}

function schedule() {
  clearTimeout(timer);
  timer = null;
  if (document.visibilityState !== "visible") return; // asked again when the tab shows
  timer = setTimeout(ask, RETRY_MS[Math.min(retries, RETRY_MS.length - 1)]);
  retries += 1;
}

/** One ask of /health: any answer at all means the server is reachable (show() hears it). */
async function ask() {
  timer = null;
  if (!offline) return;
  try {
    await request("GET", "/health");
  } catch {
    // No answer (show() was told and asks again later), or an answer that is an error,
    // which still means the connection is back.
  }
  if (offline && timer === null) schedule();
}

function retryNow() {
  void run(ui.retry, "Retrying…", async () => {
    clearTimeout(timer);
    timer = null;
    retries = 0;
    await ask();
  });
}
