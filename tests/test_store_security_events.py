"""The security events store contract, on both adapters (SQLite, and DynamoDB on dynalite)."""

from __future__ import annotations

import threading

import pytest

from chalicelib.deps import current_deps
from chalicelib.security_events import RETENTION_SECONDS
from chalicelib.store.model import SecurityEvent, User
from chalicelib.store.protocol import Store
from chalicelib.timestamps import new_message_id
from tests.conftest import FakeClock

# Every value below that depends on time comes from the test's one fake clock.
pytestmark = pytest.mark.usefixtures("clock")


def event(n: int, username: str = "alice", *, type: str = "sign_in") -> SecurityEvent:
    now = current_deps().now()
    return SecurityEvent(
        username=username, id=new_message_id(now), type=type, created_at=now,
        expires_at=int(now) + RETENTION_SECONDS, ip=f"192.0.2.{n % 250}",
        user_agent=f"agent {n}", details_json=f'{{"n":{n}}}',
    )


def all_events(store: Store, username: str = "alice", *, limit: int = 100) -> list[SecurityEvent]:
    """Every live event, following the pages as the route does."""
    found: list[SecurityEvent] = []
    before: str | None = None
    while True:
        page = store.list_security_events(
            username=username, limit=limit, before_id=before, now=current_deps().now()
        )
        found += page.events
        if not page.has_more:
            return found
        before = page.events[-1].id


def test_an_event_reads_back_equal(direct_store: Store) -> None:
    written = event(1)
    direct_store.add_security_event(written)
    page = direct_store.list_security_events(
        username="alice", limit=20, before_id=None, now=current_deps().now()
    )
    assert page.events == (written,) and page.has_more is False


def test_events_are_listed_newest_first_a_page_at_a_time(
    direct_store: Store, clock: FakeClock
) -> None:
    written = []
    for n in range(7):
        written.append(event(n))
        direct_store.add_security_event(written[-1])
        clock.advance(1)
    first = direct_store.list_security_events(
        username="alice", limit=3, before_id=None, now=clock.now
    )
    assert [e.details_json for e in first.events] == ['{"n":6}', '{"n":5}', '{"n":4}']
    assert first.has_more is True
    second = direct_store.list_security_events(
        username="alice", limit=3, before_id=first.events[-1].id, now=clock.now
    )
    assert [e.details_json for e in second.events] == ['{"n":3}', '{"n":2}', '{"n":1}']
    last = direct_store.list_security_events(
        username="alice", limit=3, before_id=second.events[-1].id, now=clock.now
    )
    assert [e.details_json for e in last.events] == ['{"n":0}'] and last.has_more is False
    assert all_events(direct_store, limit=2) == list(reversed(written))


def test_a_page_of_exactly_the_last_events_has_no_more(direct_store: Store) -> None:
    for n in range(4):
        direct_store.add_security_event(event(n))
    page = direct_store.list_security_events(
        username="alice", limit=4, before_id=None, now=current_deps().now()
    )
    assert len(page.events) == 4 and page.has_more is False


def test_each_user_sees_only_their_own_events(direct_store: Store) -> None:
    direct_store.add_security_event(event(1, "alice"))
    direct_store.add_security_event(event(2, "alicea"))  # a name that shares a prefix
    direct_store.add_security_event(event(3, "bob"))
    assert [e.username for e in all_events(direct_store, "alice")] == ["alice"]
    assert [e.username for e in all_events(direct_store, "bob")] == ["bob"]
    assert all_events(direct_store, "carol") == []


