"""GET /live/ticket and GET /live: the cheap "anything new?" (chalicelib/live.py), on both
stores (the route reads the session the ticket names, as the authorizer does)."""

from __future__ import annotations

import pytest

from chalicelib import live
from tests.conftest import FakeClock
from tests.helpers import Api, body_of

pytestmark = pytest.mark.stores("sqlite", "dynamodb")


def ticket_for(api: Api, token: str) -> str:
    answer = api.call("GET", "/live/ticket", token=token)
    assert answer.status_code == 200, answer.body
    return str(body_of(answer)["ticket"])


def ask(api: Api, ticket: str) -> object:
    return api.call("GET", f"/live?t={ticket}")


def post(api: Api, token: str, content: str) -> str:
    answer = api.call("POST", "/messages", {"content": content}, token=token)
    assert answer.status_code == 201
    return str(body_of(answer)["id"])


def test_a_ticket_holder_learns_the_newest_id_and_a_cache_may_keep_it(
        api: Api, clock: FakeClock) -> None:
    alice = api.session("alice")["access_token"]
    bob = api.session("bob")["access_token"]
    ticket = ticket_for(api, alice)
    empty = ask(api, ticket)
    assert empty.status_code == 200 and body_of(empty) == {"newest_id": None}
    assert empty.headers["Cache-Control"] == f"public, max-age={live.CACHE_SECONDS}"
    clock.advance(live.CACHE_SECONDS + 1)  # past the page cache's reuse
    newest = post(api, bob, "hello")
    assert body_of(ask(api, ticket)) == {"newest_id": newest}


def test_the_ticket_route_needs_a_bearer_token(api: Api) -> None:
    assert api.call("GET", "/live/ticket").status_code == 401


def test_no_ticket_a_forged_one_or_an_expired_one_learns_nothing(
        api: Api, clock: FakeClock) -> None:
    alice = api.session("alice")["access_token"]
    post(api, alice, "secret board")
    ticket = ticket_for(api, alice)
    kid, payload, mac = ticket.split(".")
    forged = f"{kid}.{payload}.{mac[:-2]}{'AA' if mac[-2:] != 'AA' else 'BB'}"
    for answer in (api.call("GET", "/live"), ask(api, forged), ask(api, "x.y.z"),
                   ask(api, "a" * 600)):
        assert answer.status_code == 401
        assert "newest_id" not in answer.body.decode()
        assert answer.headers["Cache-Control"] == "no-store"
    clock.advance(live.TICKET_SECONDS + 1)
    assert ask(api, ticket).status_code == 401


@pytest.mark.parametrize("how", ["logout", "ended elsewhere", "password changed"])
def test_a_reader_whose_session_ended_learns_nothing_new(
        api: Api, clock: FakeClock, how: str) -> None:
    pair = api.session("alice")
    alice = pair["access_token"]
    bob = api.session("bob")["access_token"]
    ticket = ticket_for(api, alice)
    assert ask(api, ticket).status_code == 200
    if how == "logout":
        assert api.call("POST", "/logout", token=alice).status_code == 204
    elif how == "ended elsewhere":
        other = body_of(api.login("alice"))["access_token"]
        sessions = body_of(api.call("GET", "/me/sessions", token=other))["sessions"]
        mine = next(s["id"] for s in sessions if not s["current"])
        assert api.call("DELETE", f"/me/sessions/{mine}", token=other).status_code == 204
    else:
        assert api.call("POST", "/me/password", {
            "current_password": "correct horse battery staple",
            "new_password": "a completely different passphrase 42"},
            token=alice).status_code == 204
    clock.advance(live.CACHE_SECONDS + 1)
    post(api, bob, "after the end")
    answer = ask(api, ticket)  # the ticket itself is still within its lifetime
    assert answer.status_code == 401
    assert "newest_id" not in answer.body.decode()
