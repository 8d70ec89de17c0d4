"""The log scan that ends every run (conftest.no_password_or_token_in_any_log) can see.

It must find a planted secret, stay quiet on ordinary log lines, and the logs it
reads must really hold the app's own log lines.
"""

from __future__ import annotations

import time

import pytest

from tests.reliability.log_scan import find_leaks
from tests.reliability.stack import PASSWORD, Served, fresh_name, session

pytestmark = pytest.mark.reliability

ORDINARY = """Serving on http://127.0.0.1:41234
127.0.0.1 - - [25/Nov/2026 07:47:12] "POST /login HTTP/1.1" 401 -
chalkboard - INFO - token refused: InvalidSignatureError
127.0.0.1 - - [25/Nov/2026 07:47:12] "GET /messages?limit=9&cursor=\
MDFLOEZKRE5NWDhaNlhFOVgxQ0hBWkpNNlpQjJc0LO4fS2Uf6tUTPfbO7qE HTTP/1.1" 200 -
WARNING:chalicelib.sessions:refresh token reused for alice-3f2a; family revoked
"""


def test_the_scan_finds_a_planted_access_token_refresh_token_and_password() -> None:
    access = ("eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJib2IiLCJpYXQi"
              "OjE3OTU1OTMxNzYuMTEzfQ.qnKMjJ2GhnqNgEMopA6yIi-ke3f08LFtVtQVJ06ykM8")
    refresh = "Xr3gS2m0v5dJ8bQzLq1Nw7YtHc4FkPaE9uRiOsTjB6E"
    text = ORDINARY + f"DEBUG body={{'refresh_token': '{refresh}'}} auth=Bearer {access}\n"
    text += f"login for bob with {PASSWORD}\n"
    leaks = find_leaks(text, "planted.log", passwords={PASSWORD}, tokens={refresh})
    assert {leak.kind for leak in leaks} == {"JWT-shaped string", "token", "password"}
    for leak in leaks:
        assert access not in str(leak) and refresh not in str(leak) and PASSWORD not in str(leak)


def test_the_scan_is_quiet_on_ordinary_log_lines() -> None:
    assert find_leaks(ORDINARY, "ordinary.log", passwords={PASSWORD},
                      tokens={"Xr3gS2m0v5dJ8bQzLq1Nw7YtHc4FkPaE9uRiOsTjB6E"}) == []


def test_the_scanned_logs_hold_the_apps_own_log_lines(served: Served) -> None:
    http = served.http()
    pair = session(http, fresh_name("logged"))
    assert http.call("GET", "/me", token=pair["access_token"][:-4] + "AAAA").status == 401
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        text = "".join(log.read_text() for log in served.backend.workdir.glob("chalice-*.log"))
        if "\"reason\":\"InvalidSignatureError\"" in text:
            break
        time.sleep(0.05)
    assert "\"decision\":\"deny\",\"reason\":\"InvalidSignatureError\"" in text
    assert '"POST /login HTTP/1.1" 200' in text
