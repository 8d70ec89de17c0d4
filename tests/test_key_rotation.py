"""Key rotation reaches warm containers: an unknown kid reloads the SSM keyring, rarely.

SSM has no local server, so moto stands in for it; the store is real (SQLite).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from chalicelib import deps, sessions, signing_keys
from chalicelib.config import get_settings
from chalicelib.deps import current_deps
from chalicelib.signing_keys import Keyring, new_keyring, parse_keyring
from chalicelib.store import User, get_store
from chalicelib.tokens import UnknownKey, issue_access_token
from tests.helpers import DUMMY_AWS

PARAMETER = "/chalkboard/test/signing-keys"


@pytest.fixture
def ssm_keyring(app_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    for name, value in DUMMY_AWS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CHALKBOARD_SIGNING_KEYS")
    monkeypatch.setenv("CHALKBOARD_SIGNING_KEYS_PARAMETER", PARAMETER)
    monkeypatch.setattr(signing_keys, "_last_reload", 0.0)
    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-east-1")
        ssm.put_parameter(Name=PARAMETER, Type="SecureString", Value=new_keyring().to_json())
        deps.reset()
        get_store().create_user(User(username="alice", password_hash="x", created_at=time.time()))
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
    token, _ = issue_access_token(username="alice", keyring=keyring, settings=get_settings(),
                                  now=time.time())
    return token


@pytest.mark.parametrize("store_kind", ["sqlite"])
def test_warm_process_accepts_a_token_signed_after_rotation(ssm_keyring) -> None:
    old_token = token_signed_by(signing_keys.get_keyring())  # warms the cache
    rotated = rotate(ssm_keyring)
    assert sessions.authenticate(current_deps(), token_signed_by(rotated)).username == "alice"
    # the old key still verifies:
    assert sessions.authenticate(current_deps(), old_token).username == "alice"


@pytest.mark.parametrize("store_kind", ["sqlite"])
def test_unknown_kids_reload_the_keyring_at_most_once_a_minute(ssm_keyring) -> None:
    signing_keys.get_keyring()
    forged = token_signed_by(new_keyring())
    with pytest.raises(UnknownKey):
        sessions.authenticate(current_deps(), forged)  # reloads once, still unknown
    rotated = rotate(ssm_keyring)
    with pytest.raises(UnknownKey):
        # Within the minute: no second reload, so the new key is not known yet here.
        sessions.authenticate(current_deps(), token_signed_by(rotated))
    assert signing_keys.reload_keyring(time.time() + 61)
    assert sessions.authenticate(current_deps(), token_signed_by(rotated)).username == "alice"


@pytest.mark.parametrize("store_kind", ["sqlite"])
def test_inline_keyring_is_never_reloaded(app_env: dict[str, str]) -> None:
    assert not signing_keys.reload_keyring(time.time() + 3600)


@pytest.mark.parametrize("store_kind", ["sqlite"])
def test_warm_process_reads_a_cursor_signed_after_rotation(ssm_keyring) -> None:
    from chalicelib import board
    from chalicelib.tokens import sign_cursor

    signing_keys.get_keyring()
    board.post_message(current_deps(), username="alice", content="one")
    rotated = rotate(ssm_keyring)
    cursor = sign_cursor("01ARZ3NDEKTSV4RRFFQ69G5FAV", rotated)
    assert board.list_messages(current_deps(), limit="5", cursor=cursor) == ([], None)
