"""docs/openapi.yaml fuzzed by schemathesis with every check, on both stores.

Run as an outsider runs ``st run``: schemathesis's own engine, every phase
(examples, coverage, fuzzing, and the stateful phase that follows the file's
links: signup → login → post → delete, list → older page, post → since), every
check it has (server errors, status codes, content types, headers, response
schemas, schema-valid requests accepted, schema-invalid ones refused,
undeclared methods refused, authentication enforced, ...). Any finding fails
the test. Guarded operations carry a fresh genuine token per request, so a
fuzzed logout ends only its own session and the rest reach the app.

A genuine paging cursor is the one thing a schema cannot hand a generator:
cursors are signed, so a random string of the right shape is rightly a 400. The
file marks them ``format: cursor`` (``event-cursor`` for security events); this
run draws from the cursors this server issued (and a "format-violating" cursor,
which schemathesis makes by drawing any string, is rightly refused).

Rules the file states in words because no keyword can (passwords after NFKC: the
normalized length, a visible character, not the username, not a common
password; messages and display names that show nothing) make schema-valid
requests that the API rightly refuses. Such a refusal is accepted only when its
message names that rule and the sent value is checked here to break exactly that
rule while meeting every keyword (``WORDS_ONLY_RULES``); any other refusal of
schema-valid data fails.

Negative cases come from the schema alone.

Where ``chalice local`` and the deployed API differ, the difference is stated
here with the deployed behaviour it stands for (the local server answers as API
Gateway does where it can):

- TRACE and QUERY on a path: API Gateway cannot route these methods and
  answers 403 ``{"message": "Missing Authentication Token"}`` on every path.
  schemathesis expects 405 for an undeclared method on an operation without
  security; that exact gateway answer, for exactly these methods, is accepted
  (``GATEWAY_ONLY_METHODS``). Any other status or body for them still fails.
- other undeclared methods (PUT on /signup, ...): locally Chalice answers 405
  with ``Allow``; deployed, API Gateway answers the same 403 as above.
"""

from __future__ import annotations

import collections
import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.engine import events, from_schema
from schemathesis.specs.openapi.formats import unregister_string_format

from chalicelib.passwords import comparable, is_common, weakness
from chalicelib.validation import (
    PASSWORD_MAX,
    PASSWORD_MIN,
    has_visible_character,
    shows_something,
)
from tests.reliability.stack import PASSWORD, Served, fresh_name, session
from tests.reliability.tally import TALLY

pytestmark = pytest.mark.reliability

SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
PHASES = ["examples", "coverage", "fuzzing", "stateful"]
MAX_EXAMPLES = 100
MIN_REQUESTS_PER_STORE = 1_000  # two stores: at least 2,000 in every default run
CURSORS_TO_COLLECT = 20
GATEWAY_ONLY_METHODS = {"TRACE", "QUERY"}
GATEWAY_MISSING_TOKEN = {"message": "Missing Authentication Token"}


@dataclass
class Outcome:
    sent: int = 0
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    failures: list[str] = field(default_factory=list)
    gateway_answers: int = 0  # TRACE/QUERY answered as API Gateway does (see above)
    words_only_refusals: int = 0  # schema-valid, refused by a rule stated in words
    phases: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def genuine_cursors(served: Served, token: str) -> list[str]:
    """Cursors the server itself issued, by posting and paging one message at a time."""
    http = served.http()
    for n in range(CURSORS_TO_COLLECT + 1):
        assert http.call("POST", "/messages", {"content": f"cursor {n}"}, token=token).status == 201
    cursors: list[str] = []
    query = "limit=1"
    while len(cursors) < CURSORS_TO_COLLECT:
        page = http.call("GET", f"/messages?{query}", token=token)
        assert page.status == 200, page.body
        cursors.append(page.body["next_cursor"])
        query = f"limit=1&cursor={cursors[-1]}"
    return cursors


def genuine_event_cursors(served: Served, username: str, token: str) -> list[str]:
    """Security-event cursors the server issued: sign in again and again (each sign-in
    is an event), then page the owner's list one event at a time."""
    http = served.http()
    for _ in range(CURSORS_TO_COLLECT + 1):
        reply = http.call("POST", "/login", {"username": username, "password": PASSWORD})
        assert reply.status == 200, reply.body
    cursors: list[str] = []
    query = "limit=1"
    while len(cursors) < CURSORS_TO_COLLECT:
        page = http.call("GET", f"/me/security-events?{query}", token=token)
        assert page.status == 200, page.body
        cursors.append(page.body["next_cursor"])
        query = f"limit=1&cursor={cursors[-1]}"
    return cursors


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _password_rule(body: dict[str, Any]) -> str | None:
    """Which words-only password rule the sent password breaks (None: none of them)."""
    password, username = body.get("password"), body.get("username")
    if not isinstance(password, str):
        return None
    normalized = _nfkc(password)
    if not PASSWORD_MIN <= len(normalized) <= PASSWORD_MAX:
        return "length after NFKC"
    if not has_visible_character(normalized):
        return "a visible character"
    if isinstance(username, str) and comparable(normalized) in {username.lower(),
                                                              _nfkc(username).lower()}:
        return "not the username"
    if normalized.lower() == _nfkc(str(username)).lower():
        return "not the username"
    if is_common(normalized):
        return "not a common password"
    return None


