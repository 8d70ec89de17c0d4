"""Password hashing (argon2id through libpass) and the common-password list.

passlib and the list are loaded on first use, not at import, so the
authorizer's cold start (which imports app.py too) never pays for them.
"""

from __future__ import annotations

import functools
import gzip
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


def hash_password(password: str, settings: Settings) -> str:
    hashed: str = _current_context(settings).hash(password)
    return hashed


def verify_password(
    password: str, password_hash: str, settings: Settings
) -> tuple[bool, str | None]:
    """Check a password; on success also return a new hash if the parameters changed."""
    valid, new_hash = _current_context(settings).verify_and_update(password, password_hash)
    return bool(valid), new_hash


@functools.cache
def _dummy_hash(memory_kib: int, time_cost: int, parallelism: int) -> str:
    hashed: str = _context(memory_kib, time_cost, parallelism).hash("chalkboard-dummy-password")
    return hashed


def spend_verify_time(password: str, settings: Settings) -> None:
    """Verify against a dummy hash, so an unknown user costs what a wrong password costs."""
    params = (settings.argon2_memory_kib, settings.argon2_time_cost, settings.argon2_parallelism)
    _context(*params).verify(password, _dummy_hash(*params))


@functools.cache
def _common_passwords() -> frozenset[str]:
    data = resources.files("chalicelib").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode("utf-8").split("\n")) - {""}


def reset_caches() -> None:
    """Forget the hashing contexts and the dummy hash (tests change the parameters)."""
    _context.cache_clear()
    _dummy_hash.cache_clear()


def is_common(password: str) -> bool:
    """True for any of the 30,000 most common passwords, compared case-insensitively."""
    return password.lower() in _common_passwords()
