"""Settings: validated once, errors name the variable to fix (chalicelib/config.py)."""

from __future__ import annotations

import json
import stat

import pytest

from chalicelib.config import load_settings
from chalicelib.errors import ConfigurationError
from chalicelib.signing_keys import generate_key, load_keyring, parse_keyring

BASE = {"CHALKBOARD_WEB_ORIGIN": "https://app.example", "CHALKBOARD_STAGE": "dev",
        "CHALKBOARD_SIGNING_KEYS_PARAMETER": "/chalkboard/dev/signing-keys"}


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"CHALKBOARD_WEB_ORIGIN": ""}, "CHALKBOARD_WEB_ORIGIN"),
        ({"CHALKBOARD_WEB_ORIGIN": "*"}, "CHALKBOARD_WEB_ORIGIN"),
        ({"CHALKBOARD_WEB_ORIGIN": "https://a.example/path"}, "CHALKBOARD_WEB_ORIGIN"),
        ({"CHALKBOARD_SIGNING_KEYS_PARAMETER": ""}, "CHALKBOARD_SIGNING_KEYS_PARAMETER"),
        ({"CHALKBOARD_STORE": "postgres"}, "CHALKBOARD_STORE"),
        ({"CHALKBOARD_STORE": "dynamodb"}, "CHALKBOARD_USERS_TABLE"),
        ({"CHALKBOARD_ACCESS_TOKEN_TTL": "soon"}, "CHALKBOARD_ACCESS_TOKEN_TTL"),
        ({"CHALKBOARD_ACCESS_TOKEN_TTL": "0"}, "CHALKBOARD_ACCESS_TOKEN_TTL"),
        ({"CHALKBOARD_REFRESH_TOKEN_TTL": "600", "CHALKBOARD_ACCESS_TOKEN_TTL": "900"},
         "CHALKBOARD_REFRESH_TOKEN_TTL"),
        ({"CHALKBOARD_ARGON2_MEMORY_KIB": "1024"}, "CHALKBOARD_ARGON2_MEMORY_KIB"),
        ({"CHALKBOARD_ARGON2_TIME_COST": "1"}, "CHALKBOARD_ARGON2_TIME_COST"),
        ({"CHALKBOARD_WEBAUTHN_RP_ID": "other.example"}, "CHALKBOARD_WEBAUTHN_RP_ID"),
        ({"CHALKBOARD_WEBAUTHN_RP_ID": "pp.example"}, "CHALKBOARD_WEBAUTHN_RP_ID"),
        ({"CHALKBOARD_PWNED_PASSWORDS_URL": "file:///etc/passwd"},
         "CHALKBOARD_PWNED_PASSWORDS_URL"),
        ({"CHALKBOARD_PWNED_PASSWORDS_URL": "api.pwnedpasswords.com"},
         "CHALKBOARD_PWNED_PASSWORDS_URL"),
        ({"CHALKBOARD_PWNED_PASSWORDS_URL": "https://h.example/?q=1"},
         "CHALKBOARD_PWNED_PASSWORDS_URL"),
    ],
)
def test_bad_setting_names_the_variable(change: dict, variable: str) -> None:
    with pytest.raises(ConfigurationError, match=variable):
        load_settings({**BASE, **change})


@pytest.mark.parametrize(
    ("origin", "rp_id", "expected"),
    [
        ("http://localhost:8080", None, "localhost"),
        ("https://Board.Example.com", None, "board.example.com"),
        ("https://board.example.com", "example.com", "example.com"),
        ("https://board.example.com", "board.example.com", "board.example.com"),
    ],
)
def test_passkey_rp_id_is_the_web_origins_host_or_a_domain_it_is_under(
    origin: str, rp_id: str | None, expected: str
) -> None:
    env = {**BASE, "CHALKBOARD_WEB_ORIGIN": origin}
    if rp_id is not None:
        env["CHALKBOARD_WEBAUTHN_RP_ID"] = rp_id
    assert load_settings(env).webauthn_rp_id == expected


def test_cheap_hashing_is_allowed_only_in_the_test_stage() -> None:
    cheap = {"CHALKBOARD_ARGON2_MEMORY_KIB": "1024", "CHALKBOARD_ARGON2_TIME_COST": "1"}
    settings = load_settings({**BASE, **cheap, "CHALKBOARD_STAGE": "test"})
    assert (settings.argon2_memory_kib, settings.argon2_time_cost) == (1024, 1)
    with pytest.raises(ConfigurationError):
        load_settings({**BASE, **cheap, "CHALKBOARD_STAGE": "local"})


def test_defaults_are_the_documented_ones() -> None:
    settings = load_settings(BASE)
    assert settings.store == "sqlite"
    assert (settings.access_token_ttl, settings.refresh_token_ttl,
            settings.session_max_seconds) == (900, 604_800, 2_592_000)
    assert (settings.argon2_memory_kib, settings.argon2_time_cost,
            settings.argon2_parallelism) == (19_456, 2, 1)
    assert (settings.login_max_failures, settings.login_window_seconds) == (5, 900)
    assert settings.pwned_passwords_url is None  # the breach check is off unless set


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", None),
        ("https://api.pwnedpasswords.com", "https://api.pwnedpasswords.com"),
        ("https://api.pwnedpasswords.com/", "https://api.pwnedpasswords.com"),
        ("http://127.0.0.1:8123/hibp", "http://127.0.0.1:8123/hibp"),
    ],
)
def test_the_pwned_passwords_url_is_an_http_base_url_or_off(
    value: str, expected: str | None
) -> None:
    settings = load_settings({**BASE, "CHALKBOARD_PWNED_PASSWORDS_URL": value})
    assert settings.pwned_passwords_url == expected


@pytest.mark.parametrize(
    "key",
    ["c2hvcnQ", "A" * 43, "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh", "not base64!"],
)
def test_weak_or_malformed_signing_key_is_refused(key: str) -> None:
    document = json.dumps({"current": "k", "keys": {"k": key}})
    with pytest.raises(ConfigurationError, match="CHALKBOARD_SIGNING_KEYS"):
        parse_keyring(document, source="CHALKBOARD_SIGNING_KEYS")


@pytest.mark.parametrize(
    "document",
    ["not json", "[]", '{"keys": {}}', json.dumps({"current": "x", "keys": {"k": "A"}}),
     json.dumps({"current": "../k", "keys": {"../k": generate_key()}})],
)
def test_malformed_keyring_is_refused(document: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_keyring(document)


def test_local_stage_generates_its_keyring_once_and_privately(tmp_path) -> None:
    settings = load_settings({"CHALKBOARD_WEB_ORIGIN": "http://localhost:8080",
                              "CHALKBOARD_STAGE": "local", "CHALKBOARD_DATA_DIR": str(tmp_path)})
    first = load_keyring(settings)
    second = load_keyring(settings)
    assert first == second and len(first.signing_key) == 32
    assert stat.S_IMODE((tmp_path / "signing-keys.json").stat().st_mode) == 0o600


def test_deployed_stage_without_a_keyring_refuses_to_start() -> None:
    env = {"CHALKBOARD_WEB_ORIGIN": "https://app.example", "CHALKBOARD_STAGE": "prod"}
    with pytest.raises(ConfigurationError, match="CHALKBOARD_SIGNING_KEYS_PARAMETER"):
        load_settings(env)
