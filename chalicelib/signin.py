"""Signing in: each way ends in ``sessions.start_session``, the one place tokens are issued.

``password`` checks a username and password (a token pair, or an ``MfaChallenge``
when the account has two-factor on); ``code`` trades that challenge's ``mfa_token``
and one code for a session; ``passkey`` signs in with a WebAuthn assertion. The
factors themselves are checked in totp.py and passkeys.py (enrolment and
verification); the login throttle counts every password and code guess.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from chalicelib import (
    known_devices,
    passkeys,
    passwords,
    security_events,
    sessions,
    telemetry,
    totp,
)
from chalicelib.clients import Client
from chalicelib.deps import Deps
from chalicelib.errors import InvalidCredentials, LoginThrottled
from chalicelib.store.model import Challenge, User, live
from chalicelib.tokens import InvalidToken, UnknownKey, issue_mfa_token, verify_mfa_token
from chalicelib.validation import is_plausible_username, may_be_password, normalize_username

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MfaChallenge:
    """The password was right and the account has two-factor on: a code must follow."""

    mfa_token: str


def _signed_in(
    deps: Deps, user: User, sign_in: sessions.SignIn, *, new_device: bool
) -> sessions.TokenPair:
    """Start the session, then log the decision and keep the owner's ``sign_in`` event."""
    pair = sessions.start_session(deps, user, sign_in)
    telemetry.auth_decision("login", "success", username=user.username, method=sign_in.method,
                            session_id=pair.session_id)
    # The session id lets the list mark the caller's own sign-in ("current").
    security_events.record(deps, user.username, "sign_in", client=sign_in.client,
                           details={"method": sign_in.method, "new_device": new_device,
                                    "session_id": pair.session_id})
    return pair


def _refused(kind: str, outcome: str, reason: str, *, username: str | None, method: str
             ) -> None:
    telemetry.auth_decision(kind, outcome, username=username, reason=reason, method=method)


def password(
    deps: Deps, username: str, password: str, client: Client, device_token: str | None = None,
) -> sessions.TokenPair | MfaChallenge:
    """A token pair (with a device token), an ``MfaChallenge`` (two-factor on), or
    ``InvalidCredentials`` / ``LoginThrottled``.

    The attempt counts in the bucket of the device ``device_token`` names when it is
    a live one of this account, else in the account's unknown-devices bucket
    (known_devices.py). Unknown users and wrong passwords take the same path and
    time: the attempt is counted, then one argon2 verification (against a dummy
    hash when the user does not exist). A success also clears the count, except
    with two-factor on: then only an accepted code does (``code``).
    """
    store = deps.store
    username = normalize_username(username)
    if not is_plausible_username(username) or not may_be_password(password):
        _refused("login", "failure", "malformed", username=None, method="password")
        raise InvalidCredentials("invalid credentials")  # no such account can exist: no hashing
    device = known_devices.recognise(deps, username, device_token)
    device_id = device.device_id if device is not None else ""
    try:
        attempt = known_devices.reserve(deps, username, device_id)
    except LoginThrottled:
        _refused("login", "throttled", "locked", username=username, method="password")
        raise
    user = live(store.get_user(username))
    if user is None:
        passwords.spend_verify_time(password, deps.settings)
        verified, new_hash = False, None
    else:
        verified, new_hash = passwords.verify_password(
            password, user.password_hash, deps.settings
        )
    if not verified or user is None:
        if user is not None:  # never an event for a name nobody holds
            security_events.record(deps, username, "sign_in_failed", client=client,
                                   details={"reason": "password"})
        known_devices.finish(deps, attempt, succeeded=False, account_exists=user is not None,
                             client=client)
        _refused("login", "failure", "wrong password", username=username, method="password")
        raise InvalidCredentials("invalid credentials")
    if new_hash is not None:  # parameters were raised since this hash was made
        # Conditional on the stamp: never undoes a password change made meanwhile.
        store.set_password(
            username=username, password_hash=new_hash,
            credential_stamp=user.credential_stamp, expected_stamp=user.credential_stamp,
        )
    second_factor = store.get_totp(username=username)
    if second_factor is not None and second_factor.enabled:
        _refused("login", "code_required", "two-factor on", username=username, method="password")
        return _code_step(deps, user, device_id)  # counted until a code is accepted
    known_devices.finish(deps, attempt, succeeded=True)
    pair = _signed_in(deps, user, sessions.SignIn("password", client, device_id=device_id),
                      new_device=device is None)
    # The token presented is handed back while it is valid; otherwise a new device.
    token = device_token if device is not None else known_devices.issue(deps, username)
    return replace(pair, device_token=token)


