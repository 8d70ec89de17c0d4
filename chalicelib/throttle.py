"""Per-username attempt throttle and per-user posting limit, kept in the store so
they hold across instances.

Login throttle: each attempt to prove a password (login, password change, account
deletion, two-factor codes) is *counted before the password is checked*, in one
atomic store operation, so of any number of simultaneous attempts at most
``login_max_failures`` are ever evaluated in a window. The window slides: a count
ends only after a whole window with no attempt, so no stretch of
``login_window_seconds`` ever holds more evaluated failures than the limit (a window
fixed at the first attempt let 4 just before its end and 5 more just after). The
attempt that reaches
the limit is still evaluated; from then on the name is locked for
``login_window_seconds`` from that attempt, and attempts are refused without
checking anything and without writing, so nobody can stretch the lock. A success
clears the count. Unknown usernames are counted exactly like known ones, so the
throttle reveals nothing.

Usage, by every route that checks a password for a username::

    attempt = throttle.reserve_attempt(deps, username)   # may raise LoginThrottled
    ok = <check the password>
    throttle.finish_attempt(deps, attempt, succeeded=ok)
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.errors import Conflict, InvalidInput, LoginThrottled, PostingThrottled
from chalicelib.store.model import LoginThrottle
from chalicelib.validation import is_plausible_username

if TYPE_CHECKING:  # the store adapters import the rule below; deps imports them lazily
    from chalicelib.deps import Deps

log = logging.getLogger(__name__)

# Each Conflict means another request changed the state, and the state only moves
# forward (count up to the limit, lock, reset), so a few rounds always settle; past
# them the attempt is refused (429, uncounted), never answered as a 503.
RACE_ROUNDS = 12


@dataclass(frozen=True)
class Attempt:
    """A counted attempt, to be finished once its password was checked."""

    username: str
    number: int  # its place in the run: the limit-th one locks the name if it fails
    locked_until: float


def next_login_throttle(
    current: LoginThrottle | None, *, username: str, now: float, limit: int, window_seconds: int
) -> LoginThrottle | None:
    """The state after counting one more attempt, or None when the name is locked.

    Attempts refused during a lock write nothing, so they never extend it: the lock
    ends ``window_seconds`` after the attempt that reached the limit.
    """
    if current is None or current.stale(now=now):
        return LoginThrottle(username, 1, now + window_seconds)
    if current.attempts >= limit:
        return None
    return LoginThrottle(username, current.attempts + 1, now + window_seconds)


def _retry_after(until: float, now: float, longest: int) -> int:
    return min(longest, max(1, math.ceil(until - now)))


def reserve_attempt(deps: Deps, username: str) -> Attempt:
    """Count one attempt for ``username`` (canonical form); ``LoginThrottled`` if locked."""
    if not is_plausible_username(username):  # never a key the name rules do not allow
        raise InvalidInput("username may contain only letters a-z, digits 0-9 and _ . -")
    settings, now = deps.settings, deps.now()
    limit, window = settings.login_max_failures, settings.login_window_seconds
    for _ in range(RACE_ROUNDS):
        try:
            count = deps.store.count_login_attempt(
                username=username, now=now, limit=limit, window_seconds=window
            )
        except Conflict:
            continue
        if not count.counted:
            retry_after = _retry_after(count.throttle.locked_until, now, window)
            log.warning("login attempt throttled for %s; retry after %ss", username, retry_after)
            raise LoginThrottled(retry_after=retry_after)
        return Attempt(username, count.throttle.attempts, count.throttle.locked_until)
    log.warning("login attempt refused for %s: attempts racing beyond retries", username)
    raise LoginThrottled(retry_after=1)


def finish_attempt(deps: Deps, attempt: Attempt, *, succeeded: bool) -> None:
    """A success clears the count; a failure was counted already (the limit-th locks)."""
    if succeeded:
        deps.store.clear_login_throttle(username=attempt.username)
    elif attempt.number >= deps.settings.login_max_failures:
        wait = _retry_after(attempt.locked_until, deps.now(), deps.settings.login_window_seconds)
        log.warning("login locked for %s after %s failures; for %ss",
                    attempt.username, attempt.number, wait)


def reserve_post(deps: Deps, username: str) -> None:
    """Count one post; ``PostingThrottled`` past the posting limit (in any window)."""
    settings, now = deps.settings, deps.now()
    for _ in range(RACE_ROUNDS):
        try:
            frees_at = deps.store.count_post(
                username=username, now=now, limit=settings.post_rate_limit,
                window_seconds=settings.post_rate_window_seconds,
            )
        except Conflict:
            continue
        if frees_at is None:
            return
        retry_after = _retry_after(frees_at, now, settings.post_rate_window_seconds)
        log.info("posting throttled for %s; retry after %ss", username, retry_after)
        raise PostingThrottled(retry_after=retry_after)
    raise PostingThrottled(retry_after=1)
