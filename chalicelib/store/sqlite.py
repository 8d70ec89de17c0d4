"""SQLite adapter: the embedded default for ``chalice local``.

One connection per thread (chalice local serves each request on a thread), WAL
so readers never wait for a writer, a busy timeout, and writes that are retried
when the database stays locked, so a lock costs time, never a lost write.
Expired auth rows (sessions, refresh tokens, login attempts, recent posts) are
pruned here; DynamoDB deletes them itself by TTL.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from chalicelib.errors import AccountGone, Conflict, StoreUnavailable, UsernameTaken
from chalicelib.store.model import (
    LOGIN_SCOPE,
    AccessState,
    Challenge,
    EmailAddress,
    EmailToken,
    KnownDevice,
    LoginCount,
    LoginThrottle,
    Message,
    Page,
    Passkey,
    RefreshToken,
    SecurityEvent,
    SecurityEventPage,
    Session,
    TotpState,
    User,
)
from chalicelib.throttle import next_login_throttle

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_at REAL NOT NULL,
    credential_stamp TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    display_name TEXT NOT NULL DEFAULT '',
    webauthn_handle TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS messages_by_author ON messages (username, id);
CREATE TABLE IF NOT EXISTS sessions (
    username TEXT NOT NULL,
    sid TEXT NOT NULL,
    credential_stamp TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_used_at REAL NOT NULL,
    expires_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL DEFAULT 0,
    method TEXT NOT NULL DEFAULT 'password',
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    device_id TEXT NOT NULL DEFAULT '',
    credential_id TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (username, sid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    family TEXT NOT NULL,
    issued_at_ms INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0,
    session_ends_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS throttle_runs (
    username TEXT NOT NULL,
    scope TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    locked_until REAL NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (username, scope)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS recent_posts (
    username TEXT NOT NULL,
    posted_at REAL NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS recent_posts_by_user ON recent_posts (username, posted_at);
DROP TABLE IF EXISTS login_throttles;
DROP TABLE IF EXISTS login_runs;
DROP TABLE IF EXISTS login_attempts;
DROP TABLE IF EXISTS revoked_tokens;
DROP TABLE IF EXISTS revoked_families;
CREATE TABLE IF NOT EXISTS totp (
    username TEXT PRIMARY KEY,
    secret_ciphertext TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    last_step INTEGER NOT NULL,
    recovery_hashes TEXT NOT NULL DEFAULT ''  -- space-separated sha256 hex digests
);
CREATE TABLE IF NOT EXISTS passkeys (
    credential_id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    public_key TEXT NOT NULL,
    sign_count INTEGER NOT NULL,
    transports TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_used_at REAL
);
CREATE INDEX IF NOT EXISTS passkeys_by_user ON passkeys (username, created_at);
CREATE TABLE IF NOT EXISTS challenges (
    key TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    username TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    credential_stamp TEXT NOT NULL DEFAULT '',
    device_id TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS emails (
    username TEXT PRIMARY KEY,
    verified TEXT NOT NULL DEFAULT '',
    pending TEXT NOT NULL DEFAULT ''
);
-- A verified address belongs to one account.
CREATE UNIQUE INDEX IF NOT EXISTS emails_verified ON emails (verified) WHERE verified != '';
CREATE TABLE IF NOT EXISTS email_tokens (
    purpose TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    username TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    email TEXT NOT NULL DEFAULT '',
    credential_stamp TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (purpose, token_hash)
);
CREATE TABLE IF NOT EXISTS devices (
    username TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    device_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (username, token_hash)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS security_events (
    username TEXT NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at INTEGER NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    details TEXT NOT NULL,
    PRIMARY KEY (username, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS security_events_by_expiry ON security_events (expires_at);
"""
# Columns added since a table was first made: a file made before gets them (defaults).
_ADDED_COLUMNS = {
    "users": {"webauthn_handle": "TEXT NOT NULL DEFAULT ''"},
    "sessions": {
        "ends_at": "INTEGER NOT NULL DEFAULT 0",
        "method": "TEXT NOT NULL DEFAULT 'password'",
        "ip": "TEXT NOT NULL DEFAULT ''",
        "user_agent": "TEXT NOT NULL DEFAULT ''",
        "device_id": "TEXT NOT NULL DEFAULT ''",
        "credential_id": "TEXT NOT NULL DEFAULT ''",
    },
    "refresh_tokens": {"session_ends_at": "INTEGER NOT NULL DEFAULT 0"},
    "challenges": {"device_id": "TEXT NOT NULL DEFAULT ''"},
}
_EXPIRING_TABLES = (
    "sessions", "refresh_tokens", "throttle_runs", "recent_posts", "challenges", "devices",
    "security_events", "email_tokens",
)
_USER_COLUMNS = (
    "username, password_hash, created_at, credential_stamp, deleted, display_name, webauthn_handle"
)
_SESSION_COLUMNS = (
    "username, sid, credential_stamp, created_at, last_used_at, expires_at, ends_at, method,"
    " ip, user_agent, device_id, credential_id"
)


