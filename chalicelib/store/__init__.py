"""The store: one small interface, two adapters (SQLite, DynamoDB).

Domain objects are frozen dataclasses. Every time is epoch seconds (float)
except where a name says otherwise. Adapters are imported only when chosen, so
a SQLite run never imports boto3.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Protocol

from chalicelib.config import get_settings

BOARD = "main"  # one shared board; the key leaves room for more


@dataclass(frozen=True)
class User:
    username: str
    password_hash: str
    created_at: float
    # Tokens issued before this instant (epoch milliseconds) are void: set by a password change.
    tokens_valid_after_ms: int = 0


@dataclass(frozen=True)
class Message:
    id: str  # sorts by creation time
    username: str
    content: str
    created_at: float


@dataclass(frozen=True)
class Page:
    messages: tuple[Message, ...]
    has_more: bool


@dataclass(frozen=True)
class RefreshToken:
    token_hash: str
    username: str
    family: str  # every token rotated from one login shares a family
    issued_at_ms: int
    expires_at: int
    used: bool = False


@dataclass(frozen=True)
class AccessState:
    """What the authorizer needs to know beyond the signature, read in one round trip."""

    user: User | None  # None: the account is gone
    revoked: bool  # the token's jti was revoked by logout


@dataclass(frozen=True)
class LoginThrottle:
    """One username's attempts in its current run; each is counted *before* its
    password is checked, so concurrent attempts cannot all slip under the limit.

    A run ends only after a whole window with no counted attempt (the window slides
    with each attempt), so no window of time ever holds more than ``limit`` counted
    attempts: a fixed window starting at the first attempt would let ``limit - 1``
    attempts just before its end and ``limit`` more just after it.
    """

    username: str
    attempts: int  # counted in this run (a success clears them)
    locked_until: float  # last counted attempt + window: the run's end, or the lock's at the limit

    @property
    def expires_at(self) -> int:
        """When the state means nothing any more."""
        return int(self.locked_until) + 1

    def locked(self, *, now: float, limit: int) -> bool:
        return self.attempts >= limit and now < self.locked_until

    def stale(self, *, now: float) -> bool:
        """Over: a whole window passed since the last counted attempt (the lock ran out)."""
        return now >= self.locked_until


@dataclass(frozen=True)
class LoginCount:
    """The answer to counting one login attempt."""

    counted: bool  # False: the name is locked; the attempt was refused and not counted
    throttle: LoginThrottle


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


class Store(Protocol):
    """What chalkboard needs from persistence; both adapters match it exactly."""

    def ping(self) -> None:
        """Raise ``StoreUnavailable`` if the store cannot be reached."""

    def create_user(self, user: User) -> None:
        """Add a user; ``UsernameTaken`` if the name exists (atomically)."""

    def get_user(self, username: str) -> User | None: ...

    def set_password(
        self, *, username: str, password_hash: str, tokens_valid_after_ms: int | None
    ) -> None:
        """Replace the hash; a non-None ``tokens_valid_after_ms`` voids older tokens."""

    def access_state(self, *, username: str, jti: str, now: float) -> AccessState: ...

    def revoke_access_token(self, *, jti: str, expires_at: int) -> None: ...

    def add_refresh_token(self, token: RefreshToken) -> None: ...

    def get_refresh_token(self, *, token_hash: str) -> RefreshToken | None: ...

    def spend_refresh_token(self, *, token_hash: str) -> RefreshToken | None:
        """Atomically mark a refresh token used; return it as it was *before* (or None).

        Of two concurrent calls for one token exactly one sees ``used=False``.
        """

    def revoke_family(self, *, family: str, expires_at: int) -> None: ...

    def is_family_revoked(self, *, family: str, now: float) -> bool: ...

    def count_login_attempt(
        self, *, username: str, now: float, limit: int, window_seconds: int
    ) -> LoginCount:
        """Atomically apply ``next_login_throttle`` to the stored state (one conditional
        write on DynamoDB, one transaction on SQLite). ``Conflict`` if a concurrent
        update won the race: the caller retries with fresh state."""

    def clear_login_throttle(self, *, username: str) -> None: ...

    def count_post(
        self, *, username: str, now: float, limit: int, window_seconds: int
    ) -> float | None:
        """Atomically record one post unless ``limit`` were recorded in the last
        ``window_seconds``: None when recorded, else the instant a slot frees.
        ``Conflict`` if a concurrent update won the race (the caller retries)."""

    def add_message(self, message: Message) -> None: ...

    def get_message(self, *, message_id: str) -> Message | None: ...

    def list_messages(self, *, limit: int, before_id: str | None, consistent: bool = True
                      ) -> Page:
        """Newest first, ids strictly below ``before_id``, at most ``limit``; without
        ``consistent`` the read may miss the last second's writes (and costs half)."""

    def delete_message(self, *, message_id: str) -> None: ...


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
            ),
        )
    from chalicelib.store.sqlite import SQLiteStore

    return SQLiteStore(settings.data_dir / f"chalkboard-{settings.stage}.sqlite3")
