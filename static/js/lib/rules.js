// The server's rules for what people type, written from chalicelib/validation.py
// by `python -m ops rules` (`--check` fails when the two differ). Do not edit.

export const USERNAME_PATTERN = new RegExp("^(?:[a-z0-9_.-]{3,32})$");
export const USERNAME_MIN = 3;
export const USERNAME_MAX = 32;
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 128;
export const CONTENT_MAX = 1000;
export const DISPLAY_NAME_MAX = 50;
export const PAGE_LIMIT_MAX = 100;
