"""Concurrency over HTTP to `chalice local` on loopback, on both stores.

Bursts are released together from threads holding keep-alive connections opened
beforehand (chalice local's listen backlog is 5). Every run is bounded: fixed
request counts and a deadline on each thread.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from typing import Any

import pytest

from tests.http_client import Reply
from tests.reliability.burst import DEADLINE_SECONDS, burst, connections
from tests.reliability.client import Http
from tests.reliability.stack import PASSWORD, Served, all_messages, fresh_name, session
from tests.reliability.tally import TALLY

pytestmark = pytest.mark.reliability


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def test_100_concurrent_signups_of_one_username_create_exactly_one(served: Served) -> None:
    name = fresh_name("race")
    forms = [name, name.upper(), fullwidth(name), name.title()]  # one account, four spellings

    def sign_up(index: int, client: Http) -> Reply:
        return client.call("POST", "/signup", {"username": forms[index % len(forms)],
                                               "password": f"{PASSWORD} {index}"})

    replies = burst(connections(served, 100), sign_up)
    statuses = Counter(reply.status for reply in replies)
    TALLY.figure(f"100 concurrent signups of one name ({served.kind})", dict(statuses))
    assert statuses == {201: 1, 409: 99}
    winner = next(i for i, reply in enumerate(replies) if reply.status == 201)
    assert replies[winner].body == {"username": name, "display_name": name, "email": None,
                                    "email_verified": False}
    # The account is the winner's, with the winner's password.
    login = served.http().call("POST", "/login", {"username": name,
                                                  "password": f"{PASSWORD} {winner}"})
    assert login.status == 200


def test_concurrent_refreshes_of_one_token_have_exactly_one_winner(served: Served) -> None:
    for _ in range(3):  # a race can hide; run it a few times
        pair = session(served.http(), fresh_name("refresh"))

        def refresh(index: int, client: Http, token: str = pair["refresh_token"]) -> Reply:
            return client.call("POST", "/token/refresh", {"refresh_token": token})

        replies = burst(connections(served, 20), refresh)
        statuses = Counter(reply.status for reply in replies)
        TALLY.attack("token misuse: 20 concurrent refreshes of one token", served.kind,
                     200 if statuses[200] != 1 else 401, refused=statuses[200] == 1)
        assert statuses == {200: 1, 401: 19}
        winner = next(reply for reply in replies if reply.status == 200)
        # The 19 replays ended the session: every token of it, the winner's new pair too.
        assert served.http().call("GET", "/me", token=winner.body["access_token"]).status == 401
        again = served.http().call("POST", "/token/refresh",
                                   {"refresh_token": winner.body["refresh_token"]})
        assert again.status == 401


WRITERS, POSTS_EACH, READ_PAGE = 20, 50, 9


def test_20_writers_50_posts_each_are_paged_exactly_once_even_while_writing(
    served: Served
) -> None:
    tag = uuid.uuid4().hex[:8]
    tokens = [session(served.http(), fresh_name(f"writer{w}"))["access_token"]
              for w in range(WRITERS)]
    acknowledged: dict[str, str] = {}  # id -> content
    lock = threading.Lock()
    writing = threading.Event()
    writing.set()
    traversals: list[dict[str, Any]] = []

    def write(index: int, client: Http) -> Counter[int]:
        statuses: Counter[int] = Counter()
        deadline = time.monotonic() + DEADLINE_SECONDS
        for n in range(POSTS_EACH):
            assert time.monotonic() < deadline, "writer ran out of time"
            content = f"{tag} writer {index} post {n}"
            reply = client.call("POST", "/messages", {"content": content}, token=tokens[index])
            statuses[reply.status] += 1
            if reply.status == 201:
                with lock:
                    acknowledged[reply.body["id"]] = content
        return statuses

    def read_while_writing() -> None:
        reader = served.http()  # fresh connections: no Nagle delay per page
        deadline = time.monotonic() + DEADLINE_SECONDS
        while writing.is_set() and time.monotonic() < deadline:
            with lock:
                before = dict(acknowledged)
            seen = [m["id"] for m in all_messages(reader, tokens[0], limit=READ_PAGE)]
            traversals.append({"before": before, "seen": seen, "during": writing.is_set()})

    reader = threading.Thread(target=read_while_writing)
    reader.start()
    try:
        results = burst(connections(served, WRITERS), write)
    finally:
        writing.clear()
        reader.join(timeout=DEADLINE_SECONDS)
    assert not reader.is_alive()

    statuses = sum(results, Counter())
    assert statuses == {201: WRITERS * POSTS_EACH}
    overlapping = [t for t in traversals if t["during"]]
    assert overlapping, "no traversal ran while posts were being written"
    for traversal in traversals:
        seen = traversal["seen"]
        assert len(seen) == len(set(seen)), "a message was visited twice"
        assert seen == sorted(seen, reverse=True), "not newest first"
        missing = set(traversal["before"]) - set(seen)
        assert not missing, f"{len(missing)} messages posted before the traversal were skipped"

    http = served.http()
    for page_size in (READ_PAGE, 100):
        board = all_messages(http, tokens[0], limit=page_size)
        ours = [m for m in board if m["content"].startswith(tag)]
        ids = [m["id"] for m in ours]
        assert len(ids) == len(set(ids))
        assert {m["id"]: m["content"] for m in ours} == acknowledged
    TALLY.wrote(f"{WRITERS} writers x {POSTS_EACH} posts, paged while writing", served.kind,
                acknowledged=len(acknowledged), found=len(set(ids) & set(acknowledged)))
    TALLY.figure(f"traversals while writing ({served.kind})", len(overlapping))
