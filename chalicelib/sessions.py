"""Sessions: starting one (every sign-in in chalicelib/signin.py ends here), token
refresh, logout, the sessions list, and authenticating an access token.

A session is one login: its id (``sid``) is in every access token issued in it
and names its refresh-token family. Its record in the store carries the user's
credential stamp from when it started, so ending the session (deleting the
record) or changing the password (a new stamp) ends every access and refresh
token of it at once, checked in the authorizer's one store read.

Refresh tokens are random, stored only as a hash, single use, and rotate within
the session: presenting a spent refresh token ends the session (RFC 9700
§4.14.2), so a stolen token dies as soon as either party uses it twice.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from chalicelib import security_events, telemetry
from chalicelib.clients import Client, DeviceKind, device_kind, device_label
from chalicelib.deps import Deps
from chalicelib.errors import InvalidCredentials, InvalidRefreshToken, SessionNotFound
from chalicelib.store.model import RefreshToken, Session, User, live
from chalicelib.tokens import (
    AccessClaims,
    InvalidToken,
    UnknownKey,
    hash_refresh_token,
    issue_access_token,
    new_refresh_token,
    verify_access_token,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    username: str
    session_id: str = ""  # the session the pair belongs to (logged, never sent)
    device_token: str | None = None  # sign-ins only (signin.py), never a refresh


@dataclass(frozen=True)
class SignIn:
    """How a session signed in and from where: kept with it for the sessions list,
    and for what its end depends on (the device's throttle bucket, the passkey)."""

    method: str  # password, totp, recovery_code or passkey
    client: Client
    device_id: str = ""  # the known device it signed in with ("": unknown)
    credential_id: str = ""  # the passkey it signed in with


def _idle_end(deps: Deps, now: float, ends_at: int) -> int:
    """When a session (and its refresh token) ends unless refreshed: never past ``ends_at``."""
    return min(int(now) + deps.settings.refresh_token_ttl, ends_at)


def _issue_pair(deps: Deps, username: str, sid: str, now: float, ends_at: int) -> TokenPair:
    settings = deps.settings
    access_token, _ = issue_access_token(
        username=username, session_id=sid, keyring=deps.keyring, settings=settings, now=now
    )
    refresh_token, token_hash = new_refresh_token()
    deps.store.add_refresh_token(
        RefreshToken(
            token_hash=token_hash,
            username=username,
            family=sid,
            issued_at_ms=int(now * 1000),
            expires_at=_idle_end(deps, now, ends_at),
            session_ends_at=ends_at,
        )
    )
    return TokenPair(access_token, settings.access_token_ttl, refresh_token, username, sid)


def new_session_id() -> str:
    """A session id: 22 URL-safe base64 characters (docs/openapi.yaml's SessionId)."""
    return secrets.token_urlsafe(16)


def start_session(deps: Deps, user: User, sign_in: SignIn) -> TokenPair:
    """Start a session for ``user`` (as read before its password or other factor was
    checked) and issue its first token pair: the one way any sign-in issues tokens.

    It ends ``session_max_seconds`` after now whatever its refreshes, earlier when
    its refresh token goes unused for ``refresh_token_ttl``. The client's address
    and User-Agent are kept with it (labelled when the list is read).

    The session keeps ``user.credential_stamp``: if the password changed after
    that read, the stamps differ and these tokens never work. Then it looks at
    the user again, as posting does: a password change or an account deletion
    removes sessions only after it committed, so a session written after that
    sweep is found here and taken back (``InvalidCredentials``) instead of being
    left behind, listed under the new password or under the next account of the name.
    """
    now, store = deps.now(), deps.store
    sid = new_session_id()
    ends_at = int(now) + deps.settings.session_max_seconds
    store.start_session(
        Session(
            username=user.username,
            sid=sid,
            credential_stamp=user.credential_stamp,
            created_at=now,
            last_used_at=now,
            expires_at=_idle_end(deps, now, ends_at),
            ends_at=ends_at,
            method=sign_in.method,
            ip=sign_in.client.ip,
            user_agent=sign_in.client.user_agent,
            device_id=sign_in.device_id,
            credential_id=sign_in.credential_id,
        )
    )
    current = live(store.get_user(user.username))
    if current is None or current.credential_stamp != user.credential_stamp:
        store.end_session(username=user.username, sid=sid)
        raise InvalidCredentials("invalid credentials")
    return _issue_pair(deps, user.username, sid, now, ends_at)


def refresh(deps: Deps, refresh_token: str) -> TokenPair:
    """Spend a refresh token for a new pair in the same session.

    The session is touched first, with a conditional write that needs it present,
    live and under the user's current stamp; then the token is spent. So of
    concurrent refreshes of one token exactly one gets a pair, and every other
    one is a reuse that ends the session (and that pair with it). A refresh
    racing a logout, a sign-out or a password change never yields a working token.
    """
    settings, store, now = deps.settings, deps.store, deps.now()

    def refused(reason: str, username: str | None = None, sid: str | None = None
                ) -> InvalidRefreshToken:
        telemetry.auth_decision("refresh", "failure", reason=reason, username=username,
                                session_id=sid)
        return InvalidRefreshToken("refresh token is invalid or expired; log in again")

    if not refresh_token or len(refresh_token) > 256:
        raise refused("malformed")
    token_hash = hash_refresh_token(refresh_token)
    current = store.get_refresh_token(token_hash=token_hash)
    if current is None:
        raise refused("unknown")
    if current.used:
        _end_reused(deps, current.username, current.family)
        raise refused("reused", current.username, current.family)
    # A token made before absolute ends were recorded: its session ends a whole
    # maximum from now at the latest (and from then on, every rotation carries that).
    ends_at = current.session_ends_at or int(now) + settings.session_max_seconds
    user = live(store.get_user(current.username))
    if current.expires_at < now or ends_at <= now or user is None or not store.touch_session(
        username=current.username, sid=current.family, credential_stamp=user.credential_stamp,
        now=now, expires_at=_idle_end(deps, now, ends_at),
    ):
        raise refused("expired or session ended", current.username, current.family)
    record = store.spend_refresh_token(token_hash=token_hash)
    if record is None:
        raise refused("unknown", current.username, current.family)
    if record.used:  # another request spent it first
        _end_reused(deps, record.username, record.family)
        raise refused("reused", record.username, record.family)
    telemetry.auth_decision("refresh", "success", username=record.username,
                            session_id=record.family)
    return _issue_pair(deps, record.username, record.family, now, ends_at)


def _end_reused(deps: Deps, username: str, sid: str) -> None:
    deps.store.end_session(username=username, sid=sid)
    log.warning("refresh token reused for %s; session ended", username)
    telemetry.metric("RefreshTokenReuse")  # a stolen-token signal: alarmed in prod


def logout(deps: Deps, claims: AccessClaims, *, client: Client | None = None) -> None:
    """End the caller's session: every access and refresh token of it, at once.

    A refresh token in the body is not needed (the access token names the
    session); ``refresh_token`` stays accepted for older clients.
    """
    ended = deps.store.end_session(username=claims.username, sid=claims.session_id)
    if ended is not None:  # "self": the session signed itself out (the list says "Signed out")
        security_events.record(deps, claims.username, "session_ended", client=client,
                               details={"self": True})


@dataclass(frozen=True)
class SessionView:
    session: Session
    current: bool
    device: str  # a label made from the session's User-Agent (clients.device_label)
    device_kind: DeviceKind  # phone, tablet, desktop or unknown, from the same User-Agent


def list_sessions(deps: Deps, claims: AccessClaims) -> list[SessionView]:
    """The caller's live sessions, newest first, marking the one this token belongs to."""
    sessions = deps.store.list_sessions(username=claims.username, now=deps.now())
    # Labelled here, not at sign-in: the parser's rules cost ~0.3 s to load, which a
    # sessions list may pay but a sign-in should not.
    return [SessionView(s, s.sid == claims.session_id, device_label(s.user_agent),
                        device_kind(s.user_agent))
            for s in sessions]


def end_session(deps: Deps, claims: AccessClaims, sid: str, *, client: Client | None = None
                ) -> None:
    """End one of the caller's live sessions; ``SessionNotFound`` for any other id,
    including an expired one not yet cleaned up (it goes now all the same)."""
    ended = deps.store.end_session(username=claims.username, sid=sid) if len(sid) <= 64 else None
    if ended is None or ended.expires_at < deps.now():
        raise SessionNotFound("no such session")
    # The event's own device is the caller's; the one that ended is named in its details,
    # so the list can say which session was signed out.
    security_events.record(deps, claims.username, "session_ended", client=client, details={
        "self": sid == claims.session_id, "ended_device": device_label(ended.user_agent),
        "ended_device_kind": device_kind(ended.user_agent)})


def authenticate(deps: Deps, token: str) -> AccessClaims:
    """Verify an access token and that its session is still live; ``InvalidToken`` otherwise."""
    settings, now = deps.settings, deps.now()
    claims = deps.with_keyring(
        lambda keyring: verify_access_token(token, keyring=keyring, settings=settings, now=now),
        unknown_key=UnknownKey,
    )
    state = deps.store.access_state(username=claims.username, sid=claims.session_id)
    user = live(state.user)
    if user is None:
        raise InvalidToken("user is gone")
    session = state.session
    if session is None or session.expires_at < now or 0 < session.ends_at <= now:
        raise InvalidToken("session ended")
    if session.credential_stamp != user.credential_stamp:
        raise InvalidToken("session started before the password changed")
    return claims


def end_passkey_sessions(deps: Deps, username: str, credential_id: str) -> int:
    """End every live session of ``username`` that signed in with the passkey
    ``credential_id`` (the passkey was deleted); how many ended."""
    ended = 0
    for session in deps.store.list_sessions(username=username, now=deps.now()):
        if session.method == "passkey" and session.credential_id == credential_id:
            deps.store.end_session(username=username, sid=session.sid)
            ended += 1
    return ended