_USER_FIELDS = tuple(_USER_COLUMNS.split(", "))
_SESSION_FIELDS = tuple(_SESSION_COLUMNS.split(", "))


def _qualified(table: str, fields: tuple[str, ...]) -> str:
    return ", ".join(f"{table}.{field}" for field in fields)


# The user's columns, then the session's, in the order of the two field lists above.
_ACCESS_STATE_SQL = (
    f"SELECT {_qualified('users', _USER_FIELDS)}, "  # noqa: S608
    f"{_qualified('sessions', _SESSION_FIELDS)} FROM (SELECT 1)"
    " LEFT JOIN users ON users.username = :username"
    " LEFT JOIN sessions ON sessions.username = :username AND sessions.sid = :sid"
)
BUSY_TIMEOUT_MS = 5000
WRITE_ATTEMPTS = 4
PRUNE_EVERY_SECONDS = 60


# One mapper per record: columns are selected under the record's field names.


def _fields(row: sqlite3.Row) -> dict[str, Any]:
    return dict(zip(row.keys(), row, strict=True))  # iterating a Row yields its values


def _user(row: sqlite3.Row | dict[str, Any]) -> User:
    fields = _fields(row) if isinstance(row, sqlite3.Row) else row
    return User(**{**fields, "deleted": bool(fields["deleted"])})


def _message(row: sqlite3.Row) -> Message:
    return Message(**_fields(row))


def _login_throttle(row: sqlite3.Row) -> LoginThrottle:
    return LoginThrottle(**_fields(row))


def _session(row: sqlite3.Row | dict[str, Any]) -> Session:
    return Session(**(_fields(row) if isinstance(row, sqlite3.Row) else row))


def _refresh_token(row: sqlite3.Row) -> RefreshToken:
    return RefreshToken(**{**_fields(row), "used": bool(row["used"])})


def _totp(row: sqlite3.Row) -> TotpState:
    return TotpState(**{
        **_fields(row),
        "enabled": bool(row["enabled"]),
        "recovery_hashes": frozenset(row["recovery_hashes"].split()),
    })


def _passkey(row: sqlite3.Row) -> Passkey:
    return Passkey(**{**_fields(row), "transports": tuple(row["transports"].split())})


def _challenge(row: sqlite3.Row) -> Challenge:
    return Challenge(**_fields(row))


_PASSKEY_COLUMNS = (
    "credential_id, username, public_key, sign_count, transports, name, created_at, last_used_at"
)


