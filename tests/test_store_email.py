"""The store contract for email (issue 23), on every adapter (SQLite, DynamoDB on dynalite)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import pytest

from chalicelib.deps import current_deps
from chalicelib.store.model import EmailAddress, EmailToken, User
from chalicelib.store.protocol import Store

T = TypeVar("T")
pytestmark = pytest.mark.usefixtures("clock")


def make_user(direct_store: Store, name: str) -> User:
    user = User(username=name, password_hash="$argon2id$fake", created_at=1_700_000_000.5,
                credential_stamp=f"stamp-{name}")
    direct_store.create_user(user)
    return user


def token(purpose: str = "reset", digest: str = "a" * 64, *, expires_in: int = 60,
          username: str = "alice") -> EmailToken:
    return EmailToken(token_hash=digest, purpose=purpose, username=username,
                      expires_at=int(current_deps().now()) + expires_in,
                      email="alice@example.com", credential_stamp="stamp-alice")


def race(calls: list[Callable[[], T]]) -> list[T]:
    barrier = threading.Barrier(len(calls))
    results: list[T | None] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results  # type: ignore[return-value]


def test_no_address_reads_none(direct_store: Store) -> None:
    make_user(direct_store, "alice")
    assert direct_store.get_email(username="alice") is None
    assert direct_store.email_owner(email="alice@example.com") is None


def test_pending_then_claimed(direct_store: Store) -> None:
    make_user(direct_store, "alice")
    direct_store.set_pending_email(username="alice", email="a@example.com")
    assert direct_store.get_email(username="alice") == EmailAddress("alice", "", "a@example.com")
    assert direct_store.email_owner(email="a@example.com") is None  # pending: used for nothing
    assert direct_store.claim_email(username="alice", email="a@example.com") is True
    assert direct_store.get_email(username="alice") == EmailAddress("alice", "a@example.com", "")
    assert direct_store.email_owner(email="a@example.com") == "alice"
    assert direct_store.claim_email(username="alice", email="a@example.com") is True  # again


def test_claim_keeps_another_pending_address(direct_store: Store) -> None:
    make_user(direct_store, "alice")
    direct_store.set_pending_email(username="alice", email="b@example.com")
    assert direct_store.claim_email(username="alice", email="a@example.com")
    assert direct_store.get_email(username="alice") == EmailAddress(
        "alice", "a@example.com", "b@example.com")


def test_a_verified_address_belongs_to_one_account(direct_store: Store) -> None:
    make_user(direct_store, "alice")
    make_user(direct_store, "bob")
    assert direct_store.claim_email(username="alice", email="a@example.com")
    assert direct_store.claim_email(username="bob", email="a@example.com") is False
    assert direct_store.get_email(username="bob") is None
    assert direct_store.email_owner(email="a@example.com") == "alice"


def test_changing_the_address_releases_the_old_one(direct_store: Store) -> None:
    make_user(direct_store, "alice")
    make_user(direct_store, "bob")
    assert direct_store.claim_email(username="alice", email="a@example.com")
    assert direct_store.claim_email(username="alice", email="new@example.com")
    assert direct_store.email_owner(email="a@example.com") is None
    assert direct_store.claim_email(username="bob", email="a@example.com")
    assert direct_store.email_owner(email="a@example.com") == "bob"


def test_deleting_the_account_releases_the_address(direct_store: Store) -> None:
    make_user(direct_store, "alice")
    make_user(direct_store, "bob")
    assert direct_store.claim_email(username="alice", email="a@example.com")
    marked = direct_store.mark_user_deleted(username="alice")
    assert marked is not None
    while not direct_store.delete_user_data(username="alice",
                                            credential_stamp=marked.credential_stamp, batch=10):
        pass
    direct_store.delete_user(username="alice", credential_stamp=marked.credential_stamp)
    assert direct_store.email_owner(email="a@example.com") is None
    assert direct_store.claim_email(username="bob", email="a@example.com")


def test_concurrent_claims_of_one_address_one_wins(direct_store: Store) -> None:
    names = [f"user{i}" for i in range(4)]
    for name in names:
        make_user(direct_store, name)
    results = race([lambda n=n: direct_store.claim_email(username=n, email="x@example.com")
                    for n in names])
    assert sorted(results) == [False, False, False, True]
    winner = names[results.index(True)]
    assert direct_store.email_owner(email="x@example.com") == winner


def test_token_taken_once_and_by_purpose(direct_store: Store) -> None:
    direct_store.put_email_token(token())
    now = current_deps().now()
    assert direct_store.take_email_token(purpose="verify", token_hash="a" * 64, now=now) is None
    assert direct_store.take_email_token(purpose="reset", token_hash="a" * 64, now=now) == token()
    assert direct_store.take_email_token(purpose="reset", token_hash="a" * 64, now=now) is None
    direct_store.put_email_token(token())  # put back (a refused reset): usable again
    assert direct_store.take_email_token(purpose="reset", token_hash="a" * 64, now=now)


def test_expired_token_is_not_taken(direct_store: Store) -> None:
    direct_store.put_email_token(token(expires_in=10))
    later = current_deps().now() + 11
    assert direct_store.take_email_token(purpose="reset", token_hash="a" * 64, now=later) is None


def test_concurrent_takes_of_one_token_one_wins(direct_store: Store) -> None:
    direct_store.put_email_token(token())
    now = current_deps().now()
    results = race([lambda: direct_store.take_email_token(
        purpose="reset", token_hash="a" * 64, now=now) for _ in range(4)])
    assert sum(r is not None for r in results) == 1
