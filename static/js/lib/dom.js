// Small helpers for building the page from data. Text always goes in through
// textContent and attributes through setAttribute, so user content can never
// become markup. No function here accepts HTML.

/**
 * Create an element: el("p", { className: "x", text: "hello", attrs: { title: "t" } }, child…)
 * Children may be nodes or strings (strings become text nodes).
 */
export function el(tag, options = {}, ...children) {
  const node = document.createElement(tag);
  const { className, text, attrs, dataset, on } = options;
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (/^on/i.test(name)) throw new Error(`refusing to set the event-handler attribute ${name}`);
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  Object.assign(node.dataset, dataset ?? {});
  for (const [type, listener] of Object.entries(on ?? {})) node.addEventListener(type, listener);
  node.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

/** Look up an element that index.html must contain. */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`index.html has no element #${id}`);
  return node;
}

/**
 * Show or clear a message in a live region (role="alert" or role="status"). The
 * region stays in the page (empty ones take no room, see styles.css), so screen
 * readers announce what is put into it.
 */
export function say(region, message) {
  region.textContent = message ?? "";
}

/**
 * Mark a button as working: aria-disabled (not disabled, so a focused button keeps
 * the focus), with a spinner and a label such as "Posting…". The button keeps its
 * width (the label is shortened with an ellipsis rather than pushing its neighbours
 * about; the full label stays its accessible name). Whether an action is in flight
 * lives in its module's state; this only shows it. Use it through action.js's run().
 * Returns a function that puts the button back as it was.
 */
export function busy(button, label) {
  const before = Array.from(button.childNodes);
  const width = button.getBoundingClientRect().width;
  if (width) button.style.width = `${width}px`;
  button.setAttribute("aria-disabled", "true");
  button.setAttribute("aria-busy", "true");
  button.classList.add("is-busy");
  const words = el("span", { className: "busy-label", text: label });
  button.replaceChildren(el("span", { className: "spinner", attrs: { "aria-hidden": "true" } }), words);
  // The width stays (nothing beside it jumps); words that do not fit in it are not cut
  // to "P…" but left to the button's name, and the spinner shows alone.
  if (words.scrollWidth > words.clientWidth) button.classList.add("spinner-only");
  return () => {
    button.replaceChildren(...before);
    button.style.removeProperty("width");
    button.classList.remove("is-busy", "spinner-only");
    button.removeAttribute("aria-disabled");
    button.removeAttribute("aria-busy");
  };
}

const FLASH_MS = 6_000;
const flashes = new WeakMap();

/**
 * A success message that goes away by itself after a few seconds (errors stay until
 * the person acts): the region is a role="status", so it is announced at once.
 */
export function flash(region, message) {
  clearTimeout(flashes.get(region));
  region.textContent = message ?? "";
  if (message) {
    flashes.set(region, setTimeout(() => {
      if (region.textContent === message) region.textContent = "";
    }, FLASH_MS));
  }
}

/**
 * Show or clear the error of one form field, next to it: the field is marked
 * aria-invalid and described by the error (and by its hint, when it has one shown).
 */
export function fieldError(input, region, message) {
  region.textContent = message ?? "";
  input.setAttribute("aria-invalid", message ? "true" : "false");
  const hint = document.getElementById(`${input.id}-hint`);
  const ids = [message ? region.id : null, hint && !hint.hidden ? hint.id : null].filter(Boolean);
  if (ids.length) input.setAttribute("aria-describedby", ids.join(" "));
  else input.removeAttribute("aria-describedby");
}

/**
 * Shows what was typed in inputs, so a long password can be checked. One way
 * everywhere: every password field (sign-in, sign-up, current, new, new again) has its
 * own Show/Hide button at its end, named "Show <what>". control is that button.
 * Returns set(revealed), for a form to hide them again when it is emptied.
 */
export function passwordToggle(control, inputs, what = "password") {
  const set = (revealed) => {
    for (const input of inputs) input.type = revealed ? "text" : "password";
    control.textContent = revealed ? "Hide" : "Show";
    control.setAttribute("aria-label", `${revealed ? "Hide" : "Show"} ${what}`);
  };
  control.addEventListener("click", () => set(inputs[0].type === "password"));
  set(false);
  return set;
}

/** Number of characters as the server counts them (Unicode code points, not UTF-16 units). */
export function characterCount(text) {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

/** A message from the server, shown as a sentence: first letter capitalised. */
export function sentence(message) {
  const text = String(message ?? "").trim();
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}
