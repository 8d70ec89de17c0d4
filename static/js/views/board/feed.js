// One row of the board per message: avatar, author (display name and @username),
// time, text with its web addresses as links, "Show more" for long text, and for
// one's own messages a quiet delete control. Every piece of user text is
// bidi-isolated (dir="auto") and goes in as text.
//
// Order (layout()): a chat's, as in Slack and Discord: oldest at the top, newest at the
// bottom (above the composer), throughout: groups (consecutive messages by one author)
// oldest first, and inside a group as they were written, under one header on the
// group's first row. Once more than today is shown, each day starts under a divider ("Today", "Yesterday", a date): a heading at
// the top of the day's first row (a list may hold only its items), so screen readers
// can move by day. A board of only today's messages has nothing to divide.
//
// The list is ONE tab stop (a roving tabindex): the row that has it is tabindex=0,
// every other row and every control inside other rows is tabindex=-1. ↑/↓, j/k,
// Home/End move between rows; Tab from a row reaches that row's links and buttons.

import { avatar } from "../../lib/avatar.js";
import { el } from "../../lib/dom.js";
import { linkedNodes } from "../../lib/links.js";
import { dayKey, dayLabel, feedTime, fullTime, stampTime } from "../../lib/time.js";

const GROUP_WITHIN_MS = 5 * 60 * 1000;
const SVG = "http://www.w3.org/2000/svg";
let serial = 0; // for element ids within the page

/** A short one-line version of a message, for labels and previews. */
export function excerpt(text, length = 60) {
  const characters = Array.from(text.replace(/\s+/g, " ").trim());
  return characters.length > length ? `${characters.slice(0, length).join("")}…` : characters.join("");
}

/**
 * The @handle beside a name, as everywhere else in the app (names need not be unique),
 * or null when the name is the username itself: "alice", not "alice @alice".
 */
export function handleFor(name, username) {
  if (name.toLowerCase() === username.toLowerCase()) return null;
  return el("bdi", { className: "handle", text: `@${username}`, attrs: { dir: "ltr" } });
}

/**
 * The <li> for a message. For one's own: onDelete(message, item, button) asks to delete
 * it, onMore(message, item, button) opens its actions (on a touch screen).
 */
export function messageItem(message, { mine, onDelete, onMore }) {
  serial += 1;
  const created = new Date(message.created_at);
  const name = message.display_name || message.username;
  const head = el(
    "p",
    { className: "head", attrs: { id: `head-${serial}` } },
    el("bdi", { className: "author", text: name, attrs: { dir: "auto" } }),
    handleFor(name, message.username),
    mine ? el("span", { className: "you", text: "(you)" }) : null,
  );
  const when = el(
    "span",
    { className: "when" },
    el("time", {
      text: feedTime(created),
      attrs: { datetime: message.created_at, title: fullTime(created) },
    }),
  );
  const body = el(
    "p",
    { className: "content", attrs: { dir: "auto", id: `content-${serial}` } },
    ...linkedNodes(message.content),
  );
  const item = el(
    "li",
    {
      className: mine ? "message mine" : "message",
      attrs: { tabindex: "-1" },
      dataset: {
        id: message.id, author: message.username, created: String(created.getTime()),
        day: dayKey(created),
      },
    },
    avatar(name, message.username),
    head,
    when,
    body,
  );
  item.append(rowTools(message, created, item, { mine, onDelete, onMore }));
  return item;
}

/**
 * The row's action toolbar, in its top right corner (as Slack's): the full date and time
 * while the row has keyboard focus (the time's title is for a mouse only), and on one's
 * own rows Delete, an icon with its name in a tooltip, shown on hover and on focus. A
 * touch screen hovers over nothing: there one's own rows show "More actions" (⋯) instead,
 * which opens a sheet with the date and Delete (styles.css picks which shows).
 */
function rowTools(message, created, item, { mine, onDelete, onMore }) {
  // The date is drawn by the stylesheet from data-stamp, kept out of the row's text (it
  // reads the time already) and of the accessibility tree.
  const tools = el("div", { className: "row-tools", dataset: { stamp: stampTime(created) } });
  if (!mine) return tools;
  const mineLabel = `your message: ${excerpt(message.content)}`;
  tools.append(
    el(
      "button",
      {
        className: "delete icon",
        attrs: { type: "button", tabindex: "-1", "aria-label": `Delete ${mineLabel}` },
        on: { click: (event) => onDelete(message, item, event.currentTarget) },
      },
      trashIcon(),
      el("span", { className: "tip", text: "Delete", attrs: { "aria-hidden": "true" } }),
    ),
    el(
      "button",
      {
        className: "more-actions icon",
        attrs: {
          type: "button",
          tabindex: "-1",
          "aria-label": `More actions for ${mineLabel}`,
          "aria-haspopup": "dialog",
        },
        on: { click: (event) => onMore(message, item, event.currentTarget) },
      },
      el("span", { text: "⋯", attrs: { "aria-hidden": "true" } }),
    ),
  );
  return tools;
}

