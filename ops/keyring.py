"""Create, rotate, prune and revoke a stage's signing keyring in SSM Parameter Store.

The keyring is one SecureString parameter (its name is the stage's
CHALKBOARD_SIGNING_KEYS_PARAMETER in .chalice/config.json) holding
``{"current": "<kid>", "keys": {"<kid>": "<base64url key>"}, "rotated_at": "..."}``.
Tokens name the key that signed them, so rotation never logs anyone out:

    python -m ops keyring create --stage dev        # once, before the first deploy
    python -m ops keyring rotate --stage dev        # new key signs; old keys still verify
    python -m ops keyring prune  --stage dev        # drop old keys, once it is safe
    python -m ops keyring revoke --stage dev KID    # drop one leaked key now (see below)
    python -m ops keyring show   --stage dev        # key ids and dates, never key material
    python -m ops keyring generate                  # a keyring JSON on stdout (tests, local)

``prune`` refuses until the last rotation is older than the stage's
refresh-token lifetime: by then every token signed by an old key has expired
and every Lambda container that cached the old keyring has long been replaced.
Warm Lambda containers reload the keyring when they meet a key id they lack
(at most once a minute); ``rotate --recycle FUNCTION`` additionally makes Lambda
replace them at once (see docs/deploy.md, "Rotate the signing keys").

``revoke`` is the emergency path for a leaked key: it drops that one key at
once, without waiting, so every token it signed stops verifying (its holders
sign in again). It refuses the current key: rotate first, so another key signs,
then revoke the leaked one; add ``--recycle`` so no warm container keeps it.

The SecureString is encrypted with the stage's customer-managed KMS key
(``alias/chalkboard-<stage>-keyring``, made by the stack), never the account's
``aws/ssm`` key, which every principal allowed ``ssm:GetParameter`` could use.
SSM re-encrypts an overwrite without ``KeyId`` under ``aws/ssm``, so every write
names a key: ``--kms-key-id``, else the parameter's current key, else the stage's.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.config import DEFAULT_REFRESH_TOKEN_TTL
from chalicelib.errors import ConfigurationError
from chalicelib.signing_keys import Keyring, new_keyring, new_mfa_key, parse_keyring
from ops.infra.tables_iam import keyring_key_alias
from ops.stage import StageError, load_config, stage_environment

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class KeyringError(Exception):
    """A refusal the operator can act on (printed without a traceback)."""


def _now() -> datetime:
    return datetime.now(UTC)


def _timestamp(moment: datetime) -> str:
    return moment.strftime(TIME_FORMAT)


def _new_key() -> tuple[str, bytes]:
    """A fresh key id and key, made by the app's own generator (new_kid, generate_key)."""
    keyring = new_keyring()
    return keyring.current, keyring.signing_key


def fresh_keyring(now: datetime) -> Keyring:
    kid, key = _new_key()
    return Keyring(current=kid, keys={kid: key}, rotated_at=_timestamp(now),
                   mfa_key=new_mfa_key())


def rotated(keyring: Keyring, now: datetime) -> Keyring:
    """A new key becomes current; every old key stays, so its tokens still verify.

    The two-factor encryption key is kept (or added, to a keyring made before it existed).
    """
    kid, key = _new_key()
    while kid in keyring.keys:  # same second and same random suffix: vanishingly rare
        kid, key = _new_key()
    return Keyring(current=kid, keys={**keyring.keys, kid: key}, rotated_at=_timestamp(now),
                   mfa_key=keyring.mfa_key or new_mfa_key())


