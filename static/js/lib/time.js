// Relative times ("3 min. ago") with the full timestamp for the title attribute.

const relativeFormat = new Intl.RelativeTimeFormat(undefined, { style: "short", numeric: "auto" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "long" });

const UNITS = [
  // [unit, seconds in one unit, use this unit while |difference| is below this many seconds]
  ["second", 1, 45],
  ["minute", 60, 45 * 60],
  ["hour", 3600, 22 * 3600],
  ["day", 86400, 26 * 86400],
  ["month", 30 * 86400, 320 * 86400],
  ["year", 365 * 86400, Infinity],
];

/** "now", "3 min. ago", "yesterday"… for a Date, relative to now (ms since the epoch). */
export function relativeTime(date, now = Date.now()) {
  // A clock a little behind the server's would put new messages in the future: call them "now".
  const seconds = Math.min(0, (date.getTime() - now) / 1000);
  const [unit, size] = UNITS.find(([, , below]) => Math.abs(seconds) < below);
  if (unit === "second") return relativeFormat.format(0, "second");
  return relativeFormat.format(Math.round(seconds / size), unit);
}

const dayFormat = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const DAY_MS = 86_400_000;

/**
 * "today", "yesterday", "3 days ago": calendar days since a date (for slow facts, such as
 * a password's age), as the day headings count them. Whole 24-hour periods called a
 * password set at 11 PM two evenings ago "yesterday" under a heading two days back.
 */
export function daysAgo(date, now = Date.now()) {
  const midnight = (moment) => new Date(moment.getFullYear(), moment.getMonth(), moment.getDate());
  // Rounded: a day with a daylight-saving change is 23 or 25 hours long.
  const days = Math.round((midnight(new Date(now)) - midnight(date)) / DAY_MS);
  return dayFormat.format(-Math.max(0, days), "day");
}

/** "in 29 days", "in 5 hr."… for a Date still to come. */
export function timeUntil(date, now = Date.now()) {
  const seconds = Math.max(0, (date.getTime() - now) / 1000);
  const [unit, size] = UNITS.find(([, , below]) => seconds < below);
  if (unit === "second") return relativeFormat.format(0, "second");
  return relativeFormat.format(Math.round(seconds / size), unit);
}

export function fullTime(date) {
  return fullFormat.format(date);
}

const stampFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });

/** "Tuesday, December 8, 2026 at 2:43 AM": a message's date and time, shown in words. */
export function stampTime(date) {
  return stampFormat.format(date);
}

const clockFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const dateFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long" });
const datedYearFormat = new Intl.DateTimeFormat(undefined, {
  weekday: "long", day: "numeric", month: "long", year: "numeric",
});

/** The local calendar day of a date, as a key ("2026-11-30"): what "the same day" means. */
export function dayKey(date) {
  return `${date.getFullYear()}-${date.getMonth() + 1}-${date.getDate()}`;
}

/** "Today", "Yesterday", or the date ("Monday, November 30"; with the year if not this one). */
export function dayLabel(date, now = Date.now()) {
  const today = new Date(now);
  if (dayKey(date) === dayKey(today)) return "Today";
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (dayKey(date) === dayKey(yesterday)) return "Yesterday";
  return (date.getFullYear() === today.getFullYear() ? dateFormat : datedYearFormat).format(date);
}

const NOW_FOR_MS = 60 * 1000;

/**
 * A message's time in the feed: the clock time ("9:41 PM", the date said by the day's
 * divider), as Slack and Discord show it, or "now" in its first minute. Relative times
 * ("10 hr. ago", "12 min. ago") beside clock times read as two kinds of time and moved
 * as one read (design reviews); the full date and time are in the title.
 */
export function feedTime(date, now = Date.now()) {
  return now - date.getTime() < NOW_FOR_MS ? relativeTime(date, now) : clockFormat.format(date);
}

/** Refresh the text of every <time data-relative> on the page. */
export function updateRelativeTimes(root = document) {
  const now = Date.now();
  for (const node of root.querySelectorAll("time[data-relative]")) {
    node.textContent = relativeTime(new Date(node.dateTime), now);
  }
}
