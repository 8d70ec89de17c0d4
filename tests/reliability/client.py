"""HTTP/1.1 to a `chalice local` over loopback, every answer counted in the tally.

``Http(url, store)`` opens a fresh connection per request and asks the server to
close it; ``keep_alive=True`` holds one connection for the object's life (one
per worker thread in the load tests: chalice local's listen backlog is 5, so a
burst of new connections would be reset before the app saw it).

A fresh connection per request is also the fast choice for sequential tests:
chalice local writes a response's headers and body in two segments without
TCP_NODELAY, so on a reused connection Nagle's algorithm meets the client's
delayed ACK and every answer waits about 40 ms.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import time
import urllib.parse
from typing import Any

from tests.http_client import Reply
from tests.reliability.tally import TALLY

SECRET_FIELDS = ("password", "current_password", "new_password")
# Sent or received secrets that must never reach a log: tokens, the two-factor step's
# token and a new two-factor secret.
TOKEN_FIELDS = ("access_token", "refresh_token", "mfa_token", "secret")


class Http:
    def __init__(self, url: str, store: str, *, keep_alive: bool = False, timeout: float = 30
                 ) -> None:
        parsed = urllib.parse.urlsplit(url)
        assert parsed.hostname in {"127.0.0.1", "localhost"}, "loopback only"
        self.url = url
        self.store = store
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

    def call(
        self, method: str, path: str, body: Any = None, *, token: str | None = None,
        headers: dict[str, str | None] | None = None, raw: bytes | None = None,
    ) -> Reply:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        all_headers = {name: value for name, value in all_headers.items() if value is not None}
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
            TALLY.secret_token(token)
        if not self._keep_alive:
            all_headers["Connection"] = "close"
        if isinstance(body, dict):
            for name in SECRET_FIELDS:
                if isinstance(body.get(name), str):
                    TALLY.secret_password(body[name])
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        connection = self._connect()
        try:
            connection.request(method, path, body=data, headers=all_headers)
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
        if isinstance(parsed, dict):
            for name in TOKEN_FIELDS:
                if isinstance(parsed.get(name), str):
                    TALLY.secret_token(parsed[name])
        TALLY.status(self.store, response.status)
        return Reply(response.status, dict(response.getheaders()), parsed, payload)

    def status_of_raw_request(self, method: str, path: str, headers: dict[str, str],
                              attempts: int = 10) -> int | None:
        """The status a server answers to a request too big to send politely.

        A server that refuses a header before reading all of it closes with unread
        data, which resets the connection and can discard its answer in flight; so
        this tries a few times and returns the first status read (None if none was).
        """
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self._host}:{self._port}",
                 "Connection: close", *(f"{k}: {v}" for k, v in headers.items())]
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        for _ in range(attempts):
            answer = b""
            with socket.create_connection((self._host, self._port), timeout=self._timeout) as sock:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    sock.sendall(request)
                with contextlib.suppress(ConnectionResetError):
                    while chunk := sock.recv(65536):
                        answer += chunk
            if answer.startswith(b"HTTP/1."):
                status = int(answer.split(b" ", 2)[1])
                TALLY.status(self.store, status)
                return status
        return None

    def timed(self, method: str, path: str, body: Any = None, **kwargs: Any
              ) -> tuple[Reply, float]:
        start = time.perf_counter()
        reply = self.call(method, path, body, **kwargs)
        return reply, time.perf_counter() - start

    def __enter__(self) -> Http:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
