"""The newest-page cache: reused for a second, dropped by this instance's own writes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.page_cache import PageCache
from chalicelib.store.model import Message, Page
from chalicelib.store.protocol import Store
from chalicelib.store.sqlite import SQLiteStore
from chalicelib.timestamps import new_message_id
from tests.helpers import Api, body_of


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingStore:
    """A real SQLite store that records how each newest page was asked for."""

    def __init__(self, path: Path) -> None:
        self.inner = SQLiteStore(path)
        self.reads: list[bool] = []  # the ``consistent`` flag of each list_messages

    def list_messages(self, *, limit: int, before_id: str | None, consistent: bool = True
                      ) -> Page:
        self.reads.append(consistent)
        return self.inner.list_messages(limit=limit, before_id=before_id, consistent=consistent)

    def add(self, n: int, at: float) -> Message:
        message = Message(id=new_message_id(at), username="alice", content=f"m{n}",
                          created_at=at)
        self.inner.add_message(message)
        return message


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(clock: Clock) -> PageCache:
    return PageCache(max_age=1.0, consistent_after_write=2.0, clock=clock)


@pytest.fixture
def counted(tmp_path: Path) -> CountingStore:
    return CountingStore(tmp_path / "board.sqlite3")


def as_store(counted: CountingStore) -> Store:
    return counted  # type: ignore[return-value]


def test_newest_page_is_read_once_per_max_age(cache: PageCache, counted: CountingStore,
                                              clock: Clock) -> None:
    counted.add(1, time.time())
    for _ in range(50):
        assert [m.content for m in cache.newest(as_store(counted), limit=20).messages] == ["m1"]
    assert len(counted.reads) == 1
    clock.now += 0.99
    cache.newest(as_store(counted), limit=20)
    assert len(counted.reads) == 1
    clock.now += 0.02
    cache.newest(as_store(counted), limit=20)
    assert len(counted.reads) == 2


def test_another_instances_post_shows_after_max_age(cache: PageCache, counted: CountingStore,
                                                     clock: Clock) -> None:
    assert cache.newest(as_store(counted), limit=20).messages == ()
    counted.add(1, time.time())  # written elsewhere: this instance cannot know
    assert cache.newest(as_store(counted), limit=20).messages == ()
    clock.now += 1.0
    assert len(cache.newest(as_store(counted), limit=20).messages) == 1


def test_own_write_drops_the_cache_and_reads_consistently_for_a_while(
    cache: PageCache, counted: CountingStore, clock: Clock,
) -> None:
    cache.newest(as_store(counted), limit=20)
    counted.add(1, time.time())
    cache.invalidate()
    assert len(cache.newest(as_store(counted), limit=20).messages) == 1
    clock.now += 2.5
    cache.newest(as_store(counted), limit=20)
    assert counted.reads == [False, True, False]


def test_pages_of_each_size_are_cached_apart(cache: PageCache, counted: CountingStore) -> None:
    for n in range(5):
        counted.add(n, time.time() + n)
    assert len(cache.newest(as_store(counted), limit=2).messages) == 2
    assert len(cache.newest(as_store(counted), limit=4).messages) == 4
    assert len(counted.reads) == 2


def test_a_new_store_is_never_answered_from_the_old_ones_pages(
    cache: PageCache, counted: CountingStore, tmp_path: Path,
) -> None:
    counted.add(1, time.time())
    cache.newest(as_store(counted), limit=20)
    other = CountingStore(tmp_path / "other.sqlite3")
    assert cache.newest(as_store(other), limit=20).messages == ()


@pytest.fixture
def board(counted: CountingStore) -> list[Message]:
    """Five messages, newest first."""
    start = time.time()
    return [counted.add(n, start + n) for n in range(5)][::-1]


@pytest.mark.parametrize(("since", "limit", "expected", "gap"), [
    (0, 20, 0, False),  # nothing newer than the newest
    (2, 20, 2, False),
    (4, 20, 4, False),  # since the oldest: the four others
    (4, 3, 3, True),  # more newer than the limit: a gap
])
def test_newer_than_answers_from_the_newest_page(
    cache: PageCache, counted: CountingStore, board: list[Message], since: int, limit: int,
    expected: int, gap: bool,
) -> None:
    answer = cache.newer_than(as_store(counted), since_id=board[since].id, limit=limit)
    assert answer == (tuple(board[:expected]), gap)


def test_newer_than_an_id_before_the_cached_page_asks_the_store(
    counted: CountingStore, clock: Clock,
) -> None:
    start = time.time()
    messages = [counted.add(n, start + n) for n in range(25)]  # more than a cached page
    cache = PageCache(clock=clock)
    assert cache.newer_than(as_store(counted), since_id=messages[2].id, limit=20) is None
    assert cache.newer_than(as_store(counted), since_id=messages[10].id, limit=20) == (
        tuple(reversed(messages[11:])), False)


@pytest.fixture
def moved_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """The board's cache on a clock the test moves."""
    from chalicelib import page_cache

    clock = Clock()
    cache = PageCache(clock=clock)
    monkeypatch.setattr(page_cache, "get_page_cache", lambda: cache)
    yield clock


def newest_contents(api: Api, token: str) -> list[Any]:
    return [m["content"] for m in body_of(api.call("GET", "/messages", token=token))["messages"]]


def test_get_messages_reuses_the_newest_page_and_own_posts_show_at_once(
    api: Api, direct_store: Store, moved_clock: Clock,
) -> None:
    token = api.session("alice")["access_token"]
    assert api.call("POST", "/messages", {"content": "first"}, token=token).status_code == 201
    assert newest_contents(api, token) == ["first"]
    direct_store.add_message(Message(id=new_message_id(time.time()), username="bob",
                                     content="from another instance", created_at=time.time()))
    assert newest_contents(api, token) == ["first"]  # cached: at most a second old
    moved_clock.now += 1.0
    assert newest_contents(api, token) == ["from another instance", "first"]
    assert api.call("POST", "/messages", {"content": "mine"}, token=token).status_code == 201
    assert newest_contents(api, token)[0] == "mine"  # this instance's own post: at once
    message_id = body_of(api.call("GET", "/messages", token=token))["messages"][0]["id"]
    assert api.call("DELETE", f"/messages/{message_id}", token=token).status_code == 204
    assert "mine" not in newest_contents(api, token)
