"""Password attacks: huge passwords, login timing, the throttle across processes.

Timing is measured over HTTP against a `chalice local` hashing with OWASP's
argon2id parameters (m=19 MiB, t=2), as deployed: the `test` stage hashes
cheaply, which would hide both a missing dummy verification and a skipped one.
"""

from __future__ import annotations

import json
import random
import sqlite3
import statistics
import threading
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

import pytest

from chalicelib import passwords
from ops.stage import ROOT
from tests.helpers import Api
from tests.reliability.stack import (
    PASSWORD,
    UNCONFIGURED_STAGE,
    Backend,
    Served,
    dynamodb_client,
    fresh_name,
    serve,
    session,
)
from tests.reliability.tally import TALLY

pytestmark = pytest.mark.reliability

WRONG = "not the password at all"
HUGE = "p" * 10 * 1024
INVALID_CREDENTIALS = {"Code": "UnauthorizedError", "Message": "invalid credentials"}
TIMING_SAMPLES = 30
MAX_MEDIAN_GAP = 0.20


@pytest.fixture(scope="module")
def owasp_served(backend: Backend) -> Iterator[Served]:
    """chalice local hashing with the production argon2id parameters."""
    with serve(backend, "owasp", stage=UNCONFIGURED_STAGE,
               extra_env={"CHALKBOARD_STAGE": "test"}) as running:
        yield running


def stored_hash(backend: Backend, username: str) -> str:
    if backend.kind == "sqlite":
        with closing(sqlite3.connect(backend.sqlite_path)) as db:
            return db.execute("SELECT password_hash FROM users WHERE username = ?",
                              (username,)).fetchone()[0]
    item = dynamodb_client(backend.env["AWS_ENDPOINT_URL_DYNAMODB"]).get_item(
        TableName=backend.tables.users, Key={"username": {"S": username}})["Item"]
    return item["password_hash"]["S"]