def _code_step(deps: Deps, user: User, device_id: str) -> MfaChallenge:
    """An ``mfa_token`` whose id the store keeps, so it works once, and only while the
    password it followed is still the account's (the credential stamp)."""
    token, claims = issue_mfa_token(
        username=user.username, keyring=deps.keyring, settings=deps.settings, now=deps.now()
    )
    deps.store.put_challenge(Challenge(
        key=claims.jti, purpose="mfa", username=user.username, expires_at=claims.expires_at,
        credential_stamp=user.credential_stamp, device_id=device_id,
    ))
    return MfaChallenge(token)



def code(deps: Deps, mfa_token: str, code: str, client: Client) -> sessions.TokenPair:
    """The token pair for a password step's ``mfa_token`` and one code.

    The token is checked first, and only a live one of ours lets the code be looked
    at: a spent, expired or foreign token is refused with one answer whatever the
    code, and the code is not consumed. The token's id is *taken* from the store
    while its code is checked (so no two requests ever hold it), and put back when
    the code was wrong, so a typo needs no new password step; it works only while
    the password it followed is still the account's (the credential stamp). The
    code counts in the per-account code throttle (totp.spend_counted); an accepted
    one clears it and the login count the password step left.
    """
    store, now = deps.store, deps.now()
    expired = InvalidCredentials("the sign-in has expired or is not valid; log in again")
    try:
        claims = deps.with_keyring(
            lambda keyring: verify_mfa_token(
                mfa_token, keyring=keyring, settings=deps.settings, now=now
            ),
            unknown_key=UnknownKey,
        )
    except InvalidToken as error:
        log.info("mfa_token refused: %s", error)
        _refused("code", "failure", "mfa_token refused", username=None, method="code")
        raise expired from None
    username = claims.username
    method = totp.code_kind(code)
    step = store.take_challenge(key=claims.jti, now=now)
    user = live(store.get_user(username))
    if (
        step is None or step.purpose != "mfa" or step.username != username
        or user is None or user.credential_stamp != step.credential_stamp
    ):
        _refused("code", "failure", "mfa_token spent or stale", username=username, method=method)
        raise expired  # used already, or the password changed (or the account went) since
    state = store.get_totp(username=username)
    try:
        accepted = (state is not None and state.enabled
                    and totp.spend_counted(deps, state, code, client=client))
    except LoginThrottled:
        store.put_challenge(step)  # locked: the token stays, the code was not looked at
        _refused("code", "throttled", "locked", username=username, method=method)
        raise
    except Exception:
        store.put_challenge(step)  # no key to check it: the token stays
        raise
    if not accepted:
        store.put_challenge(step)  # the same token may try again (the throttle counts)
        security_events.record(deps, username, "sign_in_failed", client=client,
                               details={"reason": "code"})
        _refused("code", "failure", "wrong code", username=username, method=method)
        raise InvalidCredentials("code is wrong or was already used")
    # The password step's bucket (its device's, or unknown) clears only now.
    known_devices.signed_in(deps, username, step.device_id)
    pair = _signed_in(deps, user, sessions.SignIn(method, client, device_id=step.device_id),
                      new_device=not step.device_id)
    # The raw token of the password step is not kept: its device gets a new one.
    return replace(pair, device_token=known_devices.issue(deps, username, step.device_id))


def passkey(deps: Deps, credential: dict[str, Any], client: Client) -> sessions.TokenPair:
    """The token pair for a valid assertion of a stored passkey; 401 for anything else.

    A passkey is two factors already: no code follows, and the password throttle
    does not apply (a valid assertion signs in while the name is locked); it
    clears the run of unknown-device failures (known_devices.py). The session
    records the passkey, so deleting it ends the session; a deletion that swept
    the sessions while this one was being written is caught by a second look.
    """
    try:
        user = passkeys.verify_assertion(deps, credential)
    except InvalidCredentials:
        _refused("login", "failure", "passkey refused", username=None, method="passkey")
        raise
    credential_id = str(credential["rawId"])  # verify_assertion checked it is a stored id
    # A passkey is an authenticator the owner registered: not a device never seen. The
    # session is of the device the token below names, so its step-ups count in that
    # device's bucket: a flood from unknown devices never stops the owner who signed
    # in with a passkey changing the password (it used to count them as unknown).
    device_id = known_devices.new_device_id()
    pair = _signed_in(deps, user, sessions.SignIn("passkey", client, device_id=device_id,
                                                  credential_id=credential_id),
                      new_device=False)
    still = deps.store.get_passkey(credential_id=credential_id)
    if still is None or still.username != user.username:
        deps.store.end_session(username=user.username, sid=pair.session_id)
        raise InvalidCredentials("passkey sign-in failed")
    known_devices.signed_in(deps, user.username)
    return replace(pair, device_token=known_devices.issue(deps, user.username, device_id))
