"""Store contract for issue 21 (both adapters): the passkey limit under concurrency, no
passkey added to an account being deleted, pointers gone with the account, the
WebAuthn user handle kept on the user, and recovery codes replaced in place."""

from __future__ import annotations

import threading

import pytest

from chalicelib.errors import Conflict
from chalicelib.store.model import Passkey, User
from chalicelib.store.protocol import Store

pytestmark = pytest.mark.usefixtures("clock")


def make_user(name: str = "alice", handle: str = "aGFuZGxlLW9mLWFsaWNl") -> User:
    return User(username=name, password_hash="$argon2id$fake", created_at=1_700_000_000.5,
                credential_stamp="stamp-1", webauthn_handle=handle)


def make_passkey(number: int, username: str = "alice") -> Passkey:
    return Passkey(credential_id=f"credential-{number:04d}-AAAAAAAAAAAAAA", username=username,
                   public_key="cHVibGljLWtleQ", sign_count=0, transports=("internal",),
                   name=f"Key {number}", created_at=1_700_000_100.0 + number)


def delete_account(store: Store, username: str) -> None:
    marked = store.mark_user_deleted(username=username)
    assert marked is not None
    while not store.delete_user_data(username=username, credential_stamp=marked.credential_stamp,
                                     batch=100):
        pass
    store.delete_user(username=username, credential_stamp=marked.credential_stamp)


def test_the_user_handle_is_stored_with_the_user(direct_store: Store) -> None:
    direct_store.create_user(make_user())
    user = direct_store.get_user("alice")
    assert user is not None and user.webauthn_handle == "aGFuZGxlLW9mLWFsaWNl"


def test_a_handle_is_given_once_to_an_account_without_one(direct_store: Store) -> None:
    direct_store.create_user(make_user(handle=""))
    first = direct_store.set_webauthn_handle(username="alice", handle="Zmlyc3Q")
    second = direct_store.set_webauthn_handle(username="alice", handle="c2Vjb25k")
    assert first is not None and second is not None
    assert first.webauthn_handle == second.webauthn_handle == "Zmlyc3Q"
    assert direct_store.set_webauthn_handle(username="nobody", handle="eA") is None


def test_of_25_concurrent_registrations_exactly_the_limit_are_stored(direct_store: Store) -> None:
    direct_store.create_user(make_user())
    outcomes: list[bool] = []
    barrier = threading.Barrier(25)

    def add(number: int) -> None:
        barrier.wait()
        outcomes.append(direct_store.add_passkey(make_passkey(number), limit=10))

    threads = [threading.Thread(target=add, args=(n,)) for n in range(25)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(True) == 10 and outcomes.count(False) == 15
    assert len(direct_store.list_passkeys(username="alice")) == 10


def test_a_removed_passkey_frees_its_place(direct_store: Store) -> None:
    direct_store.create_user(make_user())
    for number in range(10):
        assert direct_store.add_passkey(make_passkey(number), limit=10)
    assert not direct_store.add_passkey(make_passkey(10), limit=10)
    third = make_passkey(3).credential_id
    assert direct_store.delete_passkey(username="alice", credential_id=third)
    assert direct_store.add_passkey(make_passkey(10), limit=10)
    assert not direct_store.add_passkey(make_passkey(11), limit=10)


def test_a_taken_credential_does_not_use_up_a_place(direct_store: Store) -> None:
    direct_store.create_user(make_user())
    direct_store.create_user(make_user("bob"))
    assert direct_store.add_passkey(make_passkey(0), limit=10)
    for _ in range(12):
        with pytest.raises(Conflict):
            direct_store.add_passkey(make_passkey(0, "bob"), limit=10)
    assert all(direct_store.add_passkey(make_passkey(n, "bob"), limit=10) for n in range(1, 11))


def test_no_passkey_is_added_to_an_account_being_deleted_or_gone(direct_store: Store) -> None:
    direct_store.create_user(make_user())
    assert direct_store.mark_user_deleted(username="alice") is not None
    assert not direct_store.add_passkey(make_passkey(0), limit=10)
    assert not direct_store.add_passkey(make_passkey(1, "nobody"), limit=10)
    assert direct_store.get_passkey(credential_id=make_passkey(0).credential_id) is None


def test_deleting_the_account_frees_its_credentials_for_anyone(direct_store: Store) -> None:
    direct_store.create_user(make_user())
    for number in range(3):
        assert direct_store.add_passkey(make_passkey(number), limit=10)
    delete_account(direct_store, "alice")
    direct_store.create_user(make_user("bob"))
    direct_store.create_user(make_user("alice", handle="bmV3LWFsaWNl"))
    assert direct_store.list_passkeys(username="alice") == []
    assert direct_store.add_passkey(make_passkey(0, "bob"), limit=10)  # no pointer left
    assert direct_store.add_passkey(make_passkey(1, "alice"), limit=10)
    found = direct_store.get_passkey(credential_id=make_passkey(0).credential_id)
    assert found is not None and found.username == "bob"


def test_recovery_codes_are_replaced_only_while_two_factor_is_on(direct_store: Store) -> None:
    direct_store.create_user(make_user())
    assert not direct_store.set_recovery_codes(username="alice", recovery_hashes=frozenset({"a"}))
    assert direct_store.put_pending_totp(username="alice", secret_ciphertext="v1.x")
    assert not direct_store.set_recovery_codes(username="alice", recovery_hashes=frozenset({"a"}))
    assert direct_store.enable_totp(username="alice", recovery_hashes=frozenset({"old1", "old2"}),
                                    step=1)
    assert direct_store.set_recovery_codes(username="alice",
                                           recovery_hashes=frozenset({"new1", "new2", "new3"}))
    state = direct_store.get_totp(username="alice")
    assert state is not None and state.recovery_hashes == frozenset({"new1", "new2", "new3"})
    assert not direct_store.spend_recovery_code(username="alice", code_hash="old1")
    assert direct_store.spend_recovery_code(username="alice", code_hash="new2")
