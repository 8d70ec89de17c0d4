"""What one request of each kind costs chalkboard on DynamoDB: time and request units.

Shared by figure 7 (dollars) and figure 8 (the newest page under load). Each
kind runs warm through ``chalice.test.Client`` against dynalite, interleaved;
the authorizer is also called alone as Lambda calls it (a TOKEN event), and a
handler's duration is the request's minus the authorizer's (the test client
runs both in one process; what remains includes the client's own work, so it
is an upper bound). DynamoDB requests and their ``ConsumedCapacity`` are read
by botocore hooks on every client (``ReturnConsumedCapacity="TOTAL"`` added),
the store's code untouched.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    PASSWORD,
    create_tables,
    dynalite,
    dynamodb_env,
    environment,
    new_keyring_json,
    summary,
    timed,
)
from ops.stage import ROOT

READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan"})
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem",
                    "TransactWriteItems"})
GUARDED = ("GET /messages", "GET /messages (cached)", "POST /messages", "GET /live/ticket")
SHARED_PAGE = ("GET /messages (cached)", "GET /live")  # read through the instance's page cache
STAGE = "bench"  # not in .chalice/config.json: no stage variables replace ours


@dataclass
class Cost:
    """One kind of request: p50 duration and DynamoDB work per request."""

    ms: float
    requests: dict[str, float] = field(default_factory=dict)  # operation → per request
    read_units: float = 0.0
    write_units: float = 0.0


class CapacityMeter:
    """Every DynamoDB call made while installed: its operation and capacity units."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []

    @staticmethod
    def _ask(params: dict[str, Any], **_: Any) -> None:
        params["ReturnConsumedCapacity"] = "TOTAL"

    def _read(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        consumed = parsed.get("ConsumedCapacity", [])
        entries = consumed if isinstance(consumed, list) else [consumed]
        self.calls.append((model.name, sum(e.get("CapacityUnits", 0.0) for e in entries)))

    @contextlib.contextmanager
    def installed(self) -> Iterator[CapacityMeter]:
        import boto3

        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        events = boto3.DEFAULT_SESSION.events
        hooks = [(f"before-parameter-build.dynamodb.{op}", self._ask) for op in READS | WRITES]
        hooks.append(("after-call.dynamodb", self._read))
        for name, hook in hooks:
            events.register(name, hook)
        try:
            yield self
        finally:
            for name, hook in hooks:
                events.unregister(name, hook)

    def per_request(self, calls: list[tuple[str, float]], n: int) -> tuple[dict, float, float]:
        operations = Counter(op for op, _ in calls)
        reads = sum(units for op, units in calls if op in READS)
        writes = sum(units for op, units in calls if op in WRITES)
        return ({op: count / n for op, count in operations.items()}, reads / n, writes / n)


def _kinds(http: Any, token: str, refresh: list[str], rng_text: Callable[[], str]
           ) -> dict[str, tuple[Callable[[], Any], int]]:
    authorized = {"Authorization": f"Bearer {token}"}
    json_headers = {"Content-Type": "application/json"}

    def refresh_pair() -> Any:
        answer = http.post("/token/refresh", headers=json_headers,
                           body=json.dumps({"refresh_token": refresh[0]}))
        refresh[0] = json.loads(answer.body)["refresh_token"]
        return answer

    return {
        "GET /messages": (lambda: http.get("/messages", headers=authorized), 200),
        "POST /messages": (lambda: http.post(
            "/messages", headers={**authorized, **json_headers},
            body=json.dumps({"content": rng_text()})), 201),
        "POST /token/refresh": (refresh_pair, 200),
        "GET /live/ticket": (lambda: http.get("/live/ticket", headers=authorized), 200),
        "GET /live": (lambda: http.get(f"/live?t={live_ticket(http, authorized)}"), 200),
    }


_tickets: dict[str, str] = {}


def live_ticket(http: Any, authorized: dict[str, str]) -> str:
    """One live ticket per token, fetched once (a reader asks /live many times per ticket)."""
    token = authorized["Authorization"]
    if token not in _tickets:
        _tickets[token] = json.loads(http.get("/live/ticket", headers=authorized).body)["ticket"]
    return _tickets[token]


def measure(workdir: Path, samples: int) -> dict[str, Any]:
    """Costs of GET /messages (newest page read from the store, and from the instance's
    cache), POST /messages, POST /token/refresh, POST /login, the authorizer, and live
    reading's GET /live/ticket and GET /live (the session check + the cached newest page)."""
    from chalice.test import Client

    from app import app, jwt_auth
    from chalicelib import page_cache
    from chalicelib.page_cache import PageCache

    meter = CapacityMeter()
    results: dict[str, Cost] = {}
    workdir.mkdir(parents=True, exist_ok=True)
    with dynalite(workdir) as endpoint, meter.installed():
        env = dynamodb_env(endpoint, new_keyring_json(), workdir / "data")
        create_tables(endpoint, env)
        with environment(env), Client(app, stage_name=STAGE, project_dir=str(ROOT)) as client:
            http = client.http
            json_headers = {"Content-Type": "application/json"}
            credentials = json.dumps({"username": "costs", "password": PASSWORD})
            if http.post("/signup", headers=json_headers, body=credentials).status_code != 201:
                raise RuntimeError("signup failed")
            login_ns: list[int] = []
            login_calls: list[tuple[str, float]] = []
            for _ in range(max(3, samples // 50)):
                before = len(meter.calls)
                elapsed, answer = timed(http.post, "/login", headers=json_headers,
                                        body=credentials)
                login_ns.append(elapsed)
                login_calls += meter.calls[before:]
            pair = json.loads(answer.body)
            counter = iter(range(10**9))
            kinds = _kinds(http, pair["access_token"], [pair["refresh_token"]],
                           lambda: f"a message of about this many characters {next(counter)}")
            for _ in range(100):  # a board of 100+ messages, warm paths
                kinds["POST /messages"][0]()
            event = {"type": "TOKEN", "authorizationToken": f"Bearer {pair['access_token']}",
                     "methodArn": "arn:aws:execute-api:us-east-1:1:a/api/GET/messages"}
            uncached = PageCache(max_age=0.0)
            times: dict[str, list[int]] = {k: [] for k in
                                           [*kinds, "GET /messages (cached)", "authorizer"]}
            calls: dict[str, list[tuple[str, float]]] = {k: [] for k in times}
            original = page_cache.get_page_cache
            for round_number in range(samples + 20):
                for kind in times:
                    if kind == "authorizer":
                        call, expected = (lambda: jwt_auth(event, None)), None
                    elif kind == "GET /messages (cached)":
                        call, expected = kinds["GET /messages"]
                    else:
                        call, expected = kinds[kind]
                    page_cache.get_page_cache = original if kind in SHARED_PAGE \
                        else (lambda: uncached)
                    try:
                        before = len(meter.calls)
                        elapsed, answer = timed(call)
                    finally:
                        page_cache.get_page_cache = original
                    if expected is not None and answer.status_code != expected:
                        raise RuntimeError(f"{kind}: {answer.status_code} {answer.body!r}")
                    if round_number >= 20:  # the first rounds warm every path
                        times[kind].append(elapsed)
                        calls[kind] += meter.calls[before:]
    for kind, samples_ns in times.items():
        operations, reads, writes = meter.per_request(calls[kind], len(samples_ns))
        results[kind] = Cost(ms=summary(samples_ns)["p50"], requests=operations,
                             read_units=reads, write_units=writes)
    operations, reads, writes = meter.per_request(login_calls, len(login_ns))
    results["POST /login"] = Cost(ms=summary(login_ns)["p50"], requests=operations,
                                  read_units=reads, write_units=writes)
    _subtract_authorizer(results)
    return {"costs": results}


def _subtract_authorizer(results: dict[str, Cost]) -> None:
    """A guarded request through the test client runs the authorizer too: keep the handler's
    share of its time and DynamoDB work (the authorizer is its own Lambda function)."""
    auth = results["authorizer"]
    for kind in GUARDED:
        cost = results[kind]
        cost.ms = max(cost.ms - auth.ms, 0.0)
        for op, count in auth.requests.items():
            cost.requests[op] = cost.requests.get(op, 0.0) - count
            if cost.requests[op] <= 1e-9:
                del cost.requests[op]
        cost.read_units = max(cost.read_units - auth.read_units, 0.0)
        cost.write_units = max(cost.write_units - auth.write_units, 0.0)
