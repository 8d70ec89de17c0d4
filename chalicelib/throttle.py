"""The login throttle, per username, kept in the store so it holds across instances.

After ``login_max_failures`` failures within ``login_window_seconds`` of the
first, the username is locked until that window ends. Every attempt made while
locked counts and pushes the lock out by a doubling penalty, so Retry-After
grows with repeated failures. A successful login clears the count. Unknown
usernames are counted exactly like known ones, so the throttle reveals nothing.
"""

from __future__ import annotations

import math

from chalicelib.config import Settings
from chalicelib.errors import Conflict, LoginThrottled, StoreUnavailable
from chalicelib.store import LoginThrottle, Store

SAVE_ATTEMPTS = 8


def _penalty(throttle: LoginThrottle, settings: Settings) -> float:
    over = max(0, throttle.failures - settings.login_max_failures)
    return float(min(2**over, settings.login_window_seconds))


def _bump(current: LoginThrottle | None, username: str, now: float, settings: Settings
          ) -> LoginThrottle:
    """The throttle after one more failed (or refused) attempt."""
    if current is None or (now >= current.window_ends and now >= current.locked_until):
        return LoginThrottle(
            username=username,
            failures=1,
            window_ends=now + settings.login_window_seconds,
            locked_until=0.0,
            version=(current.version + 1) if current else 1,
        )
    failures = current.failures + 1
    locked_until = current.locked_until
    if now < current.locked_until:
        locked_until = current.locked_until + _penalty(current, settings)
    elif failures >= settings.login_max_failures:
        locked_until = current.window_ends
    return LoginThrottle(
        username=username,
        failures=failures,
        window_ends=current.window_ends,
        locked_until=locked_until,
        version=current.version + 1,
    )


def record_failure(
    store: Store, username: str, now: float, settings: Settings, current: LoginThrottle | None
) -> LoginThrottle:
    """Count a failed or refused attempt; concurrent counts retry, so none is lost."""
    for _ in range(SAVE_ATTEMPTS):
        updated = _bump(current, username, now, settings)
        try:
            store.save_login_throttle(updated)
            return updated
        except Conflict:
            current = store.get_login_throttle(username=username, now=now)
    raise StoreUnavailable(retry_after=1)


def check(store: Store, username: str, now: float, settings: Settings) -> LoginThrottle | None:
    """Raise ``LoginThrottled`` (counting the attempt) if the username is locked."""
    current = store.get_login_throttle(username=username, now=now)
    if current is not None and now < current.locked_until:
        updated = record_failure(store, username, now, settings, current)
        raise LoginThrottled(retry_after=max(1, math.ceil(updated.locked_until - now)))
    return current


def clear(store: Store, username: str, current: LoginThrottle | None) -> None:
    if current is not None:
        store.clear_login_throttle(username=username)
