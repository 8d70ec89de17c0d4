"""Every route and status code of docs/openapi.yaml through chalice.test.Client, on SQLite
(the store contract proves both adapters: docs/testing.md)."""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers import WEB_ORIGIN, Api, body_of

# Above the store: the store contract proves both adapters (docs/testing.md).
pytestmark = pytest.mark.stores("sqlite")

PASSWORD = "correct horse battery staple"
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def error_message(response) -> str:
    body = body_of(response)
    assert set(body) == {"Code", "Message"}, body
    return body["Message"]


# -- signup -------------------------------------------------------------------------


def test_signup_returns_201_with_lowercased_username(api: Api) -> None:
    response = api.signup("Alice.B-C_1")
    assert response.status_code == 201
    assert body_of(response) == {"username": "alice.b-c_1", "display_name": "alice.b-c_1",
                                 "email": None, "email_verified": False}


def test_duplicate_username_is_409_whatever_its_case(api: Api) -> None:
    assert api.signup("alice").status_code == 201
    response = api.signup("ALICE")
    assert response.status_code == 409
    assert "taken" in error_message(response)


def test_fullwidth_lookalike_username_is_the_same_account(api: Api) -> None:
    assert api.signup("alice").status_code == 201
    assert api.signup("ａｌｉｃｅ").status_code == 409  # a look-alike form of the same name


@pytest.mark.parametrize(
    ("username", "password", "field"),
    [
        ("al", PASSWORD, "username"),
        ("a" * 33, PASSWORD, "username"),
        ("alice smith", PASSWORD, "username"),
        ("alice<script>", PASSWORD, "username"),
        ("аlice", PASSWORD, "username"),  # Cyrillic a is refused, not folded
        ("alice", "short", "password"),
        ("alice", "x" * 129, "password"),
        ("alice", "qwerty123456", "password"),
        ("alice", "password1234", "password"),
        ("alice", "Password1234", "password"),
        ("alicealicealice", "AliceAliceAlice", "password"),
    ],
)
def test_invalid_signup_is_400_naming_the_field(
    api: Api, username: str, password: str, field: str
) -> None:
    response = api.signup(username, password)
    assert response.status_code == 400
    assert error_message(response).startswith(field)


def test_password_of_any_unicode_within_length_is_accepted(api: Api) -> None:
    assert api.signup("unicode", "пароль-密码-🔑-ok!").status_code == 201


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('"text"', "JSON object"),
        ("", "JSON object"),
        ('{"username": "alice"}', "password is required"),
        ('{"username": 5, "password": "correct horse battery"}', "username must be a string"),
        ('{"username": "alice", "password": null}', "password must be a string"),
        ('{"username": "alice", "password": "correct horse battery", "admin": true}',
         "unknown field: admin"),
    ],
)
def test_malformed_body_is_400(api: Api, raw: str, message: str) -> None:
    response = api.call("POST", "/signup", raw=raw)
    assert response.status_code == 400
    assert message in error_message(response)


def test_body_over_64_kib_is_413(api: Api) -> None:
    raw = json.dumps({"username": "alice", "password": "p" * (65 * 1024)})
    response = api.call("POST", "/signup", raw=raw)
    assert response.status_code == 413
    assert "64 KiB" in error_message(response)


# -- login ---------------------------------------------------------------------------


def test_login_returns_a_token_pair(api: Api) -> None:
    api.signup("alice")
    response = api.login("ALICE")
    assert response.status_code == 200
    pair = body_of(response)
    assert set(pair) == {"access_token", "token_type", "expires_in", "refresh_token", "username",
                         "device_token"}
    assert pair["token_type"] == "Bearer"
    assert pair["expires_in"] == 900
    assert pair["username"] == "alice"


def test_wrong_password_and_unknown_user_get_the_same_401(api: Api) -> None:
    api.signup("alice")
    wrong = api.login("alice", "not the right password")
    unknown = api.login("nobody", "not the right password")
    assert wrong.status_code == unknown.status_code == 401
    assert body_of(wrong) == body_of(unknown) == {
        "Code": "UnauthorizedError", "Message": "invalid credentials",
    }


