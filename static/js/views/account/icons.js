// The Account area's small line icons, drawn as inline SVG (no icon font, nothing
// fetched): one per kind of security event, and the overview's status marks. Each is
// decorative (aria-hidden): the text beside it says the same.

const SVG = "http://www.w3.org/2000/svg";

// 24 × 24 outlines, stroked with the text colour (security.css: .glyph).
const PATHS = {
  signIn: "M15 3h4a2 2 0 0 1 2 2v14a2 2 0 0 1-2 2h-4M10 17l5-5-5-5M15 12H3",
  signOut: "M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4M16 17l5-5-5-5M21 12H9",
  failed: "M22 12a10 10 0 1 1-20 0 10 10 0 0 1 20 0zM15 9l-6 6M9 9l6 6",
  lock: "M5 11h14a2 2 0 0 1 2 2v7a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2zM7 11V7a5 5 0 0 1 10 0v4",
  password: "M21 2l-2 2M11.4 11.6 19 4M15.5 7.5l3 3L22 7l-3-3M11.4 11.6a5.5 5.5 0 1 1-7.8 7.8 5.5 5.5 0 0 1 7.8-7.8z",
  twoFactor: "M12 22s8-4 8-10V5l-8-3-8 3v7c0 6 8 10 8 10zM9 12l2 2 4-4",
  passkey: "M13 7a4 4 0 1 1-8 0 4 4 0 0 1 8 0zM3 21v-1a6 6 0 0 1 9.5-4.9M20.5 13a2.5 2.5 0 1 1-5 0 2.5 2.5 0 0 1 5 0zM18 15.5V22M18 19h2",
  email: "M4 4h16a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zM22 6l-10 7L2 6",
  check: "M22 12a10 10 0 1 1-20 0 10 10 0 0 1 20 0zM8 12.5l2.7 2.7L16 9.5",
  warning: "M10.3 3.9 1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0zM12 9v4M12 17h.01",
};

// Which icon each event type shows (API.md, Security events).
const EVENT_ICONS = {
  sign_in: "signIn", sign_in_failed: "failed", locked: "lock",
  password_changed: "password", password_reset: "password",
  totp_enabled: "twoFactor", totp_disabled: "twoFactor",
  recovery_code_used: "twoFactor", recovery_codes_regenerated: "twoFactor",
  passkey_added: "passkey", passkey_removed: "passkey",
  email_changed: "email", email_verified: "email", session_ended: "signOut",
};

/** A decorative icon by name (PATHS), with the class "glyph" and any more given. */
export function icon(name, className = "") {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "20");
  svg.setAttribute("height", "20");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", `glyph ${className}`.trim());
  svg.dataset.icon = name;
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", PATHS[name]);
  svg.append(path);
  return svg;
}

/** The icon for one security event's type. */
export function eventIcon(type) {
  return icon(EVENT_ICONS[type] ?? "signIn", "event-icon");
}
