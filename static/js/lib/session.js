// The signed-in session: tokens in localStorage (never the password), renewed
// with /token/refresh shortly before the access token expires and after a 401.
//
// A refresh token is single use, and presenting a spent one revokes its whole
// family, so the same token must never be sent twice:
// - in a tab, concurrent callers share one in-flight renewal;
// - across tabs (which share localStorage), renewals take turns through a Web
//   Lock, and each re-reads storage first in case another tab already renewed.
//   Chromium keeps a per-process copy of localStorage that catches up with other
//   tabs' writes a moment later, so a tab that had to queue for the lock waits
//   for the other tab's write to arrive (its "storage" event) before reading;
// - only one tab (the holder of a second, long-lived lock) renews on a timer;
//   the others renew only when a request finds the token about to expire.
// Browsers without Web Locks (non-secure origins) fall back to the in-tab rules.

import { ApiError, request } from "./api.js";

const STORAGE_KEY = "chalkboard.session";
// The API's known-device token (API.md, Known devices): it lets this browser's owner
// sign in while someone elsewhere floods the account with wrong passwords. Not a
// credential by itself (no password, no session), so it outlives logout; it is sent
// only with a password sign-in, and forgotten with the account.
const DEVICE_KEY = "chalkboard.device";
const LOCK_NAME = "chalkboard.session.renewal";
const TIMER_LOCK_NAME = "chalkboard.session.timer";
const OTHER_TAB_WRITE_WAIT_MS = 1000;
const RETRY_AFTER_NETWORK_FAILURE_MS = 15_000;

export const ENDED_MESSAGE =
  "Your session has ended: it expired, was signed out, or the password was changed " +
  "elsewhere. Please sign in again.";
const OTHER_TAB_MESSAGE = "You were signed out in another tab. Please sign in again.";

/** Thrown by authed() once the session is over; the page has already been told. */
export class SessionEnded extends Error {
  constructor(message = ENDED_MESSAGE) {
    super(message);
    this.name = "SessionEnded";
  }
}

let renewal = null; // the one in-flight renewal (a Promise of the new session), if any
let passwordChange = null; // { attempt, relogin } while this tab changes the password
let timer = null;
let timerTab = !navigator.locks?.request; // whether this tab renews on a timer
let endedListener = () => {};
let changedListener = () => {};

// ---- storage -------------------------------------------------------------

function load() {
  try {
    const value = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "null");
    if (value && value.accessToken && value.refreshToken && value.username) return value;
  } catch {
    // unreadable: treat as signed out
  }
  return null;
}

/** How long before expiry to renew: a minute, or a fifth of a short lifetime. */
function renewalLead(expiresInSeconds) {
  return Math.min(60_000, (expiresInSeconds * 1000) / 5);
}

/** The device tokens this browser holds, one per account that signed in here. */
function deviceTokens() {
  try {
    const tokens = JSON.parse(localStorage.getItem(DEVICE_KEY) ?? "{}");
    return tokens && typeof tokens === "object" ? tokens : {};
  } catch {
    return {};
  }
}

function save(pair) {
  if (typeof pair.device_token === "string" && pair.device_token && pair.username) {
    localStorage.setItem(DEVICE_KEY, JSON.stringify({ ...deviceTokens(), [pair.username]: pair.device_token }));
  }
  const now = Date.now();
  const expiresIn = Number(pair.expires_in) || 0;
  const session = {
    username: pair.username,
    accessToken: pair.access_token,
    refreshToken: pair.refresh_token,
    expiresAt: now + expiresIn * 1000,
    renewAt: now + expiresIn * 1000 - renewalLead(expiresIn),
  };
  localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  schedule();
  changedListener(session.username);
  return session;
}

/**
 * Clear the origin's storage (it holds nothing but this app's data). keepDraft: the
 * session ended without the person asking, so their unsent message stays for when
 * they sign in again (it is theirs alone: the key names them).
 */
function forget({ keepDraft = false, keepDevice = true } = {}) {
  clearTimeout(timer);
  timer = null;
  const kept = keepDraft ? draftEntries() : [];
  const device = keepDevice ? localStorage.getItem(DEVICE_KEY) : null;
  if (device) kept.push([DEVICE_KEY, device]);
  localStorage.clear();
  sessionStorage.clear();
  for (const [key, value] of kept) localStorage.setItem(key, value);
}

// ---- the unsent message -------------------------------------------------------
// Kept across reloads, one per person; never the password (no field of the sign-in
// forms is stored), and gone when its writer signs out.

const DRAFT_PREFIX = "chalkboard.draft.";

function draftEntries() {
  return Object.keys(localStorage)
    .filter((key) => key.startsWith(DRAFT_PREFIX))
    .map((key) => [key, localStorage.getItem(key)]);
}

export function loadDraft(username) {
  return (username && localStorage.getItem(DRAFT_PREFIX + username)) || "";
}

