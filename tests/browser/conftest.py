"""Browser tests: the web app in static/ in headless Chromium, against a real API.

The static site and the API run on two loopback origins, as in production, so
CORS is exercised for real. One Chromium for the session, a fresh API (with its
own SQLite file) and a fresh browser context for each test.

The app's config.js and the CSP's connect-src name the local API
(http://localhost:8000); the tests rewrite both for the test API exactly as the
deploy upload does, rather than weakening the policy.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import secrets
import signal
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from ops.stage import ROOT
from tests import servers
from tests.helpers import require
from tests.http_client import Reply, request

if TYPE_CHECKING:
    import pyotp

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STATIC = ROOT / "static"
ARTIFACTS = ROOT / "test-artifacts"
LOCAL_API = "http://localhost:8000"
CSP_CONNECT = f"connect-src {LOCAL_API};"
CONFIG_STATEMENT = re.compile(
    r'\Aexport const config = \{ apiBaseUrl: "(?P<url>[^"]*)"'
    r'(, liveUrl: "(?P<live>[^"]*)")? \};\n?\Z'
)
PASSWORD = "correct horse battery staple"
TIMEOUT_MS = 10_000  # the longest any single expectation waits


def playwright_installed() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


if not playwright_installed():
    # The browser test modules import Playwright. Without it only the availability
    # check runs, and it skips, or under CI=true fails, saying what is missing.
    collect_ignore = [
        path.name for path in Path(__file__).parent.glob("test_*.py")
        if path.name not in {"test_browser_available.py", "test_static_files.py"}
    ]


def keyring_json() -> str:
    key, mfa_key = (
        base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode() for _ in "12"
    )
    return json.dumps({"current": "k1", "keys": {"k1": key}, "mfa_key": mfa_key})


# ---- Chromium -------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    require(
        playwright_installed(), "Playwright for Python", "pip install -r requirements-dev.txt"
    )
    require(CHROMIUM.exists(), "Chromium", "apt-get install chromium")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as engine:
        yield engine


@pytest.fixture(scope="session")
def browser(playwright: Any) -> Iterator[Any]:
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


# ---- servers --------------------------------------------------------------


@pytest.fixture(scope="session")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.Server]:
    """static/ on its own origin (started first: its URL is the API's CORS origin)."""
    with servers.static_site(tmp_path_factory.mktemp("web") / "static.log") as server:
        yield server


@dataclass
class Api:
    """A running `chalice local`, with shortcuts for arranging data over HTTP."""

    url: str
    pid: int
    log: Path
    env: dict[str, str]
    tokens: dict[str, dict] = field(default_factory=dict)
    # The code each two_factor_on confirmed with: spent, whatever the clock says since.
    setup_codes: dict[str, str] = field(default_factory=dict)

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> Reply:
        return request(method, self.url + path, body, token=token)

    def signup(self, username: str, password: str = PASSWORD) -> None:
        reply = self.call("POST", "/signup", {"username": username, "password": password})
        assert reply.status == 201, reply.body

    def login(self, username: str, password: str = PASSWORD, *,
              user_agent: str | None = None) -> dict:
        """Log in (a new session); ``user_agent`` is the browser it says it is (none by default)."""
        headers = {"User-Agent": user_agent} if user_agent is not None else None
        reply = request("POST", self.url + "/login", {"username": username, "password": password},
                        headers=headers)
        assert reply.status == 200, reply.body
        self.tokens[username] = reply.body
        return reply.body

    def user(self, username: str, password: str = PASSWORD) -> dict:
        """Sign up and log in; the token pair."""
        self.signup(username, password)
        return self.login(username, password)

    def two_factor_on(self, username: str) -> pyotp.TOTP:
        """Turn two-factor on for ``username`` (signed up) over HTTP; its authenticator,
        whose current code the confirmation used up."""
        import pyotp

        token = self.login(username)["access_token"]
        setup = self.call("POST", "/me/totp", {"password": PASSWORD}, token=token)
        assert setup.status == 200, setup.body
        authenticator = pyotp.TOTP(setup.body["secret"])
        code = authenticator.now()
        confirmed = self.call("POST", "/me/totp/confirm", {"code": code}, token=token)
        assert confirmed.status == 200, confirmed.body
        self.setup_codes[username] = code
        return authenticator

    def post(self, username: str, content: str) -> dict:
        token = self.tokens[username]["access_token"]
        reply = self.call("POST", "/messages", {"content": content}, token=token)
        assert reply.status == 201, reply.body
        return reply.body

    def stop(self) -> None:
        """Stop the API (its process group) and wait until its port refuses connections."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
        port = urlsplit(self.url).port
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            except OSError:
                return
            time.sleep(0.05)
        raise AssertionError("the API did not stop")


@pytest.fixture
def api_env() -> dict[str, str]:
    """Extra settings for this test's API; modules override this fixture."""
    return {}


@pytest.fixture
def api(web: servers.Server, tmp_path: Path, api_env: dict[str, str]) -> Iterator[Api]:
    env = {
        "CHALKBOARD_STORE": "sqlite",
        "CHALKBOARD_DATA_DIR": str(tmp_path / "data"),
        "CHALKBOARD_WEB_ORIGIN": web.url,
        "CHALKBOARD_SIGNING_KEYS": keyring_json(),
        **api_env,
    }
    log = tmp_path / "chalice.log"
    with servers.chalice_local(env, log) as server:
        yield Api(server.url, server.pid, log, env)


# ---- the web app ----------------------------------------------------------


def deployed_index(html: str, api_url: str) -> str:
    """index.html with its connect-src naming ``api_url``, as the deploy upload writes it."""
    assert html.count(CSP_CONNECT) == 1, "index.html's CSP must name connect-src " + LOCAL_API
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(api_url))
    return html.replace(CSP_CONNECT, f"connect-src {origin};")


