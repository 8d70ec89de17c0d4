"""Request logs, authorizer decisions and EMF metric lines, through chalice.test.Client."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib import telemetry
from tests.helpers import Api, body_of

# Above the store: the store contract proves both adapters (docs/testing.md).
pytestmark = pytest.mark.stores("sqlite")

PASSWORD = "correct horse battery staple"


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def requests(logged: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in logged if line.get("event") == "request"]


def metrics(logged: list[dict[str, Any]]) -> list[str]:
    names = []
    for line in logged:
        if "_aws" in line:
            (directive,) = line["_aws"]["CloudWatchMetrics"]
            (definition,) = directive["Metrics"]
            assert directive["Namespace"] == "chalkboard"
            assert directive["Dimensions"] == [["Stage"]]
            assert line[definition["Name"]] == 1 and line["Stage"] == "test"
            names.append(definition["Name"])
    return names


def test_each_request_logs_one_json_line_with_route_status_and_latency(
    api: Api, capsys: pytest.CaptureFixture[str],
) -> None:
    api.signup("alice")
    (line,) = requests(lines(capsys))
    assert line["route"] == "/signup" and line["method"] == "POST" and line["status"] == 201
    assert isinstance(line["latency_ms"], float)
    assert line["request_id"]
    assert "error" not in line


def test_a_failed_request_names_its_domain_error(api: Api, capsys: pytest.CaptureFixture[str]
                                                  ) -> None:
    api.signup("alice")
    api.login("alice", "not the right password")
    (_, line) = requests(lines(capsys))
    assert (line["status"], line["error"]) == (401, "InvalidCredentials")


def test_the_caller_is_a_salted_hash_and_no_secret_is_ever_logged(
    api: Api, capsys: pytest.CaptureFixture[str],
) -> None:
    pair = api.session("alice")
    api.call("GET", "/me", token=pair["access_token"])
    api.call("POST", "/token/refresh", {"refresh_token": pair["refresh_token"]})
    text = capsys.readouterr().out
    logged = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    me = next(line for line in requests(logged) if line["route"] == "/me")
    assert me["caller"] == telemetry.caller_hash("alice")
    assert "alice" not in me["caller"]
    for secret in (PASSWORD, pair["access_token"], pair["refresh_token"], "argon2"):
        assert secret not in text


def test_the_authorizer_logs_each_decision(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    pair = api.session("alice")
    api.call("GET", "/me", token=pair["access_token"])
    api.call("GET", "/me", headers={"Authorization": "Bearer a.b.c"})
    decisions = [line for line in lines(capsys) if line.get("event") == "authorizer"]
    assert [d["decision"] for d in decisions] == ["allow", "deny"]
    assert decisions[0]["caller"] == telemetry.caller_hash("alice")
    assert "a.b.c" not in json.dumps(decisions)


def test_business_outcomes_are_counted_as_emf_metrics(
    api: Api, capsys: pytest.CaptureFixture[str],
) -> None:
    pair = api.session("alice")
    api.login("alice", "not the right password")
    api.call("POST", "/messages", {"content": "hello"}, token=pair["access_token"])
    assert metrics(lines(capsys)) == ["Signups", "LoginSucceeded", "LoginFailed", "Posts"]


def test_a_reused_refresh_token_is_counted(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    pair = api.session("alice")
    first = api.call("POST", "/token/refresh", {"refresh_token": pair["refresh_token"]})
    again = api.call("POST", "/token/refresh", {"refresh_token": pair["refresh_token"]})
    assert (first.status_code, again.status_code) == (200, 401)
    assert body_of(again)["Code"] == "UnauthorizedError"
    assert metrics(lines(capsys)).count("RefreshTokenReuse") == 1


def test_every_metric_the_app_emits_is_known_to_the_templates() -> None:
    assert set(telemetry.ROUTE_METRICS.values()) | {"RefreshTokenReuse", "AuthorizerErrors"} == \
        set(telemetry.METRICS)


def test_the_caller_hash_is_an_hmac_under_a_key_derived_from_the_keyring(
    api: Api, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Not a salt in committed config: without the keyring no one can test a guessed name."""
    import hashlib
    import hmac

    from chalicelib.deps import current_deps

    api.session("alice")
    keyring = current_deps().keyring
    assert keyring.mfa_key
    key = hmac.new(keyring.mfa_key, telemetry.LOG_KEY_LABEL, hashlib.sha256).digest()
    expected = hmac.new(key, b"alice", hashlib.sha256).hexdigest()[:16]
    assert telemetry.caller_hash("alice") == expected
    monkeypatch.setenv("CHALKBOARD_LOG_SALT", "a committed salt changes nothing")
    assert telemetry.caller_hash("alice") == expected
    assert telemetry.caller_hash("bob") != expected


def test_no_stage_configures_a_log_salt() -> None:
    from ops.stage import CONFIG

    assert "LOG_SALT" not in CONFIG.read_text()
    assert not hasattr(telemetry, "SALT_VARIABLE")


def test_chalicelib_logs_at_info_whatever_the_root_logger_says() -> None:
    import logging

    assert logging.getLogger("chalicelib.sessions").getEffectiveLevel() == logging.INFO