function trashIcon() {
  const svg = document.createElementNS(SVG, "svg");
  for (const [name, value] of Object.entries({
    viewBox: "0 0 24 24",
    width: "18",
    height: "18",
    "aria-hidden": "true",
    focusable: "false",
  })) {
    svg.setAttribute(name, value);
  }
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", "M4 7h16M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3");
  svg.append(path);
  return svg;
}

/**
 * After rows were added to the page (laid out, so they can be measured): long text
 * collapses behind "Show more". Rows already measured are left as they are.
 */
export function collapseLong(items) {
  for (const item of items) {
    if (item.dataset.measured) continue;
    item.dataset.measured = "1";
    const body = item.querySelector(".content");
    body.classList.add("clamped");
    if (body.scrollHeight <= body.clientHeight + 1) {
      body.classList.remove("clamped");
      continue;
    }
    const toggle = el("button", {
      className: "more-toggle",
      text: "Show more",
      attrs: {
        type: "button",
        tabindex: item.tabIndex === 0 ? "0" : "-1",
        "aria-expanded": "false",
        "aria-controls": body.id,
      },
    });
    toggle.addEventListener("click", () => {
      const expand = body.classList.contains("clamped");
      body.classList.toggle("clamped", !expand);
      toggle.textContent = expand ? "Show less" : "Show more";
      toggle.setAttribute("aria-expanded", String(expand));
      if (!expand) item.scrollIntoView({ block: "nearest" });
    });
    body.after(toggle);
  }
}

/** The list's message rows, in the order shown (not those fading out: see removeRows). */
export function messageRows(list) {
  return Array.from(list.querySelectorAll(":scope > li.message:not([data-gone])"));
}

const FADE_MS = 200;

/**
 * Take rows off the list (deleted messages): at once out of reach (inert, hidden from
 * screen readers, no longer counted as rows), then a short fade (with fade: deleted by
 * someone else, so the row does not vanish unexplained) unless the person prefers
 * reduced motion, then gone and the rest laid out again (a group may gain its
 * header back, two groups become one, a day lose its divider). Focus in a row that goes,
 * and the list's tab stop, move to the next row (or the one before; else to fallback).
 * With moveFocus, focus goes there even if it was elsewhere (a dialog about the row).
 */
export function removeRows(
  list, gone, { fallback = null, moveFocus = false, fade = true } = {},
) {
  const rows = messageRows(list);
  const leaving = new Set(gone.filter((row) => rows.includes(row)));
  if (!leaving.size) {
    if (moveFocus) fallback?.focus(); // already taken off (deleted elsewhere meanwhile)
    return;
  }
  const neighbour = (row) => {
    const at = rows.indexOf(row);
    const stays = (other) => !leaving.has(other);
    return rows.slice(at + 1).find(stays) ?? rows.slice(0, at).reverse().find(stays) ?? null;
  };
  const focused = [...leaving].find((row) => row.contains(document.activeElement));
  const active = [...leaving].find((row) => row.tabIndex === 0);
  const next = neighbour(focused ?? active ?? [...leaving][0]);
  if (focused || active) {
    if (next) makeActive(list, next);
  }
  if (focused || moveFocus) (next ?? fallback)?.focus();
  for (const row of leaving) {
    row.dataset.gone = "1";
    row.inert = true;
    row.setAttribute("aria-hidden", "true");
  }
  const done = () => {
    for (const row of leaving) row.remove();
    layout(list);
    keepOneTabStop(list);
  };
  if (!fade || window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
    done();
    return;
  }
  const fades = [...leaving].map((row) =>
    row.animate([{ opacity: 1 }, { opacity: 0 }], { duration: FADE_MS, easing: "ease-in" })
      .finished.catch(() => {}),
  );
  void Promise.all(fades).then(done);
}

function oldestFirst(a, b) {
  const age = Number(a.dataset.created) - Number(b.dataset.created);
  if (age) return age;
  return a.dataset.id < b.dataset.id ? -1 : a.dataset.id > b.dataset.id ? 1 : 0;
}

/** Consecutive messages (in time) by one author, a few minutes apart at most, on one day. */
function sameGroup(older, newer) {
  return (
    newer.dataset.author === older.dataset.author &&
    newer.dataset.day === older.dataset.day &&
    Number(newer.dataset.created) - Number(older.dataset.created) <= GROUP_WITHIN_MS
  );
}

