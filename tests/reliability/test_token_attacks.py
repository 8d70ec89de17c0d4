"""Forged, misused and revoked tokens and cursors, over HTTP to `chalice local`, on both stores.

Every attack must be refused, and none may cause a 5xx. Each is counted in the
tally as tried and refused (or not).
"""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.cursors import sign_cursor
from chalicelib.signing_keys import parse_keyring
from tests.helpers import make_keyring_json
from tests.http_client import Reply
from tests.reliability.client import Http
from tests.reliability.forge import (
    ATTACKER_KEY,
    FORGERIES,
    HEADER_TOO_LARGE,
    b64,
    claims,
    compose,
    header,
    ours,
)
from tests.reliability.stack import PASSWORD, Served, fresh_name, session
from tests.reliability.tally import TALLY

pytestmark = pytest.mark.reliability

UNAUTHORIZED = {"message": "Unauthorized"}


def refused(case: str, served: Served, reply: Reply, expected: set[int]) -> None:
    """Count the attack; it must get one of the ``expected`` refusals and never a 5xx."""
    ok = reply.status in expected
    TALLY.attack(case, served.kind, reply.status, refused=ok)
    assert reply.status < 500, (case, reply.status, reply.raw[:300])
    assert ok, (case, reply.status, reply.raw[:300])


@pytest.fixture(scope="module")
def victim(served: Served) -> dict[str, Any]:
    """A real account whose name the forgeries carry, with one message on the board."""
    http = served.http()
    username = fresh_name("victim")
    pair = session(http, username)
    assert http.call("POST", "/messages", {"content": "victim's post"},
                     token=pair["access_token"]).status == 201
    return {"username": username, **pair}


@pytest.fixture
def http(served: Served) -> Http:
    return served.http()


@pytest.mark.parametrize("attack", list(FORGERIES))
def test_forged_access_token_is_refused_on_read_and_write(
    served: Served, victim: dict[str, Any], http: Http, attack: str
) -> None:
    token = FORGERIES[attack](served.backend, victim["username"])
    for method, path, body in [("GET", "/me", None), ("POST", "/messages", {"content": "pwned"})]:
        case = f"forged token: {attack} ({method} {path})"
        if attack in HEADER_TOO_LARGE:  # Python's HTTP server stops a header line at 64 KiB
            TALLY.secret_token(token)
            status = http.status_of_raw_request(method, path, {"Authorization": f"Bearer {token}"})
            assert status is not None, "no answer at all to an oversized header"
            refused(case, served, Reply(status, {}, None, b""), {431})
            continue
        reply = http.call(method, path, body, token=token)
        refused(case, served, reply, {401})
        assert reply.body == UNAUTHORIZED


def test_genuine_token_still_works_whatever_jku_x5u_or_jwk_say(
    served: Served, victim: dict[str, Any], http: Http
) -> None:
    """The key comes from our keyring by kid alone: key-URL headers change nothing."""
    backend = served.backend
    decoy = {"kty": "oct", "k": b64(ATTACKER_KEY)}
    token = compose(
        header(backend, jku="http://127.0.0.1:9/jwks.json", x5u="http://127.0.0.1:9/x.pem",
               jwk=decoy),
        claims(backend, victim["username"]), ours(backend),
    )
    reply = http.call("GET", "/me", token=token)
    assert reply.status == 200
    assert reply.body["username"] == victim["username"]


def test_token_signed_with_the_previous_key_of_the_keyring_works(
    served: Served, victim: dict[str, Any], http: Http
) -> None:
    """Control for the kid attacks: a kid naming a kept key selects it."""
    backend = served.backend
    token = compose(header(backend, kid="k-old"), claims(backend, victim["username"]),
                    backend.keyring.keys["k-old"])
    assert http.call("GET", "/me", token=token).status == 200


def test_refresh_token_is_refused_as_an_access_token(served: Served, http: Http) -> None:
    pair = session(http, fresh_name("misuse"))
    reply = http.call("GET", "/me", token=pair["refresh_token"])
    refused("token misuse: refresh token used as access token", served, reply, {401})


def test_access_token_is_refused_as_a_refresh_token(served: Served, http: Http) -> None:
    pair = session(http, fresh_name("misuse"))
    reply = http.call("POST", "/token/refresh", {"refresh_token": pair["access_token"]})
    refused("token misuse: access token used as refresh token", served, reply, {401})


def test_refresh_token_used_twice_is_refused_and_revokes_its_family(
    served: Served, http: Http
) -> None:
    first = session(http, fresh_name("replay"))
    second = http.call("POST", "/token/refresh", {"refresh_token": first["refresh_token"]})
    assert second.status == 200
    replay = http.call("POST", "/token/refresh", {"refresh_token": first["refresh_token"]})
    refused("token misuse: refresh token used twice", served, replay, {401})
    after = http.call("POST", "/token/refresh", {"refresh_token": second.body["refresh_token"]})
    refused("token misuse: refresh token of a family revoked by a replay", served, after, {401})


