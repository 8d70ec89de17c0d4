"""Known devices (API.md, section Known devices; issue 21 finding 4): a flood of wrong
passwords from elsewhere never locks the owner out of a device they signed in on
before, failures from unknown devices are bounded (NIST SP 800-63B: at most 100
consecutive), and device tokens end with the account.

Over HTTP through the test client on SQLite; the race and the store methods on both.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from chalicelib import known_devices, passwords, signin
from chalicelib.clients import NO_CLIENT
from chalicelib.config import load_settings
from chalicelib.deps import Deps, current_deps
from chalicelib.errors import InvalidCredentials, LoginThrottled
from chalicelib.store.model import KnownDevice, User
from chalicelib.store.protocol import Store
from tests.conftest import FakeClock
from tests.helpers import Api, body_of

pytestmark = pytest.mark.stores("sqlite")

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a different horse, stapled"
WRONG = "definitely not it"
YEAR = 365 * 86_400
WINDOW = 900


def login(api: Api, username: str = "alice", password: str = PASSWORD,
          device_token: str | None = None) -> Any:
    body: dict[str, str] = {"username": username, "password": password}
    if device_token is not None:
        body["device_token"] = device_token
    return api.call("POST", "/login", body)


def flood(api: Api, times: int, device_token: str | None = None,
          username: str = "alice") -> list[int]:
    return [login(api, username, WRONG, device_token).status_code for _ in range(times)]


@pytest.fixture
def owner(api: Api) -> dict[str, Any]:
    """alice, signed up and signed in once: her token pair (with her device token)."""
    assert api.signup("alice").status_code == 201
    response = login(api)
    assert response.status_code == 200
    return dict(body_of(response))


def test_every_sign_in_answer_carries_a_device_token_and_a_refresh_does_not(
    api: Api, owner: dict[str, Any]
) -> None:
    token = owner["device_token"]
    assert isinstance(token, str) and len(token) >= 22  # 128 bits in base64url at least
    again = body_of(login(api, device_token=token))
    assert again["device_token"] == token  # the one presented, returned while valid
    other = body_of(login(api))
    assert other["device_token"] != token  # no token presented: a new device
    refreshed = body_of(api.call("POST", "/token/refresh",
                                 {"refresh_token": again["refresh_token"]}))
    assert "device_token" not in refreshed


def test_device_tokens_are_stored_only_as_hashes(api: Api, owner: dict[str, Any]) -> None:
    store = current_deps().store
    assert store.get_device(username="alice", token_hash=owner["device_token"]) is None
    assert store.get_device(username="alice",
                            token_hash=known_devices._hash(owner["device_token"])) is not None


def test_a_flood_from_elsewhere_never_locks_the_owners_device(
    api: Api, owner: dict[str, Any]
) -> None:
    statuses = flood(api, 50)
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    assert login(api).status_code == 429  # the right password from elsewhere: still shut
    mine = login(api, device_token=owner["device_token"])
    assert mine.status_code == 200, mine.body


def test_the_owner_changes_the_password_during_the_flood(
    api: Api, owner: dict[str, Any]
) -> None:
    """Password checks behind a bearer token count in the bucket of the device the
    session signed in with: a flood from elsewhere does not stop them."""
    session = body_of(login(api, device_token=owner["device_token"]))
    flood(api, 50)
    changed = api.call("POST", "/me/password",
                       {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                       token=session["access_token"])
    assert changed.status_code == 204, changed.body


def test_a_session_from_an_unknown_device_counts_in_the_unknown_bucket(
    api: Api, owner: dict[str, Any]
) -> None:
    flood(api, 5)
    changed = api.call("POST", "/me/password",
                       {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                       token=owner["access_token"])  # signed in without a device token
    assert changed.status_code == 429


def test_a_locked_device_does_not_refuse_other_devices(
    api: Api, owner: dict[str, Any]
) -> None:
    assert flood(api, 6, owner["device_token"]) == [401] * 5 + [429]
    assert login(api, device_token=owner["device_token"]).status_code == 429
    assert login(api).status_code == 200  # the unknown bucket is its own


def test_a_success_on_a_known_device_does_not_reopen_the_unknown_bucket(
    api: Api, owner: dict[str, Any]
) -> None:
    flood(api, 5)
    assert login(api, device_token=owner["device_token"]).status_code == 200
    assert login(api).status_code == 429


@pytest.mark.parametrize("kind", ["malformed", "foreign", "another account's", "too long"])
def test_a_token_that_is_not_a_live_one_of_the_account_counts_as_unknown(
    api: Api, owner: dict[str, Any], kind: str
) -> None:
    assert api.signup("bob").status_code == 201
    tokens = {
        "malformed": "not a token at all \u00e9",
        "foreign": "A" * 43,
        "another account's": body_of(login(api, "bob"))["device_token"],
        "too long": owner["device_token"] * 5,
    }
    flood(api, 5)
    assert login(api, device_token=tokens[kind]).status_code == 429


def test_an_expired_device_token_counts_as_unknown(
    api: Api, owner: dict[str, Any], clock: FakeClock
) -> None:
    clock.advance(YEAR + 1)
    flood(api, 5)
    assert login(api, device_token=owner["device_token"]).status_code == 429


def test_unknown_usernames_are_counted_like_known_ones(
    api: Api, owner: dict[str, Any], clock: FakeClock
) -> None:
    """The 429 reveals nothing: "nobody" locks after 5, with the same Retry-After."""
    assert flood(api, 6, username="nobody") == flood(api, 6) == [401] * 5 + [429]
    answers = [login(api, name, WRONG) for name in ("nobody", "alice")]
    assert {a.headers["Retry-After"] for a in answers} == {str(WINDOW)}
    assert body_of(answers[0]) == body_of(answers[1])


def unknown_failures(api: Api, clock: FakeClock, count: int,
                     device_token: str | None = None) -> list[int]:
    """``count`` wrong passwords (from elsewhere, or from the device ``device_token``
    names), 5 per throttle window (never locked by it)."""
    statuses = []
    for number in range(count):
        if number and number % 5 == 0:
            clock.advance(WINDOW + 1)
        statuses.append(login(api, password=WRONG, device_token=device_token).status_code)
    clock.advance(WINDOW + 1)
    return statuses


def test_at_most_100_consecutive_failures_from_unknown_devices(
    api: Api, owner: dict[str, Any], clock: FakeClock
) -> None:
    assert unknown_failures(api, clock, 100) == [401] * 100
    shut = login(api)  # past the bound: shut, even for the right password
    assert shut.status_code == 429 and int(shut.headers["Retry-After"]) <= WINDOW
    clock.advance(30 * 86_400)
    assert login(api).status_code == 429  # it does not run out by itself in a month
    # The owner's path back: a known device signs in, and the bound clears.
    assert login(api, device_token=owner["device_token"]).status_code == 200
    assert login(api).status_code == 200


def test_a_stolen_device_token_is_bounded_too(
    api: Api, owner: dict[str, Any], clock: FakeClock
) -> None:
    """Each known device has its own run: 100 wrong passwords in a row with one device
    token shut that device (until a reset), not the others."""
    stolen = owner["device_token"]
    assert unknown_failures(api, clock, 100, stolen) == [401] * 100
    assert login(api, device_token=stolen).status_code == 429
    assert login(api).status_code == 200  # elsewhere: its own bucket and run
    assert login(api, device_token=stolen).status_code == 429  # a success elsewhere: still shut
    current_deps().store.clear_throttles(username="alice")  # a password reset
    assert login(api, device_token=stolen).status_code == 200


def test_a_success_from_elsewhere_restarts_the_count(
    api: Api, owner: dict[str, Any], clock: FakeClock
) -> None:
    assert unknown_failures(api, clock, 99) == [401] * 99
    assert login(api).status_code == 200
    assert unknown_failures(api, clock, 99) == [401] * 99
    assert login(api).status_code == 200


def test_a_password_reset_clears_the_bound_and_ends_device_tokens(
    api: Api, owner: dict[str, Any], clock: FakeClock
) -> None:
    """What the email engineer's reset calls: ``clear_throttles`` and ``forget_all``."""
    unknown_failures(api, clock, 100)
    assert login(api).status_code == 429
    deps = current_deps()
    known_devices.forget_all(deps, "alice")
    deps.store.clear_throttles(username="alice")
    assert login(api).status_code == 200
    flood(api, 5)
    assert login(api, device_token=owner["device_token"]).status_code == 429  # unknown now


