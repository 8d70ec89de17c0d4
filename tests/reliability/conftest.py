"""Fixtures for the reliability suite: servers per store, the tally, the log scan.

Each module gets its own store and `chalice local` per adapter (module scope, so
a module's tests share one server and tell their data apart by fresh
usernames). Every log the whole test run writes, and everything pytest
captured, is scanned for passwords and tokens when the session ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import STORES
from tests.reliability.log_scan import Leak, find_leaks
from tests.reliability.stack import Backend, Served, make_backend, serve
from tests.reliability.tally import TALLY

# Passwords other test modules send; they must stay out of the logs too.
OTHER_SUITES_PASSWORDS = {"correct horse battery staple"}


class CapturedOutput:
    """A session-wide plugin keeping what pytest captured for every test, of every module."""

    def __init__(self) -> None:
        self.sections: list[tuple[str, str]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for title, text in report.sections:
            if text:
                self.sections.append((f"{report.nodeid} [{title}]", text))

    def pytest_sessionfinish(self) -> None:
        TALLY.write_report()


CAPTURED = CapturedOutput()


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("chalkboard-captured-output"):
        config.pluginmanager.register(CAPTURED, "chalkboard-captured-output")


def scan_run(basetemp: Path) -> tuple[list[Leak], dict[str, int]]:
    """Every *.log file under pytest's temporary folder and every captured section."""
    passwords = TALLY.passwords | OTHER_SUITES_PASSWORDS
    tokens = set(TALLY.tokens)
    leaks: list[Leak] = []
    files = sorted(basetemp.rglob("*.log"))
    size = 0
    for path in files:
        text = path.read_text(errors="replace")
        size += len(text)
        leaks += find_leaks(text, str(path), passwords=passwords, tokens=tokens)
    for source, text in CAPTURED.sections:
        size += len(text)
        leaks += find_leaks(text, source, passwords=passwords, tokens=tokens)
    figures = {
        "log files": len(files), "captured sections": len(CAPTURED.sections),
        "characters": size, "passwords": len(passwords), "tokens": len(tokens),
        "leaks": len(leaks),
    }
    return leaks, figures


@pytest.fixture(scope="session", autouse=True)
def no_password_or_token_in_any_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """After the last test of the run: no log line holds a password or a full token."""
    yield
    leaks, figures = scan_run(tmp_path_factory.getbasetemp())
    TALLY.figure("log scan", figures)
    TALLY.write_report()
    if leaks:
        pytest.fail("secrets in logs:\n" + "\n".join(str(leak) for leak in leaks[:50]),
                    pytrace=False)


@pytest.fixture(scope="module", params=STORES)
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    kind = request.param
    workdir = tmp_path_factory.mktemp(f"reliability-{kind}")
    url = request.getfixturevalue("dynalite_url") if kind == "dynamodb" else None
    return make_backend(kind, workdir, dynalite_url=url)


@pytest.fixture(scope="module")
def served(backend: Backend, request: pytest.FixtureRequest) -> Iterator[Served]:
    with serve(backend, request.module.__name__.rpartition(".")[2]) as running:
        yield running
