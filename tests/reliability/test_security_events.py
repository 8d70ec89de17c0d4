"""The owner sees the attack: wrong passwords until the lock, then the security events
list, over HTTP to `chalice local`, on both stores (issue 21, finding 6).

Each attack is counted in the tally under "security events".
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.reliability.burst import burst, connections
from tests.reliability.client import Http
from tests.reliability.stack import Served, fresh_name, session
from tests.reliability.test_token_attacks import refused

pytestmark = pytest.mark.reliability

LIMIT = 5  # the login throttle's failures per window (API.md)


def owner_events(http: Http, token: str) -> list[dict[str, Any]]:
    """Every event the owner can read, following next_cursor (pages of 2, to page too)."""
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        path = "/me/security-events?limit=2" + (f"&cursor={cursor}" if cursor else "")
        reply = http.call("GET", path, token=token)
        assert reply.status == 200, reply.body
        found += reply.body["events"]
        cursor = reply.body["next_cursor"]
        if cursor is None:
            return found


def test_wrong_passwords_until_the_lock_show_in_the_owners_list(served: Served) -> None:
    http = served.http()
    username = fresh_name("watched")
    owner = session(http, username)
    for n in range(LIMIT):
        reply = http.call("POST", "/login", {"username": username, "password": f"guess {n}!"})
        refused("security events: wrong password", served, reply, {401})
    for n in range(3):  # during the lock: refused unchecked, and not listed
        reply = http.call("POST", "/login", {"username": username, "password": f"more {n}!"})
        refused("security events: guess while locked", served, reply, {429})
    listed = owner_events(http, owner["access_token"])
    assert [e["type"] for e in listed] == ["locked"] + ["sign_in_failed"] * LIMIT + ["sign_in"]
    assert all(e["details"] == {"reason": "password"} for e in listed[1:-1])
    assert 0 < listed[0]["details"]["retry_after"] <= 900
    assert all(e["ip"] == "127.0.0.1" for e in listed)


def test_a_burst_of_wrong_passwords_lists_exactly_the_evaluated_ones_and_one_lock(
    served: Served,
) -> None:
    """20 simultaneous guesses: at most 5 are evaluated (API.md), and the owner's list
    says exactly that — 5 failures and one lock, never a lock per racing request."""
    http = served.http()
    username = fresh_name("burst")
    owner = session(http, username)

    def guess(index: int, client: Http) -> Any:
        return client.call("POST", "/login", {"username": username, "password": f"race {index}!"})

    replies = burst(connections(served, 20), guess)
    for reply in replies:
        refused("security events: simultaneous wrong passwords", served, reply, {401, 429})
    evaluated = sum(1 for reply in replies if reply.status == 401)
    assert evaluated == LIMIT
    listed = owner_events(http, owner["access_token"])
    counts = {kind: sum(1 for e in listed if e["type"] == kind)
              for kind in ("sign_in_failed", "locked", "sign_in")}
    assert counts == {"sign_in_failed": LIMIT, "locked": 1, "sign_in": 1}
