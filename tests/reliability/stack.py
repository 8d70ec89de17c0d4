"""The systems under attack: a store (a SQLite file or dynalite tables) and the
`chalice local` processes serving it, with what a test needs to reach past the
API (mint tokens with the server's own keyring, delete a user row)."""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from chalicelib.config import Settings, load_settings
from chalicelib.sessions import new_session_id
from chalicelib.signing_keys import Keyring, parse_keyring
from chalicelib.store.dynamodb import DynamoDBStore, TableNames
from chalicelib.store.model import Session
from chalicelib.store.protocol import Store
from chalicelib.store.sqlite import SQLiteStore
from chalicelib.tokens import issue_access_token
from ops.stage import table_names
from ops.tables import create_tables
from tests import servers
from tests.helpers import DUMMY_AWS, WEB_ORIGIN, make_keyring_json, unique_tables
from tests.reliability.client import Http

PASSWORD = "staple horse battery correct"
# A stage that .chalice/config.json does not define: chalice local then takes every
# setting from the environment, so a test can run with OWASP's argon2 parameters
# (the `test` stage's variables, which override the environment, make hashing cheap).
UNCONFIGURED_STAGE = "reliability-owasp"


def fresh_name(prefix: str) -> str:
    """A username no other test uses: 3-32 characters of a-z 0-9 _ . -."""
    return f"{prefix[:18]}-{uuid.uuid4().hex[:12]}"


def dynamodb_client(url: str) -> Any:
    return boto3.client(
        "dynamodb", endpoint_url=url, region_name=DUMMY_AWS["AWS_DEFAULT_REGION"],
        aws_access_key_id=DUMMY_AWS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_AWS["AWS_SECRET_ACCESS_KEY"],
    )


@dataclass
class Backend:
    """One store and the settings every server on it shares (keyring, tables, data folder)."""

    kind: str  # "sqlite" or "dynamodb"
    env: dict[str, str]
    workdir: Path

    @functools.cached_property
    def keyring(self) -> Keyring:
        return parse_keyring(self.env["CHALKBOARD_SIGNING_KEYS"])

    @functools.cached_property
    def settings(self) -> Settings:
        return load_settings({**self.env, "CHALKBOARD_STAGE": "test"})

    @property
    def tables(self) -> TableNames:
        return table_names(self.env)

    @property
    def sqlite_path(self) -> Path:
        return Path(self.env["CHALKBOARD_DATA_DIR"]) / "chalkboard-test.sqlite3"

    @functools.cached_property
    def store(self) -> Store:
        """The store the servers use, opened directly."""
        if self.kind == "sqlite":
            return SQLiteStore(self.sqlite_path)
        client = dynamodb_client(self.env["AWS_ENDPOINT_URL_DYNAMODB"])
        return DynamoDBStore(client, self.tables)

    def start_session(self, username: str) -> str:
        """A new live session of the user, as a login starts one; its sid. (For a user
        that does not exist, a sid naming no session.)"""
        now, sid = time.time(), new_session_id()
        user = self.store.get_user(username)
        if user is not None:
            self.store.start_session(Session(
                username=username, sid=sid, credential_stamp=user.credential_stamp,
                created_at=now, last_used_at=now,
                expires_at=int(now) + self.settings.refresh_token_ttl,
            ))
        return sid

    def mint(self, username: str) -> str:
        """A genuine access token in a new session, as the server would issue it."""
        token, _ = issue_access_token(
            username=username, session_id=self.start_session(username), keyring=self.keyring,
            settings=self.settings, now=time.time(),
        )
        return token

    def delete_user(self, username: str) -> None:
        """Remove the user's row behind the API's back (there is no delete-account route)."""
        if self.kind == "sqlite":
            with contextlib.closing(sqlite3.connect(self.sqlite_path)) as db, db:
                assert db.execute("DELETE FROM users WHERE username = ?", (username,)).rowcount
        else:
            client = dynamodb_client(self.env["AWS_ENDPOINT_URL_DYNAMODB"])
            answer = client.delete_item(
                TableName=self.tables.users, Key={"username": {"S": username}},
                ReturnValues="ALL_OLD",
            )
            assert "Attributes" in answer


def make_backend(kind: str, workdir: Path, *, dynalite_url: str | None = None,
                 keyring_json: str | None = None) -> Backend:
    """A fresh store: its own SQLite folder, or its own tables on ``dynalite_url``."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        "CHALKBOARD_STORE": kind,
        "CHALKBOARD_DATA_DIR": str(workdir / "data"),
        "CHALKBOARD_WEB_ORIGIN": WEB_ORIGIN,
        "CHALKBOARD_SIGNING_KEYS": keyring_json or make_keyring_json("k-old", "k-new"),
    }
    if kind == "dynamodb":
        assert dynalite_url is not None
        env |= {**DUMMY_AWS, **unique_tables(), "AWS_ENDPOINT_URL_DYNAMODB": dynalite_url}
    backend = Backend(kind=kind, env=env, workdir=workdir)
    if kind == "dynamodb":
        create_tables(dynamodb_client(dynalite_url), backend.tables)
    return backend


@dataclass(frozen=True)
class Served:
    """A running `chalice local` on a backend."""

    url: str
    backend: Backend
    pid: int

    @property
    def kind(self) -> str:
        return self.backend.kind

    def http(self, *, keep_alive: bool = False, timeout: float = 30) -> Http:
        return Http(self.url, self.kind, keep_alive=keep_alive, timeout=timeout)


@contextlib.contextmanager
def serve(backend: Backend, name: str, *, stage: str = "test",
          extra_env: Mapping[str, str] | None = None) -> Iterator[Served]:
    """`chalice local` on ``backend``; its log lands beside the store, for the log scan."""
    log = backend.workdir / f"chalice-{name}-{uuid.uuid4().hex[:6]}.log"
    with servers.chalice_local({**backend.env, **(extra_env or {})}, log, stage=stage) as server:
        yield Served(url=server.url, backend=backend, pid=server.pid)


def session(http: Http, username: str, password: str = PASSWORD) -> dict[str, Any]:
    """Sign up and log in; the token pair."""
    signed_up = http.call("POST", "/signup", {"username": username, "password": password})
    assert signed_up.status == 201, signed_up.body
    reply = http.call("POST", "/login", {"username": username, "password": password})
    assert reply.status == 200, reply.body
    return reply.body


def all_messages(http: Http, token: str, *, limit: int = 100) -> list[dict[str, Any]]:
    """Follow next_cursor from the newest message to the end."""
    messages: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        page = http.call("GET", "/messages" + query, token=token)
        assert page.status == 200, (page.status, page.body)
        messages += page.body["messages"]
        cursor = page.body["next_cursor"]
        if cursor is None:
            return messages
