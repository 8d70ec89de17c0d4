"""Access tokens (HS256 JWTs with a ``kid``), MFA tokens and refresh tokens (paging
cursors: cursors.py).

The keyring and settings are passed in. The one thing kept between calls is
``verified_tokens``, a bounded cache of tokens already checked (``deps.reset``
empties it).
"""

from __future__ import annotations

import binascii
import hashlib
import json
import math
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from chalicelib.config import Settings
from chalicelib.encoding import b64url_decode
from chalicelib.signing_keys import Keyring

ALGORITHM = "HS256"
LEEWAY_SECONDS = 30
REQUIRED_CLAIMS = ["sub", "iat", "exp", "jti", "iss", "aud", "sid"]
# API Gateway refuses headers over 10 KiB; a real token is ~300 bytes.
MAX_TOKEN_LENGTH = 4096


class InvalidToken(Exception):
    """Any reason an access token is not accepted; the reason is logged, never sent."""


class UnknownKey(InvalidToken):
    """The token names a key this keyring lacks: forged, or signed after a rotation."""


@dataclass(frozen=True)
class AccessClaims:
    username: str
    jti: str
    issued_at: float  # seconds, millisecond precision
    expires_at: int
    session_id: str  # the ``sid`` claim: ending the session ends this token


def issue_access_token(
    *, username: str, session_id: str, keyring: Keyring, settings: Settings, now: float
) -> tuple[str, AccessClaims]:
    claims = AccessClaims(
        username=username,
        jti=uuid.uuid4().hex,
        issued_at=math.floor(now * 1000) / 1000,
        expires_at=int(now) + settings.access_token_ttl,
        session_id=session_id,
    )
    payload = {
        "sub": claims.username,
        "iat": claims.issued_at,
        "exp": claims.expires_at,
        "jti": claims.jti,
        "iss": settings.issuer,
        "aud": settings.audience,
        "sid": claims.session_id,
    }
    token = jwt.encode(payload, keyring.signing_key, algorithm=ALGORITHM,
                       headers={"kid": keyring.current})
    return token, claims


def _unverified_kid(token: str) -> object:
    """The header's ``kid``, read from the first segment alone, only to choose the key.

    ``jwt.decode`` then checks the whole token strictly. PyJWT's
    ``get_unverified_header`` would decode and validate every segment first: a
    second full parse that was a third of each verification's time (bench/).
    """
    segment = token.partition(".")[0]
    try:
        header = json.loads(b64url_decode(segment))
    except (binascii.Error, ValueError, RecursionError):
        return None
    return header.get("kid") if isinstance(header, dict) else None


class VerifiedTokenCache:
    """Tokens whose signature and claims were already checked, with the keyring and
    settings that checked them.

    A token never changes, so the same token presented again (every request of a
    session) needs only its expiry checked again; the caller still asks the store
    about revocation every time. Bounded, and emptied when full rather than
    tracking recency: a refill costs one full check a token.
    """

    def __init__(self, max_size: int = 4096) -> None:
        self.max_size = max_size
        self._entries: dict[str, tuple[Keyring, Settings, AccessClaims]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, token: str, *, keyring: Keyring, settings: Settings) -> AccessClaims | None:
        """The claims ``token`` had when this keyring and these settings checked it."""
        entry = self._entries.get(token)
        if entry is None or entry[0] is not keyring or entry[1] is not settings:
            return None
        return entry[2]

    def put(self, token: str, claims: AccessClaims, *, keyring: Keyring, settings: Settings
            ) -> None:
        if len(self._entries) >= self.max_size:
            self._entries.clear()
        self._entries[token] = (keyring, settings, claims)

    def clear(self) -> None:
        self._entries.clear()


verified_tokens = VerifiedTokenCache()


def verify_access_token(token: str, *, keyring: Keyring, settings: Settings, now: float
                        ) -> AccessClaims:
    """Check signature, algorithm, issuer, audience, expiry and presence of every claim.

    The key is chosen only by ``kid`` from our keyring; ``jku``, ``x5u`` and ``jwk``
    headers are never consulted, and the algorithm is pinned to HS256.
    """
    cached = verified_tokens.get(token, keyring=keyring, settings=settings)
    if cached is not None:
        if now <= cached.expires_at + LEEWAY_SECONDS:  # PyJWT's own expiry rule
            return cached
        raise InvalidToken("ExpiredSignatureError")
    claims = _verify_signature_and_claims(token, keyring, settings)
    verified_tokens.put(token, claims, keyring=keyring, settings=settings)
    return claims