export function saveDraft(username, text) {
  if (!username) return;
  try {
    if (text) localStorage.setItem(DRAFT_PREFIX + username, text);
    else localStorage.removeItem(DRAFT_PREFIX + username);
  } catch {
    // storage full or refused: the draft stays in the field only
  }
}

function due(session) {
  return Date.now() >= session.renewAt;
}

// ---- lifecycle -----------------------------------------------------------

/**
 * Start keeping the session alive.
 * onEnded(message) runs when the session ends without the person asking (refresh
 * refused, signed out in another tab); onChanged(username) when tokens are replaced.
 */
export function start({ onEnded, onChanged } = {}) {
  endedListener = onEnded ?? endedListener;
  changedListener = onChanged ?? changedListener;
  window.addEventListener("storage", (event) => {
    if (event.key !== STORAGE_KEY && event.key !== null) return;
    const session = load();
    if (session) {
      // Renewed in another tab, or someone signed in there.
      schedule();
      changedListener(session.username);
    } else {
      clearTimeout(timer);
      endedListener(OTHER_TAB_MESSAGE);
    }
  });
  // Timers sleep while a tab is in the background: catch up when it is shown again.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") schedule();
  });
  if (!timerTab) {
    // Held until this tab closes; then the next tab in line takes over the timer.
    navigator.locks.request(TIMER_LOCK_NAME, () => {
      timerTab = true;
      schedule();
      return new Promise(() => {});
    });
  }
  schedule();
}

export function currentUser() {
  return load()?.username ?? null;
}

function schedule() {
  clearTimeout(timer);
  const session = load();
  if (!session || !timerTab) return;
  const delay = Math.max(0, session.renewAt - Date.now());
  timer = setTimeout(proactiveRenewal, delay);
}

async function proactiveRenewal() {
  // A hidden tab asks the API for nothing (issue 26): when it is shown again,
  // schedule() runs (visibilitychange) and renews at once if the token is due.
  if (document.visibilityState !== "visible") return;
  try {
    await renew(null);
  } catch (error) {
    if (error instanceof ApiError && load()) {
      // Server unreachable for now: try again soon; a request made meanwhile renews too.
      clearTimeout(timer);
      timer = setTimeout(proactiveRenewal, RETRY_AFTER_NETWORK_FAILURE_MS);
    }
  }
}

function end(message = ENDED_MESSAGE) {
  forget({ keepDraft: true });
  endedListener(message);
  return new SessionEnded(message);
}

// ---- renewal -------------------------------------------------------------

/** Run task while no other tab of this browser renews (see the top of this file). */
async function exclusive(task) {
  if (!navigator.locks?.request) return task();
  const free = await navigator.locks.request(LOCK_NAME, { ifAvailable: true }, async (lock) =>
    lock ? { result: await task() } : null,
  );
  if (free) return free.result;
  // Another tab is renewing: let its new tokens reach this tab's view of storage first.
  const written = storageWrite(OTHER_TAB_WRITE_WAIT_MS);
  return navigator.locks.request(LOCK_NAME, async () => {
    await written;
    return task();
  });
}

/** Resolves when another tab changes the session in storage, or after timeoutMs. */
function storageWrite(timeoutMs) {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timeout);
      window.removeEventListener("storage", changed);
      resolve();
    };
    const changed = (event) => {
      if (event.key === STORAGE_KEY || event.key === null) done();
    };
    const timeout = setTimeout(done, timeoutMs);
    window.addEventListener("storage", changed);
  });
}

/**
 * The session with a usable access token. refused: the access token a request just
 * had refused (401), or null for a renewal because the token is about to expire.
 */
function renew(refused) {
  if (!renewal) {
    renewal = exclusive(() => renewNow(refused))
      .catch((error) => {
        if (error instanceof DuringPasswordChange) return afterPasswordChange(error);
        throw error;
      })
      .finally(() => {
        renewal = null;
      });
  }
  return renewal;
}

/** A refresh refused while this tab changes the password: wait for its new login. */
class DuringPasswordChange extends Error {
  constructor(change, spentRefreshToken) {
    super("refresh refused during a password change");
    this.change = change;
    this.spentRefreshToken = spentRefreshToken;
  }
}

async function afterPasswordChange({ change, spentRefreshToken }) {
  // Outside the lock, which the new login needs.
  await change.attempt;
  await change.relogin?.catch(() => {});
  const latest = load();
  if (latest && latest.refreshToken !== spentRefreshToken) return latest;
  throw end();
}