def _shows_nothing(field: str) -> Callable[[dict[str, Any]], str | None]:
    def rule(body: dict[str, Any]) -> str | None:
        value = body.get(field)
        if isinstance(value, str) and not shows_something(value.strip()):
            return "shows something"
        return None
    return rule


def _astral_format_character(field: str) -> Callable[[dict[str, Any]], str | None]:
    """The format characters beyond the BMP, which the file names in words."""
    def rule(body: dict[str, Any]) -> str | None:
        value = body.get(field)
        if isinstance(value, str) and any(
            ord(c) > 0xFFFF and unicodedata.category(c) == "Cf" for c in value
        ):
            return "no format character"
        return None
    return rule


def _easy_to_guess(body: dict[str, Any]) -> str | None:
    """zxcvbn's verdict (given the user's words), which the file states in words."""
    password = body.get("password", body.get("new_password"))  # signup; /me/password
    if not isinstance(password, str) or _password_rule({**body, "password": password}):
        return None
    # The caller's own words, where the body holds them (at /me/password the account's
    # username and display name are not in it: fewer words only make zxcvbn more lenient).
    username, name = body.get("username"), body.get("display_name")
    words = [str(username).lower(), *(name.split() if isinstance(name, str) else []),
             str(name), "chalkboard"]
    return "zxcvbn score" if weakness(_nfkc(password), user_inputs=words) else None


def _six_digits(field: str) -> Callable[[dict[str, Any]], str | None]:
    def rule(body: dict[str, Any]) -> str | None:
        value = body.get(field)
        if isinstance(value, str) and len(value) == 6 and value.isascii() and value.isdigit():
            return "the code the app shows now"
        return None
    return rule


def _email_other_character(body: dict[str, Any]) -> str | None:
    """Spaces inside, and Unicode's "other" characters (control, format, surrogate,
    private use, unassigned), which the file names in words."""
    value = body.get("email")
    if isinstance(value, str) and any(
        c.isspace() or unicodedata.category(c)[0] == "C" for c in value.strip()
    ):
        return "no space or control character"
    return None


def _unissued_link(body: dict[str, Any]) -> str | None:
    """A mailed link's token is a secret this server made: one drawn by a generator is
    never one of them (as a random cursor is never signed), so the file says so."""
    return "a link this server mailed" if isinstance(body.get("token"), str) else None


FORMAT_REFUSAL = (
    "{field} must be one line of visible characters (no line breaks, tabs, control"
    " characters or invisible format characters such as U+00AD or U+202E)"
)
EASY_TO_GUESS = "password is too easy to guess: "  # then zxcvbn's own words

# Refusal message → the words-only rule it names (checked against the value sent).
WORDS_ONLY_RULES: dict[str, Callable[[dict[str, Any]], str | None]] = {
    f"password must be at least {PASSWORD_MIN} characters": _password_rule,
    f"password must be at most {PASSWORD_MAX} characters": _password_rule,
    "password must contain a visible character": _password_rule,
    "password must not be the same as the username": _password_rule,
    "password is too common; choose one that is harder to guess": _password_rule,
    "content must not be empty": _shows_nothing("content"),
    "display_name must not be empty": _shows_nothing("display_name"),
    "name must not be empty": _shows_nothing("name"),  # a passkey's name: the same rule
    FORMAT_REFUSAL.format(field="display_name"): _astral_format_character("display_name"),
    FORMAT_REFUSAL.format(field="name"): _astral_format_character("name"),
    # Confirming two-factor with a code that is not the one the app shows now: the file
    # says so in words, and a generated 6-digit code is that one with odds of 3 in 10^6.
    "code is wrong; enter the 6 digits your app shows now": _six_digits("code"),
    'email must not contain spaces, control characters or < > , ; "': _email_other_character,
    "this verification link is invalid, used or expired": _unissued_link,
    "this reset link is invalid, used or expired": _unissued_link,
}


