"""A tiny JSON-over-HTTP client for tests against real servers (stdlib only)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: Any
    raw: bytes


def request(
    method: str, url: str, body: Any = None, *, token: str | None = None,
    headers: dict[str, str] | None = None, raw: bytes | None = None, timeout: float = 30,
) -> Reply:
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token}"
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            status, reply_headers, payload = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, reply_headers, payload = error.code, error.headers, error.read()
    try:
        parsed = json.loads(payload) if payload else None
    except ValueError:
        parsed = None
    return Reply(status, dict(reply_headers.items()), parsed, payload)
