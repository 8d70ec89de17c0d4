// The one way an action runs behind a button: the button shows it is busy (and
// keeps its width), a second press while it runs does nothing, the error region is
// cleared first and given the error after, and the end of the session is left to
// main.js (which has already shown the sign-in page with a notice). Views call run()
// instead of handling busy buttons and SessionEnded themselves.

import { busy, say } from "./dom.js";
import { SessionEnded } from "./session.js";

const running = new WeakSet();

/** A sentence for a person from anything thrown. */
export function errorText(error) {
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * Run task() with button busy (label: what it says meanwhile, e.g. "Saving…").
 * errorRegion: where a failure is said (cleared when the action starts); explain(error)
 * may return a better sentence for an error, or "" to say nothing. Resolves to the
 * task's result, or to undefined when it failed or was already running.
 */
export async function run(button, label, task, { errorRegion = null, explain = null } = {}) {
  if (running.has(button)) return undefined;
  running.add(button);
  if (errorRegion) say(errorRegion, "");
  const done = busy(button, label);
  try {
    return await task();
  } catch (error) {
    if (error instanceof SessionEnded) return undefined;
    const text = explain?.(error) ?? errorText(error);
    if (errorRegion && text) say(errorRegion, text);
    return undefined;
  } finally {
    running.delete(button);
    if (button.isConnected) done();
  }
}

/** Whether run() is working on this button now. */
export function isRunning(button) {
  return running.has(button);
}
