"""The login throttle, over HTTP through the test client, on both stores."""

from __future__ import annotations

import threading
import time

import pytest

from chalicelib import throttle
from chalicelib.config import load_settings
from chalicelib.store import Store
from tests.helpers import Api, body_of

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


def test_retry_after_grows_with_attempts_made_while_throttled(api: Api) -> None:
    api.signup("alice")
    fail(api, "alice", 5)
    waits = [int(api.login("alice", WRONG).headers["Retry-After"]) for _ in range(6)]
    assert waits == sorted(waits) and waits[-1] > waits[0]


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
    time.sleep(3.1 + 1)  # the window, plus the doubling penalty of that one throttled attempt
    assert api.login("alice").status_code == 200


def test_failures_outside_the_window_start_a_new_count() -> None:
    settings = SETTINGS
    current = None
    for offset in range(4):
        current = throttle._bump(current, "alice", 1000.0 + offset, settings)
    assert current is not None and current.failures == 4 and current.locked_until == 0
    later = throttle._bump(current, "alice", 1000.0 + settings.login_window_seconds + 5, settings)
    assert later.failures == 1 and later.locked_until == 0


def test_concurrent_failures_are_all_counted(direct_store: Store) -> None:
    """Optimistic versions: two instances counting at once lose no failure."""
    settings = SETTINGS
    barrier = threading.Barrier(4)

    def record() -> None:
        barrier.wait()
        now = time.time()
        current = direct_store.get_login_throttle(username="alice", now=now)
        throttle.record_failure(direct_store, "alice", now, settings, current)

    threads = [threading.Thread(target=record) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    saved = direct_store.get_login_throttle(username="alice", now=time.time())
    assert saved is not None and saved.failures == 4