class SQLiteStore:
    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self._path = path
        self._clock = clock  # when to prune rows a call brings no time for
        self._local = threading.local()
        self._schema_lock = threading.Lock()
        self._schema_ready = False
        self._last_prune = 0.0

    # -- connections and transactions ---------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                self._path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                check_same_thread=True,
            )
            connection.row_factory = sqlite3.Row
            connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            connection.execute("PRAGMA synchronous = NORMAL")
            self._prepare_database(connection)
            self._local.connection = connection
        return connection

    def _prepare_database(self, connection: sqlite3.Connection) -> None:
        """Switch the file to WAL and create the schema, once per store.

        Changing the journal mode fails at once with "database is locked" (no busy
        wait) while another connection is opening the same fresh file, so it runs
        under a lock here and is retried like a write across processes.
        """
        with self._schema_lock:
            if self._schema_ready:
                return
            self._retrying(lambda: connection.execute("PRAGMA journal_mode = WAL"))
            self._retrying(lambda: connection.executescript(SCHEMA))
            self._retrying(lambda: self._upgrade_users(connection))
            self._schema_ready = True

    @staticmethod
    def _upgrade_users(connection: sqlite3.Connection) -> None:
        """A file made before credential stamps or display names: add the columns (old
        tokens then fail, since their sessions were never recorded)."""
        columns = {row[1] for row in connection.execute("PRAGMA table_info(users)")}
        if "credential_stamp" not in columns:
            connection.executescript(
                "ALTER TABLE users ADD COLUMN credential_stamp TEXT NOT NULL DEFAULT '';"
                "ALTER TABLE users ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;"
            )
        if "display_name" not in columns:  # a file made before display names: shown as the username
            connection.execute("ALTER TABLE users ADD COLUMN display_name TEXT NOT NULL DEFAULT ''")
        for table, added in _ADDED_COLUMNS.items():
            present = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
            for column, declaration in added.items():
                if column not in present:
                    connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    def _retrying(self, action: Callable[[], T]) -> T:
        """Run ``action``; if the database stays locked past the busy timeout, try again."""
        for attempt in range(WRITE_ATTEMPTS):
            try:
                return action()
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) and "busy" not in str(error):
                    raise
                if attempt == WRITE_ATTEMPTS - 1:
                    raise StoreUnavailable(retry_after=1) from error
                time.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def _write(self, action: Callable[[sqlite3.Connection], T]) -> T:
        def attempt() -> T:
            with self._transaction() as connection:
                return action(connection)

        return self._retrying(attempt)

    def _read(
        self, sql: str, parameters: tuple[object, ...] | dict[str, object]
    ) -> list[sqlite3.Row]:
        connection = self._connection()
        return self._retrying(lambda: connection.execute(sql, parameters).fetchall())

    def _prune_expired(self, connection: sqlite3.Connection, now: float) -> None:
        if now - self._last_prune < PRUNE_EVERY_SECONDS:
            return
        self._last_prune = now
        for table in _EXPIRING_TABLES:
            connection.execute(f"DELETE FROM {table} WHERE expires_at < ?", (int(now),))  # noqa: S608

    # -- Store --------------------------------------------------------------------

    def ping(self) -> None:
        try:
            self._read("SELECT 1", ())
        except sqlite3.Error as error:
            raise StoreUnavailable() from error

    def create_user(self, user: User) -> None:
        def insert(connection: sqlite3.Connection) -> None:
            connection.execute(
                f"INSERT INTO users ({_USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                (user.username, user.password_hash, user.created_at, user.credential_stamp,
                 int(user.deleted), user.display_name, user.webauthn_handle),
            )

        try:
            self._write(insert)
        except sqlite3.IntegrityError:
            raise UsernameTaken("username is already taken") from None

    def get_user(self, username: str) -> User | None:
        rows = self._read(
            f"SELECT {_USER_COLUMNS} FROM users WHERE username = ?", (username,)  # noqa: S608
        )
        return _user(rows[0]) if rows else None

    def set_password(
        self, *, username: str, password_hash: str, credential_stamp: str, expected_stamp: str
    ) -> bool:
        def update(connection: sqlite3.Connection) -> bool:
            return connection.execute(
                "UPDATE users SET password_hash = ?, credential_stamp = ?"
                " WHERE username = ? AND credential_stamp = ? AND deleted = 0",
                (password_hash, credential_stamp, username, expected_stamp),
            ).rowcount == 1

        return self._write(update)

    def access_state(self, *, username: str, sid: str) -> AccessState:
        # One statement reads the user and the session at one instant (the authorizer's
        # single store read): always one row, each side NULL when it is missing.
        (row,) = self._read(_ACCESS_STATE_SQL, {"username": username, "sid": sid})
        values = tuple(row)
        user = dict(zip(_USER_FIELDS, values[:len(_USER_FIELDS)], strict=True))
        session = dict(zip(_SESSION_FIELDS, values[len(_USER_FIELDS):], strict=True))
        return AccessState(
            user=_user(user) if user["username"] is not None else None,
            session=_session(session) if session["sid"] is not None else None,
        )

    def start_session(self, session: Session) -> None:
        def insert(connection: sqlite3.Connection) -> None:
            self._prune_expired(connection, self._clock())
            connection.execute(
                f"INSERT INTO sessions ({_SESSION_COLUMNS})"  # noqa: S608
                f" VALUES ({', '.join('?' * len(_SESSION_FIELDS))})",
                tuple(getattr(session, field) for field in _SESSION_FIELDS),
            )

        self._write(insert)

    def set_display_name(self, *, username: str, display_name: str) -> User | None:
        def update(connection: sqlite3.Connection) -> User | None:
            connection.execute(
                "UPDATE users SET display_name = ? WHERE username = ?", (display_name, username)
            )
            rows = connection.execute(
                f"SELECT {_USER_COLUMNS} FROM users WHERE username = ?", (username,)  # noqa: S608
            ).fetchall()
            return _user(rows[0]) if rows else None

        return self._write(update)

    def touch_session(
        self, *, username: str, sid: str, credential_stamp: str, now: float, expires_at: int
    ) -> bool:
        def update(connection: sqlite3.Connection) -> bool:
            return connection.execute(
                "UPDATE sessions SET last_used_at = ?, expires_at = ?"
                " WHERE username = ? AND sid = ? AND credential_stamp = ? AND expires_at >= ?",
                (now, expires_at, username, sid, credential_stamp, int(now)),
            ).rowcount == 1

        return self._write(update)

    def list_sessions(self, *, username: str, now: float) -> list[Session]:
        rows = self._read(
            f"SELECT {_SESSION_COLUMNS} FROM sessions"  # noqa: S608
            " WHERE username = ? AND expires_at >= ? ORDER BY created_at DESC, sid DESC",
            (username, int(now)),
        )
        return [_session(row) for row in rows]

    def end_session(self, *, username: str, sid: str) -> Session | None:
        rows = self._write(
            lambda c: c.execute(
                f"DELETE FROM sessions WHERE username = ? AND sid = ?"  # noqa: S608
                f" RETURNING {_SESSION_COLUMNS}", (username, sid)
            ).fetchall()
        )
        return _session(rows[0]) if rows else None

    def end_sessions(self, *, username: str) -> None:
        self._write(lambda c: c.execute("DELETE FROM sessions WHERE username = ?", (username,)))

    def add_refresh_token(self, token: RefreshToken) -> None:
        def insert(connection: sqlite3.Connection) -> None:
            self._prune_expired(connection, self._clock())
            connection.execute(
                "INSERT INTO refresh_tokens"
                " (token_hash, username, family, issued_at_ms, expires_at, used, session_ends_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (token.token_hash, token.username, token.family, token.issued_at_ms,
                 token.expires_at, int(token.used), token.session_ends_at),
            )

        self._write(insert)

    _REFRESH_COLUMNS = (
        "token_hash, username, family, issued_at_ms, expires_at, used, session_ends_at"
    )

    def get_refresh_token(self, *, token_hash: str) -> RefreshToken | None:
        rows = self._read(
            f"SELECT {self._REFRESH_COLUMNS} FROM refresh_tokens WHERE token_hash = ?",  # noqa: S608
            (token_hash,),
        )
        return _refresh_token(rows[0]) if rows else None

    def spend_refresh_token(self, *, token_hash: str) -> RefreshToken | None:
        def spend(connection: sqlite3.Connection) -> RefreshToken | None:
            rows = connection.execute(
                f"SELECT {self._REFRESH_COLUMNS} FROM refresh_tokens WHERE token_hash = ?",  # noqa: S608
                (token_hash,),
            ).fetchall()
            if not rows:
                return None
            connection.execute(
                "UPDATE refresh_tokens SET used = 1 WHERE token_hash = ?", (token_hash,)
            )
            return _refresh_token(rows[0])

        return self._write(spend)

    def count_login_attempt(
        self, *, username: str, now: float, limit: int, window_seconds: int,
        scope: str = LOGIN_SCOPE,
    ) -> LoginCount:
        def count(connection: sqlite3.Connection) -> LoginCount:
            self._prune_expired(connection, now)  # names nobody holds leave no rows behind
            rows = connection.execute(
                "SELECT username, attempts, locked_until, scope FROM throttle_runs"
                " WHERE username = ? AND scope = ?",
                (username, scope),
            ).fetchall()
            current = _login_throttle(rows[0]) if rows else None
            updated = next_login_throttle(
                current, username=username, now=now, limit=limit, window_seconds=window_seconds,
                scope=scope,
            )
            if updated is None:
                assert current is not None
                return LoginCount(counted=False, throttle=current)
            connection.execute(
                "INSERT OR REPLACE INTO throttle_runs"
                " (username, scope, attempts, locked_until, expires_at) VALUES (?, ?, ?, ?, ?)",
                (username, scope, updated.attempts, updated.locked_until, updated.expires_at),
            )
            return LoginCount(counted=True, throttle=updated)

        return self._write(count)

    def clear_login_throttle(self, *, username: str, scope: str = LOGIN_SCOPE) -> None:
        self._write(lambda c: c.execute(
            "DELETE FROM throttle_runs WHERE username = ? AND scope = ?", (username, scope)
        ))

    def clear_throttles(self, *, username: str) -> None:
        self._write(
            lambda c: c.execute("DELETE FROM throttle_runs WHERE username = ?", (username,))
        )

    def count_post(
        self, *, username: str, now: float, limit: int, window_seconds: int
    ) -> float | None:
        since = now - window_seconds

        def insert() -> int:
            # One statement counts and inserts atomically: in WAL mode a write from a
            # stale snapshot fails as "locked" and is retried, so no count is lost. Posts
            # that left the window are skipped here and pruned with the other expiring
            # rows (at most once a minute), not deleted on every post.
            connection = self._connection()
            self._prune_expired(connection, now)
            return connection.execute(
                "INSERT INTO recent_posts (username, posted_at, expires_at) SELECT ?, ?, ?"
                " WHERE (SELECT COUNT(*) FROM (SELECT 1 FROM recent_posts"
                "        WHERE username = ? AND posted_at > ? LIMIT ?)) < ?",  # O(limit)
                (username, now, int(now + window_seconds) + 1, username, since, limit, limit),
            ).rowcount

        if self._retrying(insert) == 1:
            return None
        # Over the limit: a slot frees when the limit-th newest post leaves the window.
        rows = self._read(
            "SELECT posted_at FROM recent_posts WHERE username = ? AND posted_at > ?"
            " ORDER BY posted_at DESC LIMIT 1 OFFSET ?",
            (username, since, limit - 1),
        )
        return float(rows[0]["posted_at"]) + window_seconds if rows else now

    def add_message(self, message: Message) -> None:
        # One statement needs no explicit transaction: autocommit makes it atomic.
        connection = self._connection()
        self._retrying(lambda: connection.execute(
            "INSERT INTO messages (id, username, content, created_at) VALUES (?, ?, ?, ?)",
            (message.id, message.username, message.content, message.created_at),
        ))

    def get_message(self, *, message_id: str) -> Message | None:
        rows = self._read(
            "SELECT id, username, content, created_at FROM messages WHERE id = ?", (message_id,)
        )
        return _message(rows[0]) if rows else None

    def list_messages(self, *, limit: int, before_id: str | None, consistent: bool = True
                      ) -> Page:
        # Every SQLite read is consistent, so ``consistent`` changes nothing here.
        if before_id is None:
            return self._page("", (), limit)
        return self._page("WHERE m.id < ?", (before_id,), limit)

    def list_newer_messages(self, *, limit: int, after_id: str) -> Page:
        return self._page("WHERE m.id > ?", (after_id,), limit)

    def _page(self, where: str, parameters: tuple[object, ...], limit: int) -> Page:
        """Newest first with each author's current name, joined in the same query; one
        extra row tells whether there are more without a second query."""
        # ``where`` is one of the two fixed clauses above, never request input.
        sql = (
            "SELECT m.id AS id, m.username AS username, m.content AS content,"  # noqa: S608
            " m.created_at AS created_at, COALESCE(u.display_name, '') AS display_name"
            " FROM messages m LEFT JOIN users u ON u.username = m.username"
            f" {where} ORDER BY m.id DESC LIMIT ?"
        )
        rows = self._read(sql, (*parameters, limit + 1))
        messages = tuple(_message(row) for row in rows[:limit])
        return Page(messages=messages, has_more=len(rows) > limit)

    def delete_message(self, *, message_id: str) -> None:
        self._write(lambda c: c.execute("DELETE FROM messages WHERE id = ?", (message_id,)))

    def mark_user_deleted(self, *, username: str) -> User | None:
        def mark(connection: sqlite3.Connection) -> User | None:
            connection.execute("UPDATE users SET deleted = 1 WHERE username = ?", (username,))
            rows = connection.execute(
                f"SELECT {_USER_COLUMNS} FROM users WHERE username = ?", (username,)  # noqa: S608
            ).fetchall()
            return _user(rows[0]) if rows else None

        return self._write(mark)

    def delete_user_data(self, *, username: str, credential_stamp: str, batch: int) -> bool:
        def delete(connection: sqlite3.Connection) -> bool:
            # In the same transaction as the deletes: the account being deleted is
            # still the one of this name, so none of these rows is a new account's.
            if not self._marked(connection, username, credential_stamp):
                return True
            connection.execute("DELETE FROM sessions WHERE username = ?", (username,))
            connection.execute("DELETE FROM refresh_tokens WHERE username = ?", (username,))
            connection.execute("DELETE FROM totp WHERE username = ?", (username,))
            connection.execute("DELETE FROM passkeys WHERE username = ?", (username,))
            connection.execute("DELETE FROM throttle_runs WHERE username = ?", (username,))
            connection.execute("DELETE FROM devices WHERE username = ?", (username,))
            connection.execute("DELETE FROM security_events WHERE username = ?", (username,))
            connection.execute("DELETE FROM emails WHERE username = ?", (username,))
            connection.execute("DELETE FROM email_tokens WHERE username = ?", (username,))
            removed = connection.execute(
                "DELETE FROM messages WHERE id IN"
                " (SELECT id FROM messages WHERE username = ? LIMIT ?)",
                (username, batch),
            ).rowcount
            return removed < batch

        return self._write(delete)

    # -- two-factor codes ----------------------------------------------------------

    def get_totp(self, *, username: str) -> TotpState | None:
        rows = self._read(
            "SELECT username, secret_ciphertext, enabled, last_step, recovery_hashes"
            " FROM totp WHERE username = ?",
            (username,),
        )
        return _totp(rows[0]) if rows else None

    def put_pending_totp(self, *, username: str, secret_ciphertext: str) -> bool:
        def put(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute(
                "INSERT INTO totp (username, secret_ciphertext, enabled, last_step)"
                " VALUES (?, ?, 0, 0) ON CONFLICT (username) DO UPDATE"
                " SET secret_ciphertext = excluded.secret_ciphertext, last_step = 0,"
                " recovery_hashes = '' WHERE enabled = 0",
                (username, secret_ciphertext),
            )
            return cursor.rowcount == 1

        return self._write(put)

    def enable_totp(self, *, username: str, recovery_hashes: frozenset[str], step: int) -> bool:
        def enable(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute(
                "UPDATE totp SET enabled = 1, last_step = ?, recovery_hashes = ?"
                " WHERE username = ? AND enabled = 0",
                (step, " ".join(sorted(recovery_hashes)), username),
            )
            return cursor.rowcount == 1

        return self._write(enable)

    def accept_totp_step(self, *, username: str, step: int) -> bool:
        def accept(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute(
                "UPDATE totp SET last_step = ? WHERE username = ? AND enabled = 1"
                " AND last_step < ?",
                (step, username, step),
            )
            return cursor.rowcount == 1

        return self._write(accept)

    def spend_recovery_code(self, *, username: str, code_hash: str) -> bool:
        def spend(connection: sqlite3.Connection) -> bool:
            rows = connection.execute(
                "SELECT recovery_hashes FROM totp WHERE username = ? AND enabled = 1",
                (username,),
            ).fetchall()
            hashes = set(rows[0][0].split()) if rows else set()
            if code_hash not in hashes:
                return False
            hashes.discard(code_hash)
            connection.execute(
                "UPDATE totp SET recovery_hashes = ? WHERE username = ?",
                (" ".join(sorted(hashes)), username),
            )
            return True

        return self._write(spend)

    def delete_totp(self, *, username: str) -> None:
        self._write(lambda c: c.execute("DELETE FROM totp WHERE username = ?", (username,)))

    # -- passkeys ---------------------------------------------------------------------

    def add_passkey(self, passkey: Passkey, *, limit: int) -> bool:
        def add(connection: sqlite3.Connection) -> bool:
            owner = connection.execute(
                "SELECT deleted FROM users WHERE username = ?", (passkey.username,)
            ).fetchone()
            if owner is None or owner[0]:
                return False  # gone or being deleted: nothing new is added to it
            (count,) = connection.execute(
                "SELECT COUNT(*) FROM passkeys WHERE username = ?", (passkey.username,)
            ).fetchone()
            if count >= limit:
                return False
            connection.execute(
                f"INSERT INTO passkeys ({_PASSKEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                (passkey.credential_id, passkey.username, passkey.public_key, passkey.sign_count,
                 " ".join(passkey.transports), passkey.name, passkey.created_at,
                 passkey.last_used_at),
            )
            return True

        try:
            return self._write(add)
        except sqlite3.IntegrityError:
            raise Conflict("this passkey is already registered") from None

    def get_passkey(self, *, credential_id: str) -> Passkey | None:
        rows = self._read(
            f"SELECT {_PASSKEY_COLUMNS} FROM passkeys WHERE credential_id = ?",  # noqa: S608
            (credential_id,),
        )
        return _passkey(rows[0]) if rows else None

    def list_passkeys(self, *, username: str) -> list[Passkey]:
        rows = self._read(
            f"SELECT {_PASSKEY_COLUMNS} FROM passkeys WHERE username = ?"  # noqa: S608
            " ORDER BY created_at, credential_id",
            (username,),
        )
        return [_passkey(row) for row in rows]

    def rename_passkey(self, *, username: str, credential_id: str, name: str) -> bool:
        def rename(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute(
                "UPDATE passkeys SET name = ? WHERE credential_id = ? AND username = ?",
                (name, credential_id, username),
            )
            return cursor.rowcount == 1

        return self._write(rename)

    def delete_passkey(self, *, username: str, credential_id: str) -> bool:
        def delete(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute(
                "DELETE FROM passkeys WHERE credential_id = ? AND username = ?",
                (credential_id, username),
            )
            return cursor.rowcount == 1

        return self._write(delete)

    def record_passkey_use(
        self, *, username: str, credential_id: str, previous_sign_count: int, sign_count: int,
        now: float,
    ) -> bool:
        def record(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute(
                "UPDATE passkeys SET sign_count = ?, last_used_at = ?"
                " WHERE credential_id = ? AND username = ? AND sign_count = ?",
                (sign_count, now, credential_id, username, previous_sign_count),
            )
            return cursor.rowcount == 1

        return self._write(record)

    def put_challenge(self, challenge: Challenge) -> None:
        def put(connection: sqlite3.Connection) -> None:
            self._prune_expired(connection, self._clock())
            connection.execute(
                "INSERT INTO challenges"
                " (key, purpose, username, expires_at, credential_stamp, device_id)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (challenge.key, challenge.purpose, challenge.username, challenge.expires_at,
                 challenge.credential_stamp, challenge.device_id),
            )

        self._write(put)

    def take_challenge(self, *, key: str, now: float) -> Challenge | None:
        def take(connection: sqlite3.Connection) -> Challenge | None:
            rows = connection.execute(
                "SELECT key, purpose, username, expires_at, credential_stamp, device_id"
                " FROM challenges"
                " WHERE key = ?",
                (key,),
            ).fetchall()
            if not rows:
                return None
            connection.execute("DELETE FROM challenges WHERE key = ?", (key,))
            found = _challenge(rows[0])
            return found if found.expires_at >= int(now) else None

        return self._write(take)

    @staticmethod
    def _marked(connection: sqlite3.Connection, username: str, credential_stamp: str) -> bool:
        return bool(connection.execute(
            "SELECT 1 FROM users WHERE username = ? AND credential_stamp = ? AND deleted = 1",
            (username, credential_stamp),
        ).fetchall())

    def delete_user(self, *, username: str, credential_stamp: str) -> None:
        self._write(
            lambda c: c.execute(
                "DELETE FROM users WHERE username = ? AND credential_stamp = ? AND deleted = 1",
                (username, credential_stamp),
            )
        )

    # --- known devices ---

    def add_device(self, device: KnownDevice) -> None:
        def insert(connection: sqlite3.Connection) -> None:
            self._prune_expired(connection, self._clock())
            connection.execute(
                "INSERT OR REPLACE INTO devices"
                " (username, token_hash, device_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                (device.username, device.token_hash, device.device_id, device.created_at,
                 device.expires_at),
            )

        self._write(insert)

    def get_device(self, *, username: str, token_hash: str) -> KnownDevice | None:
        rows = self._read(
            "SELECT username, token_hash, device_id, created_at, expires_at FROM devices"
            " WHERE username = ? AND token_hash = ?",
            (username, token_hash),
        )
        return KnownDevice(**_fields(rows[0])) if rows else None

    def forget_devices(self, *, username: str) -> None:
        self._write(lambda c: c.execute("DELETE FROM devices WHERE username = ?", (username,)))

    # --- security events ---

    def add_security_event(self, event: SecurityEvent) -> None:
        def insert(connection: sqlite3.Connection) -> None:
            self._prune_expired(connection, self._clock())  # the 90 days end here
            connection.execute(
                "INSERT INTO security_events (username, id, type, created_at, expires_at, ip,"
                " user_agent, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (event.username, event.id, event.type, event.created_at, event.expires_at,
                 event.ip, event.user_agent, event.details_json),
            )

        self._write(insert)

    def list_security_events(
        self, *, username: str, limit: int, before_id: str | None, now: float
    ) -> SecurityEventPage:
        # The primary key (username, id) is the index: one range read, newest first.
        rows = self._read(
            "SELECT username, id, type, created_at, expires_at, ip, user_agent, details"
            " FROM security_events WHERE username = ? AND id < ? AND expires_at >= ?"
            " ORDER BY id DESC LIMIT ?",
            (username, before_id if before_id is not None else "\uffff", int(now), limit + 1),
        )
        events = tuple(
            SecurityEvent(
                username=row["username"], id=row["id"], type=row["type"],
                created_at=row["created_at"], expires_at=row["expires_at"], ip=row["ip"],
                user_agent=row["user_agent"], details_json=row["details"],
            )
            for row in rows[:limit]
        )
        return SecurityEventPage(events=events, has_more=len(rows) > limit)

    # --- email (issue 23) ---

    def get_email(self, *, username: str) -> EmailAddress | None:
        rows = self._read(
            "SELECT username, verified, pending FROM emails WHERE username = ?", (username,)
        )
        return EmailAddress(**_fields(rows[0])) if rows else None

    @staticmethod
    def _require_live(connection: sqlite3.Connection, username: str,
                      credential_stamp: str) -> None:
        """In the writing transaction: deletion marks the account in one and sweeps its
        rows in later ones, so a row written after this check is swept with the rest."""
        if not connection.execute(
            "SELECT 1 FROM users WHERE username = ? AND credential_stamp = ? AND deleted = 0",
            (username, credential_stamp),
        ).fetchall():
            raise AccountGone("this account no longer exists")

    def set_pending_email(self, *, username: str, email: str, credential_stamp: str) -> None:
        def pending(connection: sqlite3.Connection) -> None:
            self._require_live(connection, username, credential_stamp)
            connection.execute(
                "INSERT INTO emails (username, pending) VALUES (?, ?)"
                " ON CONFLICT (username) DO UPDATE SET pending = excluded.pending",
                (username, email),
            )

        self._write(pending)

    def claim_email(self, *, username: str, email: str, credential_stamp: str) -> bool:
        def claim(connection: sqlite3.Connection) -> None:
            self._require_live(connection, username, credential_stamp)
            connection.execute(
                "INSERT INTO emails (username, verified) VALUES (?, ?)"
                " ON CONFLICT (username) DO UPDATE SET verified = excluded.verified,"
                " pending = CASE WHEN pending = excluded.verified THEN '' ELSE pending END",
                (username, email),
            )

        try:
            self._write(claim)
        except sqlite3.IntegrityError:  # the unique index: another account holds it
            return False
        return True

    def email_owner(self, *, email: str) -> str | None:
        rows = self._read("SELECT username FROM emails WHERE verified = ?", (email,))
        return str(rows[0]["username"]) if rows else None

    def put_email_token(self, token: EmailToken) -> None:
        def put(connection: sqlite3.Connection) -> None:
            self._prune_expired(connection, self._clock())
            connection.execute(
                "INSERT OR REPLACE INTO email_tokens (purpose, token_hash, username,"
                " expires_at, email, credential_stamp) VALUES (?, ?, ?, ?, ?, ?)",
                (token.purpose, token.token_hash, token.username, token.expires_at,
                 token.email, token.credential_stamp),
            )

        self._write(put)

    def take_email_token(self, *, purpose: str, token_hash: str, now: float
                         ) -> EmailToken | None:
        def take(connection: sqlite3.Connection) -> EmailToken | None:
            rows = connection.execute(
                "DELETE FROM email_tokens WHERE purpose = ? AND token_hash = ?"
                " RETURNING token_hash, purpose, username, expires_at, email, credential_stamp",
                (purpose, token_hash),
            ).fetchall()
            if not rows:
                return None
            found = EmailToken(**_fields(rows[0]))
            return found if found.expires_at >= int(now) else None

        return self._write(take)

    # --- recovery codes and passkey handles (issue 21) ---

    def set_recovery_codes(self, *, username: str, recovery_hashes: frozenset[str]) -> bool:
        def replace(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute(
                "UPDATE totp SET recovery_hashes = ? WHERE username = ? AND enabled = 1",
                (" ".join(sorted(recovery_hashes)), username),
            )
            return cursor.rowcount == 1

        return self._write(replace)

    def set_webauthn_handle(self, *, username: str, handle: str) -> User | None:
        def give(connection: sqlite3.Connection) -> User | None:
            connection.execute(
                "UPDATE users SET webauthn_handle = ? WHERE username = ? AND webauthn_handle = ''",
                (handle, username),
            )
            row = connection.execute(
                f"SELECT {_USER_COLUMNS} FROM users WHERE username = ?", (username,)  # noqa: S608
            ).fetchone()
            return _user(row) if row is not None else None

        return self._write(give)