def pruned(keyring: Keyring, now: datetime, wait: timedelta) -> Keyring:
    """Only the current key, once the last rotation is older than ``wait``."""
    if len(keyring.keys) == 1:
        raise KeyringError("nothing to prune: the keyring holds only the current key")
    if keyring.rotated_at is None:
        raise KeyringError(
            'the keyring has no "rotated_at", so it is unknown whether tokens signed by the '
            "old keys have expired; rotate first, then prune after the refresh-token lifetime"
        )
    try:
        rotated_at = datetime.strptime(keyring.rotated_at, TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise KeyringError(f"rotated_at {keyring.rotated_at!r} is not {TIME_FORMAT}") from None
    safe_from = rotated_at + wait
    if now < safe_from:
        raise KeyringError(
            f"too early: the last rotation was at {keyring.rotated_at}; tokens and Lambda "
            f"containers from before it may still use an old key until {_timestamp(safe_from)} "
            f"(the refresh-token lifetime, {int(wait.total_seconds())} s, later)"
        )
    return Keyring(current=keyring.current, keys={keyring.current: keyring.signing_key},
                   rotated_at=keyring.rotated_at, mfa_key=keyring.mfa_key)


def revoked(keyring: Keyring, kid: str) -> Keyring:
    """The keyring without ``kid``, at once: tokens it signed stop verifying."""
    if kid not in keyring.keys:
        raise KeyringError(f"no key {kid!r} in the keyring (see `show`)")
    if kid == keyring.current:
        raise KeyringError(
            f"{kid} is the current key: rotate first so another key signs, then revoke it"
        )
    return Keyring(current=keyring.current,
                   keys={k: key for k, key in keyring.keys.items() if k != kid},
                   rotated_at=keyring.rotated_at, mfa_key=keyring.mfa_key)


# -- SSM ---------------------------------------------------------------------------


def current_kms_key(ssm: Any, parameter: str) -> str | None:
    """The KMS key the parameter is encrypted with now (None if there is no parameter)."""
    answer = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [parameter]}])
    for found in answer.get("Parameters", []):
        if found["Name"] == parameter:
            key: str | None = found.get("KeyId")
            return key
    return None


def kms_key_for(ssm: Any, parameter: str, stage: str, chosen: str | None) -> str:
    """The key a write names: the one chosen, else the parameter's own, else the stage's."""
    stage_key = keyring_key_alias(load_config(), stage)
    key = chosen or current_kms_key(ssm, parameter) or stage_key
    if key in {"alias/aws/ssm", "aws/ssm"}:
        print(f"warning: {parameter} is encrypted with the account's aws/ssm key; move it with "
              f"--kms-key-id {stage_key}", file=sys.stderr)
    return key


def read_keyring(ssm: Any, parameter: str) -> Keyring:
    try:
        answer = ssm.get_parameter(Name=parameter, WithDecryption=True)
    except ssm.exceptions.ParameterNotFound:
        raise KeyringError(
            f"no parameter {parameter}: create it with `python -m ops keyring create`"
        ) from None
    if answer["Parameter"]["Type"] != "SecureString":
        raise KeyringError(f"{parameter} must be a SecureString, not {answer['Parameter']['Type']}")
    return parse_keyring(answer["Parameter"]["Value"], source=f"SSM parameter {parameter}")


def write_keyring(ssm: Any, parameter: str, keyring: Keyring, *, overwrite: bool,
                  kms_key_id: str | None) -> None:
    text = keyring.to_json()
    parse_keyring(text)  # never store what the app would refuse
    arguments: dict[str, Any] = {
        "Name": parameter,
        "Value": text,
        "Type": "SecureString",
        "Overwrite": overwrite,
    }
    if kms_key_id:
        arguments["KeyId"] = kms_key_id
    if not overwrite:
        arguments["Description"] = "chalkboard signing keyring (python -m ops keyring)"
    try:
        ssm.put_parameter(**arguments)
    except ssm.exceptions.ParameterAlreadyExists:
        raise KeyringError(
            f"{parameter} already exists; replacing it would log everyone out. "
            f"Use `rotate` to add a key."
        ) from None


def recycle(lambda_client: Any, functions: list[str], why: str) -> None:
    """Make each function start fresh containers, which read the new keyring.

    Any configuration change retires a function's warm containers; the
    description is the one setting nothing else depends on.
    """
    for name in functions:
        lambda_client.update_function_configuration(
            FunctionName=name, Description=f"chalkboard: signing keyring {why}"
        )
        print(f"{name}: new containers will load the new keyring")


def describe(keyring: Keyring) -> str:
    lines = [f"current: {keyring.current}", f"rotated_at: {keyring.rotated_at or '(unknown)'}"]
    lines += [f"key: {kid}{' (current)' if kid == keyring.current else ''}"
              for kid in sorted(keyring.keys)]
    lines.append(f"mfa_key: {'present' if keyring.mfa_key else 'absent (rotate to add one)'}")
    return "\n".join(lines)


# -- command line ------------------------------------------------------------------


