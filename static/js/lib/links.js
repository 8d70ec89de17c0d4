// Web addresses in message text become links, built with DOM APIs (never from HTML):
// only http: and https: addresses, so "javascript:", "data:" or an <a href> typed
// as text stay text.

import { el } from "./dom.js";

const CANDIDATE = /\bhttps?:\/\/[^\s<>"'`]+/giu;
const TRAILING = /[.,;:!?'"»”’)\]}>]+$/u;

/**
 * The text split into parts: { text } for plain text and { url, text } for an
 * http(s) address. Punctuation that ends a sentence stays out of the link, and a
 * closing bracket stays out unless the address opened one.
 */
export function linkParts(text) {
  const parts = [];
  let at = 0;
  for (const match of text.matchAll(CANDIDATE)) {
    let candidate = match[0];
    let trailing = TRAILING.exec(candidate)?.[0] ?? "";
    candidate = candidate.slice(0, candidate.length - trailing.length);
    // Keep one closing parenthesis that the address itself opened: (see https://x.org/a_(b)).
    if (trailing.startsWith(")") && count(candidate, "(") > count(candidate, ")")) {
      candidate += ")";
      trailing = trailing.slice(1);
    }
    const url = httpUrl(candidate);
    if (!url) continue;
    if (match.index > at) parts.push({ text: text.slice(at, match.index) });
    parts.push({ url, text: candidate });
    at = match.index + candidate.length;
  }
  if (at < text.length) parts.push({ text: text.slice(at) });
  return parts;
}

function count(text, character) {
  return text.split(character).length - 1;
}

function httpUrl(candidate) {
  try {
    const url = new URL(candidate);
    if ((url.protocol === "http:" || url.protocol === "https:") && url.hostname) return url.href;
  } catch {
    // not an address after all
  }
  return null;
}

/** Nodes for the text: text nodes, and <a> elements for its web addresses. */
export function linkedNodes(text) {
  return linkParts(text).map((part) =>
    part.url
      ? el("a", {
          text: part.text,
          // dir="ltr" isolates the address, so right-to-left text around it cannot reorder it.
          attrs: { href: part.url, rel: "noopener noreferrer nofollow", target: "_blank", dir: "ltr" },
        })
      : document.createTextNode(part.text),
  );
}
