"""The SSM keyring under faults: a hanging SSM, and bursts of tokens naming keys we lack.

A fake SSM on loopback (GetParameter only, botocore's JSON protocol) answers,
fails or hangs on demand and counts what it is asked; `chalice local` servers
on both stores read their keyring from it through ``AWS_ENDPOINT_URL_SSM``.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chalicelib import deps, signing_keys
from chalicelib.signing_keys import new_keyring
from tests.helpers import DUMMY_AWS
from tests.http_client import Reply
from tests.reliability.burst import burst, connections
from tests.reliability.client import Http
from tests.reliability.forge import claims, compose, header
from tests.reliability.stack import PASSWORD, Backend, fresh_name, serve, session
from tests.reliability.tally import TALLY

pytestmark = pytest.mark.reliability

PARAMETER = "/chalkboard/test/signing-keys"
# .chalice/config.json's lambda_timeout: past it a request is killed mid-fetch, the
# failure is never recorded, and the next request fetches (and hangs) again.
LAMBDA_TIMEOUT_SECONDS = 10


class FakeSSM:
    """GetParameter over HTTP on loopback: ``mode`` is "ok", "error" (500) or "hang"."""

    def __init__(self, keyring_json: str) -> None:
        self.keyring_json = keyring_json
        self.mode = "ok"
        self.requests = 0
        self._count = threading.Lock()
        self.released = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with fake._count:
                    fake.requests += 1
                if fake.mode == "hang":
                    fake.released.wait(120)
                    return
                if fake.mode == "error":
                    self._answer(500, {"__type": "InternalServerError", "message": "down"})
                    return
                self._answer(200, {"Parameter": {
                    "Name": PARAMETER, "Type": "SecureString", "Value": fake.keyring_json,
                    "Version": 1}})

            def _answer(self, status: int, document: dict[str, object]) -> None:
                data = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> FakeSSM:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


def ssm_env(fake: FakeSSM) -> dict[str, str]:
    return {**DUMMY_AWS, "CHALKBOARD_SIGNING_KEYS": "",
            "CHALKBOARD_SIGNING_KEYS_PARAMETER": PARAMETER, "AWS_ENDPOINT_URL_SSM": fake.url}


@pytest.fixture
def fake_ssm(backend: Backend) -> Iterator[FakeSSM]:
    with FakeSSM(backend.env["CHALKBOARD_SIGNING_KEYS"]) as fake:
        yield fake


def test_a_burst_of_tokens_naming_unknown_keys_fetches_the_keyring_at_most_once_more(
    backend: Backend, fake_ssm: FakeSSM,
) -> None:
    """30 simultaneous requests, each with a token signed by our key but naming a kid
    we lack, then 30 more: all 401, and SSM is asked again at most once (the forced
    reload is at most once a minute), not once per token."""
    with serve(backend, "ssm-kids", extra_env=ssm_env(fake_ssm)) as served:
        username = fresh_name("kids")
        pair = session(served.http(), username)
        after_login = fake_ssm.requests
        assert after_login == 1

        def forged(index: int, client: Http) -> Reply:
            token = compose(header(backend, kid=f"kid-{uuid.uuid4().hex}"),
                            claims(backend, username), backend.keyring.signing_key)
            return client.call("GET", "/me", token=token)

        replies = burst(connections(served, 30), forged)
        replies += burst(connections(served, 30), forged)
        statuses = Counter(reply.status for reply in replies)
        fetches = fake_ssm.requests - after_login
        TALLY.attack("keyring: 60 tokens naming unknown kids in two bursts", served.kind,
                     max(statuses), refused=set(statuses) == {401} and fetches <= 1)
        assert statuses == {401: 60}
        assert fetches <= 1, f"{fetches} SSM fetches for 60 unknown kids"
        assert served.http().call("GET", "/me", token=pair["access_token"]).status == 200


def test_a_hanging_ssm_at_cold_start_is_a_prompt_503_and_is_not_asked_again_at_once(
    backend: Backend, fake_ssm: FakeSSM,
) -> None:
    """SSM accepts the connection and never answers. The first request waits for the
    fetch to give up, well inside the Lambda timeout, and is a 503 with Retry-After;
    20 simultaneous logins after it are refused at once, without asking SSM again."""
    fake_ssm.mode = "hang"
    with serve(backend, "ssm-hang", extra_env=ssm_env(fake_ssm)) as served:
        http = Http(served.url, served.kind, timeout=LAMBDA_TIMEOUT_SECONDS * 2)
        username = fresh_name("hang")
        credentials = {"username": username, "password": PASSWORD}
        assert http.call("POST", "/signup", credentials).status == 201  # needs no keyring
        started = time.monotonic()
        first = http.call("POST", "/login", credentials)  # signs a token: needs the keyring
        waited = time.monotonic() - started
        asked = fake_ssm.requests
        replies = burst(connections(served, 20), lambda i, client: client.call(
            "POST", "/login", credentials))
        statuses = Counter(reply.status for reply in replies)
        TALLY.attack("keyring: SSM hanging at cold start, 21 logins", served.kind,
                     first.status, refused=first.status == 503 and waited < 8)
        assert first.status == 503, first.body
        assert 1 <= int(first.headers["Retry-After"]) <= 60
        assert waited < LAMBDA_TIMEOUT_SECONDS - 2, f"the first request waited {waited:.1f} s"
        # (429: of simultaneous logins of one name at most 5 are evaluated at once)
        assert statuses[503] >= 1 and set(statuses) <= {503, 429}, statuses
        assert fake_ssm.requests == asked, "SSM was asked again within the minute"


@pytest.mark.stores("sqlite")
def test_a_hanging_ssm_at_the_five_minute_refresh_keeps_the_loaded_keyring_promptly(
    app_env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A warm instance's keyring is 5 minutes old and SSM hangs: the request that
    refetches gets the loaded keyring back well inside the Lambda timeout, and the
    requests of the next minute do not ask SSM at all."""
    with FakeSSM(new_keyring().to_json()) as fake:
        for name, value in ssm_env(fake).items():
            monkeypatch.setenv(name, value)
        deps.reset()  # settings read again: the keyring now comes from the fake SSM
        start = time.time()
        loaded = signing_keys.get_keyring(now=start)
        fake.mode = "hang"
        stale = start + signing_keys.KEYRING_MAX_AGE_SECONDS + 1
        began = time.monotonic()
        assert signing_keys.get_keyring(now=stale) is loaded
        waited = time.monotonic() - began
        asked = fake.requests
        for second in range(1, 60, 10):
            assert signing_keys.get_keyring(now=stale + second) is loaded
        assert fake.requests == asked
        assert waited < LAMBDA_TIMEOUT_SECONDS - 2, f"the refresh waited {waited:.1f} s"

