"""Attacks on sessions, refresh rotation and account deletion, over HTTP to real
`chalice local` servers on both stores, with simultaneous requests and odd input.

Where a race needs a deletion cut short (a Lambda timeout between two batches),
the test calls the service layer on the same store and stops between batches,
as the timed-out Lambda would; everything else goes over HTTP.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib import accounts
from chalicelib.deps import Deps
from chalicelib.store.model import Message
from chalicelib.timestamps import new_message_id
from tests.http_client import Reply
from tests.reliability.burst import burst, connections
from tests.reliability.client import Http
from tests.reliability.forge import compose, header, ours
from tests.reliability.stack import (
    PASSWORD,
    Backend,
    Served,
    all_messages,
    fresh_name,
    serve,
    session,
)
from tests.reliability.tally import TALLY

pytestmark = pytest.mark.reliability

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture(scope="module")
def open_limits(backend: Backend) -> Iterator[Served]:
    """Login throttle and posting limit set high: the races here are the sessions'."""
    with serve(backend, "attacks-open", extra_env={
        "CHALKBOARD_LOGIN_MAX_FAILURES": "100",
        "CHALKBOARD_POST_RATE_LIMIT": "10000",
    }) as running:
        yield running


def login(http: Http, username: str, password: str = PASSWORD) -> Reply:
    return http.call("POST", "/login", {"username": username, "password": password})


def works(served: Served, pair: dict[str, Any]) -> bool:
    return served.http().call("GET", "/me", token=pair["access_token"]).status == 200


def listed_sessions(served: Served, token: str) -> list[dict[str, Any]]:
    reply = served.http().call("GET", "/me/sessions", token=token)
    assert reply.status == 200, reply.body
    return reply.body["sessions"]


def deps_of(backend: Backend) -> Deps:
    return Deps(store=backend.store, settings=backend.settings)


def seed_messages(backend: Backend, username: str, count: int) -> None:
    """``count`` messages of the user written straight to the store (fast)."""
    for number in range(count):
        now = time.time()
        backend.store.add_message(Message(id=new_message_id(now), username=username,
                                          content=f"old {number}", created_at=now))


# ---- deletion cut short, and the name taken again meanwhile --------------------------


def test_a_deletion_resuming_after_the_name_was_taken_again_leaves_the_new_account_alone(
    open_limits: Served,
) -> None:
    """A deletion stops after one batch (a Lambda timeout, or just slow); the name is
    signed up again (which finishes the deletion), the new account signs in and posts;
    then the first deletion carries on with its next batch. The new account's
    session and messages must survive it."""
    served, backend = open_limits, open_limits.backend
    username = fresh_name("halfway")
    session(served.http(), username)
    seed_messages(backend, username, 2 * accounts.DELETION_BATCH + 30)
    deps = deps_of(backend)
    # The first deletion: password checked, marked, one batch, then cut short.
    old = backend.store.mark_user_deleted(username=username)
    assert old is not None
    assert not backend.store.delete_user_data(
        username=username, credential_stamp=old.credential_stamp, batch=accounts.DELETION_BATCH)

    http = served.http()
    fresh = session(http, username, NEW_PASSWORD)
    posted = [http.call("POST", "/messages", {"content": f"new {n}"},
                        token=fresh["access_token"]) for n in range(3)]
    assert {reply.status for reply in posted} == {201}

    accounts.finish_deletion(deps, old)  # the first deletion carries on

    alive = works(served, fresh)
    board = all_messages(served.http(), fresh["access_token"]) if alive else []
    mine = [m for m in board if m["username"] == username]
    TALLY.attack("deletion: a cut-short deletion resuming after the name was taken again",
                 served.kind, 200 if alive and len(mine) == 3 else 401,
                 refused=alive and len(mine) == 3)
    assert alive, "the resumed deletion ended the new account's session"
    assert sorted(m["content"] for m in mine) == ["new 0", "new 1", "new 2"]
    assert backend.store.get_user(username) is not None


