"""Access tokens crafted by hand, as an attacker would make them.

PyJWT refuses to sign some of these (``alg: none`` with a key, HS256 with an
empty key), so the segments are put together here byte by byte.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

from tests.reliability.stack import Backend

ATTACKER_KEY = os.urandom(32)


def b64(data: bytes | dict | list) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def compose(header: dict[str, Any] | str, payload: dict[str, Any], key: bytes | None,
            digest: Callable[..., Any] = hashlib.sha256) -> str:
    """``header.payload.signature``; no signature when ``key`` is None."""
    first = header if isinstance(header, str) else b64(header)
    signing_input = f"{first}.{b64(payload)}"
    if key is None:
        return signing_input + "."
    mac = hmac.new(key, signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64(mac)}"


def claims(backend: Backend, username: str, **changes: Any) -> dict[str, Any]:
    """A genuine token's claims, changed; a change to None removes the claim."""
    now = time.time()
    payload = {  # iat in milliseconds, as the server issues it (whole seconds would predate
        # the account, whose creation voids every earlier token)
        "sub": username, "iat": math.floor(now * 1000) / 1000, "exp": int(now) + 900,
        "jti": uuid.uuid4().hex,
        "iss": backend.settings.issuer, "aud": backend.settings.audience,
        "sid": backend.start_session(username),  # a live one: only the forgery is wrong
    }
    payload.update(changes)
    return {name: value for name, value in payload.items() if value is not None}


def header(backend: Backend, **changes: Any) -> dict[str, Any]:
    values = {"alg": "HS256", "typ": "JWT", "kid": backend.keyring.current, **changes}
    return {name: value for name, value in values.items() if value is not None}


def ours(backend: Backend) -> bytes:
    return backend.keyring.signing_key


Forgery = Callable[[Backend, str], str]


def _missing(claim: str) -> Forgery:
    return lambda b, u: compose(header(b), claims(b, u, **{claim: None}), ours(b))


def _nested_header(b: Backend, u: str) -> str:
    deep = "[" * 1200 + "]" * 1200
    nested = '{"alg":"HS256","kid":"' + b.keyring.current + '","x":' + deep + "}"
    return compose(b64(nested.encode()), claims(b, u), ours(b))


def _tampered_payload(b: Backend, u: str) -> str:
    genuine = b.mint("someone-else")
    first, _, signature = genuine.split(".")
    return f"{first}.{b64(claims(b, u))}.{signature}"


def _oversized(size: int) -> Forgery:
    """Genuinely signed with our key, padded with a claim to ``size`` characters."""
    return lambda b, u: compose(header(b), claims(b, u, pad="p" * (size * 3 // 4)), ours(b))


def _attacker_jwk(b: Backend, u: str) -> str:
    jwk = {"kty": "oct", "k": b64(ATTACKER_KEY), "kid": b.keyring.current}
    return compose(header(b, jwk=jwk), claims(b, u), ATTACKER_KEY)


# Every one must be answered 401 (or, for a header too large for the server, a 4xx).
FORGERIES: dict[str, Forgery] = {
    "alg-none": lambda b, u: compose(header(b, alg="none"), claims(b, u), None),
    "alg-None-capitalised": lambda b, u: compose(header(b, alg="None"), claims(b, u), None),
    "alg-none-with-our-signature": lambda b, u: compose(header(b, alg="none"), claims(b, u),
                                                        ours(b)),
    "alg-missing": lambda b, u: compose(header(b, alg=None), claims(b, u), ours(b)),
    "hs256-another-key": lambda b, u: compose(header(b), claims(b, u), ATTACKER_KEY),
    "hs256-empty-key": lambda b, u: compose(header(b), claims(b, u), b""),
    "rs256-header-hmac-of-our-key": lambda b, u: compose(header(b, alg="RS256"), claims(b, u),
                                                         ours(b)),
    "es256-header": lambda b, u: compose(header(b, alg="ES256"), claims(b, u), ATTACKER_KEY),
    "hs384-our-key": lambda b, u: compose(header(b, alg="HS384"), claims(b, u), ours(b),
                                          hashlib.sha384),
    "hs512-our-key": lambda b, u: compose(header(b, alg="HS512"), claims(b, u), ours(b),
                                          hashlib.sha512),
    **{f"missing-{claim}": _missing(claim)
       for claim in ["exp", "iat", "sub", "jti", "iss", "aud", "sid"]},
    "expired-beyond-leeway": lambda b, u: compose(
        header(b), claims(b, u, exp=int(time.time()) - 60, iat=int(time.time()) - 960), ours(b)),
    "issued-in-the-future": lambda b, u: compose(
        header(b), claims(b, u, iat=int(time.time()) + 3600), ours(b)),
    "not-before-in-the-future": lambda b, u: compose(
        header(b), claims(b, u, nbf=int(time.time()) + 3600), ours(b)),
    "wrong-iss": lambda b, u: compose(header(b), claims(b, u, iss="evil"), ours(b)),
    "wrong-aud": lambda b, u: compose(header(b), claims(b, u, aud="another-api"), ours(b)),
    "aud-list-with-ours": lambda b, u: compose(
        header(b), claims(b, u, aud=[b.settings.audience, "another-api"]), ours(b)),
    "sub-empty": lambda b, u: compose(header(b), claims(b, u, sub=""), ours(b)),
    "sub-number": lambda b, u: compose(header(b), claims(b, u, sub=7), ours(b)),
    "jti-object": lambda b, u: compose(header(b), claims(b, u, jti={"a": 1}), ours(b)),
    "kid-unknown": lambda b, u: compose(header(b, kid="k-unknown"), claims(b, u), ours(b)),
    "kid-path-traversal-empty-key": lambda b, u: compose(
        header(b, kid="../../dev/null"), claims(b, u), b""),
    "kid-path-traversal-our-key": lambda b, u: compose(
        header(b, kid="../../../../etc/passwd"), claims(b, u), ours(b)),
    "kid-sql-injection": lambda b, u: compose(header(b, kid="' OR 1=1 --"), claims(b, u),
                                              ours(b)),
    "kid-missing": lambda b, u: compose(header(b, kid=None), claims(b, u), ours(b)),
    "kid-number": lambda b, u: compose(header(b, kid=7), claims(b, u), ours(b)),
    "kid-list": lambda b, u: compose(header(b, kid=[b.keyring.current]), claims(b, u), ours(b)),
    "jku-to-attacker-key": lambda b, u: compose(
        header(b, jku="http://127.0.0.1:9/jwks.json"), claims(b, u), ATTACKER_KEY),
    "x5u-to-attacker-key": lambda b, u: compose(
        header(b, x5u="http://127.0.0.1:9/cert.pem"), claims(b, u), ATTACKER_KEY),
    "jwk-embedded-attacker-key": _attacker_jwk,
    "payload-tampered-signature-kept": _tampered_payload,
    "signature-stripped": lambda b, u: b.mint(u).rpartition(".")[0] + ".",
    "header-nested-1200-deep": _nested_header,
    "garbage": lambda b, u: "not-a-jwt-at-all-but-long-enough",
    "two-segments": lambda b, u: b.mint(u).rpartition(".")[0],
    "genuine-but-5-kib": _oversized(5 * 1024),
    "genuine-but-100-kib": _oversized(100 * 1024),
}

# Too big for any HTTP server's header limit: refused before the app sees it.
HEADER_TOO_LARGE = {"genuine-but-100-kib"}
