"""Sessions and account deletion (docs/openapi.yaml: POST /logout, GET/DELETE /me/sessions,
DELETE /me, POST /me/password) through chalice.test.Client, on SQLite (docs/testing.md)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from chalicelib import accounts, board, sessions
from chalicelib.clients import NO_CLIENT
from chalicelib.deps import current_deps, get_store
from chalicelib.errors import AccountGone, InvalidCredentials
from tests.helpers import Api, body_of

# Above the store: the store contract proves both adapters (docs/testing.md).
pytestmark = pytest.mark.stores("sqlite")

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new passphrase"


def me(api: Api, token: str) -> int:
    return api.call("GET", "/me", token=token).status_code


def refresh(api: Api, refresh_token: str) -> Any:
    return api.call("POST", "/token/refresh", {"refresh_token": refresh_token})


def listed(api: Api, token: str) -> list[dict[str, Any]]:
    response = api.call("GET", "/me/sessions", token=token)
    assert response.status_code == 200, response.body
    return body_of(response)["sessions"]


# -- logout ends the whole session ----------------------------------------------------


def test_logout_ends_every_access_token_of_the_session(api: Api) -> None:
    first = api.session("alice")
    second = body_of(refresh(api, first["refresh_token"]))
    assert me(api, first["access_token"]) == 200  # still live before logout
    assert api.call("POST", "/logout", token=second["access_token"]).status_code == 204
    assert me(api, first["access_token"]) == 401
    assert me(api, second["access_token"]) == 401
    assert refresh(api, second["refresh_token"]).status_code == 401


def test_logout_leaves_the_users_other_sessions_alone(api: Api) -> None:
    first = api.session("alice")
    other = body_of(api.login("alice"))
    api.call("POST", "/logout", token=first["access_token"])
    assert me(api, other["access_token"]) == 200
    assert refresh(api, other["refresh_token"]).status_code == 200


def test_reused_refresh_token_ends_the_session_and_its_access_tokens(api: Api) -> None:
    pair = api.session("alice")
    rotated = body_of(refresh(api, pair["refresh_token"]))
    assert refresh(api, pair["refresh_token"]).status_code == 401
    assert me(api, rotated["access_token"]) == 401
    assert refresh(api, rotated["refresh_token"]).status_code == 401


def test_token_without_a_recorded_session_is_401(api: Api) -> None:
    """A well-signed token naming a session the store never had (sid is checked)."""
    from chalicelib.tokens import issue_access_token

    api.session("alice")
    token, _ = issue_access_token(username="alice", session_id="made-up",
                                  keyring=current_deps().keyring,
                                  settings=current_deps().settings, now=time.time())
    assert me(api, token) == 401


# -- the sessions list ------------------------------------------------------------------


def test_sessions_list_newest_first_marking_the_current_one(api: Api) -> None:
    first = api.session("alice")
    time.sleep(0.01)
    second = body_of(api.login("alice"))
    api.session("bob")
    seen = listed(api, first["access_token"])
    assert [s["current"] for s in seen] == [False, True]
    assert listed(api, second["access_token"])[0]["current"] is True
    for session in seen:
        assert set(session) == {"id", "created_at", "last_used_at", "expires_at", "current",
                                "method", "ip", "device", "device_kind", "user_agent"}
        assert session["created_at"] == session["last_used_at"]
    assert seen[0]["created_at"] > seen[1]["created_at"]


IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1")
IPAD = IPHONE.replace("iPhone; CPU iPhone OS", "iPad; CPU OS")
WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


def test_each_session_says_what_kind_of_device_signed_in(api: Api) -> None:
    assert api.signup("alice").status_code == 201
    for agent in (IPHONE, IPAD, WINDOWS):
        reply = api.call("POST", "/login", {"username": "alice", "password": PASSWORD},
                         headers={"User-Agent": agent})
        assert reply.status_code == 200, reply.body
    token = body_of(api.login("alice"))["access_token"]  # a script: no User-Agent
    kinds = {s["user_agent"]: (s["device"], s["device_kind"]) for s in listed(api, token)}
    assert kinds == {
        IPHONE: ("Mobile Safari 17 on iOS", "phone"),
        IPAD: ("Mobile Safari 17 on iOS", "tablet"),  # the same label: the kind tells them apart
        WINDOWS: ("Firefox 133 on Windows", "desktop"),
        "": ("Unknown device", "unknown"),
    }


def test_refresh_moves_last_used_at_only(api: Api) -> None:
    pair = api.session("alice")
    (before,) = listed(api, pair["access_token"])
    time.sleep(0.01)
    renewed = body_of(refresh(api, pair["refresh_token"]))
    (after,) = listed(api, renewed["access_token"])
    assert after["id"] == before["id"] and after["created_at"] == before["created_at"]
    assert after["last_used_at"] > before["last_used_at"]
    me(api, renewed["access_token"])  # the authorizer never writes
    assert listed(api, renewed["access_token"])[0]["last_used_at"] == after["last_used_at"]


def test_ending_another_session_ends_its_tokens_at_once(api: Api) -> None:
    mine = api.session("alice")
    theirs = body_of(api.login("alice"))
    older = body_of(refresh(api, theirs["refresh_token"]))
    (other,) = [s for s in listed(api, mine["access_token"]) if not s["current"]]
    response = api.call("DELETE", f"/me/sessions/{other['id']}", token=mine["access_token"])
    assert response.status_code == 204
    assert me(api, theirs["access_token"]) == 401
    assert me(api, older["access_token"]) == 401
    assert refresh(api, older["refresh_token"]).status_code == 401
    assert me(api, mine["access_token"]) == 200
    assert [s["current"] for s in listed(api, mine["access_token"])] == [True]


def test_ending_the_current_session_is_a_logout(api: Api) -> None:
    pair = api.session("alice")
    (current,) = listed(api, pair["access_token"])
    assert api.call("DELETE", f"/me/sessions/{current['id']}",
                    token=pair["access_token"]).status_code == 204
    assert me(api, pair["access_token"]) == 401


@pytest.mark.parametrize("whose", ["another user's", "unknown", "too long"])
def test_ending_a_session_not_ones_own_is_404(api: Api, whose: str) -> None:
    alice, bob = api.session("alice"), api.session("bob")
    (bobs,) = listed(api, bob["access_token"])
    session_id = {"another user's": bobs["id"], "unknown": "nope", "too long": "x" * 300}[whose]
    response = api.call("DELETE", f"/me/sessions/{session_id}", token=alice["access_token"])
    assert response.status_code == 404
    assert body_of(response)["Code"] == "NotFoundError"
    assert me(api, bob["access_token"]) == 200


def test_expired_sessions_leave_the_list(api: Api) -> None:
    pair = api.session("alice")
    store = get_store()
    (session,) = store.list_sessions(username="alice", now=time.time())
    assert store.list_sessions(username="alice", now=session.expires_at + 1) == []
    assert len(listed(api, pair["access_token"])) == 1


# -- password change and credential stamps -------------------------------------------


def test_password_change_ends_every_session(api: Api) -> None:
    pair = api.session("alice")
    other = body_of(api.login("alice"))
    assert api.call("POST", "/me/password",
                    {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                    token=pair["access_token"]).status_code == 204
    fresh = body_of(api.login("alice", NEW_PASSWORD))
    assert [s["current"] for s in listed(api, fresh["access_token"])] == [True]
    assert me(api, other["access_token"]) == 401


def test_login_that_read_the_old_password_never_survives_the_change(api: Api) -> None:
    """The race, taken apart: the login verified against the old hash before the
    change committed, and starts its session after the change ended every session."""
    alice = api.session("alice")
    deps = current_deps()
    read_before_change = get_store().get_user("alice")
    assert read_before_change is not None
    claims = sessions.authenticate(deps, alice["access_token"])
    accounts.change_password(deps, claims, PASSWORD, NEW_PASSWORD)
    with pytest.raises(InvalidCredentials):  # no tokens, and no session left behind
        sessions.start_session(deps, read_before_change, sessions.SignIn("password", NO_CLIENT))
    fresh = api.login("alice", NEW_PASSWORD)
    assert [s["current"] for s in listed(api, body_of(fresh)["access_token"])] == [True]


def test_login_that_read_the_account_before_its_deletion_leaves_no_session(api: Api) -> None:
    """The race, taken apart: the login verified before the deletion began, and starts
    its session after the deletion removed every session of the account."""
    alice = api.session("alice")
    deps = current_deps()
    read_before_deletion = get_store().get_user("alice")
    assert read_before_deletion is not None
    assert api.call("DELETE", "/me", {"password": PASSWORD},
                    token=alice["access_token"]).status_code == 204
    with pytest.raises(InvalidCredentials):
        sessions.start_session(deps, read_before_deletion, sessions.SignIn("password", NO_CLIENT))
    fresh = api.session("alice")
    assert [s["current"] for s in listed(api, fresh["access_token"])] == [True]


def test_rehash_at_login_cannot_undo_a_password_change(api: Api) -> None:
    alice = api.session("alice")
    store = get_store()
    before = store.get_user("alice")
    assert before is not None
    claims = sessions.authenticate(current_deps(), alice["access_token"])
    accounts.change_password(current_deps(), claims, PASSWORD, NEW_PASSWORD)
    assert not store.set_password(
        username="alice", password_hash=before.password_hash,
        credential_stamp=before.credential_stamp, expected_stamp=before.credential_stamp,
    )
    assert api.login("alice", NEW_PASSWORD).status_code == 200
    assert api.login("alice", PASSWORD).status_code == 401


# -- account deletion ---------------------------------------------------------------


def delete_me(api: Api, token: str, password: str = PASSWORD) -> Any:
    return api.call("DELETE", "/me", {"password": password}, token=token)


def test_deleting_the_account_removes_it_and_everything_of_it(api: Api) -> None:
    alice, bob = api.session("alice"), api.session("bob")
    other_session = body_of(api.login("alice"))
    for n in range(3):
        api.call("POST", "/messages", {"content": f"alice {n}"}, token=alice["access_token"])
        api.call("POST", "/messages", {"content": f"bob {n}"}, token=bob["access_token"])
    assert delete_me(api, alice["access_token"]).status_code == 204
    for pair in (alice, other_session):
        assert me(api, pair["access_token"]) == 401
        assert refresh(api, pair["refresh_token"]).status_code == 401
    assert api.login("alice").status_code == 401
    board_now = body_of(api.call("GET", "/messages", token=bob["access_token"]))["messages"]
    assert sorted(m["content"] for m in board_now) == ["bob 0", "bob 1", "bob 2"]
    assert get_store().get_user("alice") is None


def test_a_deleted_accounts_messages_leave_the_newest_page_at_once(api: Api) -> None:
    """The newest page this instance keeps for a second is dropped by a deletion, as
    by a deleted message: the next read here no longer shows the account's messages."""
    alice, bob = api.session("alice"), api.session("bob")
    api.call("POST", "/messages", {"content": "alice's"}, token=alice["access_token"])
    api.call("POST", "/messages", {"content": "bob's"}, token=bob["access_token"])
    before = body_of(api.call("GET", "/messages", token=bob["access_token"]))["messages"]
    assert [m["content"] for m in before] == ["bob's", "alice's"]
    assert delete_me(api, alice["access_token"]).status_code == 204
    after = body_of(api.call("GET", "/messages", token=bob["access_token"]))["messages"]
    assert [m["content"] for m in after] == ["bob's"]