def test_20_signups_of_a_half_deleted_name_and_the_winner_signing_in_keep_the_winner_whole(
    open_limits: Served,
) -> None:
    """A deletion was cut short; 20 signups of the name arrive at once, each finishing
    the deletion before creating the account; the winner logs in and posts at once.
    Laggards still finishing the old deletion must not touch the new account."""
    served, backend = open_limits, open_limits.backend
    for _ in range(3):
        username = fresh_name("resignup")
        session(served.http(), username)
        seed_messages(backend, username, 3 * accounts.DELETION_BATCH)
        assert backend.store.mark_user_deleted(username=username)

        def signup_and_post(index: int, client: Http, name: str = username) -> list[Reply]:
            password = f"{NEW_PASSWORD} {index}"
            replies = [client.call("POST", "/signup", {"username": name,
                                                       "password": password})]
            if replies[0].status != 201:
                return replies
            pair = client.call("POST", "/login", {"username": name, "password": password})
            replies.append(pair)
            replies.append(client.call("POST", "/messages", {"content": "winner's"},
                                       token=pair.body["access_token"]))
            replies.append(pair)
            return replies

        results = burst(connections(served, 20), signup_and_post)
        statuses = Counter(batch[0].status for batch in results)
        assert statuses[201] == 1, statuses
        assert set(statuses) <= {201, 409}, statuses
        winner = next(batch for batch in results if batch[0].status == 201)
        assert [r.status for r in winner[:3]] == [201, 200, 201], [r.body for r in winner]
        pair = winner[1].body
        time.sleep(0.5)  # let every laggard finish
        alive = works(served, pair)
        board = all_messages(served.http(), pair["access_token"]) if alive else []
        mine = [m["content"] for m in board if m["username"] == username]
        TALLY.attack("deletion: 20 signups of a half-deleted name, the winner posting",
                     served.kind, 200 if alive and mine == ["winner's"] else 401,
                     refused=alive and mine == ["winner's"])
        assert alive, "a laggard finishing the old deletion ended the winner's session"
        assert mine == ["winner's"]


# ---- logins racing the deletion of their account -------------------------------------


def test_logins_racing_account_deletion_leave_no_session_for_the_next_account_of_the_name(
    open_limits: Served,
) -> None:
    """25 logins with the right password race DELETE /me. Whatever they got, no session
    of the old account is left in the store, so the next account of the name lists
    only its own session."""
    served = open_limits
    for _ in range(3):
        username = fresh_name("dellogin")
        first = session(served.http(), username)

        def race(index: int, client: Http, name: str = username,
                 first: dict[str, Any] = first) -> Reply:
            if index == 0:
                time.sleep(0.02)
                return client.call("DELETE", "/me", {"password": PASSWORD},
                                   token=first["access_token"])
            return login(client, name)

        replies = burst(connections(served, 25), race)
        assert replies[0].status == 204, replies[0].body
        assert {r.status for r in replies[1:]} <= {200, 401}
        got = [r.body for r in replies[1:] if r.status == 200]
        assert not [pair for pair in got if works(served, pair)]
        fresh = session(served.http(), username, NEW_PASSWORD)
        listed = listed_sessions(served, fresh["access_token"])
        TALLY.attack("deletion: 25 logins racing the deletion, then the name signed up",
                     served.kind, 200 if len(listed) != 1 else 401, refused=len(listed) == 1)
        assert len(listed) == 1, f"the new account lists {len(listed)} sessions: {listed}"


