"""Attacks on live reading's tickets (GET /live, issue 26), over HTTP to real servers on
both stores: forged and re-pointed tickets, and asks racing the end of their session."""

from __future__ import annotations

import base64
import json

import pytest

from tests.reliability.burst import burst, connections
from tests.reliability.stack import Served, fresh_name, session

pytestmark = pytest.mark.reliability

ASKS = 8  # asks racing one logout


def ticket_for(served: Served, token: str) -> str:
    reply = served.http().call("GET", "/live/ticket", token=token)
    assert reply.status == 200, reply.body
    return str(reply.body["ticket"])


def test_a_ticket_re_pointed_at_another_user_or_session_is_refused(served: Served) -> None:
    http = served.http()
    alice, bob = fresh_name("live-alice"), fresh_name("live-bob")
    pair = session(http, alice)
    bob_pair = session(http, bob)
    ticket = ticket_for(served, pair["access_token"])
    kid, payload, mac = ticket.split(".")
    fields = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    bob_fields = json.loads(base64.urlsafe_b64decode(
        (p := ticket_for(served, bob_pair["access_token"]).split(".")[1]) + "=" * (-len(p) % 4)))
    for changed in ({**fields, "u": bob}, {**fields, "s": bob_fields["s"]},
                    {**fields, "e": fields["e"] + 86_400}):
        forged = base64.urlsafe_b64encode(json.dumps(changed, separators=(",", ":")).encode())
        reply = http.call("GET", f"/live?t={kid}.{forged.decode().rstrip('=')}.{mac}")
        assert reply.status == 401, changed
    assert http.call("GET", f"/live?t={ticket}").status == 200


def test_no_ask_answers_after_its_sessions_logout_answered(served: Served) -> None:
    http = served.http()
    alice = fresh_name("live-race")
    pair = session(http, alice)
    ticket = ticket_for(served, pair["access_token"])

    def race(index: int, client):  # type: ignore[no-untyped-def]
        if index == 0:
            return client.call("POST", "/logout", token=pair["access_token"])
        return client.call("GET", f"/live?t={ticket}")

    replies = burst(connections(served, ASKS + 1), race)
    assert replies[0].status == 204
    assert all(reply.status in (200, 401) for reply in replies[1:])
    for _ in range(3):  # once the logout has answered, every ask is refused
        assert http.call("GET", f"/live?t={ticket}").status == 401