def test_tokens_are_refused_after_logout(served: Served, http: Http) -> None:
    pair = session(http, fresh_name("logout"))
    assert http.call("POST", "/logout", {"refresh_token": pair["refresh_token"]},
                     token=pair["access_token"]).status == 204
    refused("revoked token: access token after logout", served,
            http.call("GET", "/me", token=pair["access_token"]), {401})
    refused("revoked token: refresh token after logout", served,
            http.call("POST", "/token/refresh", {"refresh_token": pair["refresh_token"]}), {401})


def test_tokens_are_refused_after_password_change(served: Served, http: Http) -> None:
    username = fresh_name("rotate")
    pair = session(http, username)
    other = http.call("POST", "/login", {"username": username, "password": PASSWORD}).body
    new_password = "an entirely new staple of horses"
    assert http.call("POST", "/me/password",
                     {"current_password": PASSWORD, "new_password": new_password},
                     token=pair["access_token"]).status == 204
    for name, tokens in [("this session", pair), ("another session", other)]:
        refused(f"revoked token: access token of {name} after password change", served,
                http.call("GET", "/me", token=tokens["access_token"]), {401})
        refused(f"revoked token: refresh token of {name} after password change", served,
                http.call("POST", "/token/refresh", {"refresh_token": tokens["refresh_token"]}),
                {401})
    assert http.call("POST", "/login", {"username": username, "password": new_password}
                     ).status == 200


def test_tokens_are_refused_after_the_user_is_deleted(served: Served, http: Http) -> None:
    username = fresh_name("gone")
    pair = session(http, username)
    served.backend.delete_user(username)
    refused("revoked token: access token after the user is gone", served,
            http.call("GET", "/me", token=pair["access_token"]), {401})
    refused("revoked token: refresh token after the user is gone", served,
            http.call("POST", "/token/refresh", {"refresh_token": pair["refresh_token"]}), {401})


def test_old_tokens_do_not_open_an_account_re_registered_under_the_same_name(
    served: Served, http: Http
) -> None:
    """A deleted user's tokens must not fall to whoever takes the name next."""
    username = fresh_name("reborn")
    old = session(http, username)
    served.backend.delete_user(username)
    new = session(http, username, "a stranger's own passphrase")
    refused("revoked token: old access token on a re-registered name", served,
            http.call("GET", "/me", token=old["access_token"]), {401})
    refused("revoked token: old refresh token on a re-registered name", served,
            http.call("POST", "/token/refresh", {"refresh_token": old["refresh_token"]}), {401})
    assert http.call("GET", "/me", token=new["access_token"]).status == 200


def _tampered_cursors(cursor: str, message_id: str) -> dict[str, str]:
    flip = {c: ("B" if c == "A" else "A") for c in set(cursor)}
    foreign = sign_cursor(message_id, parse_keyring(make_keyring_json("k-new")))
    return {
        "first character changed": flip[cursor[0]] + cursor[1:],
        "middle character changed": cursor[:28] + flip[cursor[28]] + cursor[29:],
        "last character changed": cursor[:-1] + flip[cursor[-1]],
        "truncated": cursor[:-4],
        "extended": cursor + "AAAA",
        "signed by a foreign keyring": foreign,
        "random base64url": b64(b"0" * 42),
        "empty": "",
        "not base64": "%25%00%ff!!",
        "non-ascii": "%C3%A9t%C3%A9",
        "4 KiB": "A" * 4096,
    }


def test_tampered_or_foreign_cursor_is_400(served: Served, victim: dict[str, Any], http: Http
                                          ) -> None:
    token = victim["access_token"]
    for n in range(3):
        assert http.call("POST", "/messages", {"content": f"page me {n}"}, token=token
                         ).status == 201
    page = http.call("GET", "/messages?limit=1", token=token)
    cursor = page.body["next_cursor"]
    assert cursor and http.call("GET", f"/messages?limit=1&cursor={cursor}", token=token
                                ).status == 200
    message_id = page.body["messages"][0]["id"]
    for name, bad in _tampered_cursors(cursor, message_id).items():
        reply = http.call("GET", f"/messages?limit=1&cursor={bad}", token=token)
        refused(f"cursor: {name}", served, reply, {400})
        assert reply.body["Code"] == "BadRequestError"


def test_deleting_another_users_message_is_403_and_keeps_it(
    served: Served, victim: dict[str, Any], http: Http
) -> None:
    mallory = session(http, fresh_name("mallory"))
    posted = http.call("POST", "/messages", {"content": "mine, not yours"},
                       token=victim["access_token"])
    message_id = posted.body["id"]
    reply = http.call("DELETE", f"/messages/{message_id}", token=mallory["access_token"])
    refused("authorization: delete another user's message", served, reply, {403})
    listed = http.call("GET", "/messages?limit=100", token=mallory["access_token"])
    assert message_id in {m["id"] for m in listed.body["messages"]}
