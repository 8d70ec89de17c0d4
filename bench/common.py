"""What every figure shares: timing statistics, the app's environment, dynalite.

Nothing here asserts anything about speed: the harness measures and reports.
"""

from __future__ import annotations

import contextlib
import math
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chalicelib import deps, signing_keys
from ops.stage import table_names

WEB_ORIGIN = "http://localhost:8080"
REGION = "us-east-1"
DUMMY_AWS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": REGION,
}
PASSWORD = "correct horse battery staple"


# -- statistics -------------------------------------------------------------------


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p50 of an even count is the lower middle, like p95)."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summary(samples_ns: list[int], unit: float = 1e6) -> dict[str, float]:
    """p50, p95, mean and count; times converted from ns by ``unit`` (1e6: ms, 1e3: µs)."""
    values = [s / unit for s in samples_ns]
    return {
        "p50": statistics.median(values),
        "p95": percentile(values, 0.95),
        "mean": statistics.fmean(values),
        "n": len(values),
    }


def timed(call: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[int, Any]:
    """Nanoseconds ``call(*args, **kwargs)`` took, and its result."""
    start = time.perf_counter_ns()
    result = call(*args, **kwargs)
    return time.perf_counter_ns() - start, result


def ratio(ours: float, other: float) -> float:
    return ours / other if other else float("nan")


# -- results ----------------------------------------------------------------------


@dataclass
class Target:
    """One stated target: the figure measured, the limit, and whether it was met."""

    name: str
    figure: str  # e.g. "1.02×"
    limit: str  # e.g. "≤ 1.1×"
    met: bool


@dataclass
class Figure:
    """One numbered figure: a Markdown table, targets, raw data for the JSON file."""

    number: int
    title: str
    method: str  # how it was measured, one or two sentences
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


# -- the app's environment -----------------------------------------------------------


def new_keyring_json() -> str:
    return signing_keys.new_keyring().to_json()


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set variables for the block (and reset the app's caches on both sides)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    deps.reset()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        deps.reset()


# The benchmarks post as fast as the app answers, from a few users: far past the
# posting limit a person meets. Its cost is still measured (the check runs on every
# post); only the refusal is kept out of the figures.
BENCH_POST_RATE_LIMIT = {"CHALKBOARD_POST_RATE_LIMIT": "10000"}


def sqlite_env(data_dir: Path, keyring_json: str) -> dict[str, str]:
    return {
        **BENCH_POST_RATE_LIMIT,
        "CHALKBOARD_STORE": "sqlite",
        "CHALKBOARD_DATA_DIR": str(data_dir),
        "CHALKBOARD_WEB_ORIGIN": WEB_ORIGIN,
        "CHALKBOARD_SIGNING_KEYS": keyring_json,
    }


def table_env(prefix: str) -> dict[str, str]:
    return {
        "CHALKBOARD_USERS_TABLE": f"{prefix}-users",
        "CHALKBOARD_MESSAGES_TABLE": f"{prefix}-messages",
        "CHALKBOARD_AUTH_TABLE": f"{prefix}-auth",
        "CHALKBOARD_USER_ITEMS_TABLE": f"{prefix}-user-items",
    }


def dynamodb_env(endpoint: str, keyring_json: str, data_dir: Path) -> dict[str, str]:
    """Settings for the DynamoDB store on dynalite, with fresh tables (not yet created)."""
    return {
        **DUMMY_AWS,
        **BENCH_POST_RATE_LIMIT,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "CHALKBOARD_STORE": "dynamodb",
        "CHALKBOARD_DATA_DIR": str(data_dir),
        "CHALKBOARD_WEB_ORIGIN": WEB_ORIGIN,
        "CHALKBOARD_SIGNING_KEYS": keyring_json,
        **table_env(f"b{uuid.uuid4().hex[:10]}"),
    }


def dynamodb_client(endpoint: str) -> Any:
    """A client like the store's own (same retry and timeout config), for dynalite."""
    import boto3

    from chalicelib.store.dynamodb import CLIENT_CONFIG

    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=DUMMY_AWS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_AWS["AWS_SECRET_ACCESS_KEY"],
        config=CLIENT_CONFIG,
    )


def create_tables(endpoint: str, env: dict[str, str]) -> None:
    from ops.tables import create_tables as create

    create(dynamodb_client(endpoint), table_names(env))


@contextlib.contextmanager
def dynalite(workdir: Path) -> Iterator[str]:
    """A dynalite server on a free loopback port (tests/servers.py); yields its URL."""
    from tests import servers

    if not servers.dynalite_available():
        raise SystemExit("bench: dynalite is missing; run `npm ci` in the repository root")
    with servers.dynalite(workdir) as server:
        yield server.url


@contextlib.contextmanager
def dynalite_tables(workdir: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A dynalite server with fresh tables; yields its URL and the environment naming them."""
    with dynalite(workdir) as endpoint:
        env = dynamodb_env(endpoint, new_keyring_json(), workdir / "data")
        create_tables(endpoint, env)
        yield endpoint, env


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A temporary folder outside the project tree (chalice local watches the tree)."""
    with tempfile.TemporaryDirectory(prefix=f"chalkboard-bench-{prefix}-") as path:
        yield Path(path)


def fmt_ms(value: float) -> str:
    return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"


def fmt_us(value: float) -> str:
    return f"{value:.0f} µs" if value >= 10 else f"{value:.1f} µs"


def fmt_ratio(value: float) -> str:
    return f"{value:.2f}×"


class RequestCounter:
    """Counts DynamoDB requests (by operation) and their ConsumedCapacity.

    Hooks go on boto3's default session, so every client created while the counter
    is installed (the store factory's included) inherits them; the store's code is
    untouched. ``capacity_for`` adds ``ReturnConsumedCapacity="TOTAL"`` to those
    operations so the answer says what they cost.
    """

    def __init__(self, capacity_for: tuple[str, ...] = ()) -> None:
        self.operations: list[str] = []
        self.capacity: list[float] = []
        self._capacity_for = capacity_for
        self._hooks: list[tuple[str, Callable[..., None]]] = [
            ("before-call.dynamodb", self._count),
            *((f"before-parameter-build.dynamodb.{op}", self._ask) for op in capacity_for),
            *((f"after-call.dynamodb.{op}", self._read) for op in capacity_for),
        ]

    def _count(self, model: Any, **_: Any) -> None:
        self.operations.append(model.name)

    @staticmethod
    def _ask(params: dict[str, Any], **_: Any) -> None:
        params["ReturnConsumedCapacity"] = "TOTAL"

    def _read(self, parsed: dict[str, Any], **_: Any) -> None:
        consumed = parsed.get("ConsumedCapacity", [])
        entries = consumed if isinstance(consumed, list) else [consumed]
        self.capacity.append(sum(entry.get("CapacityUnits", 0.0) for entry in entries))

    def clear(self) -> None:
        self.operations.clear()
        self.capacity.clear()

    @contextlib.contextmanager
    def installed(self) -> Iterator[RequestCounter]:
        import boto3

        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        events = boto3.DEFAULT_SESSION.events
        for name, hook in self._hooks:
            events.register(name, hook)
        try:
            yield self
        finally:
            for name, hook in self._hooks:
                events.unregister(name, hook)


class CallCounter:
    """Counts calls of a store's interface methods by wrapping them on the instance."""

    METHODS = (
        "ping", "create_user", "get_user", "set_password", "access_state",
        "start_session", "touch_session", "list_sessions", "end_session", "end_sessions",
        "add_refresh_token", "get_refresh_token", "spend_refresh_token", "count_login_attempt",
        "clear_login_throttle", "clear_throttles", "count_post", "add_message", "get_message",
        "list_messages", "list_newer_messages", "delete_message", "mark_user_deleted",
        "delete_user_data", "delete_user", "set_display_name",
    )

    def __init__(self, target: Any) -> None:
        self.calls: list[str] = []
        for name in self.METHODS:
            setattr(target, name, self._wrap(name, getattr(target, name)))

    def _wrap(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return method(*args, **kwargs)

        return counted