def test_the_timing_server_hashes_at_owasp_minimum(owasp_served: Served) -> None:
    """Guard for the tests below: the stage really leaves argon2 at its production cost."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    assert UNCONFIGURED_STAGE not in config["stages"]
    name = fresh_name("owasp")
    session(owasp_served.http(), name)
    assert stored_hash(owasp_served.backend, name).startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def login_seconds(served: Served, username: str, password: str) -> float:
    reply, seconds = served.http().timed("POST", "/login", {"username": username,
                                                            "password": password})
    assert reply.status == 401 and reply.body == INVALID_CREDENTIALS, reply.body
    return seconds


def test_unknown_user_and_wrong_password_take_the_same_median_time(owasp_served: Served
                                                                   ) -> None:
    http = owasp_served.http()
    known = [fresh_name("known") for _ in range(TIMING_SAMPLES + 3)]
    for name in known:  # each user fails once, so the throttle never takes part
        assert http.call("POST", "/signup", {"username": name, "password": PASSWORD}
                         ).status == 201
    unknown = [fresh_name("nobody") for _ in range(TIMING_SAMPLES + 3)]
    samples: dict[str, list[float]] = {"unknown user": [], "wrong password": []}
    for i, (nobody, somebody) in enumerate(zip(unknown, known, strict=True)):
        pair = [("unknown user", nobody), ("wrong password", somebody)]
        random.shuffle(pair)  # interleaved, in random order, so drift hits both alike
        for kind, name in pair:
            seconds = login_seconds(owasp_served, name, WRONG)
            if i >= 3:  # the first few warm up (the dummy hash is made on first use)
                samples[kind].append(seconds)
    medians = {kind: statistics.median(times) for kind, times in samples.items()}
    gap = abs(medians["unknown user"] - medians["wrong password"]) / min(medians.values())
    TALLY.figure(f"login median ms ({owasp_served.kind})", {
        kind: round(median * 1000, 1) for kind, median in medians.items()
    } | {"gap %": round(gap * 100, 1), "samples each": TIMING_SAMPLES})
    assert min(medians.values()) > 0.005, "argon2 at OWASP cost takes milliseconds"
    assert gap < MAX_MEDIAN_GAP, medians


def test_10_kib_password_is_refused_fast_without_hashing(owasp_served: Served) -> None:
    http = owasp_served.http()
    token = session(http, fresh_name("huge"))["access_token"]
    attempts = {  # each sent 5 times; medians, since this 2-core machine is shared
        "argon2 login (baseline)": (401, lambda: http.timed(
            "POST", "/login", {"username": fresh_name("nobody"), "password": WRONG})),
        "login": (401, lambda: http.timed(
            "POST", "/login", {"username": fresh_name("nobody"), "password": HUGE})),
        "signup": (400, lambda: http.timed(
            "POST", "/signup", {"username": fresh_name("huge"), "password": HUGE})),
        "new password": (400, lambda: http.timed(
            "POST", "/me/password", {"current_password": PASSWORD, "new_password": HUGE},
            token=token)),
        "current password": (403, lambda: http.timed(
            "POST", "/me/password", {"current_password": HUGE,
                                     "new_password": "a new staple horse"}, token=token)),
    }
    replies: dict[str, list[tuple[Any, float]]] = {name: [] for name in attempts}
    for _ in range(5):  # round robin, so a busy moment slows every kind alike
        for name, (_, attempt) in attempts.items():
            replies[name].append(attempt())
    statuses = {name: {reply.status for reply, _ in sent} for name, sent in replies.items()}
    medians = {name: statistics.median(s for _, s in sent) for name, sent in replies.items()}
    for name, (expected, _) in attempts.items():
        if name != "argon2 login (baseline)":
            TALLY.attack(f"10 KiB password: {name}", owasp_served.kind, replies[name][0][0].status,
                         refused=statuses[name] == {expected})
    TALLY.figure(f"10 KiB password median ms ({owasp_served.kind})",
                 {name: round(seconds * 1000, 1) for name, seconds in medians.items()})
    assert statuses == {name: {expected} for name, (expected, _) in attempts.items()}
    assert medians["argon2 login (baseline)"] > 0.005, "argon2 at OWASP cost takes milliseconds"
    # Refused in well under the time of a login that verifies one password.
    budget = medians.pop("argon2 login (baseline)") / 2
    assert {name: seconds for name, seconds in medians.items() if seconds >= budget} == {}



@dataclass
class Argon2Trap:
    """Once armed, any argon2 use fails the request (a 500) and is noted."""

    monkeypatch: pytest.MonkeyPatch
    calls: list[str] = field(default_factory=list)

    def arm(self) -> None:
        def trap(*args: Any) -> Any:
            self.calls.append(repr(args)[:40])
            raise AssertionError("a 10 KiB password reached argon2")

        self.monkeypatch.setattr(passwords, "_context", trap)
        self.monkeypatch.setattr(passwords, "_dummy_hash", trap)


@pytest.fixture
def argon2_trap() -> Iterator[Argon2Trap]:
    """Undone at this fixture's teardown, before the ``api`` fixture's (which resets caches)."""
    with pytest.MonkeyPatch.context() as patch:
        yield Argon2Trap(patch)


def test_10_kib_password_never_reaches_argon2(api: Api, argon2_trap: Argon2Trap) -> None:
    """In process, with argon2 replaced by a trap: the refusal comes before any hashing."""
    pair = api.session("hugepass")
    argon2_trap.arm()
    token = pair["access_token"]
    statuses = {
        "login, known user": api.login("hugepass", HUGE).status_code,
        "login, unknown user": api.login("nobody", HUGE).status_code,
        "signup": api.signup("someone", HUGE).status_code,
        "new password": api.call("POST", "/me/password", {
            "current_password": PASSWORD, "new_password": HUGE}, token=token).status_code,
        "current password": api.call("POST", "/me/password", {
            "current_password": HUGE, "new_password": "a new staple horse"},
            token=token).status_code,
    }
    assert statuses == {"login, known user": 401, "login, unknown user": 401, "signup": 400,
                        "new password": 400, "current password": 403}
    assert argon2_trap.calls == []


def test_throttle_holds_across_two_api_processes_sharing_the_store(backend: Backend) -> None:
    with serve(backend, "throttle-a") as first, serve(backend, "throttle-b") as second:
        known = fresh_name("shared")
        session(first.http(), known)
        for username in [known, fresh_name("nobody")]:
            failures = [(first, second)[i % 2].http().call(
                "POST", "/login", {"username": username, "password": WRONG}).status
                for i in range(5)]
            assert failures == [401] * 5
            for served in (second, first):
                reply = served.http().call("POST", "/login", {"username": username,
                                                              "password": PASSWORD})
                TALLY.attack("throttle: login after 5 failures split over two processes",
                             served.kind, reply.status, refused=reply.status == 429)
                assert reply.status == 429
                assert int(reply.headers["Retry-After"]) >= 1


def test_concurrent_failures_on_two_processes_all_count(backend: Backend) -> None:
    """Ten wrong passwords at once, half on each process: the sixth attempt is throttled."""
    with serve(backend, "burst-a") as first, serve(backend, "burst-b") as second:
        username = fresh_name("burst")
        session(first.http(), username)
        clients = [(first, second)[i % 2].http(keep_alive=True).open() for i in range(4)]
        barrier = threading.Barrier(len(clients))
        statuses: list[int] = []

        def attempt(client: Any) -> None:
            barrier.wait()
            statuses.append(client.call("POST", "/login", {"username": username,
                                                           "password": WRONG}).status)

        threads = [threading.Thread(target=attempt, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for client in clients:
            client.close()
        assert statuses == [401] * 4
        # One more failure makes five: from then on, even the right password is refused.
        assert second.http().call("POST", "/login", {"username": username, "password": WRONG}
                                  ).status == 401
        reply = first.http().call("POST", "/login", {"username": username, "password": PASSWORD})
        TALLY.attack("throttle: login after 4 concurrent + 1 failures on two processes", first.kind,
                     reply.status, refused=reply.status == 429)
        assert reply.status == 429
