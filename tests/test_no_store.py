"""Every API answer carries ``Cache-Control: no-store`` (docs/openapi.yaml, Caching): token
pairs, TOTP secrets and account data never stay in a browser's or a proxy's cache.

Checked on the successes and on every kind of error, through ``chalice.test.Client``
and over HTTP against ``python -m ops.local_server`` (whose own gateway answers count).
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests import servers
from tests.helpers import WEB_ORIGIN, Api, make_keyring_json
from tests.http_client import request

PASSWORD = "correct horse battery staple"


def assert_no_store(headers: dict[str, str], what: str) -> None:
    lowered = {name.lower(): value for name, value in headers.items()}
    assert lowered.get("cache-control") == "no-store", what


# -- chalice.test.Client ------------------------------------------------------------------


def test_successes_and_errors_carry_no_store_under_the_test_client(
    api: Api, env_override: Callable[..., None]
) -> None:
    tokens = api.session("alice")
    access = tokens["access_token"]
    posted = api.call("POST", "/messages", {"content": "hello"}, token=access)
    answers = {
        "signup 201": (api.signup("bob"), 201),
        "login 200 (a token pair)": (api.login("bob"), 200),
        "me 200": (api.call("GET", "/me", token=access), 200),
        "post 201": (posted, 201),
        "messages 200": (api.call("GET", "/messages", token=access), 200),
        "health 200": (api.call("GET", "/health"), 200),
        "totp 200 (a secret)": (api.call("POST", "/me/totp", {"password": PASSWORD},
                                         token=access), 200),
        "bad json 400": (api.call("POST", "/signup", raw="not json"), 400),
        "wrong login 401": (api.login("alice", "not the right password"), 401),
        "bad token 401 (the authorizer)": (api.call("GET", "/me", token="nope"), 401),
        "wrong password 403": (api.call("DELETE", "/me", {"password": "not it at all"},
                                        token=access), 403),
        "unknown message 404": (api.call("DELETE", "/messages/01ARZ3NDEKTSV4RRFFQ69G5FAV",
                                         token=access), 404),
        "method 405": (api.call("PUT", "/messages", {}, token=access), 405),
        "taken 409": (api.signup("alice"), 409),
        "body 413": (api.call("POST", "/signup", raw="x" * (65 * 1024)), 413),
        "media type 415": (api.call("POST", "/signup", raw="<a/>",
                                    headers={"Content-Type": "application/xml"}), 415),
    }
    env_override(CHALKBOARD_LOGIN_MAX_FAILURES="1")
    api.login("carol", "not the right password")
    answers["throttled 429"] = (api.login("carol", "not the right password"), 429)
    for what, (response, status) in answers.items():
        assert response.status_code == status, (what, response.body)
        assert_no_store(response.headers, what)


def test_an_unavailable_store_is_a_503_with_no_store(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib import health
    from chalicelib.errors import StoreUnavailable

    def down(_deps: object) -> None:
        raise StoreUnavailable()

    monkeypatch.setattr(health, "check", down)
    response = api.call("GET", "/health")
    assert response.status_code == 503
    assert_no_store(response.headers, "503")


# -- over HTTP: python -m ops.local_server ---------------------------------------------------


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with servers.sqlite_api(tmp_path_factory.mktemp("no-store")) as url:
        yield url


def test_successes_and_errors_carry_no_store_over_http(api_url: str) -> None:
    credentials = {"username": "dave", "password": PASSWORD}
    signed_up = request("POST", api_url + "/signup", credentials)
    logged_in = request("POST", api_url + "/login", credentials)
    access = logged_in.body["access_token"]
    answers = {
        "signup 201": (signed_up, 201),
        "login 200": (logged_in, 200),
        "refresh 200": (request("POST", api_url + "/token/refresh",
                                {"refresh_token": logged_in.body["refresh_token"]}), 200),
        "me 200": (request("GET", api_url + "/me", token=access), 200),
        "bad json 400": (request("POST", api_url + "/signup", raw=b"{"), 400),
        "no Authorization 401 (the gateway)": (request("GET", api_url + "/me"), 401),
        "bad token 401 (the authorizer)": (request("GET", api_url + "/me", token="x.y.z"),
                                           401),
        "unknown route 403 (the gateway)": (request("GET", api_url + "/nowhere"), 403),
        "unknown message 404": (request("DELETE",
                                        api_url + "/messages/01ARZ3NDEKTSV4RRFFQ69G5FAV",
                                        token=access), 404),
        "method 405": (request("PUT", api_url + "/messages", {}, token=access), 405),
        "body 413": (request("POST", api_url + "/signup", raw=b"x" * (65 * 1024)), 413),
    }
    for what, (reply, status) in answers.items():
        assert reply.status == status, (what, reply.body)
        assert_no_store(reply.headers, what)


def test_a_method_no_route_takes_is_a_403_with_no_store(api_url: str) -> None:
    port = int(api_url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("TRACE", "/messages")
        response = connection.getresponse()
        assert json.loads(response.read()) == {"message": "Missing Authentication Token"}
        assert response.status == 403
        assert response.getheader("Cache-Control") == "no-store"
    finally:
        connection.close()


def test_an_unreachable_store_is_a_503_with_no_store_over_http(tmp_path: Path) -> None:
    env = {
        "CHALKBOARD_STORE": "dynamodb", "CHALKBOARD_WEB_ORIGIN": WEB_ORIGIN,
        "CHALKBOARD_SIGNING_KEYS": make_keyring_json(),
        "CHALKBOARD_USERS_TABLE": "gone-users", "CHALKBOARD_MESSAGES_TABLE": "gone-messages",
        "CHALKBOARD_AUTH_TABLE": "gone-auth", "CHALKBOARD_USER_ITEMS_TABLE": "gone-user-items",
        "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{servers.free_port()}",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    with servers.chalice_local(env, tmp_path / "server.log") as server:
        reply = request("GET", server.url + "/health")
    assert reply.status == 503
    assert_no_store(reply.headers, "503")
