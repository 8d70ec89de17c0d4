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
