"""The login throttle, over HTTP through the test client (SQLite; its race on both stores)."""

from __future__ import annotations

import threading
import time

import pytest

from chalicelib import throttle
from chalicelib.config import load_settings
from chalicelib.deps import Deps
from chalicelib.errors import InvalidInput, LoginThrottled
from chalicelib.store.protocol import Store
from chalicelib.throttle import next_login_throttle
from tests.helpers import Api, body_of

# Above the store: the store contract proves both adapters (docs/testing.md).
pytestmark = pytest.mark.stores("sqlite")

WRONG = "definitely not it"
SETTINGS = load_settings({"CHALKBOARD_WEB_ORIGIN": "http://x.example", "CHALKBOARD_STAGE": "test"})


def fail(api: Api, username: str, times: int) -> list[int]:
    return [api.login(username, WRONG).status_code for _ in range(times)]


@pytest.mark.parametrize("username", ["alice", "nobody"])
def test_sixth_attempt_in_the_window_is_429_even_with_the_right_password(
    api: Api, username: str
) -> None:
    """Known and unknown usernames are throttled alike, so the throttle reveals nothing."""
    if username == "alice":
        api.signup("alice")
    assert fail(api, username, 5) == [401] * 5
    response = api.login(username)
    assert response.status_code == 429
    retry_after = int(response.headers["Retry-After"])
    assert 850 <= retry_after <= 901
    assert body_of(response)["Code"] == "TooManyRequestsError"


def test_attempts_during_a_lock_never_extend_it(api: Api) -> None:
    """Refused attempts write nothing: Retry-After only counts down, never past 15 minutes."""
    api.signup("alice")
    fail(api, "alice", 5)
    waits = [int(api.login("alice", WRONG).headers["Retry-After"]) for _ in range(30)]
    assert all(wait <= 900 for wait in waits)
    assert waits == sorted(waits, reverse=True)
    assert waits[0] - waits[-1] <= 2


def test_success_clears_the_failure_count(api: Api) -> None:
    api.signup("alice")
    assert fail(api, "alice", 4) == [401] * 4
    assert api.login("alice").status_code == 200
    assert fail(api, "alice", 4) == [401] * 4
    assert api.login("alice").status_code == 200


def test_throttle_is_per_username(api: Api) -> None:
    api.signup("alice")
    api.signup("bob")
    fail(api, "alice", 5)
    assert api.login("alice").status_code == 429
    assert api.login("bob").status_code == 200


def test_throttle_ends_when_the_window_passes(api: Api, env_override) -> None:
    env_override(CHALKBOARD_LOGIN_WINDOW_SECONDS="2")
    api.signup("alice")
    fail(api, "alice", 5)
    assert api.login("alice").status_code == 429
    time.sleep(2.5)  # the lock lasts the window from the 5th failure, whatever came after
    assert api.login("alice").status_code == 200


def test_a_count_ends_a_whole_window_after_the_last_attempt_not_the_first() -> None:
    current = None
    for offset in (0, 899, 899.5, 899.9):
        current = next_login_throttle(current, username="alice", now=1000.0 + offset,
                                      limit=5, window_seconds=900)
    assert current is not None and current.attempts == 4
    assert not current.locked(now=1003.0, limit=5)
    # Just past the first attempt's window: the 3 recent ones still count.
    fifth = next_login_throttle(current, username="alice", now=1000.0 + 901,
                                limit=5, window_seconds=900)
    assert fifth is not None and fifth.attempts == 5 and fifth.locked(now=1902.0, limit=5)
    # A whole window after the last one: a new count.
    later = next_login_throttle(current, username="alice", now=1000.0 + 899.9 + 900,
                                limit=5, window_seconds=900)
    assert later is not None and later.attempts == 1


