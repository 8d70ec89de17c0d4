// Initials avatars: one or two letters from the person's name on a colour that is
// the same for them everywhere (picked from their username), so the people on a board
// rarely look alike. This list is the palette's one source: avatar() sets the colour
// on the element through the CSSOM (the CSP allows that, not style attributes), and
// styles.css only reads it (var(--avatar-colour)).
//
// Thirteen hues evenly spaced round the OKLCH colour wheel, each as light and vivid as
// white initials allow at 4.7:1 or more (tests/browser/test_board_features.py measures
// them in both schemes: the text sits on the colour, not on the page, so one palette
// serves both). Listed four steps apart round the wheel (red, green, blue, pink, …), so
// neighbouring entries never look alike.

import { el } from "./dom.js";

export const COLOURS = [
  "#ca4543", // red
  "#408303", // green
  "#0178c1", // blue
  "#c4447b", // pink
  "#7a7704", // olive
  "#067e98", // cyan
  "#af4da9", // magenta
  "#976c07", // mustard
  "#0a817d", // teal
  "#8d5acb", // violet
  "#b65a03", // orange
  "#03845d", // emerald
  "#5b69d9", // indigo
];

/**
 * A stable number for a username, so a colour never changes: FNV-1a, then MurmurHash3's
 * finaliser, because FNV-1a alone leaves its low bits poorly mixed (short names that
 * differ in one letter often share them).
 */
function hash(text) {
  let value = 0x811c9dc5;
  for (const character of text) {
    value ^= character.codePointAt(0);
    value = Math.imul(value, 0x01000193);
  }
  value ^= value >>> 16;
  value = Math.imul(value, 0x85ebca6b);
  value ^= value >>> 13;
  value = Math.imul(value, 0xc2b2ae35);
  value ^= value >>> 16;
  return value >>> 0;
}

/** The palette's entry for a username (the hash's high bits pick it, evenly). */
export function colourIndex(username) {
  return Math.floor((hash(username) / 2 ** 32) * COLOURS.length);
}

export function colourFor(username) {
  return COLOURS[colourIndex(username)];
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
  node.dataset.colour = String(colourIndex(username));
  node.style.setProperty("--avatar-colour", colourFor(username));
  return node;
}
