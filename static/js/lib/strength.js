// A password strength meter that agrees with the server (chalicelib/passwords.py
// weakness()): the same estimator (Dropbox's zxcvbn, vendored unchanged in
// static/vendor/, MIT licence beside it) on the same text (NFKC, its first 64
// characters) with the same user inputs (the username, the display name and each of
// its words, "chalkboard"), and the same rule (a score below 3 of 4 is refused). The
// 800 kB estimator loads only when a person first uses a new-password field, never at
// page load.
//
// It says what the server will do, not only a grade: "Too weak — not accepted yet"
// below the threshold, "Good — accepted" (olive) at it, "Strong" (green) at the top
// score; the four bars fill and take the same colour (never a "Strong" beside an
// unfilled bar). A refusal is said in a neutral colour while the person is still
// typing (they have not finished, and the hint above already states the rule), and
// turns red once they leave the field or submit the form (data-typing marks the
// former).

import { el } from "./dom.js";
import { PASSWORD_MIN } from "./rules.js";

export const MIN_SCORE = 3; // chalicelib/passwords.py refuses a score below this
const TOP_SCORE = 4;
const JUDGED_CHARS = 64; // chalicelib/passwords.py ZXCVBN_MAX_CHARS
const BARS = 4;
// What each level says; the word the hints name ("rated at least Good") is GOOD's.
export const LEVELS = {
  weak: "Too weak — not accepted yet",
  short: "Too short — not accepted yet",
  good: "Good — accepted",
  strong: "Strong",
};
let loading = null;

/** The estimator, loaded once (a classic script that sets window.zxcvbn). */
function estimator() {
  loading ??= import("../../vendor/zxcvbn.js").then(() => window.zxcvbn);
  return loading;
}

/** { score, warning, suggestions } for a password, as the server would judge it. */
export async function estimate(password, userInputs) {
  const zxcvbn = await estimator();
  const judged = Array.from(password.normalize("NFKC")).slice(0, JUDGED_CHARS).join("");
  const words = userInputs.filter(Boolean).flatMap((input) => [input, ...input.split(/\s+/u)]);
  const result = zxcvbn(judged, [...new Set(words.filter(Boolean)), "chalkboard"]);
  return {
    score: result.score,
    warning: result.feedback.warning ?? "",
    suggestions: result.feedback.suggestions ?? [],
  };
}

/**
 * The level of a password of score and length characters: "weak" or "short" (refused:
 * one or two red bars), "good" (accepted: three bars) or "strong" (all four).
 */
export function level(score, length) {
  if (score < MIN_SCORE) return { name: "weak", bars: Math.max(1, score) };
  if (length < PASSWORD_MIN) return { name: "short", bars: MIN_SCORE - 1 };
  return score >= TOP_SCORE ? { name: "strong", bars: BARS } : { name: "good", bars: MIN_SCORE };
}

/**
 * Show the strength of what is typed in input inside output (a role="status"-free
 * element next to the field: it is not announced on each key, but the field is
 * described by it). userInputs() gives the names the password must not lean on, or
 * null when the field is not choosing a new password (then nothing loads).
 */
export function watchStrength(input, output, userInputs) {
  let latest = 0;
  const update = async () => {
    const password = input.value;
    const mine = (latest += 1);
    const names = userInputs();
    if (!password || names === null) {
      output.replaceChildren();
      delete output.dataset.level;
      return;
    }
    const result = await estimate(password, names);
    if (mine !== latest) return; // a newer key press is being judged
    const length = Array.from(password.normalize("NFKC")).length;
    const { name, bars } = level(result.score, length);
    // Accepted: the verdict alone; refused: the verdict and how to do better.
    const advice = name === "good" || name === "strong"
      ? ""
      : name === "short"
        ? `Use at least ${PASSWORD_MIN} characters.`
        : [result.warning, ...result.suggestions].filter(Boolean).join(" ") ||
          "Add another word or two; uncommon words are best.";
    output.dataset.score = String(result.score);
    output.dataset.level = name;
    output.replaceChildren(
      el("span", { className: "strength-bar", attrs: { "aria-hidden": "true" } },
        ...Array.from({ length: BARS }, (_, i) => el("span", { className: i < bars ? "on" : "" }))),
      el("span", { className: "strength-text" },
        el("strong", { className: "strength-word", text: `${LEVELS[name]}.` }),
        advice ? ` ${advice}` : null),
    );
  };
  // Typing: an edit since the field was last left or its form submitted (a refused
  // submit moves the focus back here, which must not take the red away again).
  const settle = () => delete output.dataset.typing;
  input.addEventListener("input", () => {
    if (document.activeElement === input) output.dataset.typing = "";
    else settle(); // e.g. filled in by a password manager: nothing more is coming
    update();
  });
  input.addEventListener("blur", settle);
  input.form?.addEventListener("submit", settle);
  input.addEventListener("focus", () => {
    if (userInputs() !== null) estimator(); // start loading as soon as the field is used
  });
}
