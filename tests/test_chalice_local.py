"""The API as a real local server process over HTTP, on both stores.

Served through ops.local_server (Chalice's LocalDevServer, as scripts/run does);
one test runs the real `chalice local` CLI that docs/configuration.md documents.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import servers
from tests.helpers import WEB_ORIGIN, make_keyring_json
from tests.http_client import Reply, request

PASSWORD = "correct horse battery staple"


@pytest.fixture
def api_url(store_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    with servers.chalice_local(store_env, tmp_path / "chalice.log") as server:
        yield server.url


def session(url: str, username: str) -> dict:
    credentials = {"username": username, "password": PASSWORD}
    assert request("POST", url + "/signup", credentials).status == 201
    reply = request("POST", url + "/login", {"username": username, "password": PASSWORD})
    assert reply.status == 200
    return reply.body


def test_sign_up_log_in_post_and_read_over_http(api_url: str) -> None:
    token = session(api_url, "alice")["access_token"]
    posted = request("POST", api_url + "/messages", {"content": "hello over HTTP"}, token=token)
    assert posted.status == 201
    page = request("GET", api_url + "/messages?limit=5", token=token)
    assert page.status == 200
    assert [m["content"] for m in page.body["messages"]] == ["hello over HTTP"]
    assert page.body["next_cursor"] is None
    assert page.headers["Access-Control-Allow-Origin"] == WEB_ORIGIN


def test_the_chalice_local_cli_serves_the_same_app(store_env: dict[str, str],
                                                   tmp_path: Path) -> None:
    with servers.chalice_local(store_env, tmp_path / "chalice.log", via_cli=True) as server:
        token = session(server.url, "carol")["access_token"]
        assert request("POST", server.url + "/messages", {"content": "by hand"},
                       token=token).status == 201
        page = request("GET", server.url + "/messages", token=token)
        assert [m["content"] for m in page.body["messages"]] == ["by hand"]
        assert request("GET", server.url + "/me", headers={"Authorization": "Bearer x"}
                       ).headers["Access-Control-Allow-Origin"] == WEB_ORIGIN


@pytest.mark.parametrize("authorization", ["Bearer forged.token.here", "Bearer ", "Token abc"])
def test_bad_token_is_401_with_cors_under_chalice_local(api_url: str, authorization: str) -> None:
    reply = request("GET", api_url + "/me", headers={"Authorization": authorization})
    assert reply.status == 401
    assert reply.body == {"message": "Unauthorized"}
    assert reply.headers["Access-Control-Allow-Origin"] == WEB_ORIGIN


def test_revoked_token_is_401_under_chalice_local(api_url: str) -> None:
    pair = session(api_url, "alice")
    assert request("POST", api_url + "/logout", {"refresh_token": pair["refresh_token"]},
                   token=pair["access_token"]).status == 204
    assert request("GET", api_url + "/messages", token=pair["access_token"]).status == 401


def test_preflight_allows_the_web_origin_and_authorization(api_url: str) -> None:
    reply = request("OPTIONS", api_url + "/messages", headers={
        "Origin": WEB_ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    })
    assert reply.status == 200
    assert reply.headers["Access-Control-Allow-Origin"] == WEB_ORIGIN
    assert "Authorization" in reply.headers["Access-Control-Allow-Headers"]
    assert {"GET", "POST"} <= set(reply.headers["Access-Control-Allow-Methods"].split(","))


def test_oversized_body_is_413_and_bad_json_is_400(api_url: str) -> None:
    big = b'{"username": "alice", "password": "' + b"p" * (70 * 1024) + b'"}'
    assert request("POST", api_url + "/signup", raw=big).status == 413
    assert request("POST", api_url + "/signup", raw=b"{nope").status == 400


def test_health_is_ok(api_url: str) -> None:
    assert request("GET", api_url + "/health").body == {"status": "ok"}


def test_unknown_route_is_not_a_5xx(api_url: str) -> None:
    assert request("GET", api_url + "/does-not-exist").status in {403, 404}


@pytest.fixture
def unreachable_api(tmp_path: Path) -> Iterator[str]:
    """DynamoDB store pointed at a loopback port where nothing listens."""
    env = {
        "CHALKBOARD_STORE": "dynamodb",
        "CHALKBOARD_WEB_ORIGIN": WEB_ORIGIN,
        "CHALKBOARD_SIGNING_KEYS": make_keyring_json(),
        "CHALKBOARD_USERS_TABLE": "gone-users",
        "CHALKBOARD_MESSAGES_TABLE": "gone-messages",
        "CHALKBOARD_AUTH_TABLE": "gone-auth",
        "CHALKBOARD_USER_ITEMS_TABLE": "gone-user-items",
        "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{servers.free_port()}",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    with servers.chalice_local(env, tmp_path / "chalice.log") as server:
        yield server.url


def timed(call) -> tuple[Reply, float]:
    start = time.monotonic()
    reply = call()
    return reply, time.monotonic() - start


def test_unreachable_store_is_a_quick_503_with_retry_after(unreachable_api: str) -> None:
    calls = {
        "health": lambda: request("GET", unreachable_api + "/health"),
        "signup": lambda: request("POST", unreachable_api + "/signup",
                                  {"username": "alice", "password": PASSWORD}),
        "login": lambda: request("POST", unreachable_api + "/login",
                                 {"username": "alice", "password": PASSWORD}),
    }
    for name, call in calls.items():
        reply, seconds = timed(call)
        assert reply.status == 503, name
        assert int(reply.headers["Retry-After"]) >= 1, name
        assert reply.body["Code"] == "ServiceUnavailable", name
        assert seconds < 5, (name, seconds)


def test_authorizer_answers_503_when_the_store_is_unreachable(tmp_path: Path) -> None:
    """A valid token cannot be checked for revocation: 503, not 401 (which logs people out)."""
    from chalicelib.config import load_settings
    from chalicelib.signing_keys import parse_keyring
    from chalicelib.tokens import issue_access_token

    keyring_json = make_keyring_json()
    env = {
        "CHALKBOARD_STORE": "dynamodb", "CHALKBOARD_WEB_ORIGIN": WEB_ORIGIN,
        "CHALKBOARD_SIGNING_KEYS": keyring_json,
        "CHALKBOARD_USERS_TABLE": "gone-users", "CHALKBOARD_MESSAGES_TABLE": "gone-messages",
        "CHALKBOARD_AUTH_TABLE": "gone-auth",
        "CHALKBOARD_USER_ITEMS_TABLE": "gone-user-items",
        "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{servers.free_port()}",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    settings = load_settings({**env, "CHALKBOARD_STAGE": "test"})
    token, _ = issue_access_token(username="alice", session_id="s1",
                                  keyring=parse_keyring(keyring_json),
                                  settings=settings, now=time.time())
    with servers.chalice_local(env, tmp_path / "chalice.log") as server:
        reply, seconds = timed(lambda: request("GET", server.url + "/messages", token=token))
    assert reply.status == 503
    assert reply.headers["Retry-After"] == "2"
    assert reply.headers["Access-Control-Allow-Origin"] == WEB_ORIGIN
    assert reply.headers["Cache-Control"] == "no-store"  # the authorizer's answer too
    assert seconds < 5
