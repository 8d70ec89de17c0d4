"""Key rotation reaches warm containers: an unknown kid reloads the SSM keyring, rarely;
a failing SSM keeps the loaded keyring; a removed key stops working within 5 minutes.

SSM has no local server, so moto stands in for it; the store is real (SQLite).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib import deps, sessions, signing_keys
from chalicelib.config import get_settings
from chalicelib.deps import current_deps, get_store
from chalicelib.signing_keys import Keyring, new_keyring, parse_keyring
from chalicelib.store.model import Session, User
from chalicelib.tokens import UnknownKey, issue_access_token
from tests.helpers import DUMMY_AWS

PARAMETER = "/chalkboard/test/signing-keys"


@pytest.fixture
def ssm_keyring(app_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    for name, value in DUMMY_AWS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CHALKBOARD_SIGNING_KEYS")
    monkeypatch.setenv("CHALKBOARD_SIGNING_KEYS_PARAMETER", PARAMETER)
    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-east-1")
        ssm.put_parameter(Name=PARAMETER, Type="SecureString", Value=new_keyring().to_json())
        deps.reset()
        now = time.time()
        get_store().create_user(
            User(username="alice", password_hash="x", created_at=now, credential_stamp="st")
        )
        get_store().start_session(Session(
            username="alice", sid="s1", credential_stamp="st", created_at=now, last_used_at=now,
            expires_at=int(now) + 600,
        ))
        yield ssm
        deps.reset()


def rotate(ssm) -> Keyring:
    """What `python -m ops keyring rotate` does: add a key and make it current."""
    old = parse_keyring(ssm.get_parameter(Name=PARAMETER, WithDecryption=True)
                        ["Parameter"]["Value"])
    fresh = new_keyring()
    rotated = Keyring(current=fresh.current, keys={**old.keys, **fresh.keys})
    ssm.put_parameter(Name=PARAMETER, Type="SecureString", Value=rotated.to_json(),
                      Overwrite=True)
    return rotated


def token_signed_by(keyring: Keyring) -> str:
    token, _ = issue_access_token(username="alice", session_id="s1",
                                  keyring=keyring, settings=get_settings(),
                                  now=time.time())
    return token


@pytest.mark.stores("sqlite")
def test_warm_process_accepts_a_token_signed_after_rotation(ssm_keyring) -> None:
    old_token = token_signed_by(signing_keys.get_keyring(time.time()))  # warms the cache
    rotated = rotate(ssm_keyring)
    assert sessions.authenticate(current_deps(), token_signed_by(rotated)).username == "alice"
    # the old key still verifies:
    assert sessions.authenticate(current_deps(), old_token).username == "alice"


@pytest.mark.stores("sqlite")
def test_unknown_kids_reload_the_keyring_at_most_once_a_minute(ssm_keyring) -> None:
    signing_keys.get_keyring(time.time())
    forged = token_signed_by(new_keyring())
    with pytest.raises(UnknownKey):
        sessions.authenticate(current_deps(), forged)  # reloads once, still unknown
    rotated = rotate(ssm_keyring)
    with pytest.raises(UnknownKey):
        # Within the minute: no second reload, so the new key is not known yet here.
        sessions.authenticate(current_deps(), token_signed_by(rotated))
    assert signing_keys.reload_keyring(time.time() + 61)
    assert sessions.authenticate(current_deps(), token_signed_by(rotated)).username == "alice"


@pytest.mark.stores("sqlite")
def test_inline_keyring_is_never_reloaded(app_env: dict[str, str]) -> None:
    assert not signing_keys.reload_keyring(time.time() + 3600)


@pytest.mark.stores("sqlite")
def test_warm_process_reads_a_cursor_signed_after_rotation(ssm_keyring) -> None:
    from chalicelib import board
    from chalicelib.cursors import sign_cursor

    signing_keys.get_keyring(time.time())
    board.add_message(current_deps(), username="alice", session_id="s1", content="one")
    rotated = rotate(ssm_keyring)
    cursor = sign_cursor("01ARZ3NDEKTSV4RRFFQ69G5FAV", rotated)
    page = board.list_messages(current_deps(), limit="5", cursor=cursor)
    assert (page.messages, page.next_cursor) == ((), None)


@pytest.mark.stores("sqlite")
def test_a_cursor_signed_by_a_newer_key_reloads_the_keyring_once(
    ssm_keyring, fetches: list[str]
) -> None:
    from chalicelib import board
    from chalicelib.cursors import sign_cursor

    signing_keys.get_keyring(time.time())
    cursor = sign_cursor("01ARZ3NDEKTSV4RRFFQ69G5FAV", rotate(ssm_keyring))
    for _ in range(2):
        page = board.list_messages(current_deps(), limit="5", cursor=cursor)
        assert (page.messages, page.next_cursor) == ((), None)
    assert fetches == ["ok", "ok"]


@pytest.mark.stores("sqlite")
def test_a_tampered_or_old_format_cursor_is_400_without_a_keyring_reload(
    ssm_keyring, fetches: list[str]
) -> None:
    from chalicelib import board
    from chalicelib.cursors import sign_cursor
    from chalicelib.errors import InvalidInput

    cursor = sign_cursor("01ARZ3NDEKTSV4RRFFQ69G5FAV", signing_keys.get_keyring(time.time()))
    kid, _, body = cursor.partition(".")
    tampered = f"{kid}.{body[:-2]}{'AA' if body[-2:] != 'AA' else 'BB'}"
    for bad in (tampered, body):  # body alone: a cursor from before kids were added
        with pytest.raises(InvalidInput):
            board.list_messages(current_deps(), limit="5", cursor=bad)
    assert fetches == ["ok"]


@pytest.fixture
def fetches(ssm_keyring, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every SSM fetch of the keyring, as "ok" or "failed"."""
    seen: list[str] = []
    real = signing_keys._ssm_keyring

    def counted(parameter: str) -> Keyring:
        try:
            keyring = real(parameter)
        except Exception:
            seen.append("failed")
            raise
        seen.append("ok")
        return keyring

    monkeypatch.setattr(signing_keys, "_ssm_keyring", counted)
    return seen