def test_no_token_of_a_deleted_account_opens_a_new_account_of_the_same_name(api: Api) -> None:
    old = api.session("alice")
    assert delete_me(api, old["access_token"]).status_code == 204
    new = api.session("alice", "another long passphrase")
    assert me(api, old["access_token"]) == 401
    assert refresh(api, old["refresh_token"]).status_code == 401
    assert me(api, new["access_token"]) == 200


def test_deleting_with_a_wrong_password_is_403_and_counts_as_a_failed_login(api: Api) -> None:
    pair = api.session("alice")
    for _ in range(5):
        response = delete_me(api, pair["access_token"], "not the password at all")
        assert response.status_code == 403
    throttled = delete_me(api, pair["access_token"])
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    assert api.login("alice").status_code == 429
    assert me(api, pair["access_token"]) == 200  # nothing was deleted


def test_deleting_needs_the_password_field(api: Api) -> None:
    pair = api.session("alice")
    assert api.call("DELETE", "/me", {}, token=pair["access_token"]).status_code == 400
    assert me(api, pair["access_token"]) == 200


def test_a_deletion_cut_short_is_finished_by_the_next_signup_of_the_name(api: Api) -> None:
    alice = api.session("alice")
    for n in range(5):
        api.call("POST", "/messages", {"content": f"alice {n}"}, token=alice["access_token"])
    store = get_store()
    marked = store.mark_user_deleted(username="alice")
    assert marked is not None
    store.delete_user_data(username="alice", credential_stamp=marked.credential_stamp,
                           batch=2)  # then the Lambda timed out
    assert me(api, alice["access_token"]) == 401
    assert api.login("alice").status_code == 401
    assert api.signup("alice", "another long passphrase").status_code == 201
    bob = api.session("bob")
    assert body_of(api.call("GET", "/messages", token=bob["access_token"]))["messages"] == []


def test_a_post_that_lands_after_deletion_began_is_taken_back(api: Api) -> None:
    """The race, taken apart: the post passed the authorizer, then deletion began."""
    alice = api.session("alice")
    (session,) = listed(api, alice["access_token"])
    deps = current_deps()
    real_add = deps.store.add_message

    def add_then_deletion_begins(message: Any) -> None:
        real_add(message)
        deps.store.mark_user_deleted(username="alice")

    store: Any = deps.store
    store.add_message = add_then_deletion_begins
    try:
        with pytest.raises(AccountGone):
            board.add_message(deps, username="alice", session_id=session["id"], content="late")
    finally:
        del store.add_message
    assert deps.store.list_messages(limit=10, before_id=None).messages == ()


# -- the authorizer's cost --------------------------------------------------------------


@pytest.mark.stores("dynamodb")
def test_authorizer_makes_exactly_one_store_request(api: Api) -> None:
    pair = api.session("alice")
    store: Any = get_store()
    calls: list[str] = []
    store._client.meta.events.register(
        "before-call.dynamodb", lambda model, **_: calls.append(model.name)
    )
    for _ in range(3):
        calls.clear()
        sessions.authenticate(current_deps(), pair["access_token"])
        assert calls == ["BatchGetItem"]
