"""What a board read costs on DynamoDB, counted request by request with botocore hooks.

Reads must stay flat: the page's Query plus one BatchGetItem of its distinct
authors' names, never a read per message, and ``since`` one Query bounded by
its key condition.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.store.model import Message, User
from chalicelib.store.protocol import Store
from chalicelib.timestamps import new_message_id

pytestmark = pytest.mark.stores("dynamodb")


class RequestLog:
    """Every DynamoDB request the store's client sends: operation and consumed capacity."""

    def __init__(self, client: Any) -> None:
        self.operations: list[str] = []
        self.capacity: list[float] = []
        self._events = client.meta.events
        self._hooks = [
            ("before-parameter-build.dynamodb", self._ask),
            ("before-call.dynamodb", self._sent),
            ("after-call.dynamodb", self._answered),
        ]
        for event, hook in self._hooks:
            self._events.register(event, hook)

    @staticmethod
    def _ask(params: dict[str, Any], **_: Any) -> None:
        params["ReturnConsumedCapacity"] = "TOTAL"

    def _sent(self, model: Any, **_: Any) -> None:
        self.operations.append(model.name)

    def _answered(self, parsed: dict[str, Any], **_: Any) -> None:
        consumed = parsed.get("ConsumedCapacity", [])
        for entry in consumed if isinstance(consumed, list) else [consumed]:
            self.capacity.append(entry.get("CapacityUnits", 0.0))

    def clear(self) -> None:
        self.operations.clear()
        self.capacity.clear()

    def close(self) -> None:
        for event, hook in self._hooks:
            self._events.unregister(event, hook)


@pytest.fixture
def requests_sent(direct_store: Store) -> Iterator[RequestLog]:
    log = RequestLog(direct_store._client)  # type: ignore[attr-defined]
    yield log
    log.close()


def post(store: Store, author: str, n: int) -> Message:
    now = time.time()
    message = Message(id=new_message_id(now), username=author, content=f"message {n}",
                      created_at=now)
    store.add_message(message)
    return message


def test_page_of_20_messages_by_20_authors_is_one_query_and_one_batch_get(
    direct_store: Store, requests_sent: RequestLog
) -> None:
    for n in range(20):
        direct_store.create_user(User(username=f"user{n:02d}", password_hash="x", created_at=1.0,
                                      credential_stamp="s", display_name=f"User {n}"))
    for n in range(25):
        post(direct_store, f"user{n % 20:02d}", n)
    requests_sent.clear()
    page = direct_store.list_messages(limit=20, before_id=None)
    assert requests_sent.operations == ["Query", "BatchGetItem"]
    assert len({m.username for m in page.messages}) == 20
    assert {m.display_name for m in page.messages} == {f"User {n}" for n in range(20)}


def test_page_by_one_author_reads_the_name_once(
    direct_store: Store, requests_sent: RequestLog
) -> None:
    direct_store.create_user(User(username="alice", password_hash="x", created_at=1.0,
                                  credential_stamp="s"))
    for n in range(20):
        post(direct_store, "alice", n)
    requests_sent.clear()
    direct_store.list_messages(limit=20, before_id=None)
    assert requests_sent.operations == ["Query", "BatchGetItem"]
    # 20 messages by one author: the names cost one item's read, not twenty.
    _, names_units = requests_sent.capacity
    assert names_units <= 1


def test_nothing_new_since_the_newest_message_is_one_query_and_no_name_read(
    direct_store: Store, requests_sent: RequestLog
) -> None:
    for n in range(30):
        newest = post(direct_store, "alice", n)
    requests_sent.clear()
    page = direct_store.list_newer_messages(limit=20, after_id=newest.id)
    assert page.messages == ()
    assert requests_sent.operations == ["Query"]
    assert requests_sent.capacity == [pytest.approx(requests_sent.capacity[0])]
    assert requests_sent.capacity[0] <= 1


def test_since_reads_only_the_newer_messages(
    direct_store: Store, requests_sent: RequestLog
) -> None:
    messages = [post(direct_store, "alice", n) for n in range(40)]
    requests_sent.clear()
    page = direct_store.list_newer_messages(limit=20, after_id=messages[-3].id)
    assert [m.id for m in page.messages] == [messages[-1].id, messages[-2].id]
    assert requests_sent.operations == ["Query", "BatchGetItem"]


def test_clearing_every_throttle_bucket_of_a_name_is_one_query_never_a_scan(
    direct_store: Store, requests_sent: RequestLog
) -> None:
    now = 1_700_000_000.0
    for scope in ("login", "code", "device:d-1"):
        direct_store.count_login_attempt(username="alice", now=now, limit=5,
                                         window_seconds=900, scope=scope)
    requests_sent.clear()
    direct_store.clear_throttles(username="alice")
    assert requests_sent.operations == ["Query", "BatchWriteItem"]


# -- security events ---------------------------------------------------------------------


def test_recording_a_security_event_is_one_write_and_no_read(
    direct_store: Store, requests_sent: RequestLog
) -> None:
    """What a sign-in adds for its event: one PutItem; from a new device, also the one
    read of the verified address its notice goes to."""
    from chalicelib import security_events
    from chalicelib.clients import Client
    from chalicelib.deps import current_deps

    security_events.record(current_deps(), "alice", "sign_in", client=Client("192.0.2.1", "x"),
                           details={"method": "password", "new_device": False})
    assert requests_sent.operations == ["PutItem"]
    requests_sent.clear()
    security_events.record(current_deps(), "alice", "sign_in", client=Client("192.0.2.1", "x"),
                           details={"method": "password", "new_device": True})
    assert requests_sent.operations == ["PutItem", "Query"]


def test_a_page_of_security_events_is_one_query_and_the_account_read(
    direct_store: Store, requests_sent: RequestLog
) -> None:
    from chalicelib import security_events
    from chalicelib.deps import current_deps

    deps = current_deps()
    direct_store.create_user(User(username="alice", password_hash="$argon2id$fake",
                                  created_at=deps.now() - 60, credential_stamp="s"))
    for _ in range(30):
        security_events.record(deps, "alice", "sign_in_failed", details={"reason": "password"})
    requests_sent.clear()
    page = security_events.list_events(deps, "alice", limit="20", cursor=None)
    assert len(page.events) == 20 and page.next_cursor is not None
    assert requests_sent.operations == ["GetItem", "Query"]
    requests_sent.clear()
    rest = security_events.list_events(deps, "alice", limit="20", cursor=page.next_cursor)
    assert len(rest.events) == 10 and rest.next_cursor is None
    assert requests_sent.operations == ["GetItem", "Query"]
