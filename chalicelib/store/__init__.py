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
    username: str
    failures: int
    window_ends: float
    locked_until: float
    version: int

    @property
    def expires_at(self) -> int:
        return int(max(self.window_ends, self.locked_until)) + 1


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

    def get_login_throttle(self, *, username: str, now: float) -> LoginThrottle | None: ...

    def save_login_throttle(self, throttle: LoginThrottle) -> None:
        """Write ``throttle`` if the stored version is ``throttle.version - 1`` (or absent
        when it is 1); ``Conflict`` otherwise, so concurrent counts are never lost."""

    def clear_login_throttle(self, *, username: str) -> None: ...

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