async function renewNow(refused) {
  const session = load();
  if (!session) throw end();
  // Someone (another tab, an earlier renewal) already replaced the token in question.
  if (refused ? session.accessToken !== refused && !due(session) : !due(session)) return session;
  let pair;
  try {
    pair = await request("POST", "/token/refresh", { body: { refresh_token: session.refreshToken } });
  } catch (error) {
    if (!(error instanceof ApiError) || error.unreachable || error.status >= 500) throw error;
    // Refused (401). Unless another tab stored a newer session meanwhile, or this tab
    // is changing the password and about to sign in again, the session is over; it is
    // cleared while holding the lock, so no other tab's renewal is wiped out.
    const latest = load();
    if (latest && latest.refreshToken !== session.refreshToken) return latest;
    if (passwordChange) throw new DuringPasswordChange(passwordChange, session.refreshToken);
    throw end();
  }
  return save(pair);
}

/** The stored session, renewed first if its access token is about to expire. */
async function usable() {
  const session = load();
  if (!session) throw end();
  return due(session) ? renew(null) : session;
}

/**
 * A request with the access token. On a 401 the token is renewed once and the
 * request retried; if that fails too the session is over (SessionEnded).
 * body may be a function of the session, for bodies that carry a token.
 */
export async function authed(method, path, { body, query, onAttempt } = {}) {
  const send = (session) => {
    const attempt = request(method, path, {
      body: typeof body === "function" ? body(session) : body,
      query,
      token: session.accessToken,
    });
    onAttempt?.(attempt);
    return attempt;
  };
  let session = await usable();
  try {
    return await send(session);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
  }
  session = await renew(session.accessToken);
  try {
    return await send(session);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) throw end();
    throw error;
  }
}

// ---- the person's actions ----------------------------------------------------

/**
 * Sign in with a password. Resolves to the username, or to { mfaToken } when the
 * account has two-factor authentication on and a code must follow (loginWithCode).
 */
export async function login(username, password) {
  const deviceToken = deviceTokens()[username.trim().normalize("NFKC").toLowerCase()];
  const body = deviceToken ? { username, password, device_token: deviceToken } : { username, password };
  const answer = await request("POST", "/login", { body });
  if (answer?.mfa_required) return { mfaToken: answer.mfa_token };
  return save(answer).username;
}

/** The second step of a two-factor login: a code from the app, or a recovery code. */
export async function loginWithCode(mfaToken, code) {
  const pair = await request("POST", "/login/totp", { body: { mfa_token: mfaToken, code } });
  return save(pair).username;
}

/** Usernameless sign-in: getAssertion(options) asks the browser for a passkey. */
export async function loginWithPasskey(getAssertion) {
  const { publicKey } = await request("POST", "/login/passkey/options", { body: {} });
  const credential = await getAssertion(publicKey);
  const pair = await request("POST", "/login/passkey", { body: { credential } });
  return save(pair).username;
}

/** Create the account (with a display name unless it is null), then sign in. */
export async function signup(username, password, displayName = null) {
  const body = displayName === null ? { username, password } : { username, password, display_name: displayName };
  await request("POST", "/signup", { body });
  return login(username, password);
}

/**
 * End the session on the server (this access token and the refresh token's family)
 * and clear the browser's storage. Resolves to null, or to an ApiError when the
 * server could not be told (storage is cleared all the same).
 */
export async function logout() {
  const listener = endedListener;
  endedListener = () => {}; // the person asked for this: no "session ended" notice
  let problem = null;
  try {
    if (load()) {
      await authed("POST", "/logout", { body: (session) => ({ refresh_token: session.refreshToken }) });
    }
  } catch (error) {
    if (!(error instanceof SessionEnded)) problem = error;
  } finally {
    endedListener = listener;
    forget();
  }
  return problem;
}

/**
 * Change the password. The API then refuses every token issued before the change,
 * this tab's included, so sign in again at once with the new password (held only
 * in this call), keeping this tab signed in while other sessions end.
 */
export async function changePassword(currentPassword, newPassword) {
  const username = currentUser();
  const change = { attempt: Promise.resolve(), relogin: null };
  passwordChange = change;
  try {
    await authed("POST", "/me/password", {
      body: { current_password: currentPassword, new_password: newPassword },
      onAttempt: (attempt) => {
        change.attempt = attempt.catch(() => {});
      },
    });
    change.relogin = exclusive(() => login(username, newPassword));
    try {
      await change.relogin;
    } catch {
      throw end("Your password was changed. Please sign in with your new password.");
    }
  } finally {
    if (passwordChange === change) passwordChange = null;
  }
}

/** Forget this browser's tokens after the server ended every session (a password reset). */
export function forgetEndedSession() {
  forget();
}

/**
 * Forget this browser's tokens after the account was deleted: the server already
 * refuses them, so there is no session to end there and nothing to announce.
 */
export function forgetDeletedAccount() {
  const username = currentUser();
  const others = deviceTokens();
  delete others[username];
  forget({ keepDevice: false });
  if (Object.keys(others).length) localStorage.setItem(DEVICE_KEY, JSON.stringify(others));
}
