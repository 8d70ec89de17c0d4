"""Attacks on known devices and session lifetimes (issue 21 findings 1, 4 and 5), over
HTTP to `chalice local`, on both stores.

- lockout: a flood of wrong passwords from elsewhere (concurrent) must evaluate at
  most 5 and never keep the owner out of a device they signed in on before, nor stop
  their password change behind a bearer token.
- session: a session past its absolute end (signed in 30 days ago, refreshed
  yesterday) must not be usable or refreshable.
- passkey: deleting a passkey must end every session a thief signed in with it.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from chalicelib.sessions import new_session_id
from chalicelib.store.model import RefreshToken, Session
from chalicelib.tokens import issue_access_token, new_refresh_token
from tests.authenticator import SoftAuthenticator, b64
from tests.reliability.client import Http
from tests.reliability.stack import PASSWORD, Served, fresh_name
from tests.reliability.tally import TALLY
from tests.reliability.test_token_attacks import refused

pytestmark = pytest.mark.reliability

FLOOD = 50
DAY = 86_400


@pytest.fixture
def http(served: Served) -> Http:
    return served.http()


def sign_in(http: Http, username: str, password: str = PASSWORD,
            device_token: str | None = None) -> Any:
    body = {"username": username, "password": password}
    if device_token is not None:
        body["device_token"] = device_token
    return http.call("POST", "/login", body)


def test_a_flood_from_elsewhere_keeps_neither_the_owner_out_nor_their_password_change(
    served: Served, http: Http
) -> None:
    username = fresh_name("owner")
    assert http.call("POST", "/signup", {"username": username, "password": PASSWORD}).status == 201
    first = sign_in(http, username)
    assert first.status == 200, first.body
    device_token = first.body["device_token"]
    owner = sign_in(http, username, device_token=device_token)  # a session on that device
    assert owner.status == 200

    def guess(number: int) -> int:
        return int(served.http().call(
            "POST", "/login", {"username": username, "password": f"guess {number} wrong!"}
        ).status)

    with ThreadPoolExecutor(10) as pool:
        statuses = list(pool.map(guess, range(FLOOD)))
    assert all(status < 500 for status in statuses)
    evaluated = statuses.count(401)
    TALLY.figure(f"lockout flood {served.kind}: wrong passwords evaluated of {FLOOD}", evaluated)
    assert evaluated <= 5 and statuses.count(429) == FLOOD - evaluated
    for status in statuses:
        TALLY.attack("lockout: password guess from elsewhere", served.kind, status,
                     refused=status in {401, 429})

    back = sign_in(http, username, device_token=device_token)
    TALLY.attack("lockout: flood keeps the owner's known device out", served.kind, back.status,
                 refused=back.status == 200)
    assert back.status == 200, back.body
    changed = http.call("POST", "/me/password",
                        {"current_password": PASSWORD, "new_password": PASSWORD + " 2"},
                        token=owner.body["access_token"])
    TALLY.attack("lockout: flood stops the owner's password change", served.kind,
                 changed.status, refused=changed.status == 204)
    assert changed.status == 204, changed.body
    still_shut = sign_in(http, username, PASSWORD + " 2")  # from elsewhere: still locked
    refused("lockout: owner's success reopens the unknown bucket", served, still_shut, {429})


def test_a_session_past_its_absolute_end_is_refused(served: Served, http: Http) -> None:
    """A thief who kept refreshing a stolen session: signed in 30 days and a minute ago,
    refreshed yesterday (its idle end is days away), its absolute end a minute past."""
    username = fresh_name("longlived")
    assert http.call("POST", "/signup", {"username": username, "password": PASSWORD}).status == 201
    backend, now = served.backend, time.time()
    user = backend.store.get_user(username)
    assert user is not None
    sid, signed_in = new_session_id(), now - 30 * DAY - 60
    backend.store.start_session(Session(
        username=username, sid=sid, credential_stamp=user.credential_stamp,
        created_at=signed_in, last_used_at=now - DAY, expires_at=int(now) + 6 * DAY,
        ends_at=int(signed_in) + 30 * DAY,
    ))
    refresh_token, token_hash = new_refresh_token()
    backend.store.add_refresh_token(RefreshToken(
        token_hash=token_hash, username=username, family=sid,
        issued_at_ms=int((now - DAY) * 1000), expires_at=int(now) + 6 * DAY,
        session_ends_at=int(signed_in) + 30 * DAY,
    ))
    access_token, _ = issue_access_token(
        username=username, session_id=sid, keyring=backend.keyring,
        settings=backend.settings, now=now,
    )
    refused("session: access token past the session's absolute end", served,
            http.call("GET", "/me", token=access_token), {401})
    refused("session: refresh past the session's absolute end", served,
            http.call("POST", "/token/refresh", {"refresh_token": refresh_token}), {401})


def test_deleting_a_passkey_ends_the_sessions_a_thief_signed_in_with_it(
    served: Served, http: Http
) -> None:
    username = fresh_name("pkowner")
    assert http.call("POST", "/signup", {"username": username, "password": PASSWORD}).status == 201
    owner = sign_in(http, username).body
    stolen = SoftAuthenticator()
    options = http.call("POST", "/me/passkeys/options", {"password": PASSWORD},
                        token=owner["access_token"]).body
    added = http.call("POST", "/me/passkeys", {"credential": stolen.create(options)},
                      token=owner["access_token"])
    assert added.status == 201, added.body
    thief = []
    for _ in range(3):
        options = http.call("POST", "/login/passkey/options", {}).body
        reply = http.call("POST", "/login/passkey", {"credential": stolen.get(options)})
        assert reply.status == 200, reply.body
        thief.append(reply.body)
    deleted = http.call("DELETE", f"/me/passkeys/{b64(stolen.credential_id)}",
                        {"password": PASSWORD}, token=owner["access_token"])
    assert deleted.status == 204, deleted.body
    for pair in thief:
        refused("passkey: session of a deleted passkey", served,
                http.call("GET", "/me", token=pair["access_token"]), {401})
        refused("passkey: refresh in a session of a deleted passkey", served,
                http.call("POST", "/token/refresh",
                          {"refresh_token": pair["refresh_token"]}), {401})
    assert http.call("GET", "/me", token=owner["access_token"]).status == 200