def test_login_with_impossible_username_or_huge_password_is_401(api: Api) -> None:
    assert api.login("x", PASSWORD).status_code == 401
    assert api.login("alice", "p" * 10_000).status_code == 401


def test_no_response_carries_a_password_or_hash(api: Api) -> None:
    responses = [api.signup("alice"), api.login("alice")]
    token = body_of(responses[1])["access_token"]
    responses.append(api.call("GET", "/me", token=token))
    for response in responses:
        text = response.body.decode()
        assert PASSWORD not in text and "argon2" not in text


# -- authorizer ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Bearer not-a-jwt", "Bearer ", "Basic dXNlcjpwYXNz", "eyJhbGciOiJIUzI1NiJ9.e30.x",
        "Bearer a.b.c",
    ],
)
def test_bad_authorization_is_401_with_cors(api: Api, header: str) -> None:
    response = api.call("GET", "/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert body_of(response) == {"message": "Unauthorized"}
    assert response.headers["Access-Control-Allow-Origin"] == WEB_ORIGIN


def test_missing_authorization_is_401(api: Api) -> None:
    response = api.call("GET", "/messages")
    assert response.status_code == 401


def test_one_token_opens_every_guarded_route(api: Api) -> None:
    """The policy covers every route, as API Gateway caches it per token."""
    token = api.session("alice")["access_token"]
    assert api.call("GET", "/me", token=token).status_code == 200
    assert api.call("GET", "/messages", token=token).status_code == 200
    created = api.call("POST", "/messages", {"content": "hi"}, token=token)
    assert created.status_code == 201
    message_id = body_of(created)["id"]
    assert api.call("DELETE", f"/messages/{message_id}", token=token).status_code == 204


# -- token refresh ---------------------------------------------------------------------


def test_refresh_returns_a_new_pair_and_spends_the_old_token(api: Api) -> None:
    pair = api.session("alice")
    response = api.call("POST", "/token/refresh", {"refresh_token": pair["refresh_token"]})
    assert response.status_code == 200
    new_pair = body_of(response)
    assert new_pair["refresh_token"] != pair["refresh_token"]
    assert api.call("GET", "/me", token=new_pair["access_token"]).status_code == 200
    again = api.call("POST", "/token/refresh", {"refresh_token": pair["refresh_token"]})
    assert again.status_code == 401


def test_reused_refresh_token_revokes_its_whole_family(api: Api) -> None:
    pair = api.session("alice")
    rotated = body_of(api.call("POST", "/token/refresh", {"refresh_token": pair["refresh_token"]}))
    reuse = api.call("POST", "/token/refresh", {"refresh_token": pair["refresh_token"]})
    assert reuse.status_code == 401
    # The thief or the victim reused a token: the newer one in the family is dead too.
    response = api.call("POST", "/token/refresh", {"refresh_token": rotated["refresh_token"]})
    assert response.status_code == 401


def test_unknown_refresh_token_is_401(api: Api) -> None:
    response = api.call("POST", "/token/refresh", {"refresh_token": "made-up"})
    assert response.status_code == 401
    assert "log in again" in error_message(response)


def test_refresh_token_is_not_an_access_token_and_vice_versa(api: Api) -> None:
    pair = api.session("alice")
    assert api.call("GET", "/me", token=pair["refresh_token"]).status_code == 401
    response = api.call("POST", "/token/refresh", {"refresh_token": pair["access_token"]})
    assert response.status_code == 401


def test_other_logins_are_independent_sessions(api: Api) -> None:
    first = api.session("alice")
    second = body_of(api.login("alice"))
    api.call("POST", "/logout", {"refresh_token": first["refresh_token"]},
             token=first["access_token"])
    assert api.call("GET", "/me", token=second["access_token"]).status_code == 200
    refreshed = api.call("POST", "/token/refresh", {"refresh_token": second["refresh_token"]})
    assert refreshed.status_code == 200


# -- logout ----------------------------------------------------------------------------


def test_logout_revokes_access_and_refresh_token_at_once(api: Api) -> None:
    pair = api.session("alice")
    response = api.call("POST", "/logout", {"refresh_token": pair["refresh_token"]},
                        token=pair["access_token"])
    assert response.status_code == 204
    assert response.body == b""
    assert api.call("GET", "/me", token=pair["access_token"]).status_code == 401
    refresh = api.call("POST", "/token/refresh", {"refresh_token": pair["refresh_token"]})
    assert refresh.status_code == 401


def test_logout_without_body_revokes_the_access_token(api: Api) -> None:
    pair = api.session("alice")
    assert api.call("POST", "/logout", token=pair["access_token"]).status_code == 204
    assert api.call("GET", "/messages", token=pair["access_token"]).status_code == 401


def test_logout_cannot_revoke_someone_elses_refresh_token(api: Api) -> None:
    alice, bob = api.session("alice"), api.session("bob")
    api.call("POST", "/logout", {"refresh_token": bob["refresh_token"]},
             token=alice["access_token"])
    assert api.call("POST", "/token/refresh",
                    {"refresh_token": bob["refresh_token"]}).status_code == 200


def test_logout_needs_a_token(api: Api) -> None:
    assert api.call("POST", "/logout", headers={"Authorization": "Bearer x"}).status_code == 401


# -- me --------------------------------------------------------------------------------


def test_me_returns_username_and_creation_time(api: Api) -> None:
    token = api.session("Alice")["access_token"]
    response = api.call("GET", "/me", token=token)
    assert response.status_code == 200
    me = body_of(response)
    assert me["username"] == "alice"
    assert ISO_MS.match(me["created_at"])


# -- password change -------------------------------------------------------------------


def test_password_change_voids_every_earlier_token(api: Api) -> None:
    pair = api.session("alice")
    other = body_of(api.login("alice"))
    response = api.call(
        "POST", "/me/password",
        {"current_password": PASSWORD, "new_password": "a brand new passphrase"},
        token=pair["access_token"],
    )
    assert response.status_code == 204
    for token in (pair["access_token"], other["access_token"]):
        assert api.call("GET", "/me", token=token).status_code == 401
    for refresh in (pair["refresh_token"], other["refresh_token"]):
        assert api.call("POST", "/token/refresh", {"refresh_token": refresh}).status_code == 401
    assert api.login("alice").status_code == 401
    fresh = api.login("alice", "a brand new passphrase")
    assert fresh.status_code == 200
    assert api.call("GET", "/me", token=body_of(fresh)["access_token"]).status_code == 200


def test_password_change_with_wrong_current_password_is_403(api: Api) -> None:
    token = api.session("alice")["access_token"]
    response = api.call(
        "POST", "/me/password",
        {"current_password": "wrong wrong wrong", "new_password": "a brand new passphrase"},
        token=token,
    )
    assert response.status_code == 403
    assert api.call("GET", "/me", token=token).status_code == 200


@pytest.mark.parametrize("new_password", ["short", "password1234", "alice"])
def test_password_change_to_an_invalid_password_is_400(api: Api, new_password: str) -> None:
    token = api.session("alice")["access_token"]
    response = api.call("POST", "/me/password",
                        {"current_password": PASSWORD, "new_password": new_password}, token=token)
    assert response.status_code == 400
    assert error_message(response).startswith("password")


def test_password_change_needs_a_token(api: Api) -> None:
    response = api.call("POST", "/me/password",
                        {"current_password": PASSWORD, "new_password": "a brand new passphrase"},
                        headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


# -- messages --------------------------------------------------------------------------


def test_posted_message_is_returned_trimmed_and_unescaped(api: Api) -> None:
    token = api.session("alice")["access_token"]
    content = "  <img src=x onerror=alert(1)> & \"quotes\"  \n"
    response = api.call("POST", "/messages", {"content": content}, token=token)
    assert response.status_code == 201
    message = body_of(response)
    assert set(message) == {"id", "username", "display_name", "content", "created_at"}
    assert message["content"] == content.strip()
    assert message["username"] == "alice"
    assert ISO_MS.match(message["created_at"])


def test_author_comes_from_the_token_not_the_body(api: Api) -> None:
    token = api.session("alice")["access_token"]
    response = api.call("POST", "/messages", {"content": "hi", "username": "bob"}, token=token)
    assert response.status_code == 400  # unknown field, never trusted
    response = api.call("POST", "/messages", {"content": "hi"}, token=token)
    assert body_of(response)["username"] == "alice"


@pytest.mark.parametrize("content", ["", "   \n\t ", "x" * 1001])
def test_empty_or_too_long_message_is_400(api: Api, content: str) -> None:
    token = api.session("alice")["access_token"]
    response = api.call("POST", "/messages", {"content": content}, token=token)
    assert response.status_code == 400
    assert error_message(response).startswith("content")


def test_message_of_exactly_1000_characters_after_trimming_is_accepted(api: Api) -> None:
    token = api.session("alice")["access_token"]
    response = api.call("POST", "/messages", {"content": "  " + "é" * 1000 + "  "}, token=token)
    assert response.status_code == 201


def test_board_lists_20_newest_first_by_default_and_pages_to_the_end(api: Api) -> None:
    token = api.session("alice")["access_token"]
    for n in range(45):
        api.call("POST", "/messages", {"content": f"m{n}"}, token=token)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        path = "/messages" + (f"?cursor={cursor}" if cursor else "")
        page = body_of(api.call("GET", path, token=token))
        seen += [m["content"] for m in page["messages"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [f"m{n}" for n in reversed(range(45))]


def test_paging_while_posting_visits_every_older_message_once(api: Api) -> None:
    token = api.session("alice")["access_token"]
    for n in range(10):
        api.call("POST", "/messages", {"content": f"old{n}"}, token=token)
    first = body_of(api.call("GET", "/messages?limit=4", token=token))
    api.call("POST", "/messages", {"content": "new while paging"}, token=token)
    seen = [m["content"] for m in first["messages"]]
    cursor = first["next_cursor"]
    while cursor:
        page = body_of(api.call("GET", f"/messages?limit=4&cursor={cursor}", token=token))
        seen += [m["content"] for m in page["messages"]]
        cursor = page["next_cursor"]
    assert seen == [f"old{n}" for n in reversed(range(10))]


def test_every_user_reads_the_one_shared_board(api: Api) -> None:
    alice, bob = api.session("alice"), api.session("bob")
    api.call("POST", "/messages", {"content": "from alice"}, token=alice["access_token"])
    page = body_of(api.call("GET", "/messages", token=bob["access_token"]))
    assert [(m["username"], m["content"]) for m in page["messages"]] == [("alice", "from alice")]


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", "", "２"])
def test_bad_limit_is_400(api: Api, limit: str) -> None:
    token = api.session("alice")["access_token"]
    response = api.call("GET", f"/messages?limit={limit}", token=token)
    assert response.status_code == 400
    assert error_message(response).startswith("limit")


@pytest.mark.parametrize("limit", ["1", "100"])
def test_limit_bounds_are_accepted(api: Api, limit: str) -> None:
    token = api.session("alice")["access_token"]
    assert api.call("GET", f"/messages?limit={limit}", token=token).status_code == 200


def test_tampered_or_foreign_cursor_is_400(api: Api) -> None:
    token = api.session("alice")["access_token"]
    for n in range(3):
        api.call("POST", "/messages", {"content": f"m{n}"}, token=token)
    cursor = body_of(api.call("GET", "/messages?limit=1", token=token))["next_cursor"]
    tampered = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
    for bad in [tampered, "not-a-cursor", "%00", "eyJMYXN0RXZhbHVhdGVkS2V5Ijp7fX0", "x" * 500]:
        response = api.call("GET", f"/messages?cursor={bad}", token=token)
        assert response.status_code == 400, bad
        assert error_message(response).startswith("cursor")


def test_author_deletes_own_message(api: Api) -> None:
    token = api.session("alice")["access_token"]
    message = body_of(api.call("POST", "/messages", {"content": "oops"}, token=token))
    response = api.call("DELETE", f"/messages/{message['id']}", token=token)
    assert response.status_code == 204
    assert body_of(api.call("GET", "/messages", token=token))["messages"] == []
    assert api.call("DELETE", f"/messages/{message['id']}", token=token).status_code == 404


def test_deleting_someone_elses_message_is_403(api: Api) -> None:
    alice, bob = api.session("alice"), api.session("bob")
    message = body_of(api.call("POST", "/messages", {"content": "mine"},
                               token=alice["access_token"]))
    response = api.call("DELETE", f"/messages/{message['id']}", token=bob["access_token"])
    assert response.status_code == 403
    assert len(body_of(api.call("GET", "/messages", token=bob["access_token"]))["messages"]) == 1


def test_deleting_a_missing_message_is_404(api: Api) -> None:
    token = api.session("alice")["access_token"]
    for message_id in ["01ARZ3NDEKTSV4RRFFQ69G5FAV", "nope", "x" * 300]:
        assert api.call("DELETE", f"/messages/{message_id}", token=token).status_code == 404


# -- health, CORS, unknown routes -------------------------------------------------------


def test_health_is_ok(api: Api) -> None:
    response = api.call("GET", "/health")
    assert response.status_code == 200
    assert body_of(response) == {"status": "ok"}


def test_responses_allow_only_the_configured_origin(api: Api) -> None:
    response = api.call("GET", "/health", headers={"Origin": "https://evil.example"})
    assert response.headers["Access-Control-Allow-Origin"] == WEB_ORIGIN
    assert api.signup("alice").headers["Access-Control-Allow-Origin"] == WEB_ORIGIN
    bad = api.signup("x")
    assert bad.status_code == 400
    assert bad.headers["Access-Control-Allow-Origin"] == WEB_ORIGIN


@pytest.mark.parametrize(("method", "path"), [("GET", "/nope"), ("POST", "/messages/x/y")])
def test_unknown_route_is_403_or_404_never_5xx(api: Api, method: str, path: str) -> None:
    response = api.call(method, path)
    assert response.status_code in {403, 404}


def test_wrong_method_is_4xx(api: Api) -> None:
    assert api.call("PUT", "/signup", {"username": "a"}).status_code == 405


def test_authorizer_policy_covers_every_guarded_route_for_the_cached_token(api: Api) -> None:
    """API Gateway caches one policy per token for all routes: it must allow each of them."""
    from chalice.app import AuthRequest
    from chalice.local import ARNMatcher

    from app import app, jwt_auth

    token = api.session("alice")["access_token"]
    base = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/api"
    request = AuthRequest("TOKEN", f"Bearer {token}", f"{base}/GET/me")
    policy = jwt_auth.func(request).to_dict(request)
    resources = [r for s in policy["policyDocument"]["Statement"] if s["Effect"] == "Allow"
                 for r in s["Resource"]]
    guarded = [(path, method) for path, methods in app.routes.items()
               for method, entry in methods.items() if entry.authorizer is not None]
    # logout, me (get, patch, delete), me/sessions (list, end one), me/password, messages (3);
    # two-factor: begin, confirm, disable, recovery codes;
    # passkeys: options, add, list, rename, delete; me/security-events, me/email;
    # live/ticket (issue 26)
    assert len(guarded) == 22
    for path, method in guarded:
        arn = f"{base}/{method}{re.sub(r'[{][a-z_]+[}]', '01ARZ3NDEKTSV4RRFFQ69G5FAV', path)}"
        assert ARNMatcher(arn).does_any_resource_match(resources), arn


def test_body_that_is_not_json_by_content_type_is_415(api: Api) -> None:
    response = api.call("POST", "/signup", raw="username=alice",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 415
    assert body_of(response)["Code"] == "UnsupportedMediaType"
