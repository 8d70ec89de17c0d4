"""Fixtures: settings per test, both store adapters on fresh tables, the test client.

Every store-facing fixture is parametrized over the two adapters, so the same
tests run on SQLite and on DynamoDB (dynalite, a real DynamoDB-protocol server).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chalicelib import config, deps, signing_keys, store
from tests import servers

WEB_ORIGIN = "http://localhost:8080"
STORES = ["sqlite", "dynamodb"]
DUMMY_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def make_keyring_json(*kids: str) -> str:
    kids = kids or ("k1",)
    keys = {kid: signing_keys.generate_key() for kid in kids}
    return json.dumps({"current": kids[-1], "keys": keys})


def reset_caches() -> None:
    """Forget settings, keyring and store, so the next request reads the environment."""
    deps.reset()


@pytest.fixture(scope="session")
def dynalite_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with servers.dynalite(tmp_path_factory.mktemp("dynalite")) as server:
        yield server.url


@pytest.fixture(params=STORES)
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


def unique_tables() -> dict[str, str]:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    return {
        "CHALKBOARD_USERS_TABLE": f"{prefix}-users",
        "CHALKBOARD_MESSAGES_TABLE": f"{prefix}-messages",
        "CHALKBOARD_AUTH_TABLE": f"{prefix}-auth",
    }


@pytest.fixture
def store_env(
    store_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> dict[str, str]:
    """Environment for one test's app: its own SQLite file, or its own DynamoDB tables."""
    env = {
        "CHALKBOARD_STORE": store_kind,
        "CHALKBOARD_DATA_DIR": str(tmp_path / "data"),
        "CHALKBOARD_WEB_ORIGIN": WEB_ORIGIN,
        "CHALKBOARD_SIGNING_KEYS": make_keyring_json(),
    }
    if store_kind == "dynamodb":
        url = request.getfixturevalue("dynalite_url")
        tables = unique_tables()
        env |= {**DUMMY_AWS, **tables, "AWS_ENDPOINT_URL_DYNAMODB": url}
        from chalicelib.store.dynamodb import TableNames, create_tables, make_client

        with pytest.MonkeyPatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            create_tables(
                make_client(),
                TableNames(
                    users=tables["CHALKBOARD_USERS_TABLE"],
                    messages=tables["CHALKBOARD_MESSAGES_TABLE"],
                    auth=tables["CHALKBOARD_AUTH_TABLE"],
                ),
            )
    return env


@pytest.fixture
def app_env(store_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """``store_env`` applied to this process, with every cache reset before and after."""
    for name, value in store_env.items():
        monkeypatch.setenv(name, value)
    # The test stage's cheap argon2 parameters, for code called outside a request.
    monkeypatch.setenv("CHALKBOARD_STAGE", "test")
    monkeypatch.setenv("CHALKBOARD_ARGON2_MEMORY_KIB", "1024")
    monkeypatch.setenv("CHALKBOARD_ARGON2_TIME_COST", "1")
    reset_caches()
    yield store_env
    reset_caches()


@dataclass
class Api:
    """``chalice.test.Client`` with JSON helpers and a sign-up-and-log-in shortcut."""

    client: Any

    def call(
        self, method: str, path: str, body: Any = None, token: str | None = None,
        headers: dict[str, str] | None = None, raw: bytes | str | None = None,
    ) -> Any:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        payload = raw if raw is not None else (json.dumps(body) if body is not None else "")
        return getattr(self.client.http, method.lower())(path, headers=all_headers, body=payload)

    def signup(self, username: str, password: str = "correct horse battery staple") -> Any:
        return self.call("POST", "/signup", {"username": username, "password": password})

    def login(self, username: str, password: str = "correct horse battery staple") -> Any:
        return self.call("POST", "/login", {"username": username, "password": password})

    def session(self, username: str, password: str = "correct horse battery staple") -> dict:
        """Sign up and log in; returns the token pair."""
        assert self.signup(username, password).status_code == 201
        response = self.login(username, password)
        assert response.status_code == 200, response.body
        return json.loads(response.body)


def body_of(response: Any) -> Any:
    return json.loads(response.body) if response.body else None


@pytest.fixture
def api(app_env: dict[str, str]) -> Iterator[Api]:
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="test") as client:
        yield Api(client)


@pytest.fixture
def direct_store(app_env: dict[str, str]) -> store.Store:
    """The adapter under test, built by the same factory the app uses."""
    return store.get_store()


@pytest.fixture
def env_override(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Change settings mid-test (e.g. a short throttle window) and drop the caches."""

    def apply(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        config.get_settings.cache_clear()

    return apply


def pytest_report_header() -> list[str]:
    return [f"CI={os.environ.get('CI', '')}: missing dynalite or Chromium "
            f"{'fails' if servers.in_ci() else 'skips'} the tests that need them"]