def deployed_config(source: str, api_url: str) -> str:
    """config.js pointing at ``api_url``, as the deploy upload writes it."""
    assert CONFIG_STATEMENT.match(source), "config.js must be the one statement the deploy rewrites"
    return f'export const config = {{ apiBaseUrl: "{api_url}" }};\n'


def serve_app(context: Any, web_url: str, api_url: str) -> None:
    def is_page(url: str) -> bool:
        parts = urlsplit(url)
        return url.startswith(web_url) and parts.path in ("/", "/index.html")

    def index(route: Any) -> None:
        response = route.fetch()
        route.fulfill(response=response, body=deployed_index(response.text(), api_url))

    def config(route: Any) -> None:
        source = (STATIC / "config.js").read_text()
        route.fulfill(
            status=200,
            content_type="text/javascript",
            headers={"Cache-Control": "no-store"},
            body=deployed_config(source, api_url),
        )

    context.route(is_page, index)
    context.route(f"{web_url}/config.js", config)


def app_context(browser: Any, web_url: str, api_url: str, **options: Any) -> Any:
    """A fresh browser context (its own storage) serving the web app at ``web_url``
    against ``api_url``, as deployed; ``options`` go to ``new_context``."""
    context = browser.new_context(
        **{"locale": "en-US", "timezone_id": "UTC", "service_workers": "block", **options}
    )
    # A document served by page.route has no IP address, so Chromium's Local
    # Network Access checks see a public page calling loopback; in real use both
    # are loopback (locally) or both public (deployed). Grant what real use has.
    context.grant_permissions(["local-network-access"])
    serve_app(context, web_url, api_url)
    return context


def open_app(context: Any, web_url: str, problems: Problems) -> Any:
    """A new tab in ``context`` on the web app, watched for ``problems``."""
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    problems.watch(page)
    page.goto(web_url + "/")
    return page


@dataclass
class Problems:
    """What must never happen on a page: uncaught errors, CSP violations, alert()s."""

    errors: list[str] = field(default_factory=list)

    def watch(self, page: Any) -> None:
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on("console", self._console)
        page.on("dialog", self._dialog)

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text or "Trusted Type" in message.text:
            self.errors.append(f"console: {message.text}")

    def _dialog(self, dialog: Any) -> None:
        self.errors.append(f"a JavaScript dialog opened: {dialog.type} {dialog.message!r}")
        dialog.dismiss()


@pytest.fixture
def problems() -> Problems:
    return Problems()


@pytest.fixture
def new_page(
    browser: Any, web: servers.Server, api: Api, problems: Problems
) -> Iterator[Callable[..., Any]]:
    """Open the web app in a fresh browser context (its own localStorage)."""
    contexts = []

    def open_page(*, width: int = 1280, height: int = 800, context: Any = None) -> Any:
        if context is None:
            context = app_context(browser, web.url, api.url,
                                  viewport={"width": width, "height": height})
            contexts.append(context)
        return open_app(context, web.url, problems)

    yield open_page
    for context in contexts:
        context.close()
    assert problems.errors == []


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    return new_page()


def save_screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path