def test_paging_visits_each_event_exactly_once_while_new_ones_are_added(
    direct_store: Store, clock: FakeClock
) -> None:
    """New events sort before the cursor, so a reader paging back never sees one twice
    nor misses an old one, however many arrive while it pages."""
    old = []
    for n in range(25):
        old.append(event(n))
        direct_store.add_security_event(old[-1])
        clock.advance(0.01)
    stop = threading.Event()
    added: list[SecurityEvent] = []

    def writer() -> None:
        n = 1000
        while not stop.is_set() and n < 1200:
            added.append(event(n))
            direct_store.add_security_event(added[-1])
            n += 1

    thread = threading.Thread(target=writer)
    first = direct_store.list_security_events(
        username="alice", limit=4, before_id=None, now=clock.now
    )
    thread.start()
    try:
        seen = list(first.events)
        page = first
        while page.has_more:
            page = direct_store.list_security_events(
                username="alice", limit=4, before_id=page.events[-1].id, now=clock.now
            )
            seen += page.events
    finally:
        stop.set()
        thread.join()
    ids = [e.id for e in seen]
    assert len(ids) == len(set(ids)), "an event was visited twice"
    assert ids == sorted(ids, reverse=True)
    assert {e.id for e in old} <= set(ids), "an old event was missed"
    assert len(added) > 0


def test_events_expire_after_90_days(direct_store: Store, clock: FakeClock) -> None:
    direct_store.add_security_event(event(1))
    clock.advance(RETENTION_SECONDS - 60)
    direct_store.add_security_event(event(2))
    assert [e.details_json for e in all_events(direct_store)] == ['{"n":2}', '{"n":1}']
    clock.advance(61)  # the first is 90 days and a second old
    assert [e.details_json for e in all_events(direct_store)] == ['{"n":2}']
    page = direct_store.list_security_events(username="alice", limit=1, before_id=None,
                                             now=clock.now)
    assert page.has_more is False  # an expired event left behind is no "more"
    clock.advance(RETENTION_SECONDS)
    assert all_events(direct_store) == []


@pytest.mark.stores("sqlite")  # DynamoDB removes them itself by TTL (dynalite has none)
def test_sqlite_prunes_expired_events_by_the_deps_clock(
    direct_store: Store, clock: FakeClock
) -> None:
    direct_store.add_security_event(event(1))
    clock.advance(RETENTION_SECONDS + 120)
    direct_store.add_security_event(event(2))  # a write prunes what expired
    rows = direct_store._read(  # type: ignore[attr-defined]
        "SELECT details FROM security_events WHERE username = ?", ("alice",)
    )
    assert [row["details"] for row in rows] == ['{"n":2}']


def test_events_go_with_the_account(direct_store: Store) -> None:
    user = User(username="alice", password_hash="$argon2id$fake", created_at=1.0,
                credential_stamp="stamp-1")
    direct_store.create_user(user)
    for n in range(30):
        direct_store.add_security_event(event(n))
    direct_store.add_security_event(event(99, "bob"))
    marked = direct_store.mark_user_deleted(username="alice")
    assert marked is not None
    while not direct_store.delete_user_data(username="alice", credential_stamp="stamp-1",
                                            batch=7):
        pass
    direct_store.delete_user(username="alice", credential_stamp="stamp-1")
    assert all_events(direct_store, "alice") == []
    assert len(all_events(direct_store, "bob")) == 1


@pytest.mark.stores("dynamodb")
def test_dynamodb_keeps_events_as_user_items_with_the_tables_ttl_attribute(
    direct_store: Store,
) -> None:
    """In the per-user table (so account deletion's Query finds them), under the
    attribute the table's TTL is set on (so DynamoDB removes them after 90 days)."""
    from chalicelib.store.dynamodb import TTL_ATTRIBUTE, DynamoDBStore
    from ops.tables import tables_with_ttl

    assert isinstance(direct_store, DynamoDBStore)
    written = event(1)
    direct_store.add_security_event(written)
    tables = direct_store._tables
    assert tables_with_ttl(tables)[tables.user_items] == TTL_ATTRIBUTE
    answer = direct_store._client.get_item(
        TableName=tables.user_items,
        Key={"username": {"S": "alice"}, "item": {"S": f"event#{written.id}"}},
    )
    assert answer["Item"][TTL_ATTRIBUTE] == {"N": str(written.expires_at)}
