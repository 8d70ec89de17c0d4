"""The store contract, run against every adapter (SQLite, and DynamoDB on dynalite)."""

from __future__ import annotations

import threading
import time

import pytest

from chalicelib.errors import Conflict, UsernameTaken
from chalicelib.store import LoginThrottle, Message, RefreshToken, Store, User
from chalicelib.timestamps import new_message_id


def make_user(name: str = "alice") -> User:
    return User(username=name, password_hash="$argon2id$fake", created_at=1_700_000_000.5)


def make_message(n: int, author: str = "alice") -> Message:
    now = time.time()
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
            direct_store.get_login_throttle(username=f"user{n}", now=time.time())
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


def test_set_password_replaces_hash_and_optionally_voids_tokens(direct_store: Store) -> None:
    direct_store.create_user(make_user())
    direct_store.set_password(username="alice", password_hash="h2", tokens_valid_after_ms=None)
    user = direct_store.get_user("alice")
    assert user is not None and (user.password_hash, user.tokens_valid_after_ms) == ("h2", 0)
    direct_store.set_password(username="alice", password_hash="h3", tokens_valid_after_ms=1234)
    user = direct_store.get_user("alice")
    assert user is not None and (user.password_hash, user.tokens_valid_after_ms) == ("h3", 1234)


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
        id=new_message_id(time.time()), username="bob",
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


def test_access_state_reports_user_and_revocation(direct_store: Store) -> None:
    now = time.time()
    assert direct_store.access_state(username="alice", jti="j1", now=now).user is None
    direct_store.create_user(make_user())
    state = direct_store.access_state(username="alice", jti="j1", now=now)
    assert state.user == make_user() and not state.revoked
    direct_store.revoke_access_token(jti="j1", expires_at=int(now) + 60)
    assert direct_store.access_state(username="alice", jti="j1", now=now).revoked
    assert not direct_store.access_state(username="alice", jti="j2", now=now).revoked


def test_expired_revocation_is_ignored(direct_store: Store) -> None:
    now = time.time()
    direct_store.revoke_access_token(jti="old", expires_at=int(now) - 10)
    assert not direct_store.access_state(username="x", jti="old", now=now).revoked


def refresh_record(token_hash: str = "h1", family: str = "f1") -> RefreshToken:
    return RefreshToken(
        token_hash=token_hash, username="alice", family=family,
        issued_at_ms=1_700_000_000_000, expires_at=int(time.time()) + 600,
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


def test_revoked_family_is_reported_until_it_expires(direct_store: Store) -> None:
    now = time.time()
    assert not direct_store.is_family_revoked(family="f1", now=now)
    direct_store.revoke_family(family="f1", expires_at=int(now) + 60)
    assert direct_store.is_family_revoked(family="f1", now=now)
    assert not direct_store.is_family_revoked(family="f1", now=now + 120)


def throttle(version: int, failures: int = 1) -> LoginThrottle:
    now = time.time()
    return LoginThrottle(
        username="alice", failures=failures, window_ends=now + 900, locked_until=0.0,
        version=version,
    )


def test_login_throttle_saves_in_version_order(direct_store: Store) -> None:
    now = time.time()
    assert direct_store.get_login_throttle(username="alice", now=now) is None
    direct_store.save_login_throttle(throttle(1))
    with pytest.raises(Conflict):
        direct_store.save_login_throttle(throttle(1))  # someone else already wrote version 1
    with pytest.raises(Conflict):
        direct_store.save_login_throttle(throttle(3))
    direct_store.save_login_throttle(throttle(2, failures=2))
    saved = direct_store.get_login_throttle(username="alice", now=now)
    assert saved is not None and (saved.version, saved.failures) == (2, 2)


def test_cleared_login_throttle_starts_again_at_version_one(direct_store: Store) -> None:
    direct_store.save_login_throttle(throttle(1))
    direct_store.clear_login_throttle(username="alice")
    assert direct_store.get_login_throttle(username="alice", now=time.time()) is None
    direct_store.save_login_throttle(throttle(1))


def test_expired_login_throttle_is_absent(direct_store: Store) -> None:
    past = time.time() - 10_000
    direct_store.save_login_throttle(
        LoginThrottle(username="alice", failures=9, window_ends=past, locked_until=past, version=1)
    )
    assert direct_store.get_login_throttle(username="alice", now=time.time()) is None
    direct_store.save_login_throttle(throttle(1))  # an expired row counts as absent


def test_ping_succeeds_on_a_reachable_store(direct_store: Store) -> None:
    direct_store.ping()
