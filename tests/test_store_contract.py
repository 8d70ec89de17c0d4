"""The store contract, run against every adapter (SQLite, and DynamoDB on dynalite)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

import pytest

from chalicelib.deps import current_deps
from chalicelib.errors import Conflict, UsernameTaken
from chalicelib.store.model import (
    Challenge,
    LoginCount,
    Message,
    RefreshToken,
    Session,
    User,
)
from chalicelib.store.protocol import Store
from chalicelib.timestamps import new_message_id

T = TypeVar("T")

# Every value below that depends on time comes from the test's one fake clock.
pytestmark = pytest.mark.usefixtures("clock")


def clock_now() -> float:
    """Now, from the Deps clock the ``clock`` fixture installed (never the wall clock)."""
    return current_deps().now()


def make_user(name: str = "alice") -> User:
    return User(username=name, password_hash="$argon2id$fake", created_at=1_700_000_000.5,
                credential_stamp="stamp-1")


def make_message(n: int, author: str = "alice") -> Message:
    now = clock_now()
    return Message(id=new_message_id(now), username=author, content=f"message {n}", created_at=now)


def test_created_user_reads_back_equal(direct_store: Store) -> None:
    direct_store.create_user(make_user())
    assert direct_store.get_user("alice") == make_user()


def test_unknown_user_is_none(direct_store: Store) -> None:
    assert direct_store.get_user("nobody") is None


def test_second_user_with_same_name_is_taken(direct_store: Store) -> None:
    direct_store.create_user(make_user())
    with pytest.raises(UsernameTaken):
        direct_store.create_user(make_user())


def test_concurrent_signups_of_one_name_create_exactly_one(direct_store: Store) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def attempt() -> None:
        barrier.wait()
        try:
            direct_store.create_user(make_user("racer"))
            outcomes.append("created")
        except UsernameTaken:
            outcomes.append("taken")

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["created"] + ["taken"] * 7


def test_fresh_store_opened_by_many_threads_at_once_serves_them_all(
    direct_store: Store,
) -> None:
    """The first use of a store creates its schema; racing first uses must all succeed."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def first_use(n: int) -> None:
        barrier.wait()
        try:
            direct_store.count_login_attempt(username=f"user{n}", now=clock_now(), limit=5,
                                           window_seconds=900)
            direct_store.add_message(make_message(n))
        except BaseException as error:  # collected: a thread's exception is otherwise lost
            errors.append(error)

    threads = [threading.Thread(target=first_use, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(direct_store.list_messages(limit=20, before_id=None).messages) == 8


def test_set_password_replaces_hash_and_stamp_only_from_the_expected_stamp(
    direct_store: Store,
) -> None:
    direct_store.create_user(make_user())
    assert direct_store.set_password(
        username="alice", password_hash="h2", credential_stamp="stamp-2", expected_stamp="stamp-1"
    )
    user = direct_store.get_user("alice")
    assert user is not None and (user.password_hash, user.credential_stamp) == ("h2", "stamp-2")
    # A writer that read the old stamp (a login's rehash, a second change) loses.
    assert not direct_store.set_password(
        username="alice", password_hash="h3", credential_stamp="stamp-1", expected_stamp="stamp-1"
    )
    assert direct_store.get_user("alice") == user
    assert not direct_store.set_password(
        username="nobody", password_hash="h", credential_stamp="s", expected_stamp="s"
    )


def test_messages_list_newest_first_with_paging(direct_store: Store) -> None:
    messages = [make_message(n) for n in range(7)]
    for message in messages:
        direct_store.add_message(message)
    first = direct_store.list_messages(limit=3, before_id=None)
    assert [m.content for m in first.messages] == ["message 6", "message 5", "message 4"]
    assert first.has_more
    second = direct_store.list_messages(limit=3, before_id=first.messages[-1].id)
    assert [m.content for m in second.messages] == ["message 3", "message 2", "message 1"]
    assert second.has_more
    last = direct_store.list_messages(limit=3, before_id=second.messages[-1].id)
    assert [m.content for m in last.messages] == ["message 0"]
    assert not last.has_more


def test_page_of_exactly_limit_messages_has_no_more(direct_store: Store) -> None:
    for n in range(3):
        direct_store.add_message(make_message(n))
    page = direct_store.list_messages(limit=3, before_id=None)
    assert len(page.messages) == 3 and not page.has_more


def test_empty_board_is_an_empty_page(direct_store: Store) -> None:
    page = direct_store.list_messages(limit=20, before_id=None)
    assert page.messages == () and not page.has_more


def test_message_round_trips_unaltered(direct_store: Store) -> None:
    message = Message(
        id=new_message_id(clock_now()), username="bob",
        content='<img src=x onerror=alert(1)> "quotes" & ünïcödé 🎉', created_at=1_700_000_000.123,
    )
    direct_store.add_message(message)
    assert direct_store.get_message(message_id=message.id) == message


def test_deleted_message_is_gone(direct_store: Store) -> None:
    message = make_message(1)
    direct_store.add_message(message)
    direct_store.delete_message(message_id=message.id)
    assert direct_store.get_message(message_id=message.id) is None
    assert direct_store.list_messages(limit=5, before_id=None).messages == ()


def make_session(sid: str = "s1", *, username: str = "alice", created_at: float = 100.0,
                 stamp: str = "stamp-1", expires_at: int | None = None) -> Session:
    return Session(
        username=username, sid=sid, credential_stamp=stamp, created_at=created_at,
        last_used_at=created_at,
        expires_at=expires_at if expires_at is not None else int(clock_now()) + 600,
    )


def test_access_state_reports_user_and_session_together(direct_store: Store) -> None:
    assert direct_store.access_state(username="alice", sid="s1").user is None
    direct_store.create_user(make_user())
    state = direct_store.access_state(username="alice", sid="s1")
    assert state.user == make_user() and state.session is None
    direct_store.start_session(make_session())
    state = direct_store.access_state(username="alice", sid="s1")
    assert state.user == make_user() and state.session == make_session()


def test_a_session_is_found_only_under_its_own_user(direct_store: Store) -> None:
    direct_store.create_user(make_user("bob"))
    direct_store.start_session(make_session(username="alice"))
    assert direct_store.access_state(username="bob", sid="s1").session is None
    assert not direct_store.end_session(username="bob", sid="s1")
    assert direct_store.list_sessions(username="bob", now=clock_now()) == []


def test_sessions_list_newest_first_without_expired_ones(direct_store: Store) -> None:
    now = clock_now()
    direct_store.start_session(make_session("old", created_at=1.0))
    direct_store.start_session(make_session("new", created_at=3.0))
    direct_store.start_session(make_session("mid", created_at=2.0))
    direct_store.start_session(make_session("gone", created_at=4.0, expires_at=int(now) - 5))
    direct_store.start_session(make_session("other", username="bob", created_at=5.0))
    listed = direct_store.list_sessions(username="alice", now=now)
    assert [s.sid for s in listed] == ["new", "mid", "old"]


def test_ended_session_is_gone_at_once(direct_store: Store) -> None:
    direct_store.start_session(make_session("s1"))
    direct_store.start_session(make_session("s2"))
    assert direct_store.end_session(username="alice", sid="s1") == make_session("s1")
    assert direct_store.end_session(username="alice", sid="s1") is None
    assert direct_store.access_state(username="alice", sid="s1").session is None
    assert [s.sid for s in direct_store.list_sessions(username="alice", now=clock_now())] == ["s2"]
    direct_store.end_sessions(username="alice")
    assert direct_store.list_sessions(username="alice", now=clock_now()) == []


def test_touching_a_session_needs_it_live_and_under_the_same_stamp(direct_store: Store) -> None:
    now = clock_now()
    direct_store.start_session(make_session("s1"))
    later = int(now) + 5000
    assert direct_store.touch_session(
        username="alice", sid="s1", credential_stamp="stamp-1", now=now, expires_at=later
    )
    touched = direct_store.access_state(username="alice", sid="s1").session
    assert touched is not None and (touched.last_used_at, touched.expires_at) == (now, later)
    assert not direct_store.touch_session(
        username="alice", sid="s1", credential_stamp="stamp-2", now=now, expires_at=later
    )
    assert not direct_store.touch_session(
        username="alice", sid="s1", credential_stamp="stamp-1", now=later + 1, expires_at=later
    )
    direct_store.end_session(username="alice", sid="s1")
    assert not direct_store.touch_session(
        username="alice", sid="s1", credential_stamp="stamp-1", now=now, expires_at=later
    )


def test_touch_racing_end_leaves_no_session(direct_store: Store) -> None:
    """Of a refresh's touch and a logout, whichever lands second, no session is left."""
    for round_ in range(10):
        sid = f"race{round_}"
        direct_store.start_session(make_session(sid))
        barrier = threading.Barrier(2)
        touched: list[bool] = []

        def touch(sid: str = sid, barrier: threading.Barrier = barrier,
                  touched: list[bool] = touched) -> None:
            barrier.wait()
            touched.append(direct_store.touch_session(
                username="alice", sid=sid, credential_stamp="stamp-1", now=clock_now(),
                expires_at=int(clock_now()) + 600,
            ))

        def end(sid: str = sid, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            direct_store.end_session(username="alice", sid=sid)

        threads = [threading.Thread(target=touch), threading.Thread(target=end)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert len(touched) == 1
        assert direct_store.access_state(username="alice", sid=sid).session is None


def test_deleting_a_user_removes_every_record_of_theirs_and_nothing_else(
    direct_store: Store,
) -> None:
    direct_store.create_user(make_user("alice"))
    direct_store.create_user(make_user("bob"))
    theirs = [make_message(n, "alice") for n in range(7)]
    others = [make_message(n, "bob") for n in range(3)]
    for message in theirs + others:
        direct_store.add_message(message)
    direct_store.start_session(make_session("a1"))
    direct_store.start_session(make_session("b1", username="bob"))
    assert direct_store.mark_user_deleted(username="alice") == replace(
        make_user("alice"), deleted=True)
    marked = direct_store.get_user("alice")
    assert marked is not None and marked.deleted
    assert not direct_store.set_password(
        username="alice", password_hash="h", credential_stamp="x", expected_stamp="stamp-1"
    )
    with pytest.raises(UsernameTaken):  # the name stays taken until the end
        direct_store.create_user(make_user("alice"))
    calls = 1
    while not direct_store.delete_user_data(  # resumable batches
        username="alice", credential_stamp="stamp-1", batch=3
    ):
        calls += 1
        assert calls < 10
    assert calls >= 3
    direct_store.delete_user(username="alice", credential_stamp="stamp-1")
    assert direct_store.get_user("alice") is None
    remaining = direct_store.list_messages(limit=100, before_id=None).messages
    assert sorted(m.id for m in remaining) == sorted(m.id for m in others)
    assert direct_store.access_state(username="alice", sid="a1").session is None
    assert direct_store.access_state(username="bob", sid="b1").session is not None
    direct_store.create_user(make_user("alice"))  # the name is free again


def test_marking_an_unknown_user_deleted_reports_it(direct_store: Store) -> None:
    assert direct_store.mark_user_deleted(username="nobody") is None


def test_delete_user_leaves_a_user_not_marked_deleted(direct_store: Store) -> None:
    direct_store.create_user(make_user())
    direct_store.delete_user(username="alice", credential_stamp="stamp-1")
    assert direct_store.get_user("alice") == make_user()


def test_a_late_deletion_of_an_earlier_account_leaves_the_new_account_of_the_name_whole(
    direct_store: Store,
) -> None:
    """A deletion resuming after another finished it and the name was signed up again
    names the old account by its stamp: it deletes nothing of the new one."""
    direct_store.create_user(make_user())
    direct_store.add_message(make_message(1))
    old = direct_store.mark_user_deleted(username="alice")
    assert old is not None
    while not direct_store.delete_user_data(username="alice", credential_stamp="stamp-1",
                                            batch=5):
        pass
    direct_store.delete_user(username="alice", credential_stamp="stamp-1")
    new = replace(make_user(), credential_stamp="stamp-2")
    direct_store.create_user(new)
    kept = make_message(2)
    direct_store.add_message(kept)
    direct_store.start_session(make_session("new-1", stamp="stamp-2"))
    # The first deletion, late: another batch, then freeing the name.
    assert direct_store.delete_user_data(username="alice", credential_stamp="stamp-1", batch=5)
    direct_store.delete_user(username="alice", credential_stamp="stamp-1")
    assert direct_store.get_user("alice") == new
    assert direct_store.list_messages(limit=10, before_id=None).messages == (kept,)
    assert direct_store.access_state(username="alice", sid="new-1").session is not None
    # Even once the new account is being deleted too, the old stamp frees nothing.
    direct_store.mark_user_deleted(username="alice")
    assert direct_store.delete_user_data(username="alice", credential_stamp="stamp-1", batch=5)
    direct_store.delete_user(username="alice", credential_stamp="stamp-1")
    assert direct_store.get_user("alice") is not None
    assert direct_store.list_messages(limit=10, before_id=None).messages


def refresh_record(token_hash: str = "h1", family: str = "f1") -> RefreshToken:
    return RefreshToken(
        token_hash=token_hash, username="alice", family=family,
        issued_at_ms=1_700_000_000_000, expires_at=int(clock_now()) + 600,
    )


def test_refresh_token_is_spent_once(direct_store: Store) -> None:
    direct_store.add_refresh_token(refresh_record())
    first = direct_store.spend_refresh_token(token_hash="h1")
    second = direct_store.spend_refresh_token(token_hash="h1")
    assert first == refresh_record()
    assert second is not None and second.used
    assert direct_store.spend_refresh_token(token_hash="unknown") is None


def test_reading_a_refresh_token_does_not_spend_it(direct_store: Store) -> None:
    direct_store.add_refresh_token(refresh_record())
    assert direct_store.get_refresh_token(token_hash="h1") == refresh_record()
    assert direct_store.get_refresh_token(token_hash="nope") is None
    spent = direct_store.spend_refresh_token(token_hash="h1")
    assert spent is not None and not spent.used


def test_concurrent_spends_of_one_refresh_token_have_one_winner(direct_store: Store) -> None:
    direct_store.add_refresh_token(refresh_record())
    results: list[bool] = []
    barrier = threading.Barrier(6)

    def spend() -> None:
        barrier.wait()
        record = direct_store.spend_refresh_token(token_hash="h1")
        assert record is not None
        results.append(record.used)

    threads = [threading.Thread(target=spend) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [False] + [True] * 5


LIMIT, WINDOW = 5, 900


def count(store: Store, now: float, username: str = "alice") -> LoginCount:
    return store.count_login_attempt(username=username, now=now, limit=LIMIT,
                                     window_seconds=WINDOW)


def test_login_attempts_count_up_to_the_limit_then_are_refused_uncounted(
    direct_store: Store,
) -> None:
    now = 1_700_000_000.0
    counted = [count(direct_store, now + i) for i in range(LIMIT)]
    assert [c.counted for c in counted] == [True] * LIMIT
    assert [c.throttle.attempts for c in counted] == [1, 2, 3, 4, 5]
    assert counted[0].throttle.locked_until == now + WINDOW
    assert counted[-1].throttle.locked_until == now + 4 + WINDOW  # from the limit-th attempt
    for later in (now + 10, now + 500, now + 4 + WINDOW - 0.5):
        refused = count(direct_store, later)
        assert not refused.counted
        assert refused.throttle.locked_until == now + 4 + WINDOW  # never extended


def test_an_ended_lock_starts_a_new_window(direct_store: Store) -> None:
    now = 1_700_000_000.0
    for i in range(LIMIT):
        count(direct_store, now + i)
    after = count(direct_store, now + 4 + WINDOW)
    assert after.counted and after.throttle.attempts == 1
    assert after.throttle.locked_until == now + 4 + 2 * WINDOW


def test_attempts_a_whole_window_after_the_last_start_a_new_count(direct_store: Store) -> None:
    now = 1_700_000_000.0
    for i in range(LIMIT - 1):
        count(direct_store, now + i)
    later = count(direct_store, now + LIMIT - 2 + WINDOW)
    assert later.counted and later.throttle.attempts == 1


def test_no_stretch_of_one_window_holds_more_than_the_limit_of_counted_attempts(
    direct_store: Store,
) -> None:
    """The count does not restart a window after the first attempt: 1 early attempt and
    3 just before that instant, then just after it only 1 more is counted, and the lock
    runs a window from that 5th."""
    now = 1_700_000_000.0
    count(direct_store, now)
    for i in range(3):
        count(direct_store, now + WINDOW - 1 + i * 0.1)
    after = [count(direct_store, now + WINDOW + 1 + i * 0.1) for i in range(LIMIT)]
    assert [c.counted for c in after] == [True] + [False] * (LIMIT - 1)
    assert after[0].throttle.attempts == LIMIT
    assert after[-1].throttle.locked_until == now + WINDOW + 1 + WINDOW


def test_cleared_login_attempts_start_again_at_one(direct_store: Store) -> None:
    now = 1_700_000_000.0
    for i in range(LIMIT):
        count(direct_store, now + i)
    direct_store.clear_login_throttle(username="alice")
    again = count(direct_store, now + 10)
    assert again.counted and again.throttle.attempts == 1


def test_login_attempts_are_per_username(direct_store: Store) -> None:
    now = 1_700_000_000.0
    for i in range(LIMIT):
        count(direct_store, now + i)
    assert count(direct_store, now + 6, "bob").counted


def count_in(store: Store, now: float, scope: str, username: str = "alice") -> LoginCount:
    return store.count_login_attempt(username=username, now=now, limit=LIMIT,
                                     window_seconds=WINDOW, scope=scope)


def test_throttle_buckets_of_one_name_count_apart(direct_store: Store) -> None:
    """A locked ``login`` bucket leaves the name's ``code`` and device buckets counting."""
    now = 1_700_000_000.0
    for i in range(LIMIT):
        count(direct_store, now + i)
    assert not count(direct_store, now + 6).counted
    code = count_in(direct_store, now + 6, "code")
    assert code.counted and code.throttle.attempts == 1 and code.throttle.scope == "code"
    device = count_in(direct_store, now + 7, "device:d-1")
    assert device.counted and device.throttle.attempts == 1
    assert device.throttle.scope == "device:d-1"
    assert count_in(direct_store, now + 8, "code").throttle.attempts == 2
    assert count(direct_store, now + 9).throttle.scope == "login"


def test_a_scoped_bucket_locks_at_the_limit_like_the_login_one(direct_store: Store) -> None:
    now = 1_700_000_000.0
    counted = [count_in(direct_store, now + i, "unknown") for i in range(LIMIT)]
    assert [c.throttle.attempts for c in counted] == [1, 2, 3, 4, 5]
    refused = count_in(direct_store, now + 10, "unknown")
    assert not refused.counted and refused.throttle.locked_until == now + 4 + WINDOW
    assert count(direct_store, now + 10).counted  # the login bucket is untouched
    after = count_in(direct_store, now + 4 + WINDOW, "unknown")
    assert after.counted and after.throttle.attempts == 1


def test_clearing_one_bucket_leaves_the_others(direct_store: Store) -> None:
    now = 1_700_000_000.0
    for i in range(3):
        count(direct_store, now + i)
        count_in(direct_store, now + i, "code")
    direct_store.clear_login_throttle(username="alice", scope="code")
    assert count_in(direct_store, now + 5, "code").throttle.attempts == 1
    assert count(direct_store, now + 5).throttle.attempts == 4
    direct_store.clear_login_throttle(username="alice")  # the login bucket, as before
    assert count(direct_store, now + 6).throttle.attempts == 1
    assert count_in(direct_store, now + 6, "code").throttle.attempts == 2


def test_clear_throttles_forgets_every_bucket_of_the_name_only(direct_store: Store) -> None:
    now = 1_700_000_000.0
    scopes = ["login", "code", "device:d-1", "device:d-2", "unknown"]
    for scope in scopes:
        for i in range(LIMIT):
            count_in(direct_store, now + i, scope)
            count_in(direct_store, now + i, scope, username="bob")
    direct_store.clear_throttles(username="alice")
    for scope in scopes:
        again = count_in(direct_store, now + 10, scope)
        assert again.counted and again.throttle.attempts == 1, scope
        assert not count_in(direct_store, now + 10, scope, username="bob").counted, scope
    direct_store.clear_throttles(username="nobody")  # nothing to clear: no error


def test_deleting_an_account_removes_its_throttle_buckets(direct_store: Store) -> None:
    """Per-user data, on both stores alike (on DynamoDB they are items of the user)."""
    now = 1_700_000_000.0
    direct_store.create_user(make_user())
    for scope in ("login", "code"):
        for i in range(LIMIT):
            count_in(direct_store, now + i, scope)
    assert direct_store.mark_user_deleted(username="alice") is not None
    while not direct_store.delete_user_data(username="alice", credential_stamp="stamp-1",
                                            batch=5):
        pass
    for scope in ("login", "code"):
        assert count_in(direct_store, now + 10, scope).throttle.attempts == 1, scope


def test_concurrent_attempts_in_a_scoped_bucket_count_exactly_the_limit(
    direct_store: Store,
) -> None:
    barrier = threading.Barrier(16)
    results: list[LoginCount] = []
    now = clock_now()

    def attempt(scope: str) -> None:
        barrier.wait()
        results.append(retrying(lambda: count_in(direct_store, now, scope)))

    threads = [threading.Thread(target=attempt, args=(scope,))
               for scope in ["code", "device:d-1"] * 8]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 16
    for scope in ("code", "device:d-1"):
        assert sorted(r.throttle.attempts for r in results
                      if r.counted and r.throttle.scope == scope) == [1, 2, 3, 4, 5]


def retrying(action: Callable[[], T]) -> T:
    """What the service layer does with ``Conflict``: try again with fresh state."""
    while True:
        try:
            return action()
        except Conflict:
            continue


def test_24_concurrent_attempts_count_exactly_the_limit(direct_store: Store) -> None:
    barrier = threading.Barrier(24)
    results: list[LoginCount] = []
    now = clock_now()

    def attempt() -> None:
        barrier.wait()
        results.append(retrying(lambda: count(direct_store, now)))

    threads = [threading.Thread(target=attempt) for _ in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 24
    assert sorted(r.throttle.attempts for r in results if r.counted) == [1, 2, 3, 4, 5]


def test_posts_are_counted_in_a_sliding_window(direct_store: Store) -> None:
    def post(at: float) -> float | None:
        return retrying(lambda: direct_store.count_post(
            username="alice", now=at, limit=3, window_seconds=60))

    now = 1_700_000_000.0
    assert [post(now), post(now + 10), post(now + 20)] == [None, None, None]
    assert post(now + 59) == now + 60  # the oldest leaves the window at now + 60
    assert direct_store.count_post(username="bob", now=now + 59, limit=3,
                                   window_seconds=60) is None
    assert post(now + 60) is None  # in any 60 s: never more than 3
    assert post(now + 65) == now + 70


def test_concurrent_posts_record_exactly_the_limit(direct_store: Store) -> None:
    barrier = threading.Barrier(20)
    results: list[float | None] = []
    now = clock_now()

    def post() -> None:
        barrier.wait()
        results.append(retrying(lambda: direct_store.count_post(
            username="alice", now=now, limit=7, window_seconds=60)))

    threads = [threading.Thread(target=post) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results.count(None) == 7 and len(results) == 20


def test_ping_succeeds_on_a_reachable_store(direct_store: Store) -> None:
    direct_store.ping()


# -- display names and "since" ------------------------------------------------------------


def test_new_user_without_a_display_name_is_shown_as_the_username(direct_store: Store) -> None:
    direct_store.create_user(make_user())
    assert direct_store.get_user("alice").display_name == "alice"


def test_display_name_round_trips_and_renames(direct_store: Store) -> None:
    direct_store.create_user(User(username="alice", password_hash="$argon2id$fake",
                                  created_at=1.5, credential_stamp="s",
                                  display_name="Alice Liddell"))
    assert direct_store.get_user("alice").display_name == "Alice Liddell"
    renamed = direct_store.set_display_name(username="alice", display_name="Zoë 🦊")
    assert renamed == direct_store.get_user("alice")
    assert renamed.display_name == "Zoë 🦊"
    assert renamed.password_hash == "$argon2id$fake"


def test_renaming_a_missing_user_is_none_and_creates_nobody(direct_store: Store) -> None:
    assert direct_store.set_display_name(username="ghost", display_name="Ghost") is None
    assert direct_store.get_user("ghost") is None


def test_listed_messages_carry_their_authors_current_display_name(direct_store: Store) -> None:
    for name in ["alice", "bob"]:
        direct_store.create_user(make_user(name))
    direct_store.add_message(make_message(1, "alice"))
    direct_store.add_message(make_message(2, "bob"))
    direct_store.add_message(make_message(3, "alice"))
    direct_store.set_display_name(username="alice", display_name="Alice L.")
    page = direct_store.list_messages(limit=10, before_id=None)
    assert [(m.username, m.display_name) for m in page.messages] == [
        ("alice", "Alice L."), ("bob", "bob"), ("alice", "Alice L.")
    ]
    older = direct_store.list_messages(limit=10, before_id=page.messages[0].id)
    assert [m.display_name for m in older.messages] == ["bob", "Alice L."]


def test_message_of_an_author_without_an_account_shows_the_username(direct_store: Store) -> None:
    direct_store.add_message(make_message(1, "gone"))
    [message] = direct_store.list_messages(limit=5, before_id=None).messages
    assert message.display_name == "gone"


def test_newer_messages_are_newest_first_above_the_given_id(direct_store: Store) -> None:
    direct_store.create_user(make_user())
    ids = []
    for n in range(5):
        message = make_message(n)
        direct_store.add_message(message)
        ids.append(message.id)
    page = direct_store.list_newer_messages(limit=10, after_id=ids[1])
    assert [m.id for m in page.messages] == [ids[4], ids[3], ids[2]]
    assert not page.has_more
    assert all(m.display_name == "alice" for m in page.messages)


def test_more_newer_messages_than_the_limit_report_more(direct_store: Store) -> None:
    ids = []
    for n in range(5):
        message = make_message(n)
        direct_store.add_message(message)
        ids.append(message.id)
    page = direct_store.list_newer_messages(limit=2, after_id=ids[0])
    assert [m.id for m in page.messages] == [ids[4], ids[3]]  # the newest, not the next
    assert page.has_more
    exact = direct_store.list_newer_messages(limit=4, after_id=ids[0])
    assert len(exact.messages) == 4 and not exact.has_more


def test_nothing_newer_than_the_newest_message_is_an_empty_page(direct_store: Store) -> None:
    message = make_message(1)
    direct_store.add_message(message)
    page = direct_store.list_newer_messages(limit=20, after_id=message.id)
    assert page.messages == () and not page.has_more


# --- known devices and session details (issue 21): every new field round-trips ---


def test_a_session_keeps_how_where_and_until_when_it_signed_in(direct_store: Store) -> None:
    session = replace(
        make_session(), ends_at=int(clock_now()) + 3600, method="passkey", ip="203.0.113.9",
        user_agent="Mozilla/5.0 (X11; Linux x86_64)",
        device_id="d1", credential_id="cred-1",
    )
    direct_store.start_session(session)
    assert direct_store.access_state(username="alice", sid="s1").session == session
    assert direct_store.list_sessions(username="alice", now=clock_now()) == [session]
    assert direct_store.end_session(username="alice", sid="s1") == session


def test_a_refresh_token_keeps_its_sessions_absolute_end(direct_store: Store) -> None:
    token = replace(refresh_record(), session_ends_at=int(clock_now()) + 3600)
    direct_store.add_refresh_token(token)
    assert direct_store.get_refresh_token(token_hash=token.token_hash) == token


def test_an_mfa_challenge_keeps_the_device_of_its_password_step(direct_store: Store) -> None:
    challenge = Challenge(key="jti-1", purpose="mfa", username="alice",
                          expires_at=int(clock_now()) + 300, credential_stamp="s",
                          device_id="d1")
    direct_store.put_challenge(challenge)
    assert direct_store.take_challenge(key="jti-1", now=clock_now()) == challenge
