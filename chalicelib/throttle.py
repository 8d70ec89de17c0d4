"""Per-username attempt throttle and per-user posting limit, kept in the store so
they hold across instances.

Login throttle: each attempt to prove a password (login, password change, account
deletion, step-up) is *counted before the password is checked*, in one
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

Buckets: a throttle state belongs to a username *and* a scope, a short string
naming what is guessed (``"login"``, the default: passwords; ``"code"``: every
two-factor code, through ``totp.spend_counted``, cleared only by an accepted code). A
feature counting another kind of guess passes its own scope (e.g. ``"device:<id>"``)
and, if it wants, its own limit and window; each bucket runs
exactly as above, apart from the others. ``clear_throttles`` forgets every bucket
of a name (the code bucket too: never call it on a correct password alone).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib import security_events
from chalicelib.clients import Client
from chalicelib.errors import Conflict, InvalidInput, LoginThrottled, PostingThrottled
from chalicelib.store.model import LOGIN_SCOPE, LoginThrottle
from chalicelib.validation import is_plausible_username

if TYPE_CHECKING:  # the store adapters import the rule below; deps imports them lazily
    from chalicelib.deps import Deps

log = logging.getLogger(__name__)

# Each Conflict means another request changed the state, and the state only moves
# forward (count up to the limit, lock, reset), so a few rounds always settle; past
# them the attempt is refused (429, uncounted), never answered as a 503.
RACE_ROUNDS = 12


# NIST SP 800-63B §5.2.2: at most 100 consecutive failed attempts on one account, per
# kind of guess. A run of failures ends only after a year with no attempt (it slides),
# and in practice when the owner proves themselves: ``clear_login_throttle`` on it.
CONSECUTIVE_BOUND = 100
RUN_WINDOW_SECONDS = 365 * 86_400

# A scope is a short key part: printable ASCII, no spaces (``device:<id>`` fits).
SCOPE_MAX = 100


@dataclass(frozen=True)
class Attempt:
    """A counted attempt, to be finished once its password was checked."""

    username: str
    number: int  # its place in the run: the limit-th one locks the bucket if it fails
    locked_until: float
    scope: str = LOGIN_SCOPE
    limit: int | None = None  # None: the settings' login_max_failures
    window_seconds: int | None = None  # None: the settings' login_window_seconds


def next_login_throttle(
    current: LoginThrottle | None, *, username: str, now: float, limit: int, window_seconds: int,
    scope: str = LOGIN_SCOPE,
) -> LoginThrottle | None:
    """The state after counting one more attempt, or None when the name is locked.

    Attempts refused during a lock write nothing, so they never extend it: the lock
    ends ``window_seconds`` after the attempt that reached the limit.
    """
    if current is None or current.stale(now=now):
        return LoginThrottle(username, 1, now + window_seconds, scope)
    if current.attempts >= limit:
        return None
    return LoginThrottle(username, current.attempts + 1, now + window_seconds, scope)


def _retry_after(until: float, now: float, longest: int) -> int:
    return min(longest, max(1, math.ceil(until - now)))


def _limits(deps: Deps, limit: int | None, window_seconds: int | None) -> tuple[int, int]:
    settings = deps.settings
    return (settings.login_max_failures if limit is None else limit,
            settings.login_window_seconds if window_seconds is None else window_seconds)


def reserve_attempt(
    deps: Deps, username: str, scope: str = LOGIN_SCOPE, *,
    limit: int | None = None, window_seconds: int | None = None,
) -> Attempt:
    """Count one attempt in the bucket (``username``, canonical form; ``scope``);
    ``LoginThrottled`` if it is locked. ``limit``/``window_seconds`` default to the
    login settings."""
    if not is_plausible_username(username):  # never a key the name rules do not allow
        raise InvalidInput("username may contain only letters a-z, digits 0-9 and _ . -")
    if not (0 < len(scope) <= SCOPE_MAX and scope.isascii() and scope.isprintable()
            and " " not in scope):
        raise ValueError(f"a throttle scope is 1-{SCOPE_MAX} printable ASCII characters")
    now = deps.now()
    max_attempts, window = _limits(deps, limit, window_seconds)
    for _ in range(RACE_ROUNDS):
        try:
            count = deps.store.count_login_attempt(
                username=username, now=now, limit=max_attempts, window_seconds=window,
                scope=scope,
            )
        except Conflict:
            continue
        if not count.counted:
            retry_after = _retry_after(count.throttle.locked_until, now, window)
            log.warning("%s attempt throttled for %s; retry after %ss",
                        scope, username, retry_after)
            raise LoginThrottled(retry_after=retry_after)
        return Attempt(username, count.throttle.attempts, count.throttle.locked_until, scope,
                       limit, window_seconds)
    log.warning("%s attempt refused for %s: attempts racing beyond retries", scope, username)
    raise LoginThrottled(retry_after=1)


def reserve_run(deps: Deps, username: str, run_scope: str) -> Attempt:
    """Count one attempt in the run of consecutive failures ``run_scope`` (cleared only
    by its owner proving themselves); ``LoginThrottled`` past ``CONSECUTIVE_BOUND``.

    Its window bucket restarts after every lock, so without a run a guesser would get
    5 guesses per window for ever; the refusal still says "try again within the
    login window", never "in a year"."""
    try:
        return reserve_attempt(deps, username, run_scope, limit=CONSECUTIVE_BOUND,
                               window_seconds=RUN_WINDOW_SECONDS)
    except LoginThrottled:
        raise LoginThrottled(retry_after=deps.settings.login_window_seconds) from None


def finish_attempt(
    deps: Deps, attempt: Attempt, *, succeeded: bool, account_exists: bool = False,
    client: Client | None = None,
) -> None:
    """A success clears the bucket's count; a failure was counted already (the
    limit-th locks). The failure that locks is the owner's ``locked`` security
    event when ``account_exists`` (never for a name nobody holds); ``client`` is
    whoever made it."""
    max_attempts, window = _limits(deps, attempt.limit, attempt.window_seconds)
    if succeeded:
        deps.store.clear_login_throttle(username=attempt.username, scope=attempt.scope)
    elif attempt.number >= max_attempts:  # once per lock: later attempts are refused
        wait = _retry_after(attempt.locked_until, deps.now(), window)
        log.warning("%s locked for %s after %s failures; for %ss",
                    attempt.scope, attempt.username, attempt.number, wait)
        if account_exists:
            security_events.record(deps, attempt.username, "locked", client=client,
                                   details={"retry_after": wait})


def clear_throttles(deps: Deps, username: str) -> None:
    """Forget every bucket of ``username`` (e.g. once the account's owner proved it)."""
    deps.store.clear_throttles(username=username)


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