/** Give row the day's divider (it is the day's first row), or take it away. */
function markDay(row, startsDay) {
  const label = row.querySelector(":scope > .day-label");
  row.classList.toggle("new-day", startsDay);
  if (!startsDay) label?.remove();
  else if (!label) row.prepend(el("h2", { className: "day-label" }));
}

/**
 * Put the rows in the order shown, wherever they were added (first page, older pages
 * above, new messages below, after a deletion): oldest first throughout, each group
 * with its header on its first row (the rows after it show no name and no time of their own;
 * both stay for screen readers, and the time shows on hover or focus), a divider above
 * each day unless all are today's. Rows already in place stay put; a moved row keeps focus.
 */
export function layout(list) {
  const rows = messageRows(list).sort(oldestFirst);
  list.dataset.today = dayKey(new Date());
  const divided = rows.some((row) => row.dataset.day !== list.dataset.today);
  const groups = [];
  for (const row of rows) {
    const group = groups.at(-1);
    if (group && sameGroup(group.at(-1), row)) group.push(row);
    else groups.push([row]);
  }
  const wanted = [];
  for (const group of groups) {
    const startsDay = wanted.at(-1)?.dataset.day !== group[0].dataset.day;
    group.forEach((row, index) => {
      row.classList.toggle("continued", index > 0);
      markDay(row, divided && startsDay && index === 0);
      wanted.push(row);
    });
  }
  const focused = list.contains(document.activeElement) ? document.activeElement : null;
  let cursor = list.firstElementChild;
  for (const node of wanted) {
    if (node === cursor) cursor = cursor.nextElementSibling;
    else if (node.isConnected && list.moveBefore) list.moveBefore(node, cursor);
    else list.insertBefore(node, cursor);
  }
  if (focused && document.activeElement !== focused) focused.focus({ preventScroll: true });
  updateTimes(list);
}

/** Each row's time and each day's name, as time passes (today's times are relative). */
export function updateTimes(list, now = Date.now()) {
  if (list.dataset.today && list.dataset.today !== dayKey(new Date(now))) {
    layout(list); // past midnight: today's messages are yesterday's now, to be divided
    return;
  }
  for (const time of list.querySelectorAll(":scope > li.message time")) {
    time.textContent = feedTime(new Date(time.dateTime), now);
  }
  for (const label of list.querySelectorAll(":scope > li.message > .day-label")) {
    label.textContent = dayLabel(new Date(Number(label.parentElement.dataset.created)), now);
  }
}

// ---- one tab stop: the roving tabindex ---------------------------------------------

const CONTROLS = "a[href], button";

/** Whether a row draws this control (one's own rows draw Delete or "More actions" by the pointer, see styles.css). */
function drawn(control) {
  return getComputedStyle(control).display !== "none";
}

/** Make row the list's one tab stop; its own links and buttons become reachable by Tab. */
export function makeActive(list, row) {
  for (const item of messageRows(list)) {
    const active = item === row;
    item.tabIndex = active ? 0 : -1;
    for (const control of item.querySelectorAll(CONTROLS)) {
      control.tabIndex = active && drawn(control) ? 0 : -1;
    }
  }
}

/**
 * After rows were added or removed: keep exactly one tab stop (by default the newest
 * row, at the bottom, where a chat is read from).
 */
export function keepOneTabStop(list) {
  const rows = messageRows(list);
  const active = rows.find((row) => row.tabIndex === 0) ?? rows.at(-1);
  if (active) makeActive(list, active);
}

/** Arrow keys, j/k, Home/End between rows; focus inside a row makes it the tab stop. */
export function wireKeys(list) {
  list.addEventListener("focusin", (event) => {
    const row = event.target.closest("li.message");
    if (row && row.tabIndex !== 0) makeActive(list, row);
  });
  list.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const row = event.target.closest("li.message");
    if (!row) return;
    const onRow = event.target === row;
    const rows = messageRows(list);
    const at = rows.indexOf(row);
    let next = null;
    if (event.key === "ArrowDown" || (onRow && event.key === "j")) next = rows[at + 1];
    else if (event.key === "ArrowUp" || (onRow && event.key === "k")) next = rows[at - 1];
    else if (event.key === "Home" && onRow) next = rows[0];
    else if (event.key === "End" && onRow) next = rows[rows.length - 1];
    else if (event.key === "Delete" && onRow) {
      row.querySelector("button.delete")?.click();
      event.preventDefault();
      return;
    } else return;
    event.preventDefault();
    if (!next) return;
    makeActive(list, next);
    next.focus();
  });
}