def ssm_fails(ssm) -> str:
    """Make SSM answer errors (the parameter is gone); returns what it held."""
    value = ssm.get_parameter(Name=PARAMETER, WithDecryption=True)["Parameter"]["Value"]
    ssm.delete_parameter(Name=PARAMETER)
    return value


def ssm_recovers(ssm, value: str) -> None:
    ssm.put_parameter(Name=PARAMETER, Type="SecureString", Value=value, Overwrite=True)


@pytest.mark.stores("sqlite")
def test_failed_reload_keeps_the_keyring_and_retries_at_most_once_a_minute(
    ssm_keyring, fetches: list[str]
) -> None:
    start = time.time()
    loaded = signing_keys.get_keyring(now=start)
    held = ssm_fails(ssm_keyring)
    stale = start + signing_keys.KEYRING_MAX_AGE_SECONDS + 1
    for second in range(0, 60, 5):  # a request every 5 s for a minute: one fetch
        assert signing_keys.get_keyring(now=stale + second) is loaded
    assert fetches == ["ok", "failed"]
    assert signing_keys.get_keyring(now=stale + 61) is loaded
    assert fetches == ["ok", "failed", "failed"]
    rotated = Keyring(current="k-next", keys={**loaded.keys,
                                               "k-next": new_keyring().signing_key})
    ssm_recovers(ssm_keyring, rotated.to_json())
    assert signing_keys.get_keyring(now=stale + 122) == rotated
    assert fetches == ["ok", "failed", "failed", "ok"]
    assert held


@pytest.mark.stores("sqlite")
def test_key_removed_from_ssm_stops_verifying_within_five_minutes(ssm_keyring) -> None:
    from chalicelib.tokens import verify_access_token

    start = time.time()
    leaked = signing_keys.get_keyring(now=start)
    token = token_signed_by(leaked)
    replacement = new_keyring()
    ssm_recovers(ssm_keyring, replacement.to_json())  # the leaked key is dropped
    settings = get_settings()
    # not yet refetched:
    assert verify_access_token(token, keyring=signing_keys.get_keyring(now=start + 60),
                               settings=settings, now=start + 60).username == "alice"
    after = signing_keys.get_keyring(now=start + signing_keys.KEYRING_MAX_AGE_SECONDS)
    assert after == replacement
    with pytest.raises(UnknownKey):
        verify_access_token(token, keyring=after, settings=settings, now=time.time())


@pytest.mark.stores("sqlite")
def test_no_keyring_at_all_is_503_with_retry_after_and_ssm_is_not_hammered(
    ssm_keyring, fetches: list[str], api: Any
) -> None:
    token = token_signed_by(new_keyring())
    assert api.signup("bob", "correct horse battery staple").status_code == 201
    signing_keys.reset()
    ssm_fails(ssm_keyring)
    for _ in range(3):
        for response in (
            api.login("bob", "correct horse battery staple"),
            api.call("GET", "/messages", token=token),  # the authorizer
        ):
            assert response.status_code == 503, response.body
            assert 1 <= int(response.headers["Retry-After"]) <= 60
            assert json.loads(response.body)["Code"] == "ServiceUnavailable"
    assert fetches == ["failed"]
