"""A new password is judged by zxcvbn and, where a stage names one, a Pwned Passwords
range API (chalicelib/passwords.py, validation.check_new_password); login is not."""

from __future__ import annotations

import hashlib
import http.server
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from chalicelib import passwords
from chalicelib.config import load_settings
from chalicelib.errors import InvalidInput
from chalicelib.validation import check_new_password
from tests.helpers import Api, body_of

PASSWORD = "correct horse battery staple"
SETTINGS = load_settings({"CHALKBOARD_STAGE": "test", "CHALKBOARD_WEB_ORIGIN": "http://x.example"})
WEAK = ["123456789012", "Password123!", "P@ssw0rd1234", "aaaaaaaaaaaa", "chalkboard123",
        "passwordpassword"]


def sha1_hex(password: str) -> str:
    """As the range API spells a password: its SHA-1 in upper-case hex."""
    return hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()


def message(response) -> str:
    return str(body_of(response)["Message"])


# -- zxcvbn --------------------------------------------------------------------------------


@pytest.mark.parametrize("password", WEAK)
def test_passwords_zxcvbn_finds_easy_to_guess_are_refused_at_signup(
    api: Api, password: str
) -> None:
    response = api.signup("alice", password)
    assert response.status_code == 400
    assert message(response).startswith("password is too easy to guess: ")
    assert len(message(response)) > len("password is too easy to guess: ") + 10  # says why


def test_the_refusal_carries_zxcvbns_warning_in_words(api: Api) -> None:
    response = api.signup("alice", "123456789012")
    assert message(response) == (
        "password is too easy to guess: This is similar to a commonly used password."
        " Add another word or two. Uncommon words are better."
    )


@pytest.mark.parametrize("password", WEAK)
def test_a_password_change_to_an_easy_password_is_400_and_changes_nothing(
    api: Api, password: str
) -> None:
    token = api.session("alice")["access_token"]
    response = api.call("POST", "/me/password",
                        {"current_password": PASSWORD, "new_password": password}, token=token)
    assert response.status_code == 400
    assert message(response).startswith("password is too easy to guess")
    assert api.login("alice").status_code == 200


def test_the_username_and_display_name_count_as_the_users_own_words(api: Api) -> None:
    # Strong for anyone else; the name it is built from makes it guessable.
    assert passwords.weakness("wilhelmina zdanowicz!", user_inputs=["x", "y", "z"]) is None
    response = api.call("POST", "/signup", {"username": "wzdanowicz",
                                            "password": "wilhelmina zdanowicz!",
                                            "display_name": "Wilhelmina Zdanowicz"})
    assert response.status_code == 400
    assert message(response).startswith("password is too easy to guess")
    response = api.call("POST", "/signup", {"username": "margueriteokonkwo",
                                            "password": "margueriteokonkwo1"})
    assert response.status_code == 400


def test_the_display_name_at_a_password_change_is_the_accounts(api: Api) -> None:
    response = api.call("POST", "/signup", {"username": "bob", "password": PASSWORD,
                                            "display_name": "Wilhelmina Zdanowicz"})
    assert response.status_code == 201
    token = api.login("bob").json_body["access_token"]
    response = api.call("POST", "/me/password", {"current_password": PASSWORD,
                                                 "new_password": "Wilhelmina Zdanowicz"},
                        token=token)
    assert response.status_code == 400
    assert message(response).startswith("password is too easy to guess")


