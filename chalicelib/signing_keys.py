"""The keyring of HS256 signing keys: which key signs now, which still verify.

A keyring is JSON: ``{"current": "<kid>", "keys": {"<kid>": "<base64url key>"}}``
(an optional ``"rotated_at"`` ISO timestamp is kept for the rotation command).
Tokens carry the ``kid`` of the key that signed them, so a new key can become
current while tokens signed by the old one stay valid until they expire.

An optional ``"mfa_key"`` (base64url, 32+ random bytes) encrypts two-factor
secrets at rest. It is not a signing key and is never rotated away with them:
signing keys are pruned once their tokens expire, while a secret encrypted
years ago must still decrypt. Rotation and pruning carry it over unchanged.
"""

from __future__ import annotations

import binascii
import json
import logging
import math
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from chalicelib.config import Settings, get_settings
from chalicelib.encoding import b64url_decode, b64url_encode
from chalicelib.errors import ConfigurationError, KeyringUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")
MIN_KEY_BYTES = 32
KID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")  # fullmatch: "$" passes a trailing newline


@dataclass(frozen=True)
class Keyring:
    current: str
    keys: Mapping[str, bytes]
    rotated_at: str | None = None
    mfa_key: bytes | None = None

    @property
    def signing_key(self) -> bytes:
        return self.keys[self.current]

    def to_json(self) -> str:
        document: dict[str, object] = {
            "current": self.current,
            "keys": {kid: b64url_encode(key) for kid, key in self.keys.items()},
        }
        if self.rotated_at:
            document["rotated_at"] = self.rotated_at
        if self.mfa_key is not None:
            document["mfa_key"] = b64url_encode(self.mfa_key)
        return json.dumps(document, indent=2, sort_keys=True)


def generate_key() -> str:
    """A new random key, base64url without padding."""
    return b64url_encode(secrets.token_bytes(MIN_KEY_BYTES))


def new_kid() -> str:
    """A key id that sorts by creation time and does not collide."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(3)


def _check_key(kid: str, encoded: object, source: str) -> bytes:
    if not isinstance(encoded, str):
        raise ConfigurationError(f"{source}: key {kid!r} must be a base64url string")
    try:
        key = b64url_decode(encoded)
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"{source}: key {kid!r} is not valid base64url") from None
    # A short key, or a long but patterned one ("aaaa…", a password), is guessable.
    if len(key) < MIN_KEY_BYTES or len(set(key)) < MIN_KEY_BYTES // 2:
        raise ConfigurationError(
            f"{source}: key {kid!r} is weak; each key must be at least {MIN_KEY_BYTES} random "
            f"bytes (make one with `python -m ops keyring generate`)"
        )
    return key


def parse_keyring(text: str, *, source: str = "keyring") -> Keyring:
    """Parse and validate a keyring document; errors name ``source``."""
    try:
        document = json.loads(text)
    except ValueError:
        raise ConfigurationError(f"{source} is not valid JSON") from None
    if not isinstance(document, dict) or not isinstance(document.get("keys"), dict):
        raise ConfigurationError(f'{source} must be an object with "current" and "keys"')
    keys: dict[str, bytes] = {}
    for kid, encoded in document["keys"].items():
        if not KID_PATTERN.fullmatch(kid):
            raise ConfigurationError(f"{source}: key id {kid!r} must be 1-64 of A-Z a-z 0-9 _ -")
        keys[kid] = _check_key(kid, encoded, source)
    current = document.get("current")
    if not isinstance(current, str) or current not in keys:
        raise ConfigurationError(f'{source}: "current" must name one of its keys')
    rotated_at = document.get("rotated_at")
    mfa_key = document.get("mfa_key")
    return Keyring(
        current=current,
        keys=keys,
        rotated_at=rotated_at if isinstance(rotated_at, str) else None,
        mfa_key=_check_key("mfa_key", mfa_key, source) if mfa_key is not None else None,
    )


def new_keyring() -> Keyring:
    kid = new_kid()
    return Keyring(
        current=kid, keys={kid: b64url_decode(generate_key())}, mfa_key=new_mfa_key()
    )


def new_mfa_key() -> bytes:
    return b64url_decode(generate_key())


def _local_keyring(data_dir: Path) -> Keyring:
    """The local stage's keyring, made on first run and kept out of git in the data folder."""
    path = data_dir / "signing-keys.json"
    source = str(path)
    try:
        return parse_keyring(path.read_text(), source=source)
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    keyring = new_keyring()
    try:
        # O_EXCL: if two processes race, one writes and both read the same file.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return parse_keyring(path.read_text(), source=source)
    with os.fdopen(fd, "w") as out:
        out.write(keyring.to_json())
    return keyring


# botocore's defaults (60 s connect, 60 s read, 5 attempts) let a hanging SSM hold a
# request for 3 minutes, far past the Lambda timeout: the Lambda is killed before the
# failure is recorded, so every later request hangs again. GetParameter answers in
# tens of milliseconds; these bounds give up within about 3 s and keep the loaded
# keyring. (Mapping, not a botocore Config: boto3 is imported only when SSM is used.)
SSM_TIMEOUTS = {"connect_timeout": 1, "read_timeout": 1,
                "retries": {"mode": "standard", "max_attempts": 2}}