def is_refusal_by_a_rule_stated_in_words(check: str, interaction: Any) -> bool:
    response = interaction.response if interaction is not None else None
    if check != "positive_data_acceptance" or response is None or response.status_code != 400:
        return False
    try:
        message = json.loads(response.content)["Message"]
        body = json.loads(interaction.request.body or b"{}")
    except (ValueError, KeyError, TypeError):
        return False
    rule = WORDS_ONLY_RULES.get(message)
    if rule is None and isinstance(message, str) and message.startswith(EASY_TO_GUESS):
        rule = _easy_to_guess
    return rule is not None and isinstance(body, dict) and rule(body) is not None


def is_gateway_answer_to_unroutable_method(check: str, interaction: Any) -> bool:
    response = interaction.response if interaction is not None else None
    if check != "unsupported_method" or response is None:
        return False
    if interaction.request.method not in GATEWAY_ONLY_METHODS or response.status_code != 403:
        return False
    try:
        return json.loads(response.content) == GATEWAY_MISSING_TOKEN
    except ValueError:
        return False


def run(served: Served, username: str, cursors: list[str], event_cursors: list[str]
        ) -> Outcome:
    schema = schemathesis.openapi.from_path(str(SPEC))
    schema.config.update(base_url=served.url)
    schema.config.phases.update(phases=PHASES)
    schema.config.checks.update(included_check_names=["all"])
    schema.config.generation.update(max_examples=MAX_EXAMPLES, database="none")

    @schema.auth()
    class FreshToken:
        def get(self, case: Any, context: Any) -> str:
            return served.backend.mint(username)

        def set(self, case: Any, data: str, context: Any) -> None:
            TALLY.secret_token(data)
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    outcome = Outcome()
    schemathesis.openapi.format("cursor", st.sampled_from(cursors))
    schemathesis.openapi.format("event-cursor", st.sampled_from(event_cursors))
    try:
        for event in from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished):
                record(event.recorder, served, outcome)
            elif isinstance(event, events.PhaseFinished):
                outcome.phases[event.phase.name.value] = event.status.value
            elif isinstance(event, events.NonFatalError | events.FatalError):
                outcome.errors.append(repr(getattr(event, "value", None)
                                           or getattr(event, "exception", None))[:1000])
    finally:
        unregister_string_format("cursor")
        unregister_string_format("event-cursor")
    return outcome


def record(recorder: Any, served: Served, outcome: Outcome) -> None:
    failed_cases: set[str] = set()
    for case_id, nodes in recorder.checks.items():
        interaction = recorder.interactions.get(case_id)
        for node in nodes:
            if node.failure_info is None:
                continue
            if is_gateway_answer_to_unroutable_method(node.name, interaction):
                outcome.gateway_answers += 1
                continue
            if is_refusal_by_a_rule_stated_in_words(node.name, interaction):
                outcome.words_only_refusals += 1
                continue
            failed_cases.add(case_id)
            failure = node.failure_info.failure
            answer = interaction.response if interaction is not None else None
            outcome.failures.append(
                f"{recorder.label} [{node.name}] {failure.title}: {failure.message}\n"
                f"{node.failure_info.code_sample}\n"
                f"answered: {answer.status_code if answer else None} "
                f"{answer.content[:300] if answer else b''}"[:2500]
            )
    for case_id, interaction in recorder.interactions.items():
        if interaction.response is None:
            continue
        status = interaction.response.status_code
        outcome.sent += 1
        outcome.statuses[status] += 1
        TALLY.status(served.kind, status)
        TALLY.fuzzed(served.kind, status, failed=case_id in failed_cases, documented=True)


def test_fuzzer_with_every_check_finds_nothing(served: Served) -> None:
    username = fresh_name("fuzzer")
    token = session(served.http(), username)["access_token"]
    outcome = run(served, username, genuine_cursors(served, token),
                  genuine_event_cursors(served, username, token))

    assert not outcome.errors, outcome.errors
    assert not outcome.failures, (
        f"{len(outcome.failures)} findings:\n\n" + "\n\n".join(outcome.failures[:10])
    )
    # Every testing phase ran to its end ("failure" only ever from the gateway answers
    # accepted above, whose findings the phase still counts).
    assert {"coverage", "fuzzing", "stateful"} <= set(outcome.phases), outcome.phases
    assert not {"error", "interrupted"} & set(outcome.phases.values()), outcome.phases
    assert outcome.sent >= MIN_REQUESTS_PER_STORE, outcome.sent
    # Positive cases reached the app and did things, not only refusals.
    assert {200, 201, 204} <= set(outcome.statuses), outcome.statuses
