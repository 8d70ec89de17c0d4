"""Attacks on two-factor codes and passkeys, over HTTP to `chalice local`, on both stores.

Every attack must be refused, never with a 5xx, and each is counted in the
tally under the kinds "two-factor" and "passkey".
"""

from __future__ import annotations

import time
from typing import Any

import pyotp
import pytest

from chalicelib.tokens import issue_mfa_token
from tests.authenticator import SoftAuthenticator
from tests.reliability.client import Http
from tests.reliability.forge import ATTACKER_KEY, claims, compose, header
from tests.reliability.stack import PASSWORD, Served, fresh_name, session
from tests.reliability.tally import TALLY
from tests.reliability.test_token_attacks import UNAUTHORIZED, refused

pytestmark = pytest.mark.reliability


@pytest.fixture
def http(served: Served) -> Http:
    return served.http()


@pytest.fixture
def two_factor(served: Served, http: Http) -> dict[str, Any]:
    """A fresh account with two-factor on; its secret, recovery codes and username.

    Confirming spends the current step; the next step's code is first used by a test.
    """
    username = fresh_name("totp")
    pair = session(http, username)
    started = http.call("POST", "/me/totp", {"password": PASSWORD}, token=pair["access_token"])
    assert started.status == 200, started.body
    secret = started.body["secret"]
    confirmed = http.call("POST", "/me/totp/confirm", {"code": pyotp.TOTP(secret).now()},
                          token=pair["access_token"])
    assert confirmed.status == 200, confirmed.body
    for code in confirmed.body["recovery_codes"]:
        TALLY.secret_password(code)  # never logged either
    return {"username": username, "secret": secret, "codes": confirmed.body["recovery_codes"],
            "access_token": pair["access_token"]}


def mfa_token(http: Http, username: str) -> str:
    reply = http.call("POST", "/login", {"username": username, "password": PASSWORD})
    assert reply.status == 200 and reply.body["mfa_required"] is True, reply.body
    return str(reply.body["mfa_token"])


def submit(http: Http, token: str, code: str) -> Any:
    return http.call("POST", "/login/totp", {"mfa_token": token, "code": code})


def test_a_replayed_code_is_refused(served: Served, http: Http, two_factor: dict) -> None:
    code = pyotp.TOTP(two_factor["secret"]).at(time.time() + 30)
    assert submit(http, mfa_token(http, two_factor["username"]), code).status == 200
    reply = submit(http, mfa_token(http, two_factor["username"]), code)
    refused("two-factor: code replayed", served, reply, {401})


def test_a_code_from_two_steps_ago_is_refused(
    served: Served, http: Http, two_factor: dict
) -> None:
    code = pyotp.TOTP(two_factor["secret"]).at(time.time() - 60)
    reply = submit(http, mfa_token(http, two_factor["username"]), code)
    refused("two-factor: code from another time step", served, reply, {401})


def test_a_recovery_code_used_twice_is_refused(
    served: Served, http: Http, two_factor: dict
) -> None:
    code = two_factor["codes"][0]
    assert submit(http, mfa_token(http, two_factor["username"]), code).status == 200
    reply = submit(http, mfa_token(http, two_factor["username"]), code)
    refused("two-factor: recovery code used twice", served, reply, {401})


def test_forged_expired_and_misused_mfa_tokens_are_refused(
    served: Served, http: Http, two_factor: dict
) -> None:
    backend, username = served.backend, two_factor["username"]
    code = two_factor["codes"][1]
    mfa_claims = claims(backend, username, aud=f"{backend.settings.audience}:mfa", exp=None)
    mfa_claims["exp"] = int(time.time()) + 300
    forged = compose(header(backend, typ="mfa+jwt"), mfa_claims, ATTACKER_KEY)
    refused("two-factor: mfa_token signed with another key", served,
            submit(http, forged, code), {401})
    expired, _ = issue_mfa_token(username=username, keyring=backend.keyring,
                                 settings=backend.settings, now=time.time() - 400)
    refused("two-factor: expired mfa_token", served, submit(http, expired, code), {401})
    refused("two-factor: access token used as mfa_token", served,
            submit(http, two_factor["access_token"], code), {401})
    pending = mfa_token(http, username)
    reply = http.call("GET", "/me", token=pending)
    refused("two-factor: mfa_token used as a bearer token", served, reply, {401})
    assert reply.body == UNAUTHORIZED
    assert submit(http, pending, code).status == 200
    refused("two-factor: mfa_token used twice", served,
            submit(http, pending, two_factor["codes"][2]), {401})


