"""What a login and a post cost on DynamoDB, counted per request (dynalite).

A login stays one argon2 verification plus a bounded number of store requests:
the attempt is counted with one conditional UpdateItem before the password is
checked, whatever happens next; a refused attempt during a lock writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.common import RequestCounter
from tests.helpers import Api

WRONG = "definitely not it"
# Request counts are a DynamoDB question: these run on dynalite only (no SQLite skip).
pytestmark = pytest.mark.stores("dynamodb")


@pytest.fixture
def counted(api: Api) -> Iterator[tuple[Api, RequestCounter]]:
    with RequestCounter().installed() as counter:
        yield api, counter


def operations(counter: RequestCounter, action: object) -> list[str]:
    counter.clear()
    assert callable(action)
    action()
    return list(counter.operations)


def test_login_costs_a_bounded_number_of_dynamodb_requests(
    counted: tuple[Api, RequestCounter]
) -> None:
    api, counter = counted
    api.signup("alice")
    success = operations(counter, lambda: api.login("alice"))
    # count, user, two-factor state, clear the count, store the session, look at the user
    # again (a password change or deletion committed meanwhile takes the session back),
    # store the refresh token, then the owner's sign_in security event (one write, no read)
    assert success == [
        "UpdateItem", "GetItem", "Query", "DeleteItem", "PutItem", "GetItem", "PutItem",
        "PutItem",
    ]
    failures = [operations(counter, lambda: api.login("alice", WRONG)) for _ in range(5)]
    # count, user, the sign_in_failed event; the 5th locks, and its lock is an event too
    assert failures == [["UpdateItem", "GetItem", "PutItem"]] * 4 + [
        ["UpdateItem", "GetItem", "PutItem", "PutItem"]
    ]
    # Locked: the conditional update fails, one read says so; nothing is written. (The
    # throttle is a user item, throttle#login, read like every user item: a consistent
    # Query on its whole key, one request and one read unit like the GetItem it was.)
    locked = [operations(counter, lambda: api.login("alice")) for _ in range(3)]
    assert locked == [["UpdateItem", "Query"]] * 3


def test_a_post_costs_a_bounded_number_of_dynamodb_requests(
    counted: tuple[Api, RequestCounter]
) -> None:
    api, counter = counted
    token = api.session("poster")["access_token"]
    post = operations(counter, lambda: api.call("POST", "/messages", {"content": "hi"},
                                                token=token))
    # authorizer, limit, message, the author's index entry (deletion finds it without a
    # Scan), then one read that the author was not deleted while the post was written
    assert post == ["BatchGetItem", "UpdateItem", "PutItem", "PutItem", "BatchGetItem"]
