"""Fixtures: settings per test, both store adapters on fresh tables, the test client.

Every store-facing fixture is parametrized over the two adapters, so the same
tests run on SQLite and on DynamoDB (dynalite, a real DynamoDB-protocol server).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from chalicelib import config, deps
from chalicelib.store.protocol import Store
from ops.stage import table_names
from tests import servers
from tests.helpers import (
    DUMMY_AWS,
    STORES,
    WEB_ORIGIN,
    Api,
    in_ci,
    make_keyring_json,
    require_dynalite,
    unique_tables,
)


@pytest.fixture(scope="session")
def dynalite_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_dynalite()
    with servers.dynalite(tmp_path_factory.mktemp("dynalite")) as server:
        yield server.url


def selected_stores() -> list[str]:
    """The adapters this run tests: ``CHALKBOARD_TEST_STORES`` (comma-separated), or all."""
    chosen = [name.strip() for name in os.environ.get("CHALKBOARD_TEST_STORES", "").split(",")
              if name.strip()] or STORES
    unknown = sorted(set(chosen) - set(STORES))
    if unknown:
        raise pytest.UsageError(f"CHALKBOARD_TEST_STORES names no store {unknown}: use {STORES}")
    return chosen


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run a store-facing test on the adapters its ``stores`` marker names (default: all)."""
    if "store_kind" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("stores")
    metafunc.parametrize("store_kind", list(marker.args) if marker else STORES, indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect (not skip) what needs an adapter CHALKBOARD_TEST_STORES leaves out."""
    chosen = selected_stores()
    keep, drop = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        kinds = {params.params[name] for name in ("store_kind", "backend")
                 if name in params.params} if params else set()
        needs_dynalite = "dynalite_url" in getattr(item, "fixturenames", ())
        wanted = kinds <= set(chosen) and (not needs_dynalite or "dynamodb" in chosen)
        (keep if wanted else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_env(
    store_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> dict[str, str]:
    """Environment for one test's app: its own SQLite file, or its own DynamoDB tables."""
    env = {
        "CHALKBOARD_STORE": store_kind,
        "CHALKBOARD_DATA_DIR": str(tmp_path / "data"),
        "CHALKBOARD_WEB_ORIGIN": WEB_ORIGIN,
        "CHALKBOARD_SIGNING_KEYS": make_keyring_json(),
    }
    if store_kind == "dynamodb":
        url = request.getfixturevalue("dynalite_url")
        tables = unique_tables()
        env |= {**DUMMY_AWS, **tables, "AWS_ENDPOINT_URL_DYNAMODB": url}
        from chalicelib.store.dynamodb import make_client
        from ops.tables import create_tables

        with pytest.MonkeyPatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            create_tables(make_client(), table_names(tables))
    return env


@pytest.fixture
def app_env(store_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """``store_env`` applied to this process, with every cache reset before and after."""
    for name, value in store_env.items():
        monkeypatch.setenv(name, value)
    # The test stage's cheap argon2 parameters, for code called outside a request.
    monkeypatch.setenv("CHALKBOARD_STAGE", "test")
    monkeypatch.setenv("CHALKBOARD_ARGON2_MEMORY_KIB", "1024")
    monkeypatch.setenv("CHALKBOARD_ARGON2_TIME_COST", "1")
    deps.reset()
    yield store_env
    deps.reset()


@pytest.fixture
def api(app_env: dict[str, str]) -> Iterator[Api]:
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="test") as client:
        yield Api(client)


@pytest.fixture
def direct_store(app_env: dict[str, str]) -> Store:
    """The adapter under test, built by the same factory the app uses."""
    return deps.get_store()


class FakeClock:
    """One test's time. It reads the wall clock once, when made (the SQLite adapter still
    prunes expired rows by real time), then moves only when the test moves it: two
    values built from it agree however loaded the machine is."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> Iterator[FakeClock]:
    """The Deps clock for this test (``chalicelib.deps.use_clock``): one fake time."""
    if "app_env" in request.fixturenames:
        request.getfixturevalue("app_env")  # first: its deps.reset() would undo use_clock
    fake = FakeClock()
    deps.use_clock(fake)
    yield fake
    deps.use_clock(time.time)


@pytest.fixture
def env_override(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Change settings mid-test (e.g. a short throttle window) and drop the caches."""

    def apply(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        config.get_settings.cache_clear()

    return apply


def pytest_report_header() -> list[str]:
    return [f"CI={os.environ.get('CI', '')}: missing dynalite or Chromium "
            f"{'fails' if in_ci() else 'skips'} the tests that need them"]
