"""GET /live/ticket and GET /live: the cheap "anything new?" (chalicelib/live.py), on both
stores (the route reads the session the ticket names, as the authorizer does)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib import live
from tests.conftest import FakeClock
from tests.helpers import Api, body_of

pytestmark = pytest.mark.stores("sqlite", "dynamodb")


def ticket_for(api: Api, token: str) -> str:
    answer = api.call("GET", "/live/ticket", token=token)
    assert answer.status_code == 200, answer.body
    return str(body_of(answer)["ticket"])


def ask(api: Api, ticket: str, since: str | None = None) -> Any:
    return api.call("GET", f"/live?t={ticket}" + (f"&since={since}" if since else ""))


def ask_url(api: Api, query: dict[str, str]) -> dict[str, Any]:
    """GET /live as a Lambda function URL delivers it (payload format 2.0)."""
    event = {"version": "2.0", "rawPath": "/", "queryStringParameters": query,
             "requestContext": {"http": {"method": "GET", "path": "/"}}}
    answer = api.client.lambda_.invoke("live", event).payload
    assert isinstance(answer, dict)
    return answer


def post(api: Api, token: str, content: str) -> str:
    answer = api.call("POST", "/messages", {"content": content}, token=token)
    assert answer.status_code == 201
    return str(body_of(answer)["id"])


def test_a_ticket_holder_reads_what_since_answers_on_the_route_and_the_url(api: Api) -> None:
    alice = api.session("alice")["access_token"]
    bob = api.session("bob")["access_token"]
    ticket = ticket_for(api, alice)
    first = post(api, bob, "hello")
    second = post(api, bob, "again")
    answer = ask(api, ticket, since=first)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    expected = body_of(api.call("GET", f"/messages?since={first}", token=alice))
    assert body_of(answer) == expected
    assert [m["id"] for m in expected["messages"]] == [second]
    url = ask_url(api, {"t": ticket, "since": first})
    assert url["statusCode"] == 200
    assert url["headers"]["Cache-Control"] == "no-store"
    assert json.loads(url["body"]) == expected
    newest = body_of(ask(api, ticket))  # no since: the newest page
    assert [m["id"] for m in newest["messages"]] == [second, first]


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
        assert "secret" not in answer.body.decode()
    for query in ({}, {"t": forged}):
        assert ask_url(api, query)["statusCode"] == 401
    clock.advance(live.TICKET_SECONDS + 1)
    assert ask(api, ticket).status_code == 401
    assert ask_url(api, {"t": ticket})["statusCode"] == 401


@pytest.mark.parametrize("how", ["logout", "ended elsewhere", "password changed"])
def test_a_reader_whose_session_ended_learns_nothing_new(api: Api, how: str) -> None:
    alice = api.session("alice")["access_token"]
    bob = api.session("bob")["access_token"]
    ticket = ticket_for(api, alice)
    before = post(api, bob, "before the end")
    assert ask(api, ticket, since=before).status_code == 200
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
    post(api, bob, "after the end")
    for answer in (ask(api, ticket, since=before), ask(api, ticket)):  # ticket not expired
        assert answer.status_code == 401
        assert "after the end" not in answer.body.decode()
    url = ask_url(api, {"t": ticket, "since": before})
    assert url["statusCode"] == 401 and "after the end" not in url["body"]


def test_a_reader_far_behind_is_told_gap_from_at_most_19(api: Api) -> None:
    alice = api.session("alice")["access_token"]
    ids = [post(api, alice, f"m{n}") for n in range(22)]
    answer = body_of(ask(api, ticket_for(api, alice), since=ids[0]))
    assert [m["id"] for m in answer["messages"]] == ids[:2:-1]  # the newest 19
    assert answer["gap"] is True and live.MAX_LIVE_LIMIT == 19
