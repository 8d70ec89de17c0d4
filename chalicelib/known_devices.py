"""Known devices (OWASP's device cookies): a flood of wrong passwords from elsewhere
never locks the owner out of a device they signed in on before.

Every sign-in hands out a ``device_token`` (opaque, 256 random bits, kept only as a
SHA-256 hash under the account, valid 365 days). A password attempt that presents a
valid token of that account counts in that device's own throttle bucket
(``device:<id>``); every other attempt (no token, a malformed, foreign or expired
one, an unknown username) counts in the account's ``unknown`` bucket. A success
clears only the bucket it was counted in.

NIST SP 800-63B §5.2.2 bound: failures are also counted in a run that only a success
clears (``unknown-run`` for unknown devices, ``device-run:<id>`` for each known one);
past ``UNKNOWN_BOUND`` consecutive failures that bucket stays shut. The unknown one
reopens when the owner signs in on a known device, with a passkey, or resets the
password (``throttle.clear_throttles``); a known device's (its token was likely
stolen) with a reset. So no source gets more than 100 guesses, not ~480 a day.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from chalicelib import throttle
from chalicelib.clients import Client
from chalicelib.deps import Deps
from chalicelib.store.model import KnownDevice, live

DEVICE_TOKEN_SECONDS = 365 * 86_400
DEVICE_TOKEN_MAX = 128  # longer than any token made here: refused before hashing
UNKNOWN_SCOPE = "unknown"
RUN_SCOPE = "unknown-run"  # consecutive failures from unknown devices
UNKNOWN_BOUND = throttle.CONSECUTIVE_BOUND  # NIST SP 800-63B: 100 consecutive failures
# The run ends only after a year with no attempt from an unknown device (it slides),
# and in practice when the owner signs in: a success clears it.
RUN_WINDOW_SECONDS = throttle.RUN_WINDOW_SECONDS


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def recognise(deps: Deps, username: str, token: str | None) -> KnownDevice | None:
    """The live device of the account holding ``username`` that ``token`` names, or
    None (counted as unknown).

    A device older than the account is an earlier account's of the same name: a
    sign-in racing that account's deletion can write its device after the deletion
    swept them (the adversarial pass: 27 of 28 such tokens on DynamoDB opened the next
    account's device buckets), so age decides, as for security events. The account is
    read only when a device was found: a guess without a valid token costs what it did."""
    if not token or len(token) > DEVICE_TOKEN_MAX or not token.isascii():
        return None
    device = deps.store.get_device(username=username, token_hash=_hash(token))
    if device is None or device.expires_at < deps.now():
        return None
    user = live(deps.store.get_user(username))
    if user is None or device.created_at < user.created_at:
        return None
    return device


def new_device_id() -> str:
    """The id of a device seen for the first time (its throttle bucket's name)."""
    return secrets.token_hex(8)


def issue(deps: Deps, username: str, device_id: str = "") -> str:
    """A new device token for ``username`` (for the device ``device_id``, or a new one)."""
    token = secrets.token_urlsafe(32)
    now = deps.now()
    deps.store.add_device(KnownDevice(
        username=username, token_hash=_hash(token), device_id=device_id or new_device_id(),
        created_at=now, expires_at=int(now) + DEVICE_TOKEN_SECONDS,
    ))
    return token


def forget_all(deps: Deps, username: str) -> None:
    """End every device token of the account (a password reset calls this)."""
    deps.store.forget_devices(username=username)


def scope(device_id: str) -> str:
    """The throttle bucket of password attempts from ``device_id`` ("" for unknown)."""
    return f"device:{device_id}" if device_id else UNKNOWN_SCOPE


def run_scope(device_id: str) -> str:
    """The run of consecutive failures counted with ``scope(device_id)``: each known
    device has its own (a stolen device token is bounded too), unknown devices share one."""
    return f"device-run:{device_id}" if device_id else RUN_SCOPE


@dataclass(frozen=True)
class PasswordAttempt:
    """A password attempt counted in its device's bucket and in that bucket's run of
    consecutive failures (the NIST bound)."""

    attempt: throttle.Attempt
    run: throttle.Attempt


def reserve(deps: Deps, username: str, device_id: str) -> PasswordAttempt:
    """Count one password attempt from ``device_id`` ("": unknown) before it is checked;
    ``LoginThrottled`` when its bucket is shut (its ``Retry-After`` at most the window)."""
    attempt = throttle.reserve_attempt(deps, username, scope(device_id))
    # Past the bound: shut until the owner proves themselves.
    return PasswordAttempt(attempt, throttle.reserve_run(deps, username, run_scope(device_id)))


def finish(
    deps: Deps, attempt: PasswordAttempt, *, succeeded: bool, account_exists: bool = False,
    client: Client | None = None,
) -> None:
    """A success clears its own bucket and run, and the unknown run (the owner's path
    back past the bound); a failure stays counted (the one that locks is the owner's
    ``locked`` event when ``account_exists``)."""
    throttle.finish_attempt(deps, attempt.attempt, succeeded=succeeded,
                            account_exists=account_exists, client=client)
    if succeeded:
        deps.store.clear_login_throttle(username=attempt.run.username, scope=attempt.run.scope)
        if attempt.run.scope != RUN_SCOPE:
            signed_in(deps, attempt.run.username)


def signed_in(deps: Deps, username: str, device_id: str | None = None) -> None:
    """The owner proved themselves: the unknown run clears, and with ``device_id`` (a
    two-factor sign-in finishing its password step) that step's bucket and run too."""
    if device_id is not None:
        deps.store.clear_login_throttle(username=username, scope=scope(device_id))
        if device_id:
            deps.store.clear_login_throttle(username=username, scope=run_scope(device_id))
    deps.store.clear_login_throttle(username=username, scope=RUN_SCOPE)
