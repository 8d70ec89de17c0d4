"""Password hashing (argon2id through libpass) and the common-password list.

Every password is NFKC-normalized (NIST SP 800-63B §5.1.1.2) before it is hashed
or verified, by ``normalize_password``, so the NFC and NFD (or full-width) forms
of one password are the same password at signup, login, password change and
account deletion. Hashes made before normalization hold the form as typed: when
the NFKC form does not verify and the typed form differs from it, the typed form
is tried too, and on success the NFKC form is hashed in its place (as for raised
argon2 parameters). That second verification happens only for input NFKC changes.

passlib, the list and zxcvbn are loaded on first use, not at import, so the
authorizer's cold start (which imports app.py too) never pays for them.

A new password is also judged by zxcvbn (Dropbox's estimator: ``weakness``) and, where a
stage names one, looked up in a Pwned Passwords range API (``is_pwned``). Neither runs
at login: they judge a password being chosen, never one being checked.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import logging
import math
import threading
import unicodedata
import urllib.error
import urllib.request
from importlib import resources
from typing import TYPE_CHECKING

from chalicelib.config import Settings

if TYPE_CHECKING:
    from passlib.context import CryptContext

log = logging.getLogger(__name__)

ZXCVBN_MIN_SCORE = 3  # 0-4: 3 is "safely unguessable" (at least 10^8 guesses)
ZXCVBN_MAX_CHARS = 64  # zxcvbn's matching grows with the cube of the length...
ZXCVBN_BUDGET = 300_000  # ...times its l33t substitution sets: length^3 * sets stays below
PWNED_TIMEOUT_SECONDS = 1.0
_zxcvbn_lock = threading.Lock()  # zxcvbn keeps the user's words in a module-level dict


@functools.cache
def _context(memory_kib: int, time_cost: int, parallelism: int) -> CryptContext:
    from passlib.context import CryptContext

    return CryptContext(
        schemes=["argon2"],
        argon2__type="ID",
        argon2__memory_cost=memory_kib,
        argon2__rounds=time_cost,
        argon2__parallelism=parallelism,
    )


def _current_context(settings: Settings) -> CryptContext:
    return _context(
        settings.argon2_memory_kib, settings.argon2_time_cost, settings.argon2_parallelism
    )


def normalize_password(password: str) -> str:
    """The one form of a password that is hashed, verified and checked against rules."""
    return unicodedata.normalize("NFKC", password)


def _forms(password: str) -> tuple[str, ...]:
    """What to verify, in order: the NFKC form, then the typed form if it differs."""
    normalized = normalize_password(password)
    return (normalized,) if normalized == password else (normalized, password)


def hash_password(password: str, settings: Settings) -> str:
    hashed: str = _current_context(settings).hash(normalize_password(password))
    return hashed


def verify_password(
    password: str, password_hash: str, settings: Settings
) -> tuple[bool, str | None]:
    """Check a password; on success also return a new hash if the parameters changed or
    the hash was made from a form of the password that was not normalized."""
    context = _current_context(settings)
    normalized, *typed = _forms(password)
    valid, new_hash = context.verify_and_update(normalized, password_hash)
    if valid or not typed:
        return bool(valid), new_hash
    if context.verify(typed[0], password_hash):  # a hash from before normalization
        rehashed: str = context.hash(normalized)
        return True, rehashed
    return False, None


@functools.cache
def _dummy_hash(memory_kib: int, time_cost: int, parallelism: int) -> str:
    hashed: str = _context(memory_kib, time_cost, parallelism).hash("chalkboard-dummy-password")
    return hashed


def spend_verify_time(password: str, settings: Settings) -> None:
    """Verify against a dummy hash as often as ``verify_password`` would for a wrong
    password, so an unknown user costs what a wrong password costs."""
    params = (settings.argon2_memory_kib, settings.argon2_time_cost, settings.argon2_parallelism)
    for form in _forms(password):
        _context(*params).verify(form, _dummy_hash(*params))


def comparable(password: str) -> str:
    """NFKC, case-folded, without whitespace or invisible format characters (U+200B...):
    the form compared with the common list, so padding or full width cannot dodge it."""
    folded = normalize_password(password).casefold()
    return "".join(c for c in folded if not c.isspace() and unicodedata.category(c) != "Cf")


@functools.cache
def _common_passwords() -> frozenset[str]:
    data = resources.files("chalicelib").joinpath("data/common-passwords.txt.gz").read_bytes()
    lines = gzip.decompress(data).decode("utf-8").split("\n")
    return frozenset(comparable(line) for line in lines) - {""}


def reset_caches() -> None:
    """Forget the hashing contexts and the dummy hash (tests change the parameters)."""
    _context.cache_clear()
    _dummy_hash.cache_clear()


def is_common(password: str) -> bool:
    """True for any of the 30,000 most common passwords, however spaced, cased or wide."""
    return comparable(password) in _common_passwords()


def _judged_length(password: str) -> int:
    """How much of ``password`` zxcvbn judges, so its work stays bounded.

    zxcvbn's dictionary search tries every substring (length², each sliced and looked
    up: length³ in all) once per set of l33t substitutions the password's symbols
    allow, and those sets multiply: a 128-character password of assorted symbols takes
    it over 10 s, and a budget on length² still let a 33-character one take 1.3 s (the
    adversarial pass; about 9 s at a 256 MB Lambda's share of a CPU). So it judges at
    most the first ``ZXCVBN_MAX_CHARS`` characters, fewer when many symbols stand for
    letters (never fewer than the 12 every password has). A prefix is hardly ever
    harder to guess than the whole, so a strong prefix vouches for the password; a weak
    one may refuse a strong password (the safe side), and only past 64 characters or
    among many symbols.
    """
    from zxcvbn.matching import L33T_TABLE, relevant_l33t_subtable

    head = password[:ZXCVBN_MAX_CHARS]
    sets = math.prod(len(subs) for subs in relevant_l33t_subtable(head, L33T_TABLE).values())
    return max(12, min(len(head), _cube_root(ZXCVBN_BUDGET // sets)))


def _cube_root(number: int) -> int:
    """The largest n with n³ ≤ ``number``."""
    root: int = round(number ** (1 / 3))  # float ** float: a float here (number >= 0)
    while root ** 3 > number:
        root -= 1
    while (root + 1) ** 3 <= number:
        root += 1
    return root


def weakness(password: str, *, user_inputs: list[str]) -> str | None:
    """Why zxcvbn finds ``password`` too easy to guess (its score below 3, given the user's
    own words), in its own words; None when it is strong enough."""
    from zxcvbn import zxcvbn

    judged = password[:_judged_length(password)]
    with _zxcvbn_lock:
        result = zxcvbn(judged, user_inputs=user_inputs, max_length=ZXCVBN_MAX_CHARS)
    if result["score"] >= ZXCVBN_MIN_SCORE:
        return None
    feedback = result["feedback"]
    words = [feedback["warning"], *feedback["suggestions"]] if feedback["warning"] else [
        *feedback["suggestions"]]
    return " ".join(w for w in words if w) or "Add another word or two."


def is_pwned(password: str, range_url: str) -> bool:
    """True if the Pwned Passwords range API at ``range_url`` lists ``password``.

    k-anonymity: only the first 5 hex digits of its SHA-1 leave this process, and the
    answer (``SUFFIX:COUNT`` lines, padded with count-0 decoys) is matched here. An API
    that is unreachable, slow (over 1 s) or answers nonsense counts as "not found",
    with a WARNING line naming what failed (never the password or its hash).
    """
    digest = hashlib.sha1(password.encode("utf-8"), usedforsecurity=False).hexdigest().upper()
    prefix, suffix = digest[:5], digest[5:]
    request = urllib.request.Request(  # noqa: S310 (config.py allows http(s) URLs only)
        f"{range_url}/range/{prefix}",
        headers={"Add-Padding": "true", "User-Agent": "chalkboard"},
    )
    try:
        with urllib.request.urlopen(  # noqa: S310 (as above)
            request, timeout=PWNED_TIMEOUT_SECONDS
        ) as answer:
            text = answer.read(4 * 1024 * 1024).decode("ascii")
    except (OSError, ValueError, UnicodeDecodeError) as error:  # URLError, timeouts, HTTP errors
        log.warning("pwned passwords check skipped: %s (%s); treated as not found",
                    type(error).__name__, _reason(error))
        return False
    for line in text.splitlines():
        found, _, count = line.strip().partition(":")
        if found.upper() == suffix:
            return count.strip().isdigit() and int(count) > 0
    return False


def _reason(error: Exception) -> str:
    """What failed, without anything of the request (its URL holds the hash prefix)."""
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code}"
    if isinstance(error, urllib.error.URLError):
        return str(error.reason)[:120]
    if isinstance(error, TimeoutError):
        return f"no answer within {PWNED_TIMEOUT_SECONDS:g} s"
    return "unreadable answer" if isinstance(error, UnicodeDecodeError) else "bad request"
