// A password strength meter that agrees with the server (chalicelib/passwords.py
// weakness()): the same estimator (Dropbox's zxcvbn, vendored unchanged in
// static/vendor/, MIT licence beside it) on the same text (NFKC, its first 64
// characters) with the same user inputs (the username, the display name and each of
// its words, "chalkboard"), and the same rule (a score below 3 of 4 is refused). The
// 800 kB estimator loads only when a person first uses a new-password field, never at
// page load.

import { el } from "./dom.js";
import { PASSWORD_MIN } from "./rules.js";

export const MIN_SCORE = 3; // chalicelib/passwords.py refuses a score below this
const JUDGED_CHARS = 64; // chalicelib/passwords.py ZXCVBN_MAX_CHARS
const WORDS = ["Very weak", "Weak", "Fair", "Strong", "Very strong"];
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
      return;
    }
    const result = await estimate(password, names);
    if (mine !== latest) return; // a newer key press is being judged
    const enough = result.score >= MIN_SCORE && Array.from(password).length >= PASSWORD_MIN;
    // Enough: the word alone ("Strong."); a second "Strong enough." only repeated it.
    const advice = enough
      ? ""
      : [result.warning, ...result.suggestions].filter(Boolean).join(" ") ||
        "Add another word or two; uncommon words are best.";
    output.dataset.score = String(result.score);
    output.replaceChildren(
      el("span", { className: "strength-bar", attrs: { "aria-hidden": "true" } },
        ...WORDS.slice(1).map((_, i) => el("span", { className: i < result.score ? "on" : "" }))),
      el("span", { className: "strength-text" },
        el("strong", { text: advice ? `${WORDS[result.score]}. ` : `${WORDS[result.score]}.` }), advice),
    );
  };
  input.addEventListener("input", update);
  input.addEventListener("focus", () => {
    if (userInputs() !== null) estimator(); // start loading as soon as the field is used
  });
}
