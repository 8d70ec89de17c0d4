// "Recently active": who else wrote the messages the board shows, the latest first, each
// with when they last wrote, beside the feed on wide screens (as chat apps list who
// is around; narrower screens leave it out, see styles.css). Made from the rows on the
// page, so it asks the server for nothing and follows the feed as it changes.

import { avatar } from "../../lib/avatar.js";
import { el } from "../../lib/dom.js";
import { fullTime, relativeTime } from "../../lib/time.js";
import { handleFor, messageRows } from "./feed.js";

const MOST = 8; // people listed

/** Each author's latest row, newest first: { username, name, mine, created }. */
function latestByAuthor(list) {
  const latest = new Map();
  for (const row of messageRows(list)) {
    const created = Number(row.dataset.created);
    const seen = latest.get(row.dataset.author);
    if (seen && seen.created >= created) continue;
    latest.set(row.dataset.author, {
      username: row.dataset.author,
      name: row.querySelector(".author").textContent,
      mine: row.classList.contains("mine"),
      created,
    });
  }
  return [...latest.values()].sort((a, b) => b.created - a.created);
}

/**
 * Draw the panel from the list's rows. Shown once the board has loaded, an empty board
 * too (saying nobody has written yet, or only the person so far), so the first message
 * moves nothing; hidden before that and after sign-out.
 */
export function updatePeople(panel, list, { loaded = true, now = Date.now() } = {}) {
  const authors = latestByAuthor(list);
  // The signed-in person is left out: they know they are active (and were listed first
  // after every post of theirs, above the people they came to see).
  const people = authors.filter((person) => !person.mine).slice(0, MOST);
  panel.hidden = !loaded;
  const empty = panel.querySelector(".people-empty");
  empty.hidden = people.length > 0;
  empty.textContent = authors.length ? "Only you so far." : "Nobody has written yet.";
  panel.querySelector("ul").replaceChildren(...people.map((person) => {
    const when = new Date(person.created);
    const handle = handleFor(person.name, person.username);
    return el(
      "li",
      { className: "person" },
      avatar(person.name, person.username, "avatar small"),
      el(
        "span",
        { className: "who" },
        el("bdi", { className: "author", text: person.name, attrs: { dir: "auto" } }),
        ...(handle ? [" ", handle] : []),
      ),
      el("span", { className: "visually-hidden", text: ", last wrote " }),
      el("time", {
        className: "seen",
        text: relativeTime(when, now),
        attrs: { datetime: when.toISOString(), title: fullTime(when) },
      }),
    );
  }));
}
