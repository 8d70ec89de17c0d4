"""Sessions: login, token refresh, logout, and authenticating an access token.

Access tokens are short-lived JWTs; refresh tokens are random, stored only as
a hash, single use, and rotate within a family: presenting a spent refresh
token revokes its whole family (RFC 9700 §4.14.2), so a stolen token dies as
soon as either party uses it twice.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from chalicelib import passwords, telemetry, throttle
from chalicelib.deps import Deps
from chalicelib.errors import InvalidCredentials, InvalidRefreshToken
from chalicelib.signing_keys import get_keyring, with_keyring
from chalicelib.store import RefreshToken
from chalicelib.tokens import (
    AccessClaims,
    InvalidToken,
    UnknownKey,
    hash_refresh_token,
    issue_access_token,
    new_refresh_token,
    verify_access_token,
)
from chalicelib.validation import is_plausible_username, may_be_password, normalize_username

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    username: str


def _issue_pair(deps: Deps, username: str, family: str, now: float) -> TokenPair:
    settings = deps.settings
    access_token, _ = issue_access_token(
        username=username, keyring=get_keyring(), settings=settings, now=now
    )
    refresh_token, token_hash = new_refresh_token()
    deps.store.add_refresh_token(
        RefreshToken(
            token_hash=token_hash,
            username=username,
            family=family,
            issued_at_ms=int(now * 1000),
            expires_at=int(now) + settings.refresh_token_ttl,
        )
    )
    return TokenPair(access_token, settings.access_token_ttl, refresh_token, username)


def login(deps: Deps, username: str, password: str) -> TokenPair:
    """A token pair, or ``InvalidCredentials``/``LoginThrottled``.

    Unknown users and wrong passwords take the same path and time: the attempt is
    counted (one conditional write), then one argon2 verification (against a dummy
    hash when the user does not exist). A success also clears the count.
    """
    store, now = deps.store, deps.now()
    username = normalize_username(username)
    if not is_plausible_username(username) or not may_be_password(password):
        raise InvalidCredentials("invalid credentials")  # no such account can exist: no hashing
    attempt = throttle.reserve_attempt(deps, username)
    user = store.get_user(username)
    if user is None:
        passwords.spend_verify_time(password, deps.settings)
        verified, new_hash = False, None
    else:
        verified, new_hash = passwords.verify_password(
            password, user.password_hash, deps.settings
        )
    throttle.finish_attempt(deps, attempt, succeeded=verified)
    if not verified:
        log.info("login failed for %s", username)
        raise InvalidCredentials("invalid credentials")
    if new_hash is not None:  # parameters were raised since this hash was made
        store.set_password(username=username, password_hash=new_hash, tokens_valid_after_ms=None)
    return _issue_pair(deps, username, uuid.uuid4().hex, now)


def refresh(deps: Deps, refresh_token: str) -> TokenPair:
    settings, store, now = deps.settings, deps.store, deps.now()
    invalid = InvalidRefreshToken("refresh token is invalid or expired; log in again")
    if not refresh_token or len(refresh_token) > 256:
        raise invalid
    token_hash = hash_refresh_token(refresh_token)
    # Expiry and revocation are checked before spending: replays racing this call
    # revoke the family as soon as it is spent, which must not also refuse the one
    # call that spent it (of concurrent refreshes, exactly one succeeds).
    current = store.get_refresh_token(token_hash=token_hash)
    if current is None:
        raise invalid
    if not current.used and (
        current.expires_at < now or store.is_family_revoked(family=current.family, now=now)
    ):
        raise invalid
    record = store.spend_refresh_token(token_hash=token_hash)
    if record is None:
        raise invalid
    if record.used:
        family_ends = int(now) + settings.refresh_token_ttl
        store.revoke_family(family=record.family, expires_at=family_ends)
        log.warning("refresh token reused for %s; family revoked", record.username)
        telemetry.metric("RefreshTokenReuse")  # a stolen-token signal: alarmed in prod
        raise invalid
    user = store.get_user(record.username)
    if user is None or record.issued_at_ms < user.tokens_valid_after_ms:
        raise invalid
    return _issue_pair(deps, record.username, record.family, now)


def logout(deps: Deps, claims: AccessClaims, refresh_token: str | None) -> None:
    """Revoke this access token and, if given and the caller's, the refresh token's family."""
    store, settings = deps.store, deps.settings
    store.revoke_access_token(jti=claims.jti, expires_at=claims.expires_at + 60)
    if not refresh_token:
        return
    record = store.get_refresh_token(token_hash=hash_refresh_token(refresh_token))
    if record is not None and record.username == claims.username:
        store.revoke_family(
            family=record.family, expires_at=int(deps.now()) + settings.refresh_token_ttl
        )


def authenticate(deps: Deps, token: str) -> AccessClaims:
    """Verify an access token and that it is still live; ``InvalidToken`` otherwise."""
    settings, now = deps.settings, deps.now()
    claims = with_keyring(
        lambda keyring: verify_access_token(token, keyring=keyring, settings=settings),
        unknown_key=UnknownKey,
    )
    state = deps.store.access_state(username=claims.username, jti=claims.jti, now=now)
    if state.user is None:
        raise InvalidToken("user is gone")
    if state.revoked:
        raise InvalidToken("token revoked")
    if claims.issued_at_ms < state.user.tokens_valid_after_ms:
        raise InvalidToken("token issued before the password changed")
    return claims
