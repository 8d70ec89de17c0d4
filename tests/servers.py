"""Real servers for the tests (and bench/, which borrows them): the API (ops.local_server,
what `python -m ops serve` runs, or chalice local), dynalite, the static web server.

Each starts on a free loopback port, waits until it answers, and is stopped by
its own PID when the context exits. A missing binary raises ``ServerMissing``;
the tests turn that into a skip, or a failure under CI (tests/helpers.py).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ops.stage import ROOT

DYNALITE = ROOT / "node_modules" / ".bin" / "dynalite"
CHALICE = Path(sys.executable).parent / "chalice"


class ServerMissing(RuntimeError):
    """A server's program is not installed; the message says how to install it."""

    def __init__(self, what: str, how: str) -> None:
        super().__init__(f"{what} is not available: {how}")
        self.what = what
        self.how = how


DYNALITE_MISSING = ("dynalite", "run `npm ci` in the repository root")
CHALICE_MISSING = ("chalice", "pip install -r requirements-dev.txt")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Server:
    url: str
    pid: int


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answered, even if with an error status
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not answer {url} within {timeout}s:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End the process we started (and its children) by its PID."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextlib.contextmanager
def _serve(
    command: list[str], *, url: str, probe: str, log: Path, env: Mapping[str, str], timeout: float
) -> Iterator[Server]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so _stop ends its children too
        )
    try:
        _wait_until_up(url + probe, process, log, timeout)
        yield Server(url=url, pid=process.pid)
    finally:
        _stop(process)


def dynalite_available() -> bool:
    return DYNALITE.exists() and shutil.which("node") is not None


@contextlib.contextmanager
def dynalite(workdir: Path, *, port: int | None = None, persist: bool = False) -> Iterator[Server]:
    """A dynalite server on loopback; with ``persist`` its LevelDB files live in ``workdir``
    (so a restart on the same ``port`` finds the data), otherwise in memory."""
    if not dynalite_available():
        raise ServerMissing(*DYNALITE_MISSING)
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        str(DYNALITE), "--host", "127.0.0.1", "--port", str(port),
        # Tables leave CREATING/DELETING at once instead of after dynalite's default 500 ms.
        "--createTableMs", "5", "--deleteTableMs", "5", "--updateTableMs", "5",
    ]
    if persist:
        command += ["--path", str(workdir / "db")]
    with _serve(
        command,
        url=url,
        probe="/",
        log=workdir / "dynalite.log",
        env=os.environ,
        timeout=20,
    ) as server:
        yield server


@contextlib.contextmanager
def chalice_local(
    env: Mapping[str, str], log: Path, stage: str = "test", *, via_cli: bool = False
) -> Iterator[Server]:
    """The API for ``stage`` on loopback, its settings given as environment variables.

    By default through ``python -m ops.local_server`` (what scripts/run starts:
    Chalice's own LocalDevServer with TCP_NODELAY, a deep backlog and API
    Gateway's answers where chalice local differs); with ``via_cli`` through
    the real ``chalice local`` CLI, which docs/configuration.md documents for
    running by hand. Both run without autoreload: chalice local restarts on any file
    change under the project folder, and the tests write files.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    if via_cli:
        if not CHALICE.exists():
            raise ServerMissing(*CHALICE_MISSING)
        command = [
            str(CHALICE), "local", "--stage", stage, "--host", "127.0.0.1",
            "--port", str(port), "--no-autoreload",
        ]
    else:
        command = [
            sys.executable, "-m", "ops.local_server", "--stage", stage,
            "--host", "127.0.0.1", "--port", str(port),
        ]
    with _serve(
        command,
        url=url,
        probe="/health",
        log=log,
        env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
        timeout=60,
    ) as server:
        yield server


@contextlib.contextmanager
def static_site(log: Path) -> Iterator[Server]:
    """The web app in ``static/`` served as a separate origin, as in production."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
        "--directory", str(ROOT / "static"),
    ]
    with _serve(command, url=url, probe="/", log=log, env=os.environ, timeout=20) as server:
        yield server


@contextlib.contextmanager
def sqlite_api(workdir: Path) -> Iterator[str]:
    """The test stage's API on loopback over SQLite in ``workdir``, with a fresh keyring:
    its base URL (for tests that speak HTTP to the local server itself)."""
    from tests.helpers import WEB_ORIGIN, make_keyring_json

    env = {
        "CHALKBOARD_STORE": "sqlite",
        "CHALKBOARD_DATA_DIR": str(workdir),
        "CHALKBOARD_WEB_ORIGIN": WEB_ORIGIN,
        "CHALKBOARD_SIGNING_KEYS": make_keyring_json(),
    }
    with chalice_local(env, workdir / "server.log") as server:
        yield server.url