@pytest.mark.stores("sqlite", "dynamodb")  # a race: each adapter's atomic update
def test_concurrent_reservations_count_each_once_and_lock_at_the_limit(
    direct_store: Store,
) -> None:
    """Eight instances reserving at once: five are counted, three refused, none lost."""
    deps = Deps(store=direct_store, settings=SETTINGS)
    barrier = threading.Barrier(8)
    outcomes: list[object] = []

    def reserve() -> None:
        barrier.wait()
        try:
            outcomes.append(throttle.reserve_attempt(deps, "alice"))
        except LoginThrottled as refused:
            outcomes.append(refused)

    threads = [threading.Thread(target=reserve) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    attempts = sorted(o.number for o in outcomes if isinstance(o, throttle.Attempt))
    assert attempts == [1, 2, 3, 4, 5]
    refused = [o for o in outcomes if isinstance(o, LoginThrottled)]
    assert len(refused) == 3 and all(850 <= r.retry_after <= 900 for r in refused)


def test_a_success_clears_the_count(direct_store: Store) -> None:
    deps = Deps(store=direct_store, settings=SETTINGS)
    for _ in range(4):
        throttle.finish_attempt(deps, throttle.reserve_attempt(deps, "alice"), succeeded=False)
    throttle.finish_attempt(deps, throttle.reserve_attempt(deps, "alice"), succeeded=True)
    assert throttle.reserve_attempt(deps, "alice").number == 1


def test_each_scope_is_its_own_throttle(direct_store: Store) -> None:
    """A name locked for passwords still gets its device and code buckets, each with
    the login limit unless the caller names its own; a success clears one bucket."""
    deps = Deps(store=direct_store, settings=SETTINGS)
    for _ in range(5):
        throttle.finish_attempt(deps, throttle.reserve_attempt(deps, "alice"), succeeded=False)
    with pytest.raises(LoginThrottled):
        throttle.reserve_attempt(deps, "alice")
    device = throttle.reserve_attempt(deps, "alice", "device:d-1")
    assert (device.number, device.scope) == (1, "device:d-1")
    for _ in range(2):
        throttle.finish_attempt(
            deps, throttle.reserve_attempt(deps, "alice", "code", limit=3, window_seconds=60),
            succeeded=False)
    last = throttle.reserve_attempt(deps, "alice", "code", limit=3, window_seconds=60)
    assert last.number == 3
    throttle.finish_attempt(deps, last, succeeded=False)
    with pytest.raises(LoginThrottled) as refused:
        throttle.reserve_attempt(deps, "alice", "code", limit=3, window_seconds=60)
    assert 1 <= refused.value.retry_after <= 60
    throttle.finish_attempt(deps, device, succeeded=True)
    assert throttle.reserve_attempt(deps, "alice", "device:d-1").number == 1
    with pytest.raises(LoginThrottled):
        throttle.reserve_attempt(deps, "alice")  # still locked: only its own success clears it


def test_clear_throttles_unlocks_every_bucket(direct_store: Store) -> None:
    deps = Deps(store=direct_store, settings=SETTINGS)
    for scope in ("login", "code"):
        for _ in range(5):
            throttle.finish_attempt(
                deps, throttle.reserve_attempt(deps, "alice", scope), succeeded=False)
    throttle.clear_throttles(deps, "alice")
    assert throttle.reserve_attempt(deps, "alice").number == 1
    assert throttle.reserve_attempt(deps, "alice", "code").number == 1


@pytest.mark.parametrize("scope", ["", "device: x", "x" * 101, "dévice", "a\nb"])
def test_a_scope_that_is_not_a_short_printable_key_is_refused(
    direct_store: Store, scope: str
) -> None:
    with pytest.raises(ValueError):
        throttle.reserve_attempt(Deps(store=direct_store, settings=SETTINGS), "alice", scope)


@pytest.mark.parametrize("key", ["bob\n", "Bob", "bob ", "b", "x" * 33, "bob\x00"])
def test_a_throttle_key_that_is_not_a_canonical_username_is_refused(
    direct_store: Store, key: str
) -> None:
    with pytest.raises(InvalidInput):
        throttle.reserve_attempt(Deps(store=direct_store, settings=SETTINGS), key)


def test_a_throttled_login_leaves_a_log_line_without_the_password(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    api.signup("alice")
    fail(api, "alice", 5)
    with caplog.at_level("INFO"):
        assert api.login("alice", "the secret guess 123").status_code == 429
    lines = [r.getMessage() for r in caplog.records if r.name == "chalicelib.throttle"]
    assert any("throttled for alice" in line for line in lines)
    assert not any("the secret guess 123" in r.getMessage() for r in caplog.records)