def test_device_tokens_end_with_the_account(api: Api, owner: dict[str, Any]) -> None:
    assert api.call("DELETE", "/me", {"password": PASSWORD},
                    token=owner["access_token"]).status_code == 204
    assert api.signup("alice").status_code == 201
    flood(api, 5)
    assert login(api, device_token=owner["device_token"]).status_code == 429


def test_a_two_factor_sign_in_keeps_the_device_and_clears_its_bucket_only_at_the_code(
    api: Api, owner: dict[str, Any], clock: FakeClock
) -> None:
    from tests.test_totp import code_at, enable

    secret, _ = enable(api, owner["access_token"], clock())
    assert flood(api, 4, owner["device_token"]) == [401] * 4
    step = body_of(login(api, device_token=owner["device_token"]))
    assert set(step) == {"mfa_required", "mfa_token"}  # no device token before the code
    clock.advance(30)
    done = api.call("POST", "/login/totp",
                    {"mfa_token": step["mfa_token"], "code": code_at(secret, clock())})
    assert done.status_code == 200, done.body
    pair = body_of(done)
    # The same device under a new token: its bucket, which the accepted code cleared.
    assert flood(api, 5, pair["device_token"]) == [401] * 5
    assert login(api, device_token=owner["device_token"]).status_code == 429  # same bucket
    assert login(api).status_code == 200  # the unknown bucket was never touched


