"""Live reading's cheap "anything new?": a short-lived live ticket instead of a bearer token.

Every open tab asks "anything new?" every few seconds, and almost every answer is
"no". Through the authorized REST API each ask costs an API Gateway request ($3.50 a
million), the authorizer Lambda and the handler Lambda (bench figure 7). Instead:

- ``GET /live/ticket`` (authorized, once per ``TICKET_SECONDS``) issues a ticket: an
  HMAC over the caller's username, session id and expiry, under a key derived from
  the keyring's current signing key (rotating the keyring rotates tickets too);
- ``GET /live?t=<ticket>&since=<id>`` answers exactly what ``GET /messages?since``
  does. Deployed, it is served by a Lambda function URL (no API Gateway request, no
  authorizer Lambda: ops/infra_live.py); locally and as a fallback, by the API route.

Every ask checks the ticket *and* reads its session (the authorizer's one
``access_state`` read), so a reader whose session ended, was ended elsewhere or
predates a password change learns nothing from the next ask on. A ticket goes in
the URL (a simple GET, no CORS preflight): it reads the board for one live session
for at most ``TICKET_SECONDS``, and is useless once that session ends.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from dataclasses import dataclass

from chalicelib import board
from chalicelib.deps import Deps
from chalicelib.encoding import b64url_decode, b64url_encode
from chalicelib.errors import InvalidTicket
from chalicelib.page_cache import MIN_PAGE
from chalicelib.signing_keys import Keyring
from chalicelib.store.model import live
from chalicelib.tokens import AccessClaims
from chalicelib.validation import check_limit

TICKET_SECONDS = 900  # the access token's life; the session is read on every ask regardless
MAX_LIVE_LIMIT = MIN_PAGE - 1  # one fewer than the cached page: "gap" is then always known
_CONTEXT = b"chalkboard live ticket v1"
MAX_TICKET_LENGTH = 512


@dataclass(frozen=True)
class Ticket:
    ticket: str
    expires_at: int  # seconds since the epoch


def ticket_key(keyring: Keyring, kid: str) -> bytes:
    """The HMAC key for tickets under signing key ``kid`` (also the edge function's key)."""
    return hmac.new(keyring.keys[kid], _CONTEXT, hashlib.sha256).digest()


def _mac(key: bytes, signed: str) -> str:
    return b64url_encode(hmac.new(key, signed.encode("ascii"), hashlib.sha256).digest())


def issue_ticket(deps: Deps, claims: AccessClaims) -> Ticket:
    """A ticket for the caller's session, valid ``TICKET_SECONDS``."""
    keyring = deps.keyring
    expires_at = math.floor(deps.now()) + TICKET_SECONDS
    payload = b64url_encode(json.dumps(
        {"u": claims.username, "s": claims.session_id, "e": expires_at},
        separators=(",", ":")).encode())
    signed = f"{keyring.current}.{payload}"
    return Ticket(ticket=f"{signed}.{_mac(ticket_key(keyring, keyring.current), signed)}",
                  expires_at=expires_at)


def _verify(keyring: Keyring, ticket: str, now: float) -> tuple[str, str]:
    parts = ticket.split(".")
    if len(ticket) > MAX_TICKET_LENGTH or len(parts) != 3 or parts[0] not in keyring.keys:
        raise InvalidTicket("invalid live ticket")
    kid, payload, mac = parts
    if not hmac.compare_digest(_mac(ticket_key(keyring, kid), f"{kid}.{payload}"), mac):
        raise InvalidTicket("invalid live ticket")
    try:
        fields = json.loads(b64url_decode(payload))
        username, sid, expires_at = fields["u"], fields["s"], fields["e"]
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidTicket("invalid live ticket") from error
    if not (isinstance(username, str) and isinstance(sid, str) and isinstance(expires_at, int)):
        raise InvalidTicket("invalid live ticket")
    if expires_at <= now:
        raise InvalidTicket("live ticket expired")
    return username, sid


def check_ticket(deps: Deps, ticket: str | None) -> None:
    """Pass only for a valid, unexpired ticket whose session is still live (the checks the
    authorizer makes for a bearer token); ``InvalidTicket`` otherwise."""
    if not ticket:
        raise InvalidTicket("a live ticket is required")
    now = deps.now()
    username, sid = _verify(deps.keyring, ticket, now)
    state = deps.store.access_state(username=username, sid=sid)
    user = live(state.user)
    if user is None or state.session is None or state.session.expires_at < now \
            or state.session.credential_stamp != user.credential_stamp:
        raise InvalidTicket("session ended")


def newer(deps: Deps, ticket: str | None, *, limit: str | None, since: str | None
          ) -> board.BoardPage:
    """What GET /messages?since answers, for a live-ticket holder whose session is live, at
    most ``MAX_LIVE_LIMIT`` messages: a reader further behind is told ``gap`` from the
    instance's cached page (it then reloads the first page), never with a store read."""
    check_ticket(deps, ticket)
    size = min(check_limit(limit), MAX_LIVE_LIMIT)
    return board.list_messages(deps, limit=str(size), cursor=None, since=since)
