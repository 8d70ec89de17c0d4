"""Ending sessions while their tokens are in use, over HTTP to real `chalice local`
servers on both stores: a password change racing hundreds of logins with the old
password, logout and "sign out this session" racing refresh, and account deletion
racing the user's own posts (and another user's).

Each race ends with every token pair it produced checked, not sampled: the
access token on GET /me and the refresh token on /token/refresh must both be
refused. A naive design loses these races in ways a sequential test never sees:
a cut-off instant or a credential re-read after the password check lets a login
in flight outlive a password change; a refresh that writes its session back
unconditionally resurrects a session that logout or the sessions list just
ended; a deletion that lists a user's messages once and then removes the user
leaves the posts that landed meanwhile on the board, owned by nobody (or by the
next account of that name).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.http_client import Reply
from tests.reliability.burst import burst, connections
from tests.reliability.client import Http
from tests.reliability.stack import (
    PASSWORD,
    Backend,
    Served,
    all_messages,
    dynamodb_client,
    fresh_name,
    serve,
    session,
)
from tests.reliability.tally import TALLY

pytestmark = pytest.mark.reliability

NEW_PASSWORD = "a brand new passphrase"
LOGINS_PER_ROUND = 100
ROUNDS = 3  # 300 logins in all
LOGIN_THREADS = 20
CHANGE_AFTER = 35  # logins answered before the change is sent, so it lands mid-stream


@pytest.fixture(scope="module")
def open_limits(backend: Backend) -> Iterator[Served]:
    """A server whose login throttle and posting limit are set high, so that every
    racing login has its password checked and every racing post is written: the
    races under test are those of the sessions, not of the throttles."""
    with serve(backend, "open-limits", extra_env={
        "CHALKBOARD_LOGIN_MAX_FAILURES": "100",
        "CHALKBOARD_POST_RATE_LIMIT": "10000",
    }) as running:
        yield running


def still_working(served: Served, pair: dict[str, Any]) -> list[str]:
    """Which of the pair's tokens the server still honours (should be none)."""
    http = served.http()
    alive = []
    if http.call("GET", "/me", token=pair["access_token"]).status != 401:
        alive.append("access")
    if http.call("POST", "/token/refresh",
                 {"refresh_token": pair["refresh_token"]}).status != 401:
        alive.append("refresh")
    return alive


def survivors(served: Served, pairs: list[dict[str, Any]]) -> list[tuple[int, list[str]]]:
    checked = [(index, still_working(served, pair)) for index, pair in enumerate(pairs)]
    return [(index, alive) for index, alive in checked if alive]


def worst(replies: list[Reply]) -> int:
    return max(reply.status for reply in replies)


def record(case: str, served: Served, replies: list[Reply], *, pairs: int, alive: int) -> None:
    """One attack row (refused: no token survived and no 5xx) and its token counts."""
    status = worst(replies)
    TALLY.attack(case, served.kind, status, refused=alive == 0 and status < 500)
    TALLY.ended(case.partition(": ")[2], served.kind, obtained=pairs, working=alive)


# ---- a password change racing logins with the old password ---------------------


@dataclass(frozen=True)
class Timed:
    reply: Reply
    sent: float
    answered: float


@dataclass
class Round:
    """One user's logins with the old password and the password change among them."""

    first: dict[str, Any]  # the pair of the session that changes the password
    logins: list[Timed]
    change: Timed


def password_change_round(served: Served) -> Round:
    """20 threads log in as a fresh user with its password, 100 logins in all; a 21st
    changes the password once 35 logins have been answered."""
    username = fresh_name("pwrace")
    first = session(served.http(), username)
    lock = threading.Lock()
    flowing = threading.Event()
    counts = Counter[str]()

    def race(index: int, client: Http) -> list[Timed]:
        if index == 0:
            assert flowing.wait(30), "the logins never got going"
            sent = time.monotonic()
            reply = client.call("POST", "/me/password", {
                "current_password": PASSWORD, "new_password": NEW_PASSWORD},
                token=first["access_token"])
            return [Timed(reply, sent, time.monotonic())]
        results = []
        while True:
            with lock:
                if counts["started"] == LOGINS_PER_ROUND:
                    return results
                counts["started"] += 1
            sent = time.monotonic()
            reply = client.call("POST", "/login", {"username": username, "password": PASSWORD})
            results.append(Timed(reply, sent, time.monotonic()))
            with lock:
                counts["answered"] += 1
                if counts["answered"] == CHANGE_AFTER:
                    flowing.set()

    results = burst(connections(served, LOGIN_THREADS + 1), race)
    change = results[0][0]
    assert change.reply.status == 204, change.reply.body
    # The new password works.
    after = served.http().call("POST", "/login", {"username": username, "password": NEW_PASSWORD})
    assert after.status == 200
    return Round(first, [timed for batch in results[1:] for timed in batch], change)


