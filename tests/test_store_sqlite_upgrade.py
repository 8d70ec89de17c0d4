"""A SQLite file made before display names existed opens and gains the column."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from chalicelib.store.sqlite import SQLiteStore


def test_database_from_before_display_names_gains_the_column(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE users (username TEXT PRIMARY KEY, password_hash TEXT NOT NULL,"
            " created_at REAL NOT NULL, credential_stamp TEXT NOT NULL,"
            " deleted INTEGER NOT NULL DEFAULT 0)"
        )
        old.execute("INSERT INTO users VALUES ('alice', '$argon2id$x', 1.5, 'stamp', 0)")
    old.close()
    store = SQLiteStore(path)
    assert store.get_user("alice").display_name == "alice"
    assert store.set_display_name(username="alice", display_name="Alice").display_name == "Alice"
    assert store.get_user("alice").display_name == "Alice"


def test_database_from_before_session_details_gains_the_columns(tmp_path: Path) -> None:
    """Sessions, refresh tokens and challenges made before issue 21 keep working: the new
    columns arrive with defaults (no absolute end recorded: the refresh sets one)."""
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:
        old.executescript(
            "CREATE TABLE sessions (username TEXT NOT NULL, sid TEXT NOT NULL,"
            " credential_stamp TEXT NOT NULL, created_at REAL NOT NULL,"
            " last_used_at REAL NOT NULL, expires_at INTEGER NOT NULL,"
            " PRIMARY KEY (username, sid)) WITHOUT ROWID;"
            "CREATE TABLE refresh_tokens (token_hash TEXT PRIMARY KEY, username TEXT NOT NULL,"
            " family TEXT NOT NULL, issued_at_ms INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
            " used INTEGER NOT NULL DEFAULT 0);"
            "INSERT INTO sessions VALUES ('alice', 's1', 'stamp', 1.5, 1.5, 4000000000);"
            "INSERT INTO refresh_tokens VALUES ('h', 'alice', 's1', 1500, 4000000000, 0);"
        )
    old.close()
    store = SQLiteStore(path)
    (session,) = store.list_sessions(username="alice", now=2.0)
    assert (session.ends_at, session.method, session.user_agent, session.credential_id) == (
        0, "password", "", "")
    token = store.get_refresh_token(token_hash="h")
    assert token is not None and token.session_ends_at == 0
