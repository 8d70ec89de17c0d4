"""Password hashing (argon2id through libpass) and the common-password list.

Every password is NFKC-normalized (NIST SP 800-63B §5.1.1.2) before it is hashed
or verified, by ``normalize_password``, so the NFC and NFD (or full-width) forms
of one password are the same password at signup, login, password change and
account deletion. Hashes made before normalization hold the form as typed: when
the NFKC form does not verify and the typed form differs from it, the typed form
is tried too, and on success the NFKC form is hashed in its place (as for raised
argon2 parameters). That second verification happens only for input NFKC changes.

passlib and the list are loaded on first use, not at import, so the
authorizer's cold start (which imports app.py too) never pays for them.
"""

from __future__ import annotations

import functools
import gzip
import unicodedata
from importlib import resources
from typing import TYPE_CHECKING

from chalicelib.config import Settings

if TYPE_CHECKING:
    from passlib.context import CryptContext


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
