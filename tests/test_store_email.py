"""The store contract for email (issue 23), on every adapter (SQLite, DynamoDB on dynalite)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import pytest

from chalicelib.deps import current_deps
from chalicelib.errors import AccountGone
from chalicelib.store.model import EmailAddress, EmailToken, User
from chalicelib.store.protocol import Store

T = TypeVar("T")
pytestmark = pytest.mark.usefixtures("clock")


def stamp(name: str) -> str:
    return f"stamp-{name}"


def claim(direct_store: Store, name: str, email: str) -> bool:
    return direct_store.claim_email(username=name, email=email, credential_stamp=stamp(name))


def pend(direct_store: Store, name: str, email: str) -> None:
    direct_store.set_pending_email(username=name, email=email, credential_stamp=stamp(name))


def make_user(direct_store: Store, name: str) -> User:
    user = User(username=name, password_hash="$argon2id$fake", created_at=1_700_000_000.5,
                credential_stamp=stamp(name))
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
    pend(direct_store, "alice", "a@example.com")
    assert direct_store.get_email(username="alice") == EmailAddress("alice", "", "a@example.com")
    assert direct_store.email_owner(email="a@example.com") is None  # pending: used for nothing
    assert claim(direct_store, "alice", "a@example.com") is True
    assert direct_store.get_email(username="alice") == EmailAddress("alice", "a@example.com", "")
    assert direct_store.email_owner(email="a@example.com") == "alice"
    assert claim(direct_store, "alice", "a@example.com") is True  # again


def test_claim_keeps_another_pending_address(direct_store: Store) -> None:
    make_user(direct_store, "alice")
    pend(direct_store, "alice", "b@example.com")
    assert claim(direct_store, "alice", "a@example.com")
    assert direct_store.get_email(username="alice") == EmailAddress(
        "alice", "a@example.com", "b@example.com")


def test_a_verified_address_belongs_to_one_account(direct_store: Store) -> None:
    make_user(direct_store, "alice")
    make_user(direct_store, "bob")
    assert claim(direct_store, "alice", "a@example.com")
    assert claim(direct_store, "bob", "a@example.com") is False
    assert direct_store.get_email(username="bob") is None
    assert direct_store.email_owner(email="a@example.com") == "alice"


def test_changing_the_address_releases_the_old_one(direct_store: Store) -> None:
    make_user(direct_store, "alice")
    make_user(direct_store, "bob")
    assert claim(direct_store, "alice", "a@example.com")
    assert claim(direct_store, "alice", "new@example.com")
    assert direct_store.email_owner(email="a@example.com") is None
    assert claim(direct_store, "bob", "a@example.com")
    assert direct_store.email_owner(email="a@example.com") == "bob"


def test_deleting_the_account_releases_the_address(direct_store: Store) -> None:
    make_user(direct_store, "alice")
    make_user(direct_store, "bob")
    assert claim(direct_store, "alice", "a@example.com")
    marked = direct_store.mark_user_deleted(username="alice")
    assert marked is not None
    while not direct_store.delete_user_data(username="alice",
                                            credential_stamp=marked.credential_stamp, batch=10):
        pass
    direct_store.delete_user(username="alice", credential_stamp=marked.credential_stamp)
    assert direct_store.email_owner(email="a@example.com") is None
    assert claim(direct_store, "bob", "a@example.com")


@pytest.mark.parametrize("swept", [False, True], ids=["being-deleted", "swept"])
def test_no_address_is_kept_for_an_account_being_deleted(direct_store: Store,
                                                         swept: bool) -> None:
    """A link opened while DELETE /me runs: whether the account is only marked or its
    items already swept, neither a pending nor a verified address is written for it,
    so the address stays free and a later account of the name starts with none."""
    make_user(direct_store, "alice")
    pend(direct_store, "alice", "a@example.com")
    marked = direct_store.mark_user_deleted(username="alice")
    assert marked is not None
    if swept:
        while not direct_store.delete_user_data(username="alice", credential_stamp=stamp("alice"),
                                                batch=10):
            pass
    with pytest.raises(AccountGone):
        claim(direct_store, "alice", "a@example.com")
    with pytest.raises(AccountGone):
        pend(direct_store, "alice", "b@example.com")
    assert direct_store.email_owner(email="a@example.com") is None
    while not direct_store.delete_user_data(username="alice", credential_stamp=stamp("alice"),
                                            batch=10):
        pass
    direct_store.delete_user(username="alice", credential_stamp=stamp("alice"))
    make_user(direct_store, "alice")
    assert direct_store.get_email(username="alice") is None
    make_user(direct_store, "bob")
    assert claim(direct_store, "bob", "a@example.com")


def test_no_address_is_kept_under_a_stale_credential_stamp(direct_store: Store) -> None:
    """A link mailed before a password change (or to an earlier account of the name)."""
    make_user(direct_store, "alice")
    pend(direct_store, "alice", "a@example.com")
    with pytest.raises(AccountGone):
        direct_store.claim_email(username="alice", email="a@example.com",
                                 credential_stamp="an older stamp")
    with pytest.raises(AccountGone):
        direct_store.set_pending_email(username="alice", email="b@example.com",
                                       credential_stamp="an older stamp")
    assert direct_store.get_email(username="alice") == EmailAddress("alice", "", "a@example.com")
    assert direct_store.email_owner(email="a@example.com") is None


def test_concurrent_claims_of_one_address_one_wins(direct_store: Store) -> None:
    names = [f"user{i}" for i in range(4)]
    for name in names:
        make_user(direct_store, name)
    results = race([lambda n=n: claim(direct_store, n, "x@example.com")
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