def _verify_signature_and_claims(token: str, keyring: Keyring, settings: Settings) -> AccessClaims:
    payload = _decode(token, keyring, settings, audience=settings.audience,
                      required=REQUIRED_CLAIMS)
    sid = payload["sid"]
    if not isinstance(sid, str) or not sid:
        raise InvalidToken("sub, jti and sid must be non-empty strings")
    if len(sid) > 64:
        raise InvalidToken("sid is too long")
    return AccessClaims(
        username=payload["sub"], jti=payload["jti"], issued_at=float(payload["iat"]),
        expires_at=int(payload["exp"]), session_id=sid,
    )


def _decode(
    token: str, keyring: Keyring, settings: Settings, *, audience: str, required: list[str],
    now: float | None = None,
) -> dict[str, Any]:
    """The payload of a token of ours for ``audience``, every check applied: the key by
    ``kid`` only, HS256 only, issuer, audience, every ``required`` claim, ``sub`` and
    ``jti`` non-empty strings, ``iat`` and ``exp`` numbers. Expiry is judged by PyJWT on
    the system clock, or against ``now`` when given."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("token too long")
    kid = _unverified_kid(token)
    key = keyring.keys.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise UnknownKey("no header kid naming a key of ours")
    try:
        payload: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=settings.issuer,
            leeway=LEEWAY_SECONDS,
            options={
                "require": required,
                "strict_aud": True,
                "verify_exp": now is None,
                "verify_iat": now is None,
            },
        )
    except jwt.InvalidTokenError as error:
        raise InvalidToken(type(error).__name__) from None
    subject, jti, iat, exp = payload["sub"], payload["jti"], payload["iat"], payload["exp"]
    if not all(isinstance(value, str) and value for value in (subject, jti)):
        raise InvalidToken("sub, jti and sid must be non-empty strings")
    for name, value in (("iat", iat), ("exp", exp)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidToken(f"{name} must be a number")
    if now is not None and (now > exp + LEEWAY_SECONDS or iat > now + LEEWAY_SECONDS):
        raise InvalidToken("ExpiredSignatureError" if now > exp else "ImmatureSignatureError")
    return payload


# -- the second-factor step's token -------------------------------------------------
# After a correct password on an account with two-factor on, the client holds an
# ``mfa_token`` until it sends a code. It is signed with the same keyring but
# carries its own audience and ``typ`` and no ``sid``, so it can never pass as an
# access token, and an access token can never pass as one. Its ``jti`` names a
# server-side record (chalicelib/totp.py) that makes it single use.
MFA_TOKEN_TTL = 300
MFA_TYP = "mfa+jwt"
MFA_REQUIRED_CLAIMS = ["sub", "iat", "exp", "jti", "iss", "aud"]


def mfa_audience(settings: Settings) -> str:
    return f"{settings.audience}:mfa"


@dataclass(frozen=True)
class MfaClaims:
    username: str
    jti: str
    expires_at: int


def issue_mfa_token(*, username: str, keyring: Keyring, settings: Settings, now: float
                    ) -> tuple[str, MfaClaims]:
    claims = MfaClaims(username=username, jti=uuid.uuid4().hex,
                       expires_at=int(now) + MFA_TOKEN_TTL)
    payload = {
        "sub": username,
        "iat": math.floor(now * 1000) / 1000,
        "exp": claims.expires_at,
        "jti": claims.jti,
        "iss": settings.issuer,
        "aud": mfa_audience(settings),
    }
    token = jwt.encode(payload, keyring.signing_key, algorithm=ALGORITHM,
                       headers={"kid": keyring.current, "typ": MFA_TYP})
    return token, claims


def verify_mfa_token(
    token: str, *, keyring: Keyring, settings: Settings, now: float
) -> MfaClaims:
    """The claims of a genuine ``mfa_token`` unexpired at ``now``; ``InvalidToken`` otherwise."""
    payload = _decode(token, keyring, settings, audience=mfa_audience(settings),
                      required=MFA_REQUIRED_CLAIMS, now=now)
    if jwt.get_unverified_header(token).get("typ") != MFA_TYP:  # parsed once _decode passed
        raise InvalidToken("not an mfa token")
    return MfaClaims(username=payload["sub"], jti=payload["jti"],
                     expires_at=int(payload["exp"]))


def new_refresh_token() -> tuple[str, str]:
    """A random opaque refresh token and the hash under which it is stored."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
