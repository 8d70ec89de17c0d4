"""Request validation: bodies, usernames, passwords, message content, paging.

Every failure is an ``InvalidInput`` whose message names the field, in words a
person understands; nothing here touches the store.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from chalicelib.config import Settings
from chalicelib.errors import BodyTooLarge, InvalidInput
from chalicelib.passwords import comparable, is_common, is_pwned, normalize_password, weakness

MAX_BODY_BYTES = 64 * 1024
# Always used with fullmatch: "$" alone also matches before a trailing newline.
USERNAME_PATTERN = re.compile(r"[a-z0-9_.-]{3,32}")
PASSWORD_MIN, PASSWORD_MAX = 12, 128  # characters after NFKC
RAW_PASSWORD_MAX = 4 * PASSWORD_MAX  # as sent: NFKC may compose several into one
CONTENT_MAX = 1000
DISPLAY_NAME_MAX = 50
LIMIT_DEFAULT, LIMIT_MAX = 20, 100
NUMBER_MAX_CHARS = 20  # any number a field could mean fits; checked before parsing
# A message id: a ULID, 26 characters of Crockford's base32 (chalicelib.timestamps).
MESSAGE_ID_PATTERN = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")  # fullmatch, as above


def parse_body(
    raw: bytes | str | None,
    *,
    required: Mapping[str, type],
    optional: Mapping[str, type] | None = None,
) -> dict[str, Any]:
    """A JSON object with exactly the given fields, each of the given type."""
    optional = optional or {}
    raw = (raw.encode("utf-8") if isinstance(raw, str) else raw) or b""
    if len(raw) > MAX_BODY_BYTES:
        raise BodyTooLarge(f"request body must be at most {MAX_BODY_BYTES // 1024} KiB")
    if not raw.strip():
        if required:
            raise InvalidInput("request body must be a JSON object with " + ", ".join(required))
        return {}
    body = _json_object(raw)
    unknown = sorted(set(body) - set(required) - set(optional))
    if unknown:
        raise InvalidInput(f"unknown field: {', '.join(unknown)}")
    for name, kind in {**required, **optional}.items():
        if name not in body:
            if name in required:
                raise InvalidInput(f"{name} is required")
            continue
        if not isinstance(body[name], kind):
            raise InvalidInput(f"{name} must be a {_KIND_NAMES.get(kind, kind.__name__)}")
        if isinstance(body[name], str) and not _is_unicode_text(body[name]):
            raise InvalidInput(f"{name} must be valid Unicode text")
    return body


def _json_object(raw: bytes) -> dict[str, Any]:
    """Parse strictly: UTF-8 only (``json.loads`` would guess UTF-16/32 and skip a BOM,
    though the contract says UTF-8), standard JSON only (no NaN or Infinity), every
    key once per object (``json.loads`` keeps the last of a repeated key, while a
    proxy, log or other parser may read the first), and numbers bounded in length
    before Python parses them (a long one is a 400, not the 500 of Python's
    int-length limit)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raise InvalidInput("request body must be UTF-8 without a byte order mark")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("request body must be UTF-8") from None
    try:
        body = json.loads(text, parse_int=_bounded_int, parse_float=_bounded_float,
                          parse_constant=_no_constant, object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError):
        raise InvalidInput("request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidInput("request body must be a JSON object")
    return body


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    body = dict(pairs)
    if len(body) != len(pairs):
        raise InvalidInput("request body must not repeat a field")
    return body


def _bounded_int(digits: str) -> int:
    if len(digits) > NUMBER_MAX_CHARS:
        raise InvalidInput(f"numbers in the body must be at most {NUMBER_MAX_CHARS} characters")
    return int(digits)


def _bounded_float(text: str) -> float:
    if len(text) > NUMBER_MAX_CHARS:
        raise InvalidInput(f"numbers in the body must be at most {NUMBER_MAX_CHARS} characters")
    return float(text)


def _no_constant(name: str) -> float:
    raise InvalidInput(f"request body is not valid JSON ({name} is not a JSON number)")


def _is_unicode_text(value: str) -> bool:
    """False for a string holding half a surrogate pair (JSON allows "\\ud800"), which
    cannot be encoded: hashing it, storing it in SQLite or logging it would fail."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_KIND_NAMES = {str: "string", int: "number", bool: "boolean", dict: "JSON object"}


def normalize_username(value: str) -> str:
    """NFKC then lowercase, so look-alike and differently-cased forms are one account."""
    return unicodedata.normalize("NFKC", value).lower()


def check_username(value: str) -> str:
    """The canonical username, or ``InvalidInput`` saying what is wrong."""
    username = normalize_username(value)
    if not 3 <= len(username) <= 32:
        raise InvalidInput("username must be 3 to 32 characters")
    if not USERNAME_PATTERN.fullmatch(username):
        raise InvalidInput(
            "username may contain only letters a-z, digits 0-9 and the characters _ . -"
        )
    return username


def is_plausible_username(username: str) -> bool:
    return bool(USERNAME_PATTERN.fullmatch(username))


def may_be_password(password: str) -> bool:
    """False when no password could be this long after NFKC (checked before hashing)."""
    return (len(password) <= RAW_PASSWORD_MAX
            and len(normalize_password(password)) <= PASSWORD_MAX)


def check_new_password(
    password: str, *, username: str, display_name: str, settings: Settings
) -> str:
    """The rules for a password being set (signup, change, reset: every one calls this),
    on its NFKC form, which is returned and is what gets hashed. The cheap rules run
    first, then zxcvbn (given the user's own words), then the stage's Pwned Passwords
    range API if it names one (a network call, so last)."""
    if len(password) > RAW_PASSWORD_MAX:  # bound the normalization's work first
        raise InvalidInput(f"password must be at most {PASSWORD_MAX} characters")
    password = normalize_password(password)
    if len(password) < PASSWORD_MIN:
        raise InvalidInput(f"password must be at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        raise InvalidInput(f"password must be at most {PASSWORD_MAX} characters")
    if any(unicodedata.category(c) == "Cc" for c in password):
        raise InvalidInput("password must not contain control characters")
    if not has_visible_character(password):
        raise InvalidInput("password must contain a visible character")
    if comparable(password) == username or password.lower() == username:
        raise InvalidInput("password must not be the same as the username")
    if is_common(password):
        raise InvalidInput("password is too common; choose one that is harder to guess")
    own_words = [username, display_name, *display_name.split(), "chalkboard"]
    reason = weakness(password, user_inputs=own_words)
    if reason is not None:
        raise InvalidInput(f"password is too easy to guess: {reason}")
    if settings.pwned_passwords_url and is_pwned(password, settings.pwned_passwords_url):
        raise InvalidInput(
            "password appears in a list of passwords exposed in data breaches"
            " (Have I Been Pwned); choose another"
        )
    return password


def has_visible_character(text: str) -> bool:
    """True if some character is a letter, digit, punctuation or symbol: text made only
    of spaces, NULs or invisible format characters (U+200B) shows nothing."""
    return any(unicodedata.category(c)[0] in "LNPS" for c in text)


def check_display_name(value: str) -> str:
    """The name as stored: trimmed, 1-50 characters of one line, in Unicode NFC.

    NFC (not NFKC, as for usernames) keeps what people write while making composed
    and decomposed accents one string. A name must show something: a letter, digit,
    punctuation or symbol that is not one of the fillers that render blank (U+3164
    alone looks like no name at all). Refused inside the name: control characters
    (C0, DEL, C1, which include tabs and line breaks), the line and paragraph
    separators, and every format character (Unicode Cf: bidi controls, soft hyphen,
    tag characters, U+180E...) that would let a name hide text or pass for someone
    else's, except the zero-width non-joiner and joiner (U+200C, U+200D) between other
    characters, which Persian and other scripts and emoji sequences need. The length
    is counted on the trimmed name as sent, the rule docs/openapi.yaml can state
    exactly; NFC only ever changes it for a few dozen rare characters.
    """
    return check_one_line_name(value, field="display_name")


def check_one_line_name(value: str, *, field: str) -> str:
    """A display name's rule for any name people give something (``check_display_name``),
    with ``field`` naming it in the refusal: one pattern in docs/openapi.yaml states it."""
    name = value.strip()  # str.strip: the same whitespace the OpenAPI pattern trims
    if not shows_something(name):  # nothing, or only marks, fillers, invisible characters
        raise InvalidInput(f"{field} must not be empty")
    if len(name) > DISPLAY_NAME_MAX:
        raise InvalidInput(f"{field} must be at most {DISPLAY_NAME_MAX} characters")
    if not all(_allowed_in_name(char, inside=0 < index < len(name) - 1)
               for index, char in enumerate(name)):
        raise InvalidInput(
            f"{field} must be one line of visible characters (no line breaks, tabs, control"
            " characters or invisible format characters such as U+00AD or U+202E)"
        )
    return unicodedata.normalize("NFC", name)


# Letters and symbols that render blank: Hangul fillers and the blank Braille pattern.
FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
JOINERS = frozenset("\u200c\u200d")  # ZWNJ, ZWJ: needed inside words and emoji sequences
NOT_IN_A_NAME = frozenset(
    [chr(c) for c in range(0x00, 0x20)] + [chr(c) for c in range(0x7F, 0xA0)]
    + ["\u2028", "\u2029"]
)


def shows_something(text: str) -> bool:
    """True if some character is a letter, digit, punctuation or symbol that is not a
    filler: text of spaces, marks, fillers or format characters shows nothing."""
    return any(unicodedata.category(c)[0] in "LNPS" and c not in FILLERS for c in text)


def _allowed_in_name(char: str, *, inside: bool) -> bool:
    if char in NOT_IN_A_NAME:
        return False
    if unicodedata.category(char) == "Cf":
        return inside and char in JOINERS
    return True


def check_content(value: str) -> str:
    content = value.strip()
    if not has_visible_character(content):
        raise InvalidInput("content must not be empty")
    if len(content) > CONTENT_MAX:
        raise InvalidInput(f"content must be at most {CONTENT_MAX:,} characters")
    return content


def bounded_int(raw: str, *, name: str, low: int, high: int) -> int:
    """An integer from text (a query parameter), its length checked before ``int()``
    so an absurdly long number is a 400 rather than Python's int-length error."""
    message = f"{name} must be a whole number from {low} to {high}"
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(high)):
        raise InvalidInput(message)
    value = int(raw)
    if not low <= value <= high:
        raise InvalidInput(message)
    return value


def check_message_id(raw: str, *, field: str) -> str:
    """A message id as the API hands them out, e.g. for ``since``; junk is a 400."""
    if not MESSAGE_ID_PATTERN.fullmatch(raw):
        raise InvalidInput(f"{field} must be a message id (26 characters, as in a message's id)")
    return raw


def check_limit(raw: str | None) -> int:
    if raw is None:
        return LIMIT_DEFAULT
    return bounded_int(raw, name="limit", low=1, high=LIMIT_MAX)


EMAIL_MAX = 254  # RFC 5321's path limit less the angle brackets


def check_email(value: str) -> str:
    """The address as stored: trimmed, at most 254 characters, one ``@`` between a
    local part and a domain, no spaces or control characters, the domain lowercased
    (the local part is the receiving server's to interpret, so it is kept as given)."""
    address = value.strip()
    if not address or len(address) > EMAIL_MAX:
        raise InvalidInput(f"email must be 1 to {EMAIL_MAX} characters")
    if address.count("@") != 1:
        raise InvalidInput("email must contain exactly one @")
    local, domain = address.split("@")
    if not local or not domain:
        raise InvalidInput("email must have a name before the @ and a domain after it")
    if any(c.isspace() or unicodedata.category(c)[0] == "C" or c in "<>,;\"" for c in address):
        raise InvalidInput("email must not contain spaces, control characters or < > , ; \"")
    if "." not in domain.strip(".") or domain.startswith(".") or domain.endswith("."):
        raise InvalidInput("email's domain must be a name such as example.com")
    return f"{local}@{domain.lower()}"
