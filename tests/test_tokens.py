"""Access tokens, refresh tokens (chalicelib/tokens.py) and cursors (chalicelib/cursors.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest

from chalicelib import deps, tokens
from chalicelib.config import Settings, load_settings
from chalicelib.cursors import UnknownCursorKey, read_cursor, sign_cursor
from chalicelib.errors import InvalidInput
from chalicelib.signing_keys import Keyring, parse_keyring
from chalicelib.tokens import (
    AccessClaims,
    InvalidToken,
    VerifiedTokenCache,
    hash_refresh_token,
    issue_access_token,
    new_refresh_token,
    verify_access_token,
)
from tests.helpers import make_keyring_json

SETTINGS = load_settings({
    "CHALKBOARD_STAGE": "test", "CHALKBOARD_WEB_ORIGIN": "http://localhost:8080",
})
KEYRING = parse_keyring(make_keyring_json("old", "new"))



def verify(token: str, *, keyring: Keyring, settings: Settings, now: float | None = None
           ) -> AccessClaims:
    """``verify_access_token`` at ``now`` (default: the moment of the call)."""
    return verify_access_token(token, keyring=keyring, settings=settings,
                               now=time.time() if now is None else now)

def now() -> int:
    return int(time.time())


def claims(**overrides: object) -> dict:
    at = now()  # once: two reads can straddle a second
    base = {
        "sub": "alice", "iat": at, "exp": at + 900, "jti": "abc",
        "iss": SETTINGS.issuer, "aud": SETTINGS.audience, "sid": "s1",
    }
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}


def signed(payload: dict, *, key: bytes | None = None, kid: str = "new", **headers: object) -> str:
    return jwt.encode(payload, key or KEYRING.keys.get(kid, KEYRING.keys["new"]),
                      algorithm="HS256", headers={"kid": kid, **headers})


def hand_signed(header: dict, payload: dict, key: bytes, digest=hashlib.sha512) -> str:
    """Signed by hand, for algorithms PyJWT would refuse to sign with our key."""
    signing_input = b64(header) + "." + b64(payload)
    mac = hmac.new(key, signing_input.encode(), digest).digest()
    return signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_issued_token_verifies_with_its_claims() -> None:
    issued_now = time.time()
    token, issued = issue_access_token(username="alice", session_id="s1",
                                       keyring=KEYRING, settings=SETTINGS,
                                       now=issued_now)
    verified = verify(token, keyring=KEYRING, settings=SETTINGS)
    assert verified == issued
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT", "kid": "new"}
    assert verified.expires_at - int(issued_now) == SETTINGS.access_token_ttl


def test_token_signed_with_a_rotated_out_but_kept_key_still_verifies() -> None:
    token = signed(claims(), kid="old")
    assert verify(token, keyring=KEYRING, settings=SETTINGS).username == "alice"


def test_issued_at_keeps_milliseconds_and_never_rounds_up() -> None:
    _, issued = issue_access_token(username="a", session_id="s1",
                                   keyring=KEYRING, settings=SETTINGS,
                                   now=1_700_000_000.9999)
    assert issued.issued_at == 1_700_000_000.999


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda: b64({"alg": "none", "kid": "new"}) + "." + b64(claims()) + ".",
                     id="alg-none"),
        pytest.param(lambda: signed(claims(), key=b"k" * 32 + b"x" * 32), id="other-key"),
        pytest.param(lambda: b64({"alg": "RS256", "kid": "new"}) + "." + b64(claims()) + ".c2ln",
                     id="rs256-header"),
        pytest.param(lambda: b64({"alg": "ES256", "kid": "new"}) + "." + b64(claims()) + ".c2ln",
                     id="es256-header"),
        pytest.param(lambda: hand_signed({"alg": "HS512", "kid": "new"}, claims(),
                                         KEYRING.keys["new"]), id="hs512-with-our-key"),
        pytest.param(lambda: signed(claims(exp=now() - 31)), id="expired-beyond-leeway"),
        pytest.param(lambda: signed(claims(iss="someone-else")), id="wrong-iss"),
        pytest.param(lambda: signed(claims(aud="other-api")), id="wrong-aud"),
        pytest.param(lambda: signed(claims(aud=["chalkboard-api", "x"])), id="aud-list"),
        pytest.param(lambda: signed(claims(iat=now() + 3600)), id="issued-in-future"),
        pytest.param(lambda: signed(claims(), kid="unknown"), id="unknown-kid"),
        pytest.param(lambda: signed(claims(sub="")), id="empty-sub"),
        pytest.param(lambda: signed(claims(sub=5)), id="numeric-sub"),
        pytest.param(lambda: "a" * 5000, id="huge"),
        pytest.param(lambda: "not.a.jwt", id="garbage"),
    ]
    + [
        pytest.param(lambda claim=claim: signed(claims(**{claim: None})), id=f"missing-{claim}")
        for claim in ["exp", "iat", "sub", "jti", "iss", "aud", "sid"]
    ],
)
def test_forged_or_malformed_tokens_are_refused(make_token) -> None:
    with pytest.raises(InvalidToken):
        verify(make_token(), keyring=KEYRING, settings=SETTINGS)


@pytest.mark.parametrize("kid", ["../../dev/null", "' OR 1=1", "", None, 7, ["new"]])
def test_hostile_kid_values_are_refused(kid: object) -> None:
    header = b64({"alg": "HS256", "kid": kid})
    token = header + "." + b64(claims()) + ".c2ln"
    with pytest.raises(InvalidToken):
        verify(token, keyring=KEYRING, settings=SETTINGS)


@pytest.mark.parametrize("header", ["jku", "x5u", "jwk"])
def test_key_url_headers_are_ignored(header: str) -> None:
    """A token naming a key elsewhere is judged by our key alone, whatever it points to."""
    value = {"kty": "oct", "k": "QUFBQQ"} if header == "jwk" else "https://evil.example/k"
    forged = signed(claims(), key=b"attacker-key-" * 4, **{header: value})
    with pytest.raises(InvalidToken):
        verify(forged, keyring=KEYRING, settings=SETTINGS)
    genuine = signed(claims(), **{header: value})
    assert verify(genuine, keyring=KEYRING, settings=SETTINGS).username == "alice"


def test_expiry_within_leeway_is_accepted() -> None:
    token = signed(claims(exp=now() - 20))
    assert verify(token, keyring=KEYRING, settings=SETTINGS).jti == "abc"


def test_refresh_tokens_are_random_and_stored_hashed() -> None:
    token, token_hash = new_refresh_token()
    other, _ = new_refresh_token()
    assert token != other and len(token) >= 43
    assert token_hash == hash_refresh_token(token) and token not in token_hash


def test_cursor_round_trips_and_survives_key_rotation() -> None:
    cursor = sign_cursor("01ARZ3NDEKTSV4RRFFQ69G5FAV", KEYRING)
    assert read_cursor(cursor, KEYRING) == "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    rotated = Keyring(current="old", keys=KEYRING.keys)
    assert read_cursor(cursor, rotated) == "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def test_cursor_from_another_keyring_is_refused() -> None:
    foreign = parse_keyring(make_keyring_json("new"))
    with pytest.raises(InvalidInput):
        read_cursor(sign_cursor("01ARZ3NDEKTSV4RRFFQ69G5FAV", foreign), KEYRING)


def test_a_cursor_naming_a_key_we_lack_is_told_apart_from_a_tampered_one() -> None:
    newer = parse_keyring(make_keyring_json("newer"))
    with pytest.raises(UnknownCursorKey):
        read_cursor(sign_cursor("01ARZ3NDEKTSV4RRFFQ69G5FAV", newer), KEYRING)
    cursor = sign_cursor("01ARZ3NDEKTSV4RRFFQ69G5FAV", KEYRING)
    tampered = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
    for bad in (tampered, cursor.partition(".")[2], "newer.", "newer.!!"):
        with pytest.raises(InvalidInput) as refused:
            read_cursor(bad, KEYRING)
        assert not isinstance(refused.value, UnknownCursorKey), bad


def test_a_verified_token_still_expires_when_presented_again(monkeypatch) -> None:
    token = signed(claims(exp=now() + 5))
    assert verify(token, keyring=KEYRING, settings=SETTINGS).username == "alice"
    later = time.time() + 5 + 31  # past exp and the 30 s leeway
    with pytest.raises(InvalidToken):
        verify(token, keyring=KEYRING, settings=SETTINGS, now=later)


def test_a_verified_token_is_checked_again_under_another_keyring() -> None:
    token = signed(claims(), kid="old")
    assert verify(token, keyring=KEYRING, settings=SETTINGS).jti == "abc"
    pruned = Keyring(current="new", keys={"new": KEYRING.keys["new"]})
    with pytest.raises(InvalidToken):
        verify(token, keyring=pruned, settings=SETTINGS)


def test_the_verified_token_cache_stays_within_its_size() -> None:
    cache = VerifiedTokenCache(max_size=2)
    claims_ = verify(signed(claims()), keyring=KEYRING, settings=SETTINGS)
    for token in ("a", "b", "c"):
        cache.put(token, claims_, keyring=KEYRING, settings=SETTINGS)
        assert len(cache) <= 2
    assert cache.get("c", keyring=KEYRING, settings=SETTINGS) == claims_
    cache.clear()
    assert cache.get("c", keyring=KEYRING, settings=SETTINGS) is None


def test_deps_reset_forgets_verified_tokens() -> None:
    verify(signed(claims()), keyring=KEYRING, settings=SETTINGS)
    assert len(tokens.verified_tokens) > 0
    deps.reset()
    assert len(tokens.verified_tokens) == 0
