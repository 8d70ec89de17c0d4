// The one place that talks to the API: it calls fetch, sets Authorization, and
// turns every failure into an ApiError whose message a person can understand.

import { config } from "../../config.js";
import { sentence } from "./dom.js";

const BASE_URL = String(config.apiBaseUrl).replace(/\/+$/, "");
const TIMEOUT_MS = 20_000;

export const UNREACHABLE = "Cannot reach the server. Check your connection and try again.";
const TIMED_OUT = "The server took too long to answer. Check your connection and try again.";

let connectionListener = () => {};

/**
 * listener(reachable) after every request: false when no answer came, true when
 * any answer came (even a refusal). The page shows one connection state from this,
 * which clears itself as soon as a request gets through again.
 */
export function onConnection(listener) {
  connectionListener = listener;
}

export class ApiError extends Error {
  /**
   * status: the HTTP status, or 0 when no answer came (network failure, timeout).
   * code: the API's "Code" (e.g. "BadRequestError"), "Unauthorized" for the
   * authorizer's refusal, "NetworkError" when unreachable.
   */
  constructor(message, { status = 0, code = "", retryAfter = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }

  get unreachable() {
    return this.status === 0;
  }
}

/** Join the base URL (which may carry a path such as /api) and an API path. */
export function apiUrl(path, query = {}, base = BASE_URL) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null) search.set(name, String(value));
  }
  const suffix = search.toString();
  const joined = path ? `${base}/${path.replace(/^\/+/, "")}` : base;
  return `${joined}${suffix ? `?${suffix}` : ""}`;
}

/**
 * One request. Resolves to the parsed JSON body (null for 204), or rejects with ApiError.
 * options: { body, token, query, base } (base: another origin of ours, e.g. the live
 * function's URL; the API's base URL by default)
 */
export async function request(method, path, { body, token, query, base } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, TIMEOUT_MS);
  let response;
  let text;
  try {
    response = await fetch(apiUrl(path, query, base ?? BASE_URL), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      mode: "cors",
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
      signal: controller.signal,
    });
    text = await response.text();
  } catch {
    connectionListener(false);
    throw new ApiError(timedOut ? TIMED_OUT : UNREACHABLE, { code: "NetworkError" });
  } finally {
    clearTimeout(timer);
  }
  connectionListener(true);
  const data = parseJson(text);
  if (response.ok) return response.status === 204 ? null : data;
  throw errorFor(response, data);
}

function parseJson(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function errorFor(response, data) {
  const status = response.status;
  const retryAfter = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
  const options = { status, retryAfter: Number.isFinite(retryAfter) ? retryAfter : null };
  if (data && typeof data.Message === "string") {
    // The app's own errors: {"Code": "...", "Message": "..."}; the message is meant for people.
    let message = sentence(data.Message);
    if (status === 429 && options.retryAfter) {
      message = `${message.replace(/\.$/, "")} (in about ${waitText(options.retryAfter)}).`;
    }
    return new ApiError(message, { ...options, code: data.Code ?? "" });
  }
  if (data && typeof data.message === "string") {
    // The gateway's or the authorizer's own answers, e.g. {"message": "Unauthorized"}.
    const message =
      status === 401
        ? "Your session is no longer valid. Please sign in again."
        : `The server refused the request (${sentence(data.message)}).`;
    return new ApiError(message, { ...options, code: data.message });
  }
  if (status >= 500) {
    return new ApiError(
      `The server had a problem (HTTP ${status}). Please try again in a moment.`,
      options,
    );
  }
  return new ApiError(`The server refused the request (HTTP ${status}).`, options);
}

/** "30 seconds", "15 minutes": how long to wait, for a sentence. */
export function waitText(seconds) {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  return `${Math.ceil(seconds / 60)} minutes`;
}
