"""Live reading's cheap "anything new?": a short-lived live ticket and the newest message id.

Every open tab asks "anything new?" every few seconds, and almost every answer is
"no". Asked through the authorized API, each ask costs an API Gateway request, the
authorizer Lambda, the handler Lambda and a session read (bench figure 7). Instead:

- ``GET /live/ticket`` (authorized, once per ``TICKET_SECONDS``) issues a ticket: an
  HMAC over the caller's username, session id and expiry, under a key derived from
  the keyring's current signing key (so rotating the keyring rotates tickets too);
- ``GET /live?t=<ticket>`` (no authorizer) answers the newest message id, nothing
  else, and may be cached for ``CACHE_SECONDS`` by CloudFront, whose viewer-request
  function checks the same HMAC and expiry (ops/infra_live.py), so the shared cached
  answer reaches only ticket holders.

The route itself checks the ticket *and* that its session is still live (one
``access_state`` read, as the authorizer does), so on ``./scripts/run`` and on every
CloudFront cache miss a reader whose session ended learns nothing. What the edge
gives up: within a ticket's lifetime a cached answer can reach a session that has
just ended; it reveals the newest message's id (its time), never content.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from dataclasses import dataclass

from chalicelib.deps import Deps
from chalicelib.encoding import b64url_decode, b64url_encode
from chalicelib.errors import InvalidTicket
from chalicelib.page_cache import MIN_PAGE
from chalicelib.signing_keys import Keyring
from chalicelib.store.model import live
from chalicelib.tokens import AccessClaims

TICKET_SECONDS = 300  # a ticket's life: the edge's bound on an ended session's view
CACHE_SECONDS = 1  # how long CloudFront may reuse an answer (the app's page cache too)
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


def newest_id(deps: Deps, ticket: str | None) -> str | None:
    """The newest message's id (None on an empty board) for a valid ticket whose session is
    still live; ``InvalidTicket`` otherwise. The newest page comes from the page cache."""
    if not ticket:
        raise InvalidTicket("a live ticket is required")
    now = deps.now()
    username, sid = _verify(deps.keyring, ticket, now)
    state = deps.store.access_state(username=username, sid=sid)
    user = live(state.user)
    if user is None or state.session is None or state.session.expires_at < now \
            or state.session.credential_stamp != user.credential_stamp:
        raise InvalidTicket("session ended")
    page = deps.page_cache.newest(deps.store, limit=MIN_PAGE)
    return page.messages[0].id if page.messages else None
