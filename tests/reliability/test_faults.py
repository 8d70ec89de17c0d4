"""Faults under write load: dynalite killed and restarted, a SQLite database locked.

The promise: every answer is a 201, or a 503 with Retry-After while the store is
away; none takes 5 s or more; every acknowledged write is there afterwards.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

import chalicelib.store.sqlite as sqlite_store
from tests import servers
from tests.helpers import Api, require_dynalite
from tests.reliability.client import Http
from tests.reliability.stack import Served, all_messages, fresh_name, make_backend, serve, session
from tests.reliability.tally import TALLY

pytestmark = pytest.mark.reliability

WRITERS = 4
SLOWEST_ALLOWED = 5.0


@dataclass(frozen=True)
class Outcome:
    status: int  # 0: the connection failed without an answer
    seconds: float
    retry_after: str | None
    message_id: str | None
    content: str
    started: float


class WriteLoad:
    """Writers posting as fast as they are answered, until stopped; every outcome kept."""

    def __init__(self, served: Served, tokens: list[str], tag: str) -> None:
        self.served, self.tokens, self.tag = served, tokens, tag
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._write, args=(i,))
                         for i in range(len(tokens))]

    def _write(self, index: int) -> None:
        client = Http(self.served.url, self.served.kind, timeout=30)
        n = 0
        while not self._stop.is_set():
            content = f"{self.tag} writer {index} post {n}"
            n += 1
            started = time.monotonic()
            try:
                reply, seconds = client.timed("POST", "/messages", {"content": content},
                                            token=self.tokens[index])
            except (OSError, http.client.HTTPException):
                outcome = Outcome(0, time.monotonic() - started, None, None, content, started)
            else:
                outcome = Outcome(
                    reply.status, seconds, reply.headers.get("Retry-After"),
                    reply.body["id"] if reply.status == 201 else None, content, started)
            with self._lock:
                self.outcomes.append(outcome)

    def start(self) -> WriteLoad:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)
            assert not thread.is_alive(), "a writer hung"

    def acknowledged(self) -> dict[str, str]:
        return {o.message_id: o.content for o in self.outcomes if o.message_id}

    def check_answers(self) -> None:
        """Only 201s and 503s with Retry-After, all well under the time limit."""
        wrong = [o for o in self.outcomes if o.status not in {201, 503}]
        assert not wrong, f"{len(wrong)} answers were neither 201 nor 503: {wrong[:3]}"
        no_retry_after = [o for o in self.outcomes if o.status == 503 and not o.retry_after]
        assert not no_retry_after, no_retry_after[:3]
        slow = [o for o in self.outcomes if o.seconds >= SLOWEST_ALLOWED]
        assert not slow, f"{len(slow)} answers took {SLOWEST_ALLOWED} s or more: {slow[:3]}"


# The write load posts far faster than a person: these tests are about store faults,
# so the posting limit (tested in test_auth_races) is set out of the way.
WRITE_LOAD_ENV = {"CHALKBOARD_POST_RATE_LIMIT": "10000"}


def found_on_board(served: Served, token: str, tag: str) -> dict[str, str]:
    board = all_messages(served.http(), token)
    ids = [m["id"] for m in board]
    assert len(ids) == len(set(ids)), "a message was listed twice"
    return {m["id"]: m["content"] for m in board if m["content"].startswith(tag)}


def test_dynalite_killed_mid_write_load_answers_503_and_loses_no_acknowledged_write(
    tmp_path: Path
) -> None:
    require_dynalite()
    port = servers.free_port()
    data = tmp_path / "dynalite"
    data.mkdir()
    first = servers.dynalite(data, port=port, persist=True)
    store = first.__enter__()
    try:
        backend = make_backend("dynamodb", tmp_path / "backend", dynalite_url=store.url)
        with serve(backend, "dynalite-killed", extra_env=WRITE_LOAD_ENV) as served:
            tokens = [session(served.http(), fresh_name(f"faulty{i}"))["access_token"]
                      for i in range(WRITERS)]
            tag = uuid.uuid4().hex[:8]
            load = WriteLoad(served, tokens, tag).start()
            try:
                time.sleep(1.0)
                os.killpg(store.pid, signal.SIGKILL)  # our own dynalite, by its process group
                killed = time.monotonic()
                first.__exit__(None, None, None)  # reaps it
                time.sleep(1.5)
                with servers.dynalite(data, port=port, persist=True):
                    restarted = time.monotonic()
                    time.sleep(1.5)
                    load.stop()
                    after = found_on_board(served, tokens[0], tag)
            finally:
                load.stop()
    finally:
        first.__exit__(None, None, None)  # no-op once it has run

    load.check_answers()
    statuses = [o.status for o in load.outcomes]
    during = [o for o in load.outcomes if killed <= o.started < restarted]
    after_restart = [o for o in load.outcomes if o.started > restarted + 0.5]
    assert any(o.status == 503 for o in during), "the outage was never noticed"
    assert any(o.status == 201 for o in after_restart), "writes did not resume after restart"
    acknowledged = load.acknowledged()
    TALLY.wrote("dynalite killed and restarted under write load", "dynamodb",
                acknowledged=len(acknowledged), found=len(set(acknowledged) & set(after)))
    TALLY.figure("dynalite kill: answers", {
        "201": statuses.count(201), "503": statuses.count(503),
        "slowest s": round(max(o.seconds for o in load.outcomes), 2),
    })
    missing = set(acknowledged) - set(after)
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged posts were lost"
    assert {i: after[i] for i in acknowledged} == acknowledged


def test_locked_sqlite_database_delays_writes_but_loses_none(tmp_path: Path) -> None:
    backend = make_backend("sqlite", tmp_path / "backend")
    lock_seconds = 1.5  # well inside the adapter's 5 s busy timeout
    with serve(backend, "sqlite-locked", extra_env=WRITE_LOAD_ENV) as served:
        tokens = [session(served.http(), fresh_name(f"locked{i}"))["access_token"]
                  for i in range(WRITERS)]
        tag = uuid.uuid4().hex[:8]
        load = WriteLoad(served, tokens, tag).start()
        try:
            time.sleep(0.5)
            with contextlib.closing(sqlite3.connect(backend.sqlite_path, isolation_level=None)
                                    ) as holder:
                holder.execute("BEGIN EXCLUSIVE")
                locked = time.monotonic()
                time.sleep(lock_seconds)
                holder.execute("COMMIT")
            time.sleep(0.5)
        finally:
            load.stop()
        after = found_on_board(served, tokens[0], tag)

    load.check_answers()
    assert {o.status for o in load.outcomes} == {201}
    held = [o for o in load.outcomes  # in flight while the lock was held
            if o.started < locked + lock_seconds and o.started + o.seconds > locked]
    assert held and max(o.seconds for o in held) >= lock_seconds / 2, "the lock held nothing up"
    acknowledged = load.acknowledged()
    TALLY.wrote("SQLite locked by another connection under write load", "sqlite",
                acknowledged=len(acknowledged), found=len(set(acknowledged) & set(after)))
    TALLY.figure("SQLite lock: slowest write s", round(max(o.seconds for o in load.outcomes), 2))
    assert after == acknowledged


@pytest.mark.stores("sqlite")
def test_a_lock_outlasting_every_retry_is_a_quick_503_with_retry_after(
    api: Api, app_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process, with the busy timeout cut to 50 ms so the retries run out quickly."""
    monkeypatch.setattr(sqlite_store, "BUSY_TIMEOUT_MS", 50)  # read as connections open
    token = api.session("locked")["access_token"]
    path = Path(app_env["CHALKBOARD_DATA_DIR"]) / "chalkboard-test.sqlite3"
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as holder:
        holder.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        refused = api.call("POST", "/messages", {"content": "while locked"}, token=token)
        seconds = time.monotonic() - started
        holder.execute("ROLLBACK")
    TALLY.status("sqlite", refused.status_code)
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "1"
    assert json.loads(refused.body)["Code"] == "ServiceUnavailable"
    assert seconds < SLOWEST_ALLOWED
    posted = api.call("POST", "/messages", {"content": "after the lock"}, token=token)
    assert posted.status_code == 201
    board = json.loads(api.call("GET", "/messages", token=token).body)["messages"]
    assert [m["content"] for m in board] == ["after the lock"]
