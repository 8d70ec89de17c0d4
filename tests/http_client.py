"""The one HTTP client for tests against real servers on loopback (stdlib only, JSON).

``Http(url)`` opens a fresh connection per request and asks the server to close it;
``keep_alive=True`` holds one connection for the object's life (one per worker thread in
load tests: chalice local's listen backlog is 5, so a burst of new connections would be
reset before the app saw it). A fresh connection per request is also the fast choice for
sequential tests: chalice local writes a response's headers and body in two segments
without TCP_NODELAY, so on a reused connection every answer waits ~40 ms for the client's
delayed ACK. ``request(method, url)`` is one call on a fresh connection.

Subclasses watch the traffic by overriding ``sent`` and ``received`` (the reliability
suite's tally does, tests/reliability/client.py).
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: Any
    raw: bytes


class Http:
    def __init__(self, url: str, *, keep_alive: bool = False, timeout: float = 30) -> None:
        parsed = urllib.parse.urlsplit(url)
        assert parsed.hostname in {"127.0.0.1", "localhost"}, "loopback only"
        self.url = url
        self._host, self._port = parsed.hostname, parsed.port
        self._keep_alive = keep_alive
        self._timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            self._connection = http.client.HTTPConnection(
                self._host, self._port, timeout=self._timeout
            )
            self._connection.connect()
        return self._connection

    def open(self) -> Http:
        """Connect now (keep-alive), so a later burst needs no new connections."""
        self._connect()
        return self

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def sent(self, token: str | None, body: Any) -> None:
        """Called with each request's token and body before it goes out (a hook)."""

    def received(self, reply: Reply) -> None:
        """Called with each answer (a hook for subclasses)."""

    def call(
        self, method: str, path: str, body: Any = None, *, token: str | None = None,
        headers: dict[str, str | None] | None = None, raw: bytes | None = None,
    ) -> Reply:
        """``body`` is sent as JSON, ``raw`` as is; a header given as None is left out."""
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        sent_headers = {name: value for name, value in all_headers.items() if value is not None}
        if token is not None:
            sent_headers["Authorization"] = f"Bearer {token}"
        if not self._keep_alive:
            sent_headers["Connection"] = "close"
        self.sent(token, body)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        connection = self._connect()
        try:
            connection.request(method, path, body=data, headers=sent_headers)
            response = connection.getresponse()
            payload = response.read()
        except Exception:
            self.close()
            raise
        if not self._keep_alive or response.will_close:
            self.close()
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = None
        reply = Reply(response.status, dict(response.getheaders()), parsed, payload)
        self.received(reply)
        return reply

    def __enter__(self) -> Http:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def request(
    method: str, url: str, body: Any = None, *, token: str | None = None,
    headers: dict[str, str | None] | None = None, raw: bytes | None = None,
    timeout: float = 30,
) -> Reply:
    """One request on a fresh connection: ``url`` is the server and path together."""
    parts = urllib.parse.urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    with Http(f"{parts.scheme}://{parts.netloc}", timeout=timeout) as client:
        return client.call(method, path, body, token=token, headers=headers, raw=raw)