def test_300_logins_racing_a_password_change_leave_no_working_token(open_limits: Served
                                                                    ) -> None:
    """Three rounds of 100 logins with the old password, each with the password changed
    mid-stream. Every pair obtained, before, during or after the change, is refused
    afterwards."""
    served = open_limits
    rounds = [password_change_round(served) for _ in range(ROUNDS)]
    pairs = [pair for r in rounds
             for pair in [r.first, *(t.reply.body for t in r.logins if t.reply.status == 200)]]
    alive = survivors(served, pairs)
    logins = [t for r in rounds for t in r.logins]
    statuses = Counter(t.reply.status for t in logins)
    # Logins in flight while the change was: sent before it answered, answered after it was sent.
    racing = [t for r in rounds for t in r.logins if t.reply.status == 200
              and t.sent < r.change.answered and t.answered > r.change.sent]
    TALLY.figure(f"300 logins racing a password change ({served.kind})",
                 {**{str(k): v for k, v in statuses.items()}, "200 while changing": len(racing)})
    record("sessions: 300 logins racing a password change", served,
           [t.reply for t in logins] + [r.change.reply for r in rounds],
           pairs=len(pairs), alive=len(alive))
    assert not alive, f"{len(alive)} token pairs outlived the password change: {alive[:5]}"
    assert len(logins) == ROUNDS * LOGINS_PER_ROUND
    assert not [s for s in statuses if s >= 500], statuses
    assert set(statuses) <= {200, 401, 429}, statuses
    # The race happened: tokens were issued before and while the password changed,
    # and the old password was refused after.
    assert statuses[200] >= ROUNDS * CHANGE_AFTER and statuses[401] > 0, statuses
    assert racing, "no login overlapped a password change"


# ---- logout racing refresh -------------------------------------------------------


