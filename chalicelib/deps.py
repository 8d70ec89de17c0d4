"""The dependencies every service function takes: store, settings, clock, keyring, page cache.

Service modules never reach for globals or the wall clock; app.py passes
``current_deps()`` into each call, and tests pass their own or move the clock with
``use_clock`` instead of sleeping. Nothing is built at import:
``chalice.test.Client`` sets a stage's environment only while a request runs.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from chalicelib import config, mail, page_cache, passwords, signing_keys, tokens
from chalicelib.config import Settings, get_settings
from chalicelib.page_cache import PageCache
from chalicelib.signing_keys import Keyring
from chalicelib.store.protocol import Store

T = TypeVar("T")
Clock = Callable[[], float]

_clock: Clock = time.time


@dataclass(frozen=True)
class Deps:
    store: Store
    settings: Settings
    clock: Clock = time.time
    page_cache: PageCache = field(default_factory=PageCache)

    def now(self) -> float:
        """Epoch seconds, from the clock tests can move."""
        return self.clock()

    @property
    def keyring(self) -> Keyring:
        """The signing keyring, loaded on first use (from SSM when deployed) and reloaded
        as ``signing_keys.get_keyring`` says; a property so a route that signs nothing
        never fetches it."""
        return signing_keys.get_keyring(self.now())

    @property
    def mailer(self) -> mail.Mailer:
        """The stage's mailer (SES deployed, a local mailbox otherwise), made on first
        use; a property so a route that mails nothing never checks its settings."""
        return mail.get_mailer(self.settings)

    def with_keyring(self, check: Callable[[Keyring], T], *, unknown_key: type[Exception]) -> T:
        """``check(keyring)``, reloading the keyring once if it lacks the key (a rotation)."""
        return signing_keys.with_keyring(check, unknown_key=unknown_key, now=self.now())


@functools.cache
def get_store() -> Store:
    """The adapter the settings choose, made once per process (tests: ``reset``)."""
    settings = get_settings()
    if settings.store == "dynamodb":
        from chalicelib.store.dynamodb import DynamoDBStore, TableNames, make_client

        return DynamoDBStore(
            make_client(),
            TableNames(
                users=settings.users_table,
                messages=settings.messages_table,
                auth=settings.auth_table,
                user_items=settings.user_items_table,
            ),
        )
    from chalicelib.store.sqlite import SQLiteStore

    # It prunes expired rows by the same clock the services read (``use_clock``).
    return SQLiteStore(settings.data_dir / f"chalkboard-{settings.stage}.sqlite3",
                       clock=lambda: _clock())


def current_deps() -> Deps:
    """The process's store, settings and page cache (each built once, on first use),
    the clock, and the keyring (fetched when first read)."""
    return Deps(store=get_store(), settings=config.get_settings(), clock=_clock,
                page_cache=page_cache.get_page_cache())


def use_clock(clock: Clock) -> None:
    """Tests: make ``current_deps().now()`` read ``clock``; ``reset`` restores real time."""
    global _clock
    _clock = clock


# Every per-process cache, in one registry: ``reset`` forgets them all.
_CACHES: tuple[Callable[[], None], ...] = (
    lambda: use_clock(time.time),
    config.get_settings.cache_clear,
    signing_keys.reset,
    tokens.verified_tokens.clear,
    get_store.cache_clear,
    page_cache.get_page_cache.cache_clear,
    passwords.reset_caches,
    mail.get_mailer.cache_clear,
)


def reset() -> None:
    """Forget every per-process cache, so the next call reads the environment again."""
    for clear in _CACHES:
        clear()
