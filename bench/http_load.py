"""Figure 6: bounded HTTP load against the local servers on loopback.

Two servers run the same app: ``chalice local`` (the CLI) and
``ops.local_server`` (Chalice's own LocalDevServer with TCP_NODELAY and a
backlog of 128; what scripts/run and the HTTP tests start). A few client
threads (fewer than chalice local's listen backlog of 5, so no connection is
refused) run a read-heavy mix as fast as the server answers: 85%
GET /messages, 10% POST /messages, 5% GET /me, each signed in as its own user.
The run stops at a fixed request count or duration, whichever comes first.
Client and server share this machine's cores.

Two connection modes, because they differ by far more than anything the app
does: a new connection per request (curl, the test suite), and one keep-alive
connection per thread (browsers). chalice local writes a response's headers and
body in two sends without TCP_NODELAY, so on a kept-alive connection the body
waits for the client's delayed ACK (Nagle): about 40 ms per request on Linux.
ops.local_server sets TCP_NODELAY; the target is its keep-alive p50 within 2×
of its new-connection p50.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.common import (
    PASSWORD,
    Figure,
    Target,
    create_tables,
    dynalite,
    dynamodb_env,
    fmt_ms,
    fmt_ratio,
    new_keyring_json,
    ratio,
    sqlite_env,
    summary,
)

MIX = (("GET /messages", 85), ("POST /messages", 10), ("GET /me", 5))


class Connection:
    """A keep-alive connection (reconnecting if the server closed it), or, without
    ``keep_alive``, a new connection for every request."""

    def __init__(self, url: str, keep_alive: bool = False) -> None:
        parts = urlsplit(url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._keep_alive = keep_alive
        self._connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: Any = None, token: str | None = None
                ) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json"}
        if not self._keep_alive:
            headers["Connection"] = "close"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = json.dumps(body) if body is not None else None
        if self._connection is None:
            self._connection = http.client.HTTPConnection(self._host, self._port, timeout=30)
        try:
            self._connection.request(method, path, body=payload, headers=headers)
            response = self._connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if not self._keep_alive or response.getheader("Connection", "").lower() == "close":
            self.close()
        return response.status, data

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _session(url: str, username: str) -> str:
    connection = Connection(url)
    credentials = {"username": username, "password": PASSWORD}
    status, body = connection.request("POST", "/signup", credentials)
    if status != 201:
        raise RuntimeError(f"signup failed: {status} {body!r}")
    status, body = connection.request("POST", "/login", credentials)
    if status != 200:
        raise RuntimeError(f"login failed: {status} {body!r}")
    connection.close()
    return json.loads(body)["access_token"]


def _load(url: str, tokens: list[str], count: int, seconds: float, keep_alive: bool
          ) -> dict[str, Any]:
    lock = threading.Lock()
    issued = 0
    records: list[tuple[str, int | str, int]] = []
    start_gate = threading.Barrier(len(tokens) + 1)
    deadline = 0.0

    def worker(index: int, token: str) -> None:
        nonlocal issued
        rng = random.Random(index)
        connection = Connection(url, keep_alive)
        names, weights = zip(*MIX, strict=True)
        local: list[tuple[str, int | str, int]] = []
        start_gate.wait()
        while time.perf_counter() < deadline:
            with lock:
                if issued >= count:
                    break
                issued += 1
            kind = rng.choices(names, weights)[0]
            method, path = kind.split(" ")
            body = {"content": f"load test message {rng.random():.6f}"} \
                if method == "POST" else None
            began = time.perf_counter_ns()
            try:
                status: int | str = connection.request(method, path, body, token)[0]
            except (OSError, http.client.HTTPException) as error:
                status = type(error).__name__
            local.append((kind, status, time.perf_counter_ns() - began))
        connection.close()
        with lock:
            records.extend(local)

    threads = [threading.Thread(target=worker, args=(i, token), daemon=True)
               for i, token in enumerate(tokens)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline = began + seconds
    start_gate.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    by_status = Counter(str(status) for _, status, _ in records)
    by_kind = {
        kind: summary([ns for k, _, ns in records if k == kind])
        for kind, _ in MIX if any(k == kind for k, _, _ in records)
    }
    ok = sum(1 for _, status, _ in records if status in (200, 201))
    return {
        "requests": len(records),
        "seconds": elapsed,
        "requests_per_second": len(records) / elapsed,
        "ok_per_second": ok / elapsed,
        "latency_ms": summary([ns for _, _, ns in records]),
        "latency_ms_by_kind": by_kind,
        "statuses": dict(sorted(by_status.items())),
        "stopped_by": "count" if len(records) >= count else "duration",
    }


SERVERS = (("chalice local", True), ("ops.local_server", False))  # (label, via the CLI)


def measure(count: int, seconds: float, threads: int, workdir: Path,
            stores: tuple[str, ...] = ("sqlite", "dynamodb"),
            cli_stores: tuple[str, ...] = ("sqlite",)) -> Figure:
    """``cli_stores``: the stores also run under the ``chalice local`` CLI, for comparison."""
    from tests import servers

    figure = Figure(
        number=6,
        title="Bounded HTTP load against the local servers (loopback, read-heavy mix)",
        method=(
            f"{threads} client threads as fast as answered: 85% GET /messages (20 newest), "
            f"10% POST /messages, 5% GET /me; each run stops at {count:,} requests or "
            f"{seconds:g} s. Board seeded with 200 messages. Client and server share the "
            "machine's cores. Statuses: HTTP codes, or the client's exception name. Under "
            "chalice local each answer on a kept-alive connection waits ~40 ms for the "
            "client's delayed ACK (headers and body in two writes without TCP_NODELAY); "
            "ops.local_server (scripts/run) sets TCP_NODELAY."
        ),
        columns=["server", "store", "connections", "requests", "seconds", "req/s", "p50",
                 "p95", "GET /messages p50", "statuses"],
    )
    modes = (("new per request", False), ("keep-alive", True))
    results: dict[str, Any] = {}
    for kind in stores:
        for server_label, via_cli in SERVERS:
            if via_cli and kind not in cli_stores:
                continue
            key = f"{server_label}, {kind}"
            with ExitStack() as stack:
                if kind == "sqlite":
                    env = sqlite_env(workdir / f"sqlite-http-{via_cli}", new_keyring_json())
                else:
                    (workdir / "dynalite-http").mkdir(exist_ok=True)
                    endpoint = stack.enter_context(dynalite(workdir / "dynalite-http"))
                    env = dynamodb_env(endpoint, new_keyring_json(), workdir / "data-http")
                    create_tables(endpoint, env)
                server = stack.enter_context(servers.chalice_local(
                    env, workdir / f"local-{kind}-{via_cli}.log", via_cli=via_cli))
                tokens = [_session(server.url, f"load{n}") for n in range(threads)]
                seeder = Connection(server.url)
                for n in range(200):
                    status, body = seeder.request("POST", "/messages",
                                                  {"content": f"seed message {n}"}, tokens[0])
                    if status != 201:
                        raise RuntimeError(f"seeding failed: {status} {body!r}")
                for mode, keep_alive in modes:
                    _load(server.url, tokens, min(count // 10, 100), seconds, keep_alive)
                    results[f"{key}, {mode}"] = _load(server.url, tokens, count, seconds,
                                                      keep_alive)
            label = "SQLite" if kind == "sqlite" else "DynamoDB (dynalite)"
            for mode, _ in modes:
                result = results[f"{key}, {mode}"]
                figure.rows.append([
                    server_label, label, mode, f"{result['requests']:,}",
                    f"{result['seconds']:.1f}", f"{result['requests_per_second']:.0f}",
                    fmt_ms(result["latency_ms"]["p50"]), fmt_ms(result["latency_ms"]["p95"]),
                    fmt_ms(result["latency_ms_by_kind"]["GET /messages"]["p50"]),
                    ", ".join(f"{status}: {n:,}" for status, n in result["statuses"].items()),
                ])
            if not via_cli:
                kept = results[f"{key}, keep-alive"]["latency_ms"]["p50"]
                new = results[f"{key}, new per request"]["latency_ms"]["p50"]
                value = ratio(kept, new)
                figure.targets.append(Target(
                    name=f"ops.local_server, {label}: keep-alive p50 vs new-connection p50",
                    figure=f"{fmt_ratio(value)} ({fmt_ms(kept)} vs {fmt_ms(new)})",
                    limit="≤ 2×", met=value <= 2))
    figure.data = {"threads": threads, "count": count, "seconds": seconds, "mix": dict(MIX),
                   "runs": results}
    return figure