def test_guessing_codes_is_throttled(served: Served, http: Http, two_factor: dict) -> None:
    token = mfa_token(http, two_factor["username"])
    # Codes count in their own throttle, apart from the password's (API.md, Second
    # factor; the password step counts in its device's bucket): five wrong codes lock it.
    for guess in ("000000", "111111", "222222", "333333", "444444"):
        assert submit(http, token, guess).status == 401
    right = pyotp.TOTP(two_factor["secret"]).at(time.time() + 30)
    reply = submit(http, token, right)
    refused("two-factor: code after five wrong guesses", served, reply, {429})


def test_two_factor_cannot_be_turned_off_without_a_right_code(
    served: Served, http: Http, two_factor: dict
) -> None:
    token = two_factor["access_token"]
    no_code = http.call("DELETE", "/me/totp", {"password": PASSWORD}, token=token)
    refused("two-factor: turned off without a code", served, no_code, {400})
    wrong = http.call("DELETE", "/me/totp", {"password": PASSWORD, "code": "123456"},
                      token=token)
    refused("two-factor: turned off with a wrong code", served, wrong, {403})
    me = http.call("GET", "/me", token=token)
    assert me.body["totp_enabled"] is True


# -- passkeys ----------------------------------------------------------------------------


@pytest.fixture
def device(http: Http) -> SoftAuthenticator:
    """A fresh account's registered passkey (software authenticator)."""
    token = session(http, fresh_name("passkey"))["access_token"]
    device = SoftAuthenticator()
    options = http.call("POST", "/me/passkeys/options", {"password": PASSWORD}, token=token).body
    added = http.call("POST", "/me/passkeys", {"credential": device.create(options)},
                      token=token)
    assert added.status == 201, added.body
    return device


def assertion(http: Http, device: SoftAuthenticator, **tamper: Any) -> dict[str, Any]:
    options = http.call("POST", "/login/passkey/options", {}).body
    return device.get(options, **tamper)


def sign_in(http: Http, credential: dict[str, Any]) -> Any:
    return http.call("POST", "/login/passkey", {"credential": credential})


def test_a_replayed_assertion_is_refused(
    served: Served, http: Http, device: SoftAuthenticator
) -> None:
    genuine = assertion(http, device)
    assert sign_in(http, genuine).status == 200
    refused("passkey: assertion replayed", served, sign_in(http, genuine), {401})


@pytest.mark.parametrize(
    ("case", "tamper"),
    [
        ("passkey: assertion for another origin", {"origin": "https://evil.example"}),
        ("passkey: assertion for another relying party", {"rp_id": "evil.example"}),
        ("passkey: assertion without user verification", {"verified": False}),
    ],
)
def test_a_misdirected_assertion_is_refused(
    served: Served, http: Http, device: SoftAuthenticator, case: str, tamper: dict
) -> None:
    refused(case, served, sign_in(http, assertion(http, device, **tamper)), {401})


def test_a_cloned_authenticator_is_refused(
    served: Served, http: Http, device: SoftAuthenticator
) -> None:
    assert sign_in(http, assertion(http, device, count_step=5)).status == 200
    device.sign_count -= 3
    refused("passkey: signature counter went backwards", served,
            sign_in(http, assertion(http, device)), {401})


def test_an_unknown_passkey_is_refused(served: Served, http: Http) -> None:
    stranger = SoftAuthenticator(user_handle="AAAAAAAAAAAAAAAAAAAAAA")
    refused("passkey: credential the server never registered", served,
            sign_in(http, assertion(http, stranger)), {401})


def test_a_made_up_challenge_is_refused(
    served: Served, http: Http, device: SoftAuthenticator
) -> None:
    made_up = device.get({"publicKey": {"challenge": "bm90LWEtY2hhbGxlbmdlLW9mLW91cnM"}})
    refused("passkey: challenge the server never issued", served, sign_in(http, made_up), {401})
