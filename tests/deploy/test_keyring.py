"""`python -m ops keyring` against moto's SSM: create, rotate without logging anyone out, prune."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest

from chalicelib import signing_keys, tokens
from chalicelib.config import load_settings
from ops import keyring as keyring_script
from ops import render_infra
from ops.stage import load_config

PARAMETER = "/chalkboard/dev/signing-keys"
DEV_REFRESH_TTL = 604800  # .chalice/config.json, stage dev


def run(aws: Any, *argv: str) -> int:
    return keyring_script.main(list(argv), session=aws)


def stored(aws: Any, name: str = PARAMETER) -> dict[str, Any]:
    return aws.client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]


def settings_for(keyring_json: str) -> Any:
    return load_settings({
        "CHALKBOARD_STAGE": "dev",
        "CHALKBOARD_STORE": "dynamodb",
        "CHALKBOARD_USERS_TABLE": "u-table",
        "CHALKBOARD_MESSAGES_TABLE": "m-table",
        "CHALKBOARD_AUTH_TABLE": "a-table",
        "CHALKBOARD_USER_ITEMS_TABLE": "a-table",
        "CHALKBOARD_SIGNING_KEYS": keyring_json,
        "CHALKBOARD_WEB_ORIGIN": "https://d111111abcdef8.cloudfront.net",
    })


def test_create_stores_a_securestring_keyring_the_app_reads(aws: Any) -> None:
    assert run(aws, "create", "--stage", "dev") == 0
    parameter = stored(aws)
    assert parameter["Type"] == "SecureString"
    keyring = signing_keys.parse_keyring(parameter["Value"])
    assert list(keyring.keys) == [keyring.current]
    assert len(keyring.signing_key) >= signing_keys.MIN_KEY_BYTES
    assert keyring.rotated_at is not None
    # The app's own SSM reader (what a cold start does) accepts it.
    settings = load_settings({"CHALKBOARD_STAGE": "dev", "CHALKBOARD_WEB_ORIGIN": "https://a.example",
                              "CHALKBOARD_SIGNING_KEYS_PARAMETER": PARAMETER})
    assert signing_keys.load_keyring(settings) == keyring


def test_create_refuses_to_replace_a_keyring(aws: Any, capsys: pytest.CaptureFixture) -> None:
    assert run(aws, "create", "--stage", "dev") == 0
    before = stored(aws)["Value"]
    assert run(aws, "create", "--stage", "dev") == 1
    assert "already exists" in capsys.readouterr().err
    assert stored(aws)["Value"] == before


def test_two_creates_make_different_keys(aws: Any) -> None:
    assert run(aws, "create", "--stage", "dev") == 0
    assert run(aws, "create", "--stage", "dev", "--parameter", "/chalkboard/other") == 0
    first = signing_keys.parse_keyring(stored(aws)["Value"])
    second = signing_keys.parse_keyring(stored(aws, "/chalkboard/other")["Value"])
    assert first.signing_key != second.signing_key


def test_rotation_keeps_tokens_signed_by_the_old_key_valid(aws: Any) -> None:
    assert run(aws, "create", "--stage", "dev") == 0
    old_text = stored(aws)["Value"]
    old = signing_keys.parse_keyring(old_text)
    settings = settings_for(old_text)
    token, _ = tokens.issue_access_token(username="alice", session_id="s1",
                                         keyring=old, settings=settings,
                                         now=time.time())

    assert run(aws, "rotate", "--stage", "dev") == 0
    new = signing_keys.parse_keyring(stored(aws)["Value"])
    assert new.current != old.current
    assert new.keys[old.current] == old.signing_key
    assert stored(aws)["Type"] == "SecureString"
    # Signed before the rotation, verified after it: nobody is logged out.
    claims = tokens.verify_access_token(token, keyring=new, settings=settings_for(new.to_json()),
                                        now=time.time())
    assert claims.username == "alice"
    # New tokens are signed by the new key.
    fresh, _ = tokens.issue_access_token(username="bob", session_id="s1",
                                         keyring=new, settings=settings,
                                         now=time.time())
    assert tokens._unverified_kid(fresh) == new.current


def test_rotate_without_a_keyring_says_to_create_one(aws: Any, capsys: Any) -> None:
    assert run(aws, "rotate", "--stage", "dev") == 1
    assert "python -m ops keyring create" in capsys.readouterr().err


def test_prune_refuses_before_the_refresh_token_lifetime_has_passed(
    aws: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
) -> None:
    assert run(aws, "create", "--stage", "dev") == 0
    assert run(aws, "rotate", "--stage", "dev") == 0
    rotated = signing_keys.parse_keyring(stored(aws)["Value"])
    real_now = keyring_script._now()
    monkeypatch.setattr(keyring_script, "_now",
                        lambda: real_now + timedelta(seconds=DEV_REFRESH_TTL - 60))
    assert run(aws, "prune", "--stage", "dev") == 1
    assert "too early" in capsys.readouterr().err
    assert signing_keys.parse_keyring(stored(aws)["Value"]) == rotated


def test_prune_after_the_refresh_token_lifetime_keeps_only_the_current_key(
    aws: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert run(aws, "create", "--stage", "dev") == 0
    assert run(aws, "rotate", "--stage", "dev") == 0
    assert run(aws, "rotate", "--stage", "dev") == 0
    rotated = signing_keys.parse_keyring(stored(aws)["Value"])
    assert len(rotated.keys) == 3
    real_now = keyring_script._now()
    monkeypatch.setattr(keyring_script, "_now",
                        lambda: real_now + timedelta(seconds=DEV_REFRESH_TTL + 60))
    assert run(aws, "prune", "--stage", "dev") == 0
    pruned = signing_keys.parse_keyring(stored(aws)["Value"])
    assert dict(pruned.keys) == {rotated.current: rotated.signing_key}
    assert pruned.current == rotated.current


def test_prune_refuses_a_keyring_without_a_rotation_time(aws: Any, capsys: Any) -> None:
    keys = {"a": signing_keys.generate_key(), "b": signing_keys.generate_key()}
    aws.client("ssm").put_parameter(Name=PARAMETER, Type="SecureString",
                                    Value=json.dumps({"current": "b", "keys": keys}))
    assert run(aws, "prune", "--stage", "dev") == 1
    assert "rotated_at" in capsys.readouterr().err
    assert json.loads(stored(aws)["Value"])["keys"] == keys


def test_a_plain_string_parameter_is_refused(aws: Any, capsys: Any) -> None:
    aws.client("ssm").put_parameter(Name=PARAMETER, Type="String",
                                    Value=keyring_script.fresh_keyring(keyring_script._now())
                                    .to_json())
    assert run(aws, "rotate", "--stage", "dev") == 1
    assert "SecureString" in capsys.readouterr().err


def test_revoke_drops_a_leaked_key_at_once_and_its_tokens_stop_verifying(aws: Any) -> None:
    assert run(aws, "create", "--stage", "dev") == 0
    leaked_text = stored(aws)["Value"]
    leaked = signing_keys.parse_keyring(leaked_text)
    settings = settings_for(leaked_text)
    token, _ = tokens.issue_access_token(username="alice", session_id="s1",
                                         keyring=leaked, settings=settings,
                                         now=time.time())
    assert run(aws, "rotate", "--stage", "dev") == 0
    rotated = signing_keys.parse_keyring(stored(aws)["Value"])
    kept, _ = tokens.issue_access_token(username="bob", session_id="s1",
                                         keyring=rotated, settings=settings,
                                        now=time.time())

    # No waiting for the refresh-token lifetime, unlike prune.
    assert run(aws, "revoke", "--stage", "dev", leaked.current) == 0
    after = signing_keys.parse_keyring(stored(aws)["Value"])
    assert set(after.keys) == {rotated.current}
    assert after.current == rotated.current
    assert stored(aws)["Type"] == "SecureString"
    after_settings = settings_for(after.to_json())
    with pytest.raises(tokens.InvalidToken):
        tokens.verify_access_token(token, keyring=after, settings=after_settings, now=time.time())
    claims = tokens.verify_access_token(kept, keyring=after, settings=after_settings,
                                        now=time.time())
    assert claims.username == "bob"


@pytest.mark.parametrize("which", ["current", "unknown"])
def test_revoke_refuses_the_current_key_and_an_unknown_one(
    aws: Any, capsys: pytest.CaptureFixture, which: str,
) -> None:
    assert run(aws, "create", "--stage", "dev") == 0
    assert run(aws, "rotate", "--stage", "dev") == 0
    before = stored(aws)["Value"]
    kid = signing_keys.parse_keyring(before).current if which == "current" else "no-such-kid"
    capsys.readouterr()
    assert run(aws, "revoke", "--stage", "dev", kid) == 1
    assert ("rotate first" if which == "current" else "no key") in capsys.readouterr().err
    assert stored(aws)["Value"] == before


def test_show_names_keys_but_never_prints_key_material(aws: Any, capsys: Any) -> None:
    assert run(aws, "create", "--stage", "dev") == 0
    assert run(aws, "rotate", "--stage", "dev") == 0
    capsys.readouterr()
    assert run(aws, "show", "--stage", "dev") == 0
    out = capsys.readouterr().out
    keyring = json.loads(stored(aws)["Value"])
    for kid, key in keyring["keys"].items():
        assert kid in out
        assert key not in out
    assert f"current: {keyring['current']}" in out


def test_rotate_restarts_the_named_functions_so_they_load_the_new_keyring(aws: Any) -> None:
    iam = aws.client("iam")
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}],
    }))["Role"]["Arn"]
    lam = aws.client("lambda")
    for name in ("chalkboard-dev", "chalkboard-dev-jwt_auth"):
        lam.create_function(FunctionName=name, Runtime="python3.11", Role=role,
                            Handler="app.app", Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18})
    assert run(aws, "create", "--stage", "dev") == 0
    assert run(aws, "rotate", "--stage", "dev", "--recycle", "chalkboard-dev",
               "--recycle", "chalkboard-dev-jwt_auth") == 0
    rotated_at = signing_keys.parse_keyring(stored(aws)["Value"]).rotated_at
    for name in ("chalkboard-dev", "chalkboard-dev-jwt_auth"):
        description = lam.get_function_configuration(FunctionName=name)["Description"]
        assert description == f"chalkboard: signing keyring rotated {rotated_at}"


def test_generate_prints_a_keyring_the_app_accepts(capsys: pytest.CaptureFixture) -> None:
    assert keyring_script.main(["generate"]) == 0
    keyring = signing_keys.parse_keyring(capsys.readouterr().out)
    assert list(keyring.keys) == [keyring.current]


# -- the customer-managed KMS key ------------------------------------------------------

STAGE_KEY = "alias/chalkboard-dev-keyring"  # infra/render.py keyring_key_alias, made by the stack


def put_parameter_key_ids(aws: Any) -> list[str | None]:
    """The KeyId of every PutParameter this session makes from now on."""
    calls: list[str | None] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(params.get("KeyId"))

    aws.events.register("provide-client-params.ssm.PutParameter", record)
    return calls


def kms_key(aws: Any, alias: str) -> str:
    kms = aws.client("kms")
    key = kms.create_key(Description=alias)["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName=alias, TargetKeyId=key)
    return key


def parameter_key(aws: Any) -> str:
    (found,) = aws.client("ssm").describe_parameters(
        ParameterFilters=[{"Key": "Name", "Values": [PARAMETER]}])["Parameters"]
    return found["KeyId"]


def test_create_encrypts_with_the_stages_own_kms_key_not_aws_ssm(aws: Any) -> None:
    kms_key(aws, STAGE_KEY)
    calls = put_parameter_key_ids(aws)
    assert run(aws, "create", "--stage", "dev") == 0
    assert calls == [STAGE_KEY]
    assert parameter_key(aws) == STAGE_KEY
    assert render_infra.keyring_key_alias(load_config(), "dev") == STAGE_KEY


@pytest.mark.parametrize("command", ["rotate", "prune", "revoke"])
def test_every_rewrite_names_the_parameters_current_key(
    aws: Any, monkeypatch: pytest.MonkeyPatch, command: str,
) -> None:
    """SSM moves an overwrite without KeyId back to aws/ssm: every write must name one."""
    other = kms_key(aws, "alias/chosen-at-create")
    assert run(aws, "create", "--stage", "dev", "--kms-key-id", other) == 0
    assert run(aws, "rotate", "--stage", "dev") == 0
    calls = put_parameter_key_ids(aws)
    keyring = signing_keys.parse_keyring(stored(aws)["Value"])
    real_now = keyring_script._now()
    monkeypatch.setattr(keyring_script, "_now",
                        lambda: real_now + timedelta(seconds=DEV_REFRESH_TTL + 60))
    extra = {"rotate": [], "prune": [],
             "revoke": [sorted(set(keyring.keys) - {keyring.current})[0]]}
    assert run(aws, command, "--stage", "dev", *extra[command]) == 0
    assert calls == [other]
    assert parameter_key(aws) == other


def test_the_mfa_key_survives_rotation_prune_and_revoke(
    aws: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two-factor secrets stay readable whatever happens to the signing keys."""
    assert run(aws, "create", "--stage", "dev") == 0
    created = signing_keys.parse_keyring(stored(aws)["Value"])
    assert created.mfa_key is not None and len(created.mfa_key) >= signing_keys.MIN_KEY_BYTES
    assert run(aws, "rotate", "--stage", "dev") == 0
    assert run(aws, "rotate", "--stage", "dev") == 0
    assert run(aws, "revoke", "--stage", "dev", created.current) == 0
    real_now = keyring_script._now()
    monkeypatch.setattr(keyring_script, "_now",
                        lambda: real_now + timedelta(seconds=DEV_REFRESH_TTL + 60))
    assert run(aws, "prune", "--stage", "dev") == 0
    assert signing_keys.parse_keyring(stored(aws)["Value"]).mfa_key == created.mfa_key


def test_rotation_gives_a_keyring_from_before_two_factor_an_mfa_key(aws: Any) -> None:
    keys = {"a": signing_keys.generate_key()}
    aws.client("ssm").put_parameter(Name=PARAMETER, Type="SecureString",
                                    Value=json.dumps({"current": "a", "keys": keys}))
    assert run(aws, "rotate", "--stage", "dev") == 0
    assert signing_keys.parse_keyring(stored(aws)["Value"]).mfa_key is not None