def test_logins_racing_a_password_change_leave_only_live_sessions_in_the_list(
    open_limits: Served,
) -> None:
    """25 logins with the old password race POST /me/password; afterwards a login with
    the new password lists only sessions that work (none started under the old one)."""
    served = open_limits
    username = fresh_name("pwlist")
    first = session(served.http(), username)

    def race(index: int, client: Http) -> Reply:
        if index == 0:
            time.sleep(0.02)
            return client.call("POST", "/me/password", {
                "current_password": PASSWORD, "new_password": NEW_PASSWORD},
                token=first["access_token"])
        return login(client, username)

    replies = burst(connections(served, 25), race)
    assert replies[0].status == 204, replies[0].body
    fresh = login(served.http(), username, NEW_PASSWORD).body
    listed = listed_sessions(served, fresh["access_token"])
    TALLY.attack("sessions: 24 logins racing a password change, then the list",
                 served.kind, 200 if len(listed) != 1 else 401, refused=len(listed) == 1)
    assert len(listed) == 1, f"{len(listed)} sessions listed, only 1 works: {listed}"


# ---- refresh rotation -------------------------------------------------------------


def test_a_spent_refresh_token_replayed_after_rotation_ends_the_session(served: Served) -> None:
    pair = session(served.http(), fresh_name("replay"))
    http = served.http()
    second = http.call("POST", "/token/refresh", {"refresh_token": pair["refresh_token"]})
    assert second.status == 200
    third = http.call("POST", "/token/refresh", {"refresh_token": second.body["refresh_token"]})
    assert third.status == 200
    replay = http.call("POST", "/token/refresh", {"refresh_token": pair["refresh_token"]})
    assert replay.status == 401
    assert not works(served, third.body)
    again = http.call("POST", "/token/refresh", {"refresh_token": third.body["refresh_token"]})
    assert again.status == 401


def test_refresh_after_password_change_or_deletion_is_401(served: Served) -> None:
    http = served.http()
    username = fresh_name("refreshpw")
    pair = session(http, username)
    other = login(http, username).body
    assert http.call("POST", "/me/password", {"current_password": PASSWORD,
                                              "new_password": NEW_PASSWORD},
                     token=pair["access_token"]).status == 204
    assert http.call("POST", "/token/refresh",
                     {"refresh_token": other["refresh_token"]}).status == 401
    fresh = login(http, username, NEW_PASSWORD).body
    spare = login(http, username, NEW_PASSWORD).body
    assert http.call("DELETE", "/me", {"password": NEW_PASSWORD},
                     token=fresh["access_token"]).status == 204
    assert http.call("POST", "/token/refresh",
                     {"refresh_token": spare["refresh_token"]}).status == 401
    session(http, username)  # the name again: the old refresh token still opens nothing
    assert http.call("POST", "/token/refresh",
                     {"refresh_token": spare["refresh_token"]}).status == 401


# ---- sessions of others, odd session ids ---------------------------------------------


ODD_SIDS = ["x" * 64, "x" * 65, "x" * 5000, "%00", "..%2F..%2Fme", "%F0%9F%98%80",
            "%C0%AF", "%ED%A0%80", "session%23x", "'%20OR%201=1--", "*", "%20"]


def test_sessions_of_another_user_cannot_be_seen_or_ended(served: Served) -> None:
    http = served.http()
    alice, bob = session(http, fresh_name("alice")), session(http, fresh_name("bob"))
    bob_sid = listed_sessions(served, bob["access_token"])[0]["id"]
    listed = listed_sessions(served, alice["access_token"])
    assert [s["id"] for s in listed] != [bob_sid] and len(listed) == 1
    assert http.call("DELETE", f"/me/sessions/{bob_sid}",
                     token=alice["access_token"]).status == 404
    assert works(served, bob)
    # Logout naming bob's refresh token ends alice's session only.
    assert http.call("POST", "/logout", {"refresh_token": bob["refresh_token"]},
                     token=alice["access_token"]).status == 204
    assert works(served, bob) and not works(served, alice)
    assert http.call("POST", "/token/refresh",
                     {"refresh_token": bob["refresh_token"]}).status == 200