def _ssm_keyring(parameter: str) -> Keyring:
    import boto3  # only deployed stages pay for importing boto3 here
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client = boto3.client("ssm", config=Config(**SSM_TIMEOUTS))
        answer = client.get_parameter(Name=parameter, WithDecryption=True)
    except (BotoCoreError, ClientError) as error:
        raise ConfigurationError(
            f"cannot read CHALKBOARD_SIGNING_KEYS_PARAMETER {parameter!r} from SSM: {error}"
        ) from None
    return parse_keyring(answer["Parameter"]["Value"], source=f"SSM parameter {parameter}")


def load_keyring(settings: Settings) -> Keyring:
    if settings.signing_keys is not None:
        return parse_keyring(settings.signing_keys, source="CHALKBOARD_SIGNING_KEYS")
    if settings.signing_keys_parameter is not None:
        return _ssm_keyring(settings.signing_keys_parameter)
    if settings.generates_local_keys:
        return _local_keyring(settings.data_dir)
    raise ConfigurationError("no signing keyring is configured")  # load_settings prevents this


# A keyring from SSM is fetched again once it is this old, so a key removed from
# the parameter (a leaked key) stops being accepted within 5 minutes on every
# warm instance. Fetches, failed or not, happen at most once a minute.
KEYRING_MAX_AGE_SECONDS = 300
RELOAD_INTERVAL_SECONDS = 60


@dataclass
class _Loaded:
    keyring: Keyring | None = None
    loaded_at: float = 0.0
    failed_at: float = -math.inf  # the last fetch that failed
    forced_at: float = -math.inf  # the last fetch for a kid the keyring lacked


_loaded = _Loaded()
_lock = threading.Lock()


def _reloads(settings: Settings) -> bool:
    """Only a keyring kept in SSM can change under a running instance."""
    return settings.signing_keys is None and settings.signing_keys_parameter is not None


def get_keyring(now: float) -> Keyring:
    """The keyring: fetched on first use and, from SSM, again once it is 5 minutes old.

    A failed fetch keeps the keyring already loaded (and is retried at most once a
    minute, so a failing SSM is not called on every request); with no keyring at
    all it is ``KeyringUnavailable`` (503 with Retry-After). ``now``: the Deps clock.
    """
    settings = get_settings()
    keyring = _loaded.keyring
    if keyring is not None and (
        not _reloads(settings) or now - _loaded.loaded_at < KEYRING_MAX_AGE_SECONDS
    ):
        return keyring
    return _fetch(settings, now)


def _fetch(settings: Settings, now: float, *, force: bool = False) -> Keyring:
    """Fetch first, swap only on success; after a failure, no fetch for a minute."""
    with _lock:
        if now - _loaded.failed_at < RELOAD_INTERVAL_SECONDS:
            if _loaded.keyring is not None:
                return _loaded.keyring
            wait = RELOAD_INTERVAL_SECONDS - (now - _loaded.failed_at)
            raise KeyringUnavailable(retry_after=max(1, math.ceil(wait)))
        fresh_enough = now - _loaded.loaded_at < KEYRING_MAX_AGE_SECONDS
        if _loaded.keyring is not None and fresh_enough and not force:
            return _loaded.keyring  # another thread fetched it while this one waited
        try:
            fresh = load_keyring(settings)
        except ConfigurationError as error:
            if not _reloads(settings):
                raise  # inline or local keys: a configuration mistake, not an outage
            _loaded.failed_at = now
            log.error("signing keyring reload failed; keeping the loaded one: %s", error)
            if _loaded.keyring is not None:
                return _loaded.keyring
            raise KeyringUnavailable(retry_after=RELOAD_INTERVAL_SECONDS) from None
        _loaded.keyring, _loaded.loaded_at = fresh, now
        return fresh


def reset() -> None:
    """Forget the loaded keyring and the last attempt (tests; ``deps.reset``)."""
    global _loaded
    with _lock:
        _loaded = _Loaded()


def reload_keyring(now: float) -> bool:
    """Fetch the keyring again after a token named a key we lack; True if it was fetched.

    A rotation makes a new key current in SSM while warm containers still hold
    the old keyring; the first token signed with the new key reloads it here.
    At most once a minute per container, so forged kids cannot flood SSM, and
    only where the keyring can change (SSM), never for inline or local keys.
    """
    settings = get_settings()
    with _lock:
        if not _reloads(settings) or now - _loaded.forced_at < RELOAD_INTERVAL_SECONDS:
            return False
        _loaded.forced_at = now
    before = _loaded.keyring
    return _fetch(settings, now, force=True) is not before


def with_keyring(check: Callable[[Keyring], T], *, unknown_key: type[Exception], now: float
                 ) -> T:
    """``check(keyring)``; if it fails for want of a key, reload once (see above) and retry."""
    try:
        return check(get_keyring(now))
    except unknown_key:
        if not reload_keyring(now):
            raise
    return check(get_keyring(now))
