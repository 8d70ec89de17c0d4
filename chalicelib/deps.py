"""The dependencies every service function takes: the store, the settings and the clock.

Service modules (accounts, board, sessions, throttle) never reach for globals;
app.py passes ``current_deps()`` into each call, and tests pass their own or move
the clock with ``use_clock`` instead of sleeping. Nothing is built at import:
``chalice.test.Client`` sets a stage's environment only while a request runs.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass

from chalicelib import config, page_cache, passwords, signing_keys, tokens
from chalicelib.config import Settings, get_settings
from chalicelib.store.protocol import Store

Clock = Callable[[], float]

_clock: Clock = time.time


@dataclass(frozen=True)
class Deps:
    store: Store
    settings: Settings
    clock: Clock = time.time

    def now(self) -> float:
        """Epoch seconds, from the clock tests can move."""
        return self.clock()


@functools.cache
def get_store() -> Store:
    """The adapter the settings choose, made once per process (tests: cache_clear)."""
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

    return SQLiteStore(settings.data_dir / f"chalkboard-{settings.stage}.sqlite3")


def current_deps() -> Deps:
    """The process's store and settings (each built once, on first use) and the clock."""
    return Deps(store=get_store(), settings=config.get_settings(), clock=_clock)


def use_clock(clock: Clock) -> None:
    """Tests: make ``current_deps().now()`` read ``clock``; ``reset`` restores real time."""
    global _clock
    _clock = clock


def reset() -> None:
    """Forget every per-process cache, so the next call reads the environment again."""
    global _clock
    _clock = time.time
    config.get_settings.cache_clear()
    signing_keys.reset()
    tokens.verified_tokens.clear()
    get_store.cache_clear()
    page_cache.get_page_cache.cache_clear()
    passwords.reset_caches()