@pytest.mark.parametrize("sid", ODD_SIDS)
def test_odd_session_ids_are_404_never_5xx(served: Served, sid: str) -> None:
    http = served.http()
    pair = session(http, fresh_name("oddsid"))
    reply = http.call("DELETE", f"/me/sessions/{sid}", token=pair["access_token"])
    assert reply.status in {400, 403, 404}, (reply.status, reply.body)
    assert works(served, pair)


def test_an_expired_session_cannot_be_ended_it_is_already_gone(served: Served) -> None:
    backend = served.backend
    http = served.http()
    username = fresh_name("expired")
    pair = session(http, username)
    user = backend.store.get_user(username)
    assert user is not None
    from chalicelib.store.model import Session

    now = time.time()
    backend.store.start_session(Session(
        username=username, sid="expired-one", credential_stamp=user.credential_stamp,
        created_at=now - 100, last_used_at=now - 100, expires_at=int(now) - 10,
    ))
    assert [s["id"] for s in listed_sessions(served, pair["access_token"])] != ["expired-one"]
    reply = http.call("DELETE", "/me/sessions/expired-one", token=pair["access_token"])
    assert reply.status == 404, reply.status


# ---- access tokens with a genuine signature and a wrong sid ---------------------------


def forged(backend: Backend, username: str, **claims_changes: Any) -> str:
    from tests.reliability.forge import claims

    return compose(header(backend), claims(backend, username, **claims_changes), ours(backend))


def test_a_signed_token_naming_another_users_session_is_401(served: Served) -> None:
    backend, http = served.backend, served.http()
    alice, bob = fresh_name("alice"), fresh_name("bob")
    session(http, alice)
    bob_pair = session(http, bob)
    bob_sid = listed_sessions(served, bob_pair["access_token"])[0]["id"]
    cases = {
        "bob's sid": forged(backend, alice, sid=bob_sid),
        "no sid": forged(backend, alice, sid=None),
        "sid 7": forged(backend, alice, sid=7),
        "sid list": forged(backend, alice, sid=[bob_sid]),
        "sid object": forged(backend, alice, sid={"S": bob_sid}),
        "sid empty": forged(backend, alice, sid=""),
        "sid true": forged(backend, alice, sid=True),
        "sid 65": forged(backend, alice, sid="s" * 65),
        "sid null byte": forged(backend, alice, sid=bob_sid + "\x00"),
        "sub bob, bob's sid, other key": compose(
            header(backend), __import__("tests.reliability.forge", fromlist=["claims"]).claims(
                backend, bob, sid=bob_sid), b"k" * 32),
    }
    for name, token in cases.items():
        for method, path in (("GET", "/me"), ("GET", "/me/sessions"), ("POST", "/logout")):
            reply = http.call(method, path, {} if method == "POST" else None, token=token)
            assert reply.status == 401, (name, path, reply.status, reply.body)
    assert works(served, bob_pair)


# ---- wrong passwords at deletion, at once -----------------------------------------


def test_25_simultaneous_deletions_with_a_wrong_password_evaluate_at_most_5(
    served: Served,
) -> None:
    username = fresh_name("delwrong")
    pair = session(served.http(), username)

    def attempt(index: int, client: Http) -> Reply:
        return client.call("DELETE", "/me", {"password": f"wrong password {index}"},
                           token=pair["access_token"])

    replies = burst(connections(served, 25), attempt)
    statuses = Counter(reply.status for reply in replies)
    TALLY.attack("throttle: 25 simultaneous deletions with a wrong password", served.kind,
                 max(statuses), refused=statuses[403] <= 5 and not statuses[204])
    assert statuses[403] <= 5 and set(statuses) <= {403, 429}, statuses
    # The right password is refused too while locked: the account is not deleted.
    right = served.http().call("DELETE", "/me", {"password": PASSWORD},
                               token=pair["access_token"])
    assert right.status == 429
    assert works(served, pair)