# -- the race and the store, on both adapters ---------------------------------------------

CHEAP = load_settings({
    "CHALKBOARD_WEB_ORIGIN": "http://x.example", "CHALKBOARD_STAGE": "test",
    "CHALKBOARD_ARGON2_MEMORY_KIB": "1024", "CHALKBOARD_ARGON2_TIME_COST": "1",
})


@pytest.mark.stores("sqlite", "dynamodb")
def test_30_simultaneous_wrong_logins_from_elsewhere_evaluate_at_most_5(
    direct_store: Store,
) -> None:
    deps = Deps(store=direct_store, settings=CHEAP)
    direct_store.create_user(User(
        username="alice", password_hash=passwords.hash_password(PASSWORD, CHEAP),
        created_at=deps.now(), credential_stamp="s1",
    ))
    barrier = threading.Barrier(30)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            signin.password(deps, "alice", WRONG, NO_CLIENT)
            outcomes.append("signed in")
        except InvalidCredentials:
            outcomes.append("evaluated")
        except LoginThrottled:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 30
    assert outcomes.count("evaluated") <= 5 and "signed in" not in outcomes
    assert outcomes.count("evaluated") + outcomes.count("refused") == 30


@pytest.mark.stores("sqlite", "dynamodb")
def test_the_store_keeps_devices_per_account_and_forgets_them(direct_store: Store) -> None:
    one = KnownDevice("alice", "h1", "d1", 10.0, 2_000_000_000)
    direct_store.add_device(one)
    direct_store.add_device(KnownDevice("alice", "h2", "d2", 11.0, 2_000_000_000))
    direct_store.add_device(KnownDevice("bob", "h3", "d3", 12.0, 2_000_000_000))
    assert direct_store.get_device(username="alice", token_hash="h1") == one
    assert direct_store.get_device(username="bob", token_hash="h1") is None  # bound to alice
    direct_store.forget_devices(username="alice")
    assert direct_store.get_device(username="alice", token_hash="h1") is None
    assert direct_store.get_device(username="alice", token_hash="h2") is None
    assert direct_store.get_device(username="bob", token_hash="h3") is not None


@pytest.mark.stores("sqlite", "dynamodb")
def test_account_deletion_removes_its_devices(direct_store: Store) -> None:
    direct_store.create_user(User("alice", "x", 1.0, "s1"))
    direct_store.add_device(KnownDevice("alice", "h1", "d1", 10.0, 2_000_000_000))
    marked = direct_store.mark_user_deleted(username="alice")
    assert marked is not None
    while not direct_store.delete_user_data(username="alice", credential_stamp="s1", batch=10):
        pass
    assert direct_store.get_device(username="alice", token_hash="h1") is None