def stage_settings(stage: str) -> tuple[str, timedelta]:
    env = stage_environment(load_config(), stage)
    parameter = env.get("CHALKBOARD_SIGNING_KEYS_PARAMETER")
    if not parameter:
        raise KeyringError(f"stage {stage!r} sets no CHALKBOARD_SIGNING_KEYS_PARAMETER")
    ttl = int(env.get("CHALKBOARD_REFRESH_TOKEN_TTL") or DEFAULT_REFRESH_TOKEN_TTL)
    return parameter, timedelta(seconds=ttl)


def main(argv: list[str] | None = None, *, session: Any = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops keyring",
                                     description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in [
        ("create", "store a new keyring (refuses to replace one)"),
        ("rotate", "add a key and make it current"),
        ("prune", "drop every key but the current one, when safe"),
        ("revoke", "drop one key now (a leaked key); tokens it signed stop verifying"),
        ("show", "print key ids and the last rotation"),
    ]:
        command = commands.add_parser(name, help=text)
        command.add_argument("--stage", required=True, help="stage in .chalice/config.json")
        command.add_argument("--parameter", help="SSM parameter name (default: the stage's)")
        if name in {"create", "rotate", "prune", "revoke"}:
            command.add_argument("--kms-key-id", help="KMS key for the SecureString (default: "
                                 "the parameter's current key, else alias/chalkboard-<stage>-"
                                 "keyring)")
        if name == "revoke":
            command.add_argument("kid", help="the key id to drop (see `show`)")
        if name in {"rotate", "revoke"}:
            command.add_argument("--recycle", metavar="FUNCTION", action="append", default=[],
                                 help="Lambda function to restart so it loads the new keyring "
                                      "(repeat for the API handler and the authorizer)")
    commands.add_parser("generate", help="print a new keyring JSON (for CHALKBOARD_SIGNING_KEYS)")
    args = parser.parse_args(argv)

    try:
        if args.command == "generate":
            print(fresh_keyring(_now()).to_json())
            return 0
        parameter, wait = stage_settings(args.stage)
        parameter = args.parameter or parameter
        if session is None:
            import boto3

            session = boto3.session.Session()
        ssm = session.client("ssm")
        now = _now()
        kms_key_id = None
        if args.command != "show":
            kms_key_id = kms_key_for(ssm, parameter, args.stage, args.kms_key_id)
        if args.command == "create":
            keyring = fresh_keyring(now)
            write_keyring(ssm, parameter, keyring, overwrite=False, kms_key_id=kms_key_id)
            print(f"{parameter}: created with key {keyring.current} (KMS key {kms_key_id})")
        elif args.command == "rotate":
            keyring = rotated(read_keyring(ssm, parameter), now)
            write_keyring(ssm, parameter, keyring, overwrite=True, kms_key_id=kms_key_id)
            print(f"{parameter}: key {keyring.current} is current; "
                  f"{len(keyring.keys) - 1} older key(s) still verify")
            recycle(session.client("lambda"), args.recycle,
                    f"rotated {keyring.rotated_at or ''}")
            if not args.recycle:
                print("note: warm Lambda containers reload the keyring when they first meet "
                      "the new key (at most once a minute each); --recycle FUNCTION replaces "
                      "them at once (docs/deploy.md)", file=sys.stderr)
            print(f"prune after {_timestamp(now + wait)}: "
                  f"python -m ops keyring prune --stage {args.stage}")
        elif args.command == "prune":
            before = read_keyring(ssm, parameter)
            keyring = pruned(before, now, wait)
            write_keyring(ssm, parameter, keyring, overwrite=True, kms_key_id=kms_key_id)
            print(f"{parameter}: dropped {len(before.keys) - 1} old key(s); "
                  f"{keyring.current} is the only key")
        elif args.command == "revoke":
            keyring = revoked(read_keyring(ssm, parameter), args.kid)
            write_keyring(ssm, parameter, keyring, overwrite=True, kms_key_id=kms_key_id)
            print(f"{parameter}: key {args.kid} revoked; {len(keyring.keys)} key(s) remain")
            recycle(session.client("lambda"), args.recycle,
                    f"revoked {args.kid} at {_timestamp(now)}")
            if not args.recycle:
                print("note: warm Lambda containers keep the revoked key until they reload the "
                      "keyring; --recycle FUNCTION replaces them at once (docs/deploy.md)",
                      file=sys.stderr)
        else:
            print(describe(read_keyring(ssm, parameter)))
    except (KeyringError, StageError, ConfigurationError) as error:
        print(f"keyring: {error}", file=sys.stderr)
        return 1
    return 0