def test_logout_racing_refresh_of_the_same_session_leaves_no_working_token(
    open_limits: Served,
) -> None:
    """15 sessions of one user; for each, its logout and a refresh of its refresh
    token are sent at the same moment (30 requests). Whichever wins, nothing of
    any of them works afterwards, including a pair the refresh may have minted."""
    served = open_limits
    username = fresh_name("logout")
    pairs = [session(served.http(), username)]
    pairs += [served.http().call("POST", "/login", {"username": username, "password": PASSWORD}
                                 ).body for _ in range(14)]
    keeper = served.http().call("POST", "/login", {"username": username, "password": PASSWORD}
                                ).body  # a session of the same user outside the race

    def race(index: int, client: Http) -> Reply:
        pair = pairs[index // 2]
        if index % 2 == 0:
            return client.call("POST", "/logout", {}, token=pair["access_token"])
        return client.call("POST", "/token/refresh", {"refresh_token": pair["refresh_token"]})

    replies = burst(connections(served, 2 * len(pairs)), race)
    minted = [reply.body for reply in replies if reply.status == 200]
    alive = survivors(served, pairs + minted)
    record("sessions: logout racing refresh, 15 sessions at once", served, replies,
           pairs=len(pairs) + len(minted), alive=len(alive))
    TALLY.figure(f"logout racing refresh ({served.kind})",
                 {"refreshes won": len(minted), **{str(k): v for k, v in
                                                    Counter(r.status for r in replies).items()}})
    assert not [r.status for r in replies if r.status >= 500]
    assert {r.status for r in replies[0::2]} == {204}  # every logout succeeded
    assert {r.status for r in replies[1::2]} <= {200, 401}
    assert not alive, alive
    # The user's session outside the race is untouched.
    assert served.http().call("GET", "/me", token=keeper["access_token"]).status == 200


# ---- "sign out this session" racing its refresh -----------------------------------


def session_ids(http: Http, token: str) -> dict[bool, list[str]]:
    listed = http.call("GET", "/me/sessions", token=token)
    assert listed.status == 200, listed.body
    ids: dict[bool, list[str]] = {True: [], False: []}
    for item in listed.body["sessions"]:
        ids[item["current"]].append(item["id"])
    return ids


def test_ending_sessions_from_another_racing_their_refresh_leaves_no_working_token(
    open_limits: Served,
) -> None:
    """From one session, DELETE /me/sessions/{id} for 12 others while each of those
    refreshes at the same moment (24 requests): none of the 12 works afterwards,
    and the session that ended them does."""
    served = open_limits
    username = fresh_name("endsess")
    manager = session(served.http(), username)
    victims = [served.http().call("POST", "/login", {"username": username,
                                                      "password": PASSWORD}).body
               for _ in range(12)]
    # Each victim's id: the one its own token marks as current.
    ids = [session_ids(served.http(), pair["access_token"])[True][0] for pair in victims]

    def race(index: int, client: Http) -> Reply:
        if index % 2 == 0:
            return client.call("DELETE", f"/me/sessions/{ids[index // 2]}",
                               token=manager["access_token"])
        return client.call("POST", "/token/refresh",
                           {"refresh_token": victims[index // 2]["refresh_token"]})

    replies = burst(connections(served, 2 * len(victims)), race)
    minted = [reply.body for reply in replies if reply.status == 200]
    alive = survivors(served, victims + minted)
    record("sessions: ending 12 sessions from another racing their refresh", served,
           replies, pairs=len(victims) + len(minted), alive=len(alive))
    assert not [r.status for r in replies if r.status >= 500]
    assert {r.status for r in replies[0::2]} == {204}
    assert {r.status for r in replies[1::2]} <= {200, 401}
    assert not alive, alive
    # Only the manager's session is left, and it still works.
    left = session_ids(served.http(), manager["access_token"])
    assert len(left[True]) == 1 and left[False] == []


# ---- account deletion racing posts -------------------------------------------------


# A user with more messages than one deletion batch (chalicelib.accounts.DELETION_BATCH)
# has them deleted in two; a user with none is deleted so fast that a post which
# passed the authorizer before the deletion began lands after it ended, unless
# posting looks again: so the race runs both ways, the second three times.
DELETION_ROUNDS = {"150 messages": 150, "no messages 1": 0, "no messages 2": 0,
                   "no messages 3": 0}
POSTERS = 12
OTHER_POSTERS = 6
POSTS_EACH = 25


def user_records(backend: Backend, username: str) -> dict[str, int]:
    """What the store still holds under ``username``, looked up behind the API's back."""
    if backend.kind == "sqlite":
        with contextlib.closing(sqlite3.connect(backend.sqlite_path)) as db:
            return {
                table: db.execute(f"SELECT COUNT(*) FROM {table} WHERE username = ?",  # noqa: S608
                                  (username,)).fetchone()[0]
                for table in ("users", "messages", "sessions", "refresh_tokens")
            }
    client = dynamodb_client(backend.env["AWS_ENDPOINT_URL_DYNAMODB"])
    tables = backend.tables
    user = client.get_item(TableName=tables.users, Key={"username": {"S": username}},
                           ConsistentRead=True)
    items = client.query(
        TableName=tables.user_items, ConsistentRead=True,
        KeyConditionExpression="username = :u",
        ExpressionAttributeValues={":u": {"S": username}},
    )["Items"]
    kinds = Counter(item["item"]["S"].partition("#")[0] for item in items)
    return {"users": int("Item" in user), **{f"user_items {k}": n for k, n in kinds.items()}}


@pytest.mark.parametrize("seeded", DELETION_ROUNDS.values(), ids=DELETION_ROUNDS.keys())
def test_deleting_an_account_while_it_and_another_user_post_leaves_nothing_of_it(
    open_limits: Served, seeded: int,
) -> None:
    """The user has ``seeded`` messages and three sessions; 12 threads post as the user
    and 6 as another user while the account is deleted. Afterwards no message,
    session or token of the user is left, the name signs up again with none of it,
    and every message the other user was told was posted is on the board."""
    served, backend = open_limits, open_limits.backend
    username, other = fresh_name("doomed"), fresh_name("bystander")
    pairs = [session(served.http(), username)]
    pairs += [served.http().call("POST", "/login", {"username": username, "password": PASSWORD}
                                 ).body for _ in range(2)]
    neighbour = session(served.http(), other)
    http = served.http()
    for number in range(seeded):
        token = pairs[number % len(pairs)]["access_token"]
        assert http.call("POST", "/messages", {"content": f"seed {number}"},
                         token=token).status == 201
    other_before = [
        http.call("POST", "/messages", {"content": f"neighbour seed {n}"},
                  token=neighbour["access_token"]).body["id"] for n in range(10)
    ]
    posting = threading.Event()
    lock = threading.Lock()
    acknowledged = Counter[str]()

    def race(index: int, client: Http) -> list[Reply]:
        if index == 0:  # the deletion, once the user's racing posts are landing
            assert posting.wait(30)
            return [client.call("DELETE", "/me", {"password": PASSWORD},
                                token=pairs[0]["access_token"])]
        if index <= POSTERS:  # the user posts until refused
            token = pairs[index % len(pairs)]["access_token"]
            replies = []
            for number in range(POSTS_EACH):
                reply = client.call("POST", "/messages", {"content": f"race {index}.{number}"},
                                    token=token)
                replies.append(reply)
                with lock:
                    acknowledged["posts"] += reply.status == 201
                    if acknowledged["posts"] == 2 * POSTERS:
                        posting.set()  # the deletion goes while posts are landing
                if reply.status != 201:
                    break
            return replies
        return [client.call("POST", "/messages", {"content": f"neighbour {index}.{number}"},
                            token=neighbour["access_token"]) for number in range(POSTS_EACH)]

    results = burst(connections(served, 1 + POSTERS + OTHER_POSTERS), race)
    deletion = results[0][0]
    own = [reply for batch in results[1:1 + POSTERS] for reply in batch]
    theirs = [reply for batch in results[1 + POSTERS:] for reply in batch]
    replies = [deletion, *own, *theirs]
    assert deletion.status == 204, deletion.body
    assert not [r.status for r in replies if r.status >= 500]
    assert {r.status for r in own} <= {201, 401}
    assert {r.status for r in theirs} == {201}

    # Nothing of the deleted user is left: not on the board, not in the store, no token.
    board = all_messages(served.http(), neighbour["access_token"])
    left_on_board = [m for m in board if m["username"] == username]
    records = {name: count for name, count in user_records(backend, username).items() if count}
    alive = survivors(served, pairs)
    refused_login = served.http().call("POST", "/login",
                                       {"username": username, "password": PASSWORD}).status
    own_acknowledged = sum(r.status == 201 for r in own)
    TALLY.figure(f"deletion racing posts, {seeded} messages before ({served.kind})", {
        "own posts acknowledged": own_acknowledged,
        "own posts refused": len(own) - own_acknowledged,
        "other's posts": len(theirs), "left on board": len(left_on_board), "records": records,
    })
    record(f"deletion: account of {seeded} messages deleted while it and another user post",
           served, replies,
           pairs=len(pairs), alive=len(alive) + len(left_on_board) + len(records))
    assert not left_on_board, left_on_board[:5]
    assert not records, records
    assert not alive, alive
    assert refused_login == 401
    # The race happened: some of the user's racing posts were acknowledged, and then refused.
    assert own_acknowledged > 0 and own_acknowledged < len(own)

    # Nothing of the other user was touched: every acknowledged message is there.
    board_ids = {m["id"] for m in board}
    acknowledged = other_before + [r.body["id"] for r in theirs]
    assert board_ids >= set(acknowledged)
    assert sum(m["username"] == other for m in board) == len(acknowledged)
    assert served.http().call("GET", "/me", token=neighbour["access_token"]).status == 200

    # The name is free again; the new account has none of the old one and no old token opens it.
    fresh = session(served.http(), username, NEW_PASSWORD)
    assert not survivors(served, pairs)
    mine = session_ids(served.http(), fresh["access_token"])
    assert len(mine[True]) == 1 and mine[False] == []
    board = all_messages(served.http(), fresh["access_token"])
    assert not [m for m in board if m["username"] == username]
