"""Helpers the tests share (fixtures live in conftest.py; these are plain imports).

Servers themselves start from ``tests.servers``, shared with bench/; a missing
one skips its tests on a developer's machine and fails them under CI.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from chalicelib import signing_keys
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
    return json.dumps(
        {"current": kids[-1], "keys": keys, "mfa_key": signing_keys.generate_key()}
    )


def unique_tables() -> dict[str, str]:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    return {
        "CHALKBOARD_USERS_TABLE": f"{prefix}-users",
        "CHALKBOARD_MESSAGES_TABLE": f"{prefix}-messages",
        "CHALKBOARD_AUTH_TABLE": f"{prefix}-auth",
        "CHALKBOARD_USER_ITEMS_TABLE": f"{prefix}-user-items",
    }


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


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(available: bool, what: str, how: str) -> None:
    """Skip when a server is missing on a developer's machine; fail under CI."""
    if available:
        return
    message = f"{what} is not available: {how}"
    if in_ci():
        pytest.fail(message + " (CI=true: required)", pytrace=False)
    pytest.skip(message)


def require_dynalite() -> None:
    require(servers.dynalite_available(), *servers.DYNALITE_MISSING)