def test_login_never_runs_zxcvbn(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """An existing password is checked, not judged: an account whose password zxcvbn
    would now refuse still signs in."""
    assert api.signup("alice").status_code == 201

    def refuse(*_args: object, **_kwargs: object) -> str:
        raise AssertionError("zxcvbn ran at login")

    monkeypatch.setattr(passwords, "weakness", refuse)
    assert api.login("alice").status_code == 200


@pytest.mark.parametrize("password", [
    PASSWORD, "a brand new passphrase", "another long passphrase", "a new staple horse",
    "violet tractor umbrella", "пароль-密码-🔑-ok!",
])
def test_the_passwords_the_tests_use_pass_zxcvbn(password: str) -> None:
    assert check_new_password(password, username="alice", display_name="Alice",
                              settings=SETTINGS) == password


def test_a_128_character_password_is_judged_in_bounded_time() -> None:
    """zxcvbn's l33t search multiplies with the symbols that stand for letters: unbounded,
    this 128-character password takes it over 10 s. Judged, it stays well under 1 s."""
    symbols = "4@8({[<3691!|70$5+%2"
    password = (symbols + "kQzvJwXyRbHnMtPfLgDs" * 6)[:128]
    passwords.weakness("warm up the import", user_inputs=[])
    started = time.perf_counter()
    assert passwords.weakness(password, user_inputs=["alice", "Alice", "chalkboard"]) is None
    assert time.perf_counter() - started < 1.0
    assert passwords.weakness("a" * 128, user_inputs=[]) is not None  # no ValueError past 72


def test_concurrent_checks_each_use_their_own_users_words() -> None:
    """zxcvbn keeps the user's words in a module-level dict: checks in parallel threads
    (the local server's, or any threaded host) must not see each other's."""
    from concurrent.futures import ThreadPoolExecutor

    password = "wilhelmina zdanowicz!"
    theirs = ["wzdanowicz", "Wilhelmina Zdanowicz", "wilhelmina", "zdanowicz", "chalkboard"]
    others = ["bob", "Bob", "chalkboard"]

    def judge(index: int) -> bool:
        words = theirs if index % 2 else others
        return passwords.weakness(password, user_inputs=words) is not None

    with ThreadPoolExecutor(8) as pool:
        verdicts = list(pool.map(judge, range(80)))
    assert verdicts == [bool(index % 2) for index in range(80)]


def test_a_long_weak_password_is_still_refused() -> None:
    with pytest.raises(InvalidInput, match="too easy to guess"):
        check_new_password("password" * 16, username="alice", display_name="Alice",
                           settings=SETTINGS)


# -- Pwned Passwords range API ---------------------------------------------------------------


@dataclass
class RangeServer:
    """A local stand-in for api.pwnedpasswords.com: ``/range/<prefix>`` answers the lines
    of ``listed`` under that prefix, plus count-0 padding, after ``delay`` seconds."""

    url: str = ""
    listed: dict[str, int] = field(default_factory=dict)  # password → count
    delay: float = 0.0
    asked: list[str] = field(default_factory=list)

    def answer(self, path: str) -> tuple[int, str]:
        prefix = path.removeprefix("/range/")
        self.asked.append(prefix)
        lines = ["0018A45C4D1DEF81644B54AB7F969B88D65:0"]  # padding, as Add-Padding gives
        for password, count in self.listed.items():
            digest = sha1_hex(password)
            if digest[:5] == prefix:
                lines.append(f"{digest[5:]}:{count}")
        return 200, "\r\n".join(lines)


@pytest.fixture
def range_server() -> Iterator[RangeServer]:
    server_state = RangeServer()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(server_state.delay)
            status, text = server_state.answer(self.path)
            data = text.encode()
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client gave up (the slow case)
                pass

        def log_message(self, *_args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    server_state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield server_state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def pwned_api(api: Api, range_server: RangeServer,
              env_override: Callable[..., None]) -> Api:
    env_override(CHALKBOARD_PWNED_PASSWORDS_URL=range_server.url + "/")
    return api


BREACHED = "tangerine lighthouse 1987"


def test_a_password_the_range_api_lists_is_refused(
    pwned_api: Api, range_server: RangeServer
) -> None:
    range_server.listed[BREACHED] = 42
    response = pwned_api.signup("alice", BREACHED)
    assert response.status_code == 400
    assert message(response) == ("password appears in a list of passwords exposed in data"
                                 " breaches (Have I Been Pwned); choose another")
    # Only the first five hex digits of its SHA-1 left the process.
    assert range_server.asked == [sha1_hex(BREACHED)[:5]]


def test_a_listed_password_is_refused_at_a_password_change_too(
    pwned_api: Api, range_server: RangeServer
) -> None:
    token = pwned_api.session("alice")["access_token"]
    range_server.listed[BREACHED] = 3
    response = pwned_api.call("POST", "/me/password",
                              {"current_password": PASSWORD, "new_password": BREACHED},
                              token=token)
    assert response.status_code == 400
    assert "data breaches" in message(response)


def test_a_password_the_range_api_does_not_list_is_accepted(
    pwned_api: Api, range_server: RangeServer
) -> None:
    range_server.listed["some other password entirely"] = 9
    assert pwned_api.signup("alice", BREACHED).status_code == 201
    assert len(range_server.asked) == 1


def test_padding_entries_with_count_zero_are_not_a_match(
    pwned_api: Api, range_server: RangeServer
) -> None:
    range_server.listed[BREACHED] = 0
    assert pwned_api.signup("alice", BREACHED).status_code == 201


def test_login_never_asks_the_range_api(pwned_api: Api, range_server: RangeServer) -> None:
    assert pwned_api.signup("alice").status_code == 201
    range_server.asked.clear()
    range_server.listed[PASSWORD] = 5  # breached since: login still only checks it
    assert pwned_api.login("alice").status_code == 200
    assert range_server.asked == []


def test_a_slow_range_api_means_not_found_and_a_warning(
    pwned_api: Api, range_server: RangeServer, caplog: pytest.LogCaptureFixture
) -> None:
    range_server.listed[BREACHED] = 42
    range_server.delay = 1.5
    with caplog.at_level(logging.WARNING, logger="chalicelib.passwords"):
        started = time.perf_counter()
        assert pwned_api.signup("alice", BREACHED).status_code == 201
        assert time.perf_counter() - started < 1.4  # the 1 s timeout, not the 1.5 s answer
    assert_one_warning_without_secrets(caplog, "no answer within 1 s")


def test_an_unreachable_range_api_means_not_found_and_a_warning(
    pwned_api: Api, range_server: RangeServer, env_override: Callable[..., None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    env_override(CHALKBOARD_PWNED_PASSWORDS_URL=f"http://127.0.0.1:{closed}")
    with caplog.at_level(logging.WARNING, logger="chalicelib.passwords"):
        assert pwned_api.signup("alice", BREACHED).status_code == 201
    assert_one_warning_without_secrets(caplog, "refused")


def assert_one_warning_without_secrets(caplog: pytest.LogCaptureFixture, says: str) -> None:
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    line = warnings[0].getMessage()
    assert "pwned passwords check skipped" in line and says in line
    digest = sha1_hex(BREACHED)
    assert BREACHED not in line and digest[:5] not in line and digest[5:] not in line


def test_the_range_api_is_off_unless_a_stage_names_it(range_server: RangeServer) -> None:
    range_server.listed[BREACHED] = 42
    assert SETTINGS.pwned_passwords_url is None
    assert check_new_password(BREACHED, username="alice", display_name="Alice",
                              settings=SETTINGS) == BREACHED
    assert range_server.asked == []
