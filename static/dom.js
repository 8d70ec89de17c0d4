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
 * Mark a button as working: disabled, with a spinner and a label such as "Posting…".
 * Returns a function that puts the button back as it was.
 */
export function busy(button, label) {
  const before = Array.from(button.childNodes);
  const wasDisabled = button.disabled;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  button.replaceChildren(el("span", { className: "spinner", attrs: { "aria-hidden": "true" } }), label);
  return () => {
    button.replaceChildren(...before);
    button.disabled = wasDisabled;
    button.removeAttribute("aria-busy");
  };
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
