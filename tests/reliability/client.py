"""The tests' HTTP client (tests/http_client.py) with every answer counted in the tally,
and the secrets it sends or receives registered for the log scan.

``Http(url, store)`` opens a fresh connection per request; ``keep_alive=True`` holds
one for the object's life (see tests/http_client.py for why each is used).
"""

from __future__ import annotations

import contextlib
import socket
import time
from typing import Any

from tests import http_client
from tests.http_client import Reply
from tests.reliability.tally import TALLY

SECRET_FIELDS = ("password", "current_password", "new_password")
# Sent or received secrets that must never reach a log: tokens, the two-factor step's
# token and a new two-factor secret.
TOKEN_FIELDS = ("access_token", "refresh_token", "mfa_token", "secret", "device_token")


class Http(http_client.Http):
    def __init__(self, url: str, store: str, *, keep_alive: bool = False, timeout: float = 30
                 ) -> None:
        super().__init__(url, keep_alive=keep_alive, timeout=timeout)
        self.store = store

    def sent(self, token: str | None, body: Any) -> None:
        if token is not None:
            TALLY.secret_token(token)
        if isinstance(body, dict):
            for name in SECRET_FIELDS:
                if isinstance(body.get(name), str):
                    TALLY.secret_password(body[name])
            if isinstance(body.get("device_token"), str):
                TALLY.secret_token(body["device_token"])  # sent back at /login: never logged

    def received(self, reply: Reply) -> None:
        if isinstance(reply.body, dict):
            for name in TOKEN_FIELDS:
                if isinstance(reply.body.get(name), str):
                    TALLY.secret_token(reply.body[name])
        TALLY.status(self.store, reply.status)

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
