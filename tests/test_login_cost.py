"""What a login and a post cost on DynamoDB, counted per request (dynalite).

A login stays one argon2 verification plus a bounded number of store requests:
the attempt is counted with one conditional UpdateItem before the password is
checked, whatever happens next; a refused attempt during a lock writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.common import RequestCounter
from tests.helpers import Api, body_of

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
    # From an unknown device: count in its bucket and in the run of unknown-device
    # failures (the 100 bound), user, two-factor state, clear both, store the session,
    # look at the user again (a password change or deletion committed meanwhile takes the
    # session back), store the refresh token, the owner's sign_in security event (one
    # write), the verified address for its new-device notice (one read), hand out a
    # device token
    assert success == [
        "UpdateItem", "UpdateItem", "GetItem", "Query", "DeleteItem", "DeleteItem",
        "PutItem", "GetItem", "PutItem", "PutItem", "Query", "PutItem",
    ]
    failures = [operations(counter, lambda: api.login("alice", WRONG)) for _ in range(5)]
    # count in both, user, the sign_in_failed event; the 5th locks the bucket, and its
    # lock is an event too, whose notice looks up the verified address
    assert failures == [["UpdateItem", "UpdateItem", "GetItem", "PutItem"]] * 4 + [
        ["UpdateItem", "UpdateItem", "GetItem", "PutItem", "PutItem", "Query"]
    ]
    # Locked: the conditional update fails, one consistent read (a Query on the item's
    # whole key) says so; nothing is written, nothing else is read.
    locked = [operations(counter, lambda: api.login("alice")) for _ in range(3)]
    assert locked == [["UpdateItem", "Query"]] * 3


def test_a_login_from_a_known_device_finds_it_with_one_read(
    counted: tuple[Api, RequestCounter]
) -> None:
    api, counter = counted
    api.signup("alice")
    device_token = body_of(api.login("alice"))["device_token"]
    body = {"username": "alice", "password": "correct horse battery staple",
            "device_token": device_token}
    success = operations(counter, lambda: api.call("POST", "/login", body))
    # find the device (a Query on its user item) and the account (a device older than it
    # is an earlier account's of the name), count in its bucket and its run, user,
    # two-factor state, clear its bucket, its run and the unknown run, session, user
    # again, refresh token, the sign_in event; the token presented is handed back,
    # nothing new stored
    assert success == [
        "Query", "GetItem", "UpdateItem", "UpdateItem", "GetItem", "Query", "DeleteItem",
        "DeleteItem", "DeleteItem", "PutItem", "GetItem", "PutItem", "PutItem",
    ]


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
