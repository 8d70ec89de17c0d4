"""Attacks on email verification and password reset, over HTTP to real `chalice local`
servers on both stores: link reuse, racing one link, and learning who has an account
from POST /password/forgot (its answer and its time). Mail is read from the local
mailbox the test stage writes."""

from __future__ import annotations

import re
import statistics
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.burst import burst, connections
from tests.reliability.client import Http
from tests.reliability.stack import PASSWORD, Served, fresh_name
from tests.reliability.tally import TALLY

pytestmark = pytest.mark.reliability

NEW_PASSWORD = "a brand new passphrase for resets"
SAMPLES = 50


def mails(served: Served) -> list[EmailMessage]:
    folder = Path(served.backend.env["CHALKBOARD_DATA_DIR"]) / "mail"
    parsed = [BytesParser(policy=policy.default).parsebytes(p.read_bytes())
              for p in sorted(folder.glob("*.eml"))]
    return [m for m in parsed if isinstance(m, EmailMessage)]


def link(served: Served, to: str, route: str) -> str:
    """The token of the newest mail to ``to`` with a ``#/<route>`` link."""
    for message in reversed(mails(served)):
        part = message.get_body(preferencelist=("plain",))
        text = "" if part is None else str(part.get_content())  # type: ignore[attr-defined]
        found = re.search(rf"^\S+/#/{route}\?token=([A-Za-z0-9_-]+)$", text, re.MULTILINE)
        if message["To"] == to and found:
            return found.group(1)
    raise AssertionError(f"no {route} mail to {to}")


def verified_account(http: Http, served: Served, prefix: str = "reset") -> tuple[str, str]:
    name = fresh_name(prefix)
    address = f"{name}@example.com"
    reply = http.call("POST", "/signup", {"username": name, "password": PASSWORD,
                                          "email": address})
    assert reply.status == 201, reply.body
    verified = http.call("POST", "/email/verify", {"token": link(served, address,
                                                                  "verify-email")})
    assert verified.status == 204, verified.body
    return name, address


def forgot(http: Http, **fields: str) -> Any:
    return http.call("POST", "/password/forgot", fields)


def test_reset_and_verify_links_work_once(served: Served) -> None:
    http = served.http()
    name, address = verified_account(http, served)
    assert forgot(http, username=name).status == 202
    token = link(served, address, "reset")
    first = http.call("POST", "/password/reset", {"token": token, "new_password": NEW_PASSWORD})
    assert first.status == 204
    again = http.call("POST", "/password/reset", {"token": token, "new_password": NEW_PASSWORD})
    TALLY.attack("reset link reused", served.kind, again.status, refused=again.status == 400)
    assert again.status == 400
    other = fresh_name("verify")
    http.call("POST", "/signup", {"username": other, "password": PASSWORD,
                                  "email": f"{other}@example.com"})
    verify_token = link(served, f"{other}@example.com", "verify-email")
    assert http.call("POST", "/email/verify", {"token": verify_token}).status == 204
    reused = http.call("POST", "/email/verify", {"token": verify_token})
    TALLY.attack("verify link reused", served.kind, reused.status, refused=reused.status == 400)
    assert reused.status == 400
    as_reset = http.call("POST", "/password/reset",
                         {"token": verify_token, "new_password": NEW_PASSWORD})
    TALLY.attack("verify link as reset link", served.kind, as_reset.status,
                 refused=as_reset.status == 400)
    assert as_reset.status == 400


def test_simultaneous_resets_with_one_link_one_wins(served: Served) -> None:
    http = served.http()
    name, address = verified_account(http, served)
    assert forgot(http, username=name).status == 202
    token = link(served, address, "reset")
    replies = burst(connections(served, 8), lambda i, client: client.call(
        "POST", "/password/reset", {"token": token, "new_password": f"{NEW_PASSWORD} {i}"}))
    statuses = sorted(r.status for r in replies)
    TALLY.figure(f"one reset link, 8 at once ({served.kind})", statuses)
    assert statuses == [204] + [400] * 7
    winner = next(i for i, r in enumerate(replies) if r.status == 204)
    assert http.call("POST", "/login", {"username": name,
                                        "password": f"{NEW_PASSWORD} {winner}"}).status == 200


def test_forgot_tells_nothing_by_answer_or_time(served: Served) -> None:
    """Known names with a verified address (a mail goes out each time), unknown names
    and names without a verified address: the same answer, about the same time."""
    http = served.http(keep_alive=True).open()
    known = [verified_account(http, served, "known")[0] for _ in range(SAMPLES)]
    unverified = []
    for _ in range(SAMPLES):
        name = fresh_name("unverified")
        http.call("POST", "/signup", {"username": name, "password": PASSWORD,
                                      "email": f"{name}@example.com"})
        unverified.append(name)
    unknown = [fresh_name("nobody") for _ in range(SAMPLES)]
    sent_before = len(mails(served))
    times: dict[str, list[float]] = {"known": [], "unknown": [], "unverified": []}
    answers = set()
    for index in range(SAMPLES):  # interleaved, so load drifts hit all three alike
        for kind, names in (("known", known), ("unknown", unknown),
                            ("unverified", unverified)):
            reply, seconds = http.timed("POST", "/password/forgot",
                                        {"username": names[index]})
            answers.add((reply.status, repr(reply.body)))
            times[kind].append(seconds)
    http.close()
    assert len(answers) == 1 and next(iter(answers))[0] == 202
    assert len(mails(served)) == sent_before + SAMPLES  # the known ones only
    medians = {kind: statistics.median(values) * 1000 for kind, values in times.items()}
    difference = medians["known"] - medians["unknown"]
    TALLY.figure(f"forgot median ms over {SAMPLES} ({served.kind})",
                 {**{k: round(v, 2) for k, v in medians.items()},
                  "known - unknown": round(difference, 2)})
    TALLY.attack("forgot enumeration by answer", served.kind, 202, refused=True)
    print(f"forgot timing ({served.kind}, median ms over {SAMPLES}): {medians}")
    # The store work is the same and every answer is padded to one floor (250 ms), which
    # hides the mail; 10 ms is well inside the jitter of a loaded machine at that scale.
    assert abs(difference) < 10.0, medians
