"""The authorizer's decision: an ``Authorization`` header in, the caller's claims out,
or the 401 or 503 to raise; and the context that carries the claims to the routes.

app.py's ``jwt_auth`` only turns the claims into Chalice's ``AuthResponse``, so this
module holds the whole decision, each outcome logged once (``telemetry``). Writing the
context (``context``) and reading it back in a route (``claims_from``) stand together
so the names written are the names read. It imports nothing the routes do not already
load: the authorizer's own Lambda imports app.py on every cold start.
"""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib import sessions, telemetry
from chalicelib.deps import Deps
from chalicelib.errors import KeyringUnavailable, StoreUnavailable
from chalicelib.responses import unauthorized, unavailable
from chalicelib.tokens import AccessClaims, InvalidToken


def decide(deps: Deps, authorization: str | None) -> AccessClaims:
    """The claims of a live session's bearer token; raises ``unauthorized()`` for any
    other header or token, ``unavailable()`` when the store or the keyring cannot say."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        telemetry.authorizer_decision("deny", reason="no bearer token")
        raise unauthorized()
    try:
        claims = sessions.authenticate(deps, token.strip())
    except InvalidToken as error:
        telemetry.authorizer_decision("deny", reason=str(error))
        raise unauthorized() from None
    except (StoreUnavailable, KeyringUnavailable) as error:
        reason = "store unavailable" if isinstance(error, StoreUnavailable) else "no keyring"
        telemetry.authorizer_decision("error", reason=reason)
        raise unavailable(error) from None
    telemetry.authorizer_decision("allow", username=claims.username,
                                  session_id=claims.session_id)
    return claims


def context(claims: AccessClaims) -> dict[str, str]:
    """What API Gateway passes to the routes beside the principal (the username):
    its values must be strings."""
    return {"jti": claims.jti, "iat": str(claims.issued_at), "exp": str(claims.expires_at),
            "sid": claims.session_id}


def claims_from(authorizer_context: Mapping[str, str]) -> AccessClaims:
    """The verified caller, back from a request's ``context["authorizer"]``."""
    return AccessClaims(
        username=authorizer_context["principalId"],
        jti=authorizer_context["jti"],
        issued_at=float(authorizer_context["iat"]),
        expires_at=int(authorizer_context["exp"]),
        session_id=authorizer_context["sid"],
    )
