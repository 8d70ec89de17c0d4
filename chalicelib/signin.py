"""Signing in: each way ends in ``sessions.start_session``, the one place tokens are issued.

``password`` checks a username and password (a token pair, or an ``MfaChallenge``
when the account has two-factor on); ``code`` trades that challenge's ``mfa_token``
and one code for a session; ``passkey`` signs in with a WebAuthn assertion. The
factors themselves are checked in totp.py and passkeys.py (enrolment and
verification); the login throttle counts every password and code guess.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from chalicelib import passkeys, passwords, sessions, throttle, totp
from chalicelib.deps import Deps
from chalicelib.errors import InvalidCredentials
from chalicelib.store.model import Challenge, User, live
from chalicelib.tokens import InvalidToken, UnknownKey, issue_mfa_token, verify_mfa_token
from chalicelib.validation import is_plausible_username, may_be_password, normalize_username

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MfaChallenge:
    """The password was right and the account has two-factor on: a code must follow."""

    mfa_token: str


def password(deps: Deps, username: str, password: str) -> sessions.TokenPair | MfaChallenge:
    """A token pair, an ``MfaChallenge`` (two-factor on), or ``InvalidCredentials`` /
    ``LoginThrottled``.

    Unknown users and wrong passwords take the same path and time: the attempt is
    counted (one conditional write), then one argon2 verification (against a dummy
    hash when the user does not exist). A success also clears the count, except
    with two-factor on: then only an accepted code does (``code``).
    """
    store = deps.store
    username = normalize_username(username)
    if not is_plausible_username(username) or not may_be_password(password):
        raise InvalidCredentials("invalid credentials")  # no such account can exist: no hashing
    attempt = throttle.reserve_attempt(deps, username)
    user = live(store.get_user(username))
    if user is None:
        passwords.spend_verify_time(password, deps.settings)
        verified, new_hash = False, None
    else:
        verified, new_hash = passwords.verify_password(
            password, user.password_hash, deps.settings
        )
    if not verified or user is None:
        throttle.finish_attempt(deps, attempt, succeeded=False)
        log.info("login failed for %s", username)
        raise InvalidCredentials("invalid credentials")
    if new_hash is not None:  # parameters were raised since this hash was made
        # Conditional on the stamp: never undoes a password change made meanwhile.
        store.set_password(
            username=username, password_hash=new_hash,
            credential_stamp=user.credential_stamp, expected_stamp=user.credential_stamp,
        )
    second_factor = store.get_totp(username=username)
    if second_factor is not None and second_factor.enabled:
        return _code_step(deps, user)  # the attempt stays counted until a code is accepted
    throttle.finish_attempt(deps, attempt, succeeded=True)
    return sessions.start_session(deps, user)


def _code_step(deps: Deps, user: User) -> MfaChallenge:
    """An ``mfa_token`` whose id the store keeps, so it works once, and only while the
    password it followed is still the account's (the credential stamp)."""
    token, claims = issue_mfa_token(
        username=user.username, keyring=deps.keyring, settings=deps.settings, now=deps.now()
    )
    deps.store.put_challenge(Challenge(
        key=claims.jti, purpose="mfa", username=user.username, expires_at=claims.expires_at,
        credential_stamp=user.credential_stamp,
    ))
    return MfaChallenge(token)



def code(deps: Deps, mfa_token: str, code: str) -> sessions.TokenPair:
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
        raise expired from None
    username = claims.username
    step = store.take_challenge(key=claims.jti, now=now)
    user = live(store.get_user(username))
    if (
        step is None or step.purpose != "mfa" or step.username != username
        or user is None or user.credential_stamp != step.credential_stamp
    ):
        raise expired  # used already, or the password changed (or the account went) since
    state = store.get_totp(username=username)
    try:
        accepted = state is not None and state.enabled and totp.spend_counted(deps, state, code)
    except Exception:
        store.put_challenge(step)  # locked, or no key to check it: the token stays
        raise
    if not accepted:
        store.put_challenge(step)  # the same token may try again (the throttle counts)
        raise InvalidCredentials("code is wrong or was already used")
    store.clear_login_throttle(username=username)  # the sign-in is complete
    return sessions.start_session(deps, user)


def passkey(deps: Deps, credential: dict[str, Any]) -> sessions.TokenPair:
    """The token pair for a valid assertion of a stored passkey; 401 for anything else.

    A passkey is two factors already: no code follows, and the password throttle
    does not apply (a valid assertion signs in while the name is locked).
    """
    return sessions.start_session(deps, passkeys.verify_assertion(deps, credential))
