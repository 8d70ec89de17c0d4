// A device as people know it: "Safari on iPhone", "Chrome on macOS", from the API's
// label ("Mobile Safari 17 on iOS", parsed server-side with ua-parser) and its kind
// (phone, tablet, desktop, unknown), with an icon for the kind. Nobody knows their
// browser's version, so it is dropped from the name (deviceParts keeps it, for details).

// ua-parser's family names that are a browser people know by a shorter name.
const BROWSERS = new Map([
  ["Mobile Safari", "Safari"],
  ["Mobile Safari UI/WKWebView", "Safari"],
  ["HeadlessChrome", "Chrome"],
  ["Chrome Mobile", "Chrome"],
  ["Chrome Mobile iOS", "Chrome"],
  ["Chrome Mobile WebView", "Chrome"],
  ["Chromium", "Chromium"],
  ["Firefox Mobile", "Firefox"],
  ["Firefox iOS", "Firefox"],
  ["Edge Mobile", "Edge"],
  ["Opera Mobile", "Opera"],
]);

const SYSTEMS = new Map([
  ["Mac OS X", "macOS"],
  ["Chrome OS", "ChromeOS"],
]);

/**
 * The API's label ("Mobile Safari 17 on iOS") in the names people know, its parts
 * apart: { browser: "Safari", version: "17", system: "iOS" } (version and system may be
 * ""). A label that is not "<browser> on <system>" or "<browser>" is the browser.
 */
export function deviceParts(label) {
  const [browserPart, systemPart = ""] = label.split(" on ");
  const version = browserPart.match(/\s(\d[\d.]*)$/)?.[1] ?? "";
  const family = version ? browserPart.slice(0, -version.length).trim() : browserPart;
  return {
    browser: BROWSERS.get(family) ?? family,
    version,
    system: SYSTEMS.get(systemPart) ?? systemPart,
  };
}

/**
 * "Safari on iPhone" from the API's label and kind: no version (nobody knows their
 * browser's), and iOS or Android named by the device. Technical details show the parts
 * with the version, by the same names (deviceParts).
 */
export function deviceName(label, kind = "unknown") {
  const { browser, system: name } = deviceParts(label);
  if (!name) return browser;
  let system = name;
  if (system === "iOS" && kind === "phone") system = "iPhone";
  else if (system === "iOS" && kind === "tablet") system = "iPad";
  else if (system === "Android" && kind === "phone") system = "an Android phone";
  else if (system === "Android" && kind === "tablet") system = "an Android tablet";
  return `${browser} on ${system}`;
}

const SVG = "http://www.w3.org/2000/svg";

// 24×24 outlines, drawn with the current text colour.
const SHAPES = {
  desktop: [
    ["rect", { x: 3.5, y: 4.5, width: 17, height: 11.5, rx: 1.5 }],
    ["path", { d: "M1.5 19.5h21" }],
  ],
  phone: [
    ["rect", { x: 6.5, y: 2.5, width: 11, height: 19, rx: 2.25 }],
    ["path", { d: "M10.5 18.5h3" }],
  ],
  tablet: [
    ["rect", { x: 4, y: 2.5, width: 16, height: 19, rx: 2 }],
    ["path", { d: "M10.5 18.5h3" }],
  ],
  unknown: [
    ["circle", { cx: 12, cy: 12, r: 9.5 }],
    ["path", { d: "M9.4 9.3a2.7 2.7 0 0 1 5.2 1c0 1.8-2.6 2.3-2.6 3.9" }],
    ["path", { d: "M12 17.4h.01" }],
  ],
};

/** A decorative icon for a device kind (phone, tablet, desktop, unknown): an <svg>. */
export function deviceIcon(kind) {
  const known = Object.hasOwn(SHAPES, kind) ? kind : "unknown";
  const svg = document.createElementNS(SVG, "svg");
  for (const [name, value] of Object.entries({
    viewBox: "0 0 24 24", width: 24, height: 24, fill: "none", stroke: "currentColor",
    "stroke-width": 1.75, "stroke-linecap": "round", "stroke-linejoin": "round",
    "aria-hidden": "true", focusable: "false", class: "device-icon",
  })) svg.setAttribute(name, String(value));
  svg.dataset.kind = known;
  for (const [tag, attrs] of SHAPES[known]) {
    const shape = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs)) shape.setAttribute(name, String(value));
    svg.append(shape);
  }
  return svg;
}
