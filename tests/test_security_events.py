"""Security events over HTTP (chalice.test.Client): every event site, the owner's list,
and the authentication log lines (no secret in them).

SQLite only: the store contract (tests/test_store_security_events.py) proves both
adapters; tests/reliability/test_security_events.py drives an attack on both.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib import deps, security_events, telemetry
from chalicelib.store.protocol import Store
from tests.authenticator import SoftAuthenticator
from tests.helpers import Api, body_of
from tests.test_clients import SAFARI_IPHONE as IPHONE
from tests.test_passkeys import register as register_passkey
from tests.test_passkeys import sign_in as passkey_sign_in
from tests.test_totp import code_at, enable, mfa_token, submit

pytestmark = pytest.mark.stores("sqlite")

PASSWORD = "correct horse battery staple"
CHROME = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
          " Chrome/131.0.0.0 Safari/537.36")
ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@pytest.fixture
def clock(app_env: dict[str, str]) -> Iterator[list[float]]:
    """A clock the test moves; mid-step, a little before real time (as tests/test_totp.py)."""
    start = time.time()
    now = [start - start % 30 - 50]
    deps.use_clock(lambda: now[0])
    yield now
    deps.use_clock(time.time)


def events(api: Api, token: str, **query: Any) -> list[dict[str, Any]]:
    path = "/me/security-events"
    if query:
        path += "?" + "&".join(f"{name}={value}" for name, value in query.items())
    response = api.call("GET", path, token=token)
    assert response.status_code == 200, response.body
    return list(body_of(response)["events"])


def types(api: Api, token: str) -> list[str]:
    return [event["type"] for event in events(api, token, limit=100)]


def fresh_token(api: Api, username: str = "alice") -> str:
    response = api.login(username)
    assert response.status_code == 200, response.body
    return str(body_of(response)["access_token"])


# -- the list -----------------------------------------------------------------------------


def test_a_sign_in_is_listed_with_method_device_address_and_time(
    api: Api, clock: list[float]
) -> None:
    assert api.signup("alice").status_code == 201
    response = api.call("POST", "/login", {"username": "alice", "password": PASSWORD},
                        headers={"User-Agent": CHROME})
    token = body_of(response)["access_token"]
    (event,) = events(api, token)
    assert set(event) == {"id", "type", "created_at", "ip", "device", "device_kind", "details",
                          "current"}
    assert event["type"] == "sign_in"
    assert event["details"] == {"method": "password", "new_device": True}
    assert event["ip"] == "127.0.0.1"  # what chalice's local gateway reports
    assert event["device"] == "Chrome 131 on Linux"
    assert event["device_kind"] == "desktop"
    assert ISO_MS.fullmatch(event["created_at"])
    from chalicelib.timestamps import iso_ms

    assert event["created_at"] == iso_ms(clock[0])


def test_the_list_pages_newest_first_and_visits_each_event_once(
    api: Api, clock: list[float]
) -> None:
    token = api.session("alice")["access_token"]
    for _ in range(6):
        clock[0] += 1
        api.login("alice")
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = "?limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = body_of(api.call("GET", "/me/security-events" + query, token=token))
        seen += body["events"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7 and len({e["id"] for e in seen}) == 7
    assert [e["created_at"] for e in seen] == sorted((e["created_at"] for e in seen),
                                                    reverse=True)


@pytest.mark.parametrize("query", [
    "limit=0", "limit=101", "limit=x", "limit=" + "9" * 40, "cursor=nonsense",
    "cursor=" + "a" * 300,
])
def test_a_bad_limit_or_cursor_is_400(api: Api, query: str) -> None:
    token = api.session("alice")["access_token"]
    assert api.call("GET", f"/me/security-events?{query}", token=token).status_code == 400


def test_a_board_cursor_is_refused_here(api: Api) -> None:
    token = api.session("alice")["access_token"]
    for n in range(3):
        api.call("POST", "/messages", {"content": f"m{n}"}, token=token)
    board_cursor = body_of(api.call("GET", "/messages?limit=1", token=token))["next_cursor"]
    assert board_cursor
    response = api.call("GET", f"/me/security-events?cursor={board_cursor}", token=token)
    assert response.status_code == 400


def test_a_tampered_cursor_is_400(api: Api) -> None:
    token = api.session("alice")["access_token"]
    for _ in range(2):
        api.login("alice")
    cursor = body_of(api.call("GET", "/me/security-events?limit=1", token=token))["next_cursor"]
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    response = api.call("GET", f"/me/security-events?cursor={tampered}", token=token)
    assert response.status_code == 400


def test_without_a_token_it_is_401(api: Api) -> None:
    assert api.call("GET", "/me/security-events").status_code == 401


def test_each_owner_sees_only_their_own_events(api: Api) -> None:
    alice = api.session("alice")["access_token"]
    bob = api.session("bob")["access_token"]
    api.call("POST", "/login", {"username": "bob", "password": "wrong password here"})
    assert types(api, alice) == ["sign_in"]
    assert types(api, bob) == ["sign_in_failed", "sign_in"]


@pytest.mark.stores("sqlite", "dynamodb")
def test_current_marks_only_the_sign_in_that_started_the_callers_session(api: Api) -> None:
    """Two browsers with the same label and address: each sees its own sign-in as current."""
    assert api.signup("alice").status_code == 201
    signed_in = [api.call("POST", "/login", {"username": "alice", "password": PASSWORD},
                          headers={"User-Agent": CHROME}) for _ in range(2)]
    first, second = (str(body_of(response)["access_token"]) for response in signed_in)
    seen_by_first = events(api, first)
    seen_by_second = events(api, second)
    assert [event["current"] for event in seen_by_first] == [False, True]
    assert [event["current"] for event in seen_by_second] == [True, False]
    newer, older = seen_by_first
    assert (newer["device"], newer["ip"]) == (older["device"], older["ip"])  # identical browsers


@pytest.mark.stores("sqlite", "dynamodb")
def test_current_is_false_for_every_other_event_and_the_session_id_is_not_listed(
    api: Api,
) -> None:
    token = api.session("alice")["access_token"]
    api.call("POST", "/login", {"username": "alice", "password": "wrong password here"})
    listed = events(api, token)
    assert [(event["type"], event["current"]) for event in listed] == [
        ("sign_in_failed", False), ("sign_in", True)]
    assert "session_id" not in listed[1]["details"]  # kept to decide current, never shown


def test_events_older_than_the_account_never_show(
    api: Api, clock: list[float], direct_store: Store
) -> None:
    """Say a deletion raced a recording: the next account of the name starts empty."""
    security_events.record(deps.current_deps(), "alice", "password_changed")
    clock[0] += 1
    token = api.session("alice")["access_token"]
    assert types(api, token) == ["sign_in"]


def test_an_unknown_type_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown security event type"):
        security_events.record(None, "alice", "sign_in_maybe")  # type: ignore[arg-type]


# -- every event site -----------------------------------------------------------------------


def test_wrong_passwords_are_listed_until_the_lock_and_attempts_during_it_are_not(
    api: Api,
) -> None:
    token = api.session("alice")["access_token"]
    statuses = [api.call("POST", "/login", {"username": "alice", "password": f"wrong {n}"})
                .status_code for n in range(7)]
    assert statuses == [401] * 5 + [429] * 2
    listed = events(api, token, limit=100)
    assert [e["type"] for e in listed] == ["locked"] + ["sign_in_failed"] * 5 + ["sign_in"]
    assert listed[0]["details"] == {"retry_after": 900}
    assert all(e["details"] == {"reason": "password"} for e in listed[1:6])


def test_guesses_at_a_name_nobody_holds_leave_no_event(
    api: Api, direct_store: Store
) -> None:
    for n in range(6):
        api.call("POST", "/login", {"username": "ghost", "password": f"wrong {n}"})
    page = direct_store.list_security_events(username="ghost", limit=100, before_id=None,
                                             now=deps.current_deps().now())
    assert page.events == ()


def test_a_password_change_is_listed(api: Api) -> None:
    api.session("alice")
    token = fresh_token(api)
    body = {"current_password": PASSWORD, "new_password": "a brand new passphrase 42"}
    assert api.call("POST", "/me/password", body, token=token).status_code == 204
    response = api.login("alice", "a brand new passphrase 42")
    assert types(api, body_of(response)["access_token"]) == [
        "sign_in", "password_changed", "sign_in", "sign_in"
    ]


def test_a_wrong_current_password_that_locks_is_listed(api: Api) -> None:
    token = api.session("alice")["access_token"]
    body = {"current_password": "not the password", "new_password": "a brand new passphrase 42"}
    for _ in range(5):
        assert api.call("POST", "/me/password", body, token=token).status_code == 403
    assert types(api, token) == ["locked", "sign_in"]


def test_logout_and_signing_out_a_session_are_listed(api: Api) -> None:
    first = api.session("alice")["access_token"]
    second = body_of(api.login("alice"))
    third = fresh_token(api)
    assert api.call("POST", "/logout", {}, token=third).status_code == 204
    sessions = body_of(api.call("GET", "/me/sessions", token=first))["sessions"]
    other = next(s["id"] for s in sessions if not s["current"])
    assert api.call("DELETE", f"/me/sessions/{other}", token=first).status_code == 204
    assert second  # one of the two sign-ins above was ended
    assert types(api, first)[:2] == ["session_ended", "session_ended"]
    # A session id that is no session ends nothing and records nothing.
    assert api.call("DELETE", "/me/sessions/nope", token=first).status_code == 404
    assert types(api, first).count("session_ended") == 2


def test_a_signed_out_session_is_named_and_a_logout_says_it_was_itself(api: Api) -> None:
    first = api.session("alice")["access_token"]
    iphone = body_of(api.call("POST", "/login", {"username": "alice", "password": PASSWORD},
                              headers={"User-Agent": IPHONE}))
    third = fresh_token(api)
    assert api.call("POST", "/logout", {}, token=third).status_code == 204
    sessions = body_of(api.call("GET", "/me/sessions", token=first))["sessions"]
    (other,) = (s["id"] for s in sessions if not s["current"])
    assert api.call("DELETE", f"/me/sessions/{other}", token=first).status_code == 204
    assert iphone["access_token"]
    ended, logout = events(api, first)[:2]
    assert ended["type"] == logout["type"] == "session_ended"
    assert ended["details"] == {"self": False, "ended_device": "Mobile Safari 17 on iOS",
                                "ended_device_kind": "phone"}
    assert logout["details"] == {"self": True}


def test_two_factor_sign_ins_and_changes_are_listed(api: Api, clock: list[float]) -> None:
    pair = api.session("alice")
    secret, codes = enable(api, pair["access_token"], clock[0])
    clock[0] += 30
    assert submit(api, mfa_token(api), "000000" if code_at(secret, clock[0]) != "000000"
                  else "111111").status_code == 401
    assert submit(api, mfa_token(api), code_at(secret, clock[0])).status_code == 200
    token = body_of(submit(api, mfa_token(api), codes[0]))["access_token"]
    clock[0] += 30
    body = {"password": PASSWORD, "code": code_at(secret, clock[0])}
    assert api.call("DELETE", "/me/totp", body, token=token).status_code == 204
    listed = events(api, token)
    assert [e["type"] for e in listed] == [
        "totp_disabled", "sign_in", "recovery_code_used", "sign_in", "sign_in_failed",
        "totp_enabled", "sign_in",
    ]
    assert listed[1]["details"] == {"method": "recovery_code", "new_device": True}
    assert listed[2]["details"] == {"left": 9}
    assert listed[3]["details"] == {"method": "totp", "new_device": True}
    assert listed[4]["details"] == {"reason": "code"}


def test_passkeys_added_used_and_removed_are_listed(api: Api) -> None:
    token = api.session("alice")["access_token"]
    device = SoftAuthenticator()
    added = register_passkey(api, token, device, name="Laptop")
    assert added.status_code == 201, added.body
    assert passkey_sign_in(api, device).status_code == 200
    passkey_id = body_of(added)["id"]
    removed = api.call("DELETE", f"/me/passkeys/{passkey_id}", {"password": PASSWORD},
                       token=token)
    assert removed.status_code == 204, removed.body
    listed = events(api, token)
    assert [e["type"] for e in listed] == ["passkey_removed", "sign_in", "passkey_added",
                                           "sign_in"]
    # A passkey is an authenticator the owner registered: never "a device not seen before"
    assert listed[1]["details"] == {"method": "passkey", "new_device": False}


def test_a_failing_store_never_fails_the_action_and_is_counted(
    api: Api, direct_store: Store, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert api.signup("alice").status_code == 201

    def broken(event: object) -> None:
        raise RuntimeError("the store fell over")

    monkeypatch.setattr(type(direct_store), "add_security_event",
                        lambda self, event: broken(event))
    assert api.login("alice").status_code == 200
    assert api.call("POST", "/login", {"username": "alice", "password": "wrong one"}
                    ).status_code == 401
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()
             if line.startswith("{")]
    assert sum(1 for line in lines if line.get(security_events.ERROR_METRIC) == 1) == 2


# -- authentication log lines ----------------------------------------------------------------


def auth_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [line for line in (json.loads(text) for text in capsys.readouterr().out.splitlines()
                              if text.startswith("{"))
            if line.get("event") in ("auth", "authorizer")]


def test_each_authentication_decision_is_one_line_with_a_hashed_subject(
    api: Api, capsys: pytest.CaptureFixture[str],
) -> None:
    assert api.signup("alice").status_code == 201
    capsys.readouterr()
    pair = body_of(api.login("alice"))
    api.call("POST", "/login", {"username": "alice", "password": "wrong password"})
    api.call("GET", "/me", token=pair["access_token"])
    api.call("GET", "/me", headers={"Authorization": "Bearer a.b.c"})
    refreshed = body_of(api.call("POST", "/token/refresh",
                                 {"refresh_token": pair["refresh_token"]}))
    api.call("POST", "/token/refresh", {"refresh_token": pair["refresh_token"]})  # reuse
    lines = auth_lines(capsys)
    assert [(line["type"], line["outcome"]) for line in lines] == [
        ("login", "success"), ("login", "failure"), ("authorizer", "allow"),
        ("authorizer", "deny"), ("refresh", "success"), ("refresh", "failure"),
    ]
    subject = telemetry.caller_hash("alice")
    assert lines[0]["subject"] == subject and lines[0]["method"] == "password"
    assert lines[0]["session_id"] and lines[0]["request_id"]
    assert lines[1]["reason"] == "wrong password" and lines[1]["subject"] == subject
    assert lines[2]["caller"] == subject and lines[2]["session_id"] == lines[0]["session_id"]
    assert lines[4]["session_id"] == lines[0]["session_id"] and refreshed
    assert lines[5]["reason"] == "reused"
    assert all("alice" not in json.dumps(line) for line in lines)


def test_a_locked_login_logs_throttled(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    assert api.signup("alice").status_code == 201
    for n in range(6):
        api.call("POST", "/login", {"username": "alice", "password": f"wrong {n}"})
    outcomes = [line["outcome"] for line in auth_lines(capsys) if line["type"] == "login"]
    assert outcomes == ["failure"] * 5 + ["throttled"]


def test_no_password_code_token_or_secret_is_ever_logged(
    api: Api, clock: list[float], capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Drive every authentication route with known secret values; none is in any output."""
    caplog.set_level("DEBUG")
    wrong_password = "Wrong-Password-Sentinel-81"
    pair = api.session("alice")
    secrets = [PASSWORD, wrong_password, pair["access_token"], pair["refresh_token"]]
    api.call("POST", "/login", {"username": "alice", "password": wrong_password})
    started = body_of(api.call("POST", "/me/totp", {"password": PASSWORD},
                               token=pair["access_token"]))
    secret = started["secret"]
    code = code_at(secret, clock[0])
    confirmed = body_of(api.call("POST", "/me/totp/confirm", {"code": code},
                                 token=pair["access_token"]))
    codes = confirmed["recovery_codes"]
    clock[0] += 30
    token = mfa_token(api)
    wrong_code = "999999" if code_at(secret, clock[0]) != "999999" else "888888"
    submit(api, token, wrong_code)
    second = body_of(submit(api, mfa_token(api), codes[0]))
    next_code = code_at(secret, clock[0])
    third = body_of(submit(api, mfa_token(api), next_code))
    refreshed = body_of(api.call("POST", "/token/refresh",
                                 {"refresh_token": second["refresh_token"]}))
    api.call("GET", "/me", token=refreshed["access_token"])
    api.call("GET", "/me", headers={"Authorization": f"Bearer {third['access_token']}x"})
    api.call("POST", "/logout", {}, token=third["access_token"])
    secrets += [secret, code, wrong_code, codes[0], next_code, token,
                second["access_token"], second["refresh_token"], third["access_token"],
                third["refresh_token"], refreshed["access_token"], refreshed["refresh_token"]]
    output = capsys.readouterr()
    logged = output.out + output.err + "\n".join(
        record.getMessage() for record in caplog.records
    )
    assert '"event":"auth"' in logged  # the lines under test are there
    for value in secrets:
        assert value not in logged, "a secret reached the logs"
