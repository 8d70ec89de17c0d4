"""Bursts of simultaneous requests over keep-alive connections opened beforehand.

chalice local's listen backlog is 5, so the connections are opened a few
milliseconds apart, then every thread waits at one barrier and sends at once.
Every run is bounded: a deadline on each thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from tests.reliability.client import Http
from tests.reliability.stack import Served

T = TypeVar("T")
DEADLINE_SECONDS = 60


def burst(clients: list[Http], send: Callable[[int, Http], T]) -> list[T]:
    """Call ``send`` on every client at the same moment, one thread each; results in order."""
    barrier = threading.Barrier(len(clients))
    results: list[Any] = [None] * len(clients)

    def run(index: int, client: Http) -> None:
        barrier.wait(timeout=DEADLINE_SECONDS)
        try:
            results[index] = send(index, client)
        except Exception as error:  # reported below, not lost in the thread
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=DEADLINE_SECONDS)
        assert not thread.is_alive(), "a request in the burst hung"
    for client in clients:
        client.close()
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    return results


def connections(served: Served, count: int) -> list[Http]:
    """Keep-alive connections, opened a few milliseconds apart: back to back, they would
    overflow the server's accept queue (backlog 5) and wait a second for a SYN resend."""
    opened = []
    for _ in range(count):
        opened.append(served.http(keep_alive=True).open())
        time.sleep(0.005)
    return opened


