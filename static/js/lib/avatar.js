// Initials avatars: one or two letters from the person's name on a colour that is
// the same for them everywhere (picked from their username), so four authors never
// look alike. Every colour holds white text at 4.5:1 or more, and the same colours
// serve both schemes (the text sits on the colour, not on the page). Hues spread
// round the wheel (red, orange, olive, green, teal, blue, purple, magenta).

import { el } from "./dom.js";

// White on each: ≥ 4.5:1 (tests/browser/test_board_features.py measures them).
export const COLOURS = [
  "#b42318", "#a64a00", "#027a48", "#175cd3",
  "#6941c6", "#c11574", "#0e7090", "#4d7000",
];

/** A stable small number for a username (FNV-1a), so a colour never changes. */
function hash(text) {
  let value = 0x811c9dc5;
  for (const character of text) {
    value ^= character.codePointAt(0);
    value = Math.imul(value, 0x01000193) >>> 0;
  }
  return value;
}

export function colourFor(username) {
  return COLOURS[hash(username) % COLOURS.length];
}

/** "Ada Lovelace" -> "AL", "ada" -> "A", "李小龙" -> "李". */
export function initials(name) {
  const words = name.trim().split(/\s+/u).filter(Boolean);
  const letters = words.map((word) => Array.from(word)[0] ?? "");
  const picked = letters.length > 1 ? [letters[0], letters[letters.length - 1]] : letters;
  return picked.join("").toLocaleUpperCase() || "?";
}

/** The avatar (hidden from screen readers: the name beside it is read instead). */
export function avatar(name, username, className = "avatar") {
  const node = el("span", { className, text: initials(name), attrs: { "aria-hidden": "true" } });
  node.dataset.colour = String(COLOURS.indexOf(colourFor(username)));
  return node;
}
