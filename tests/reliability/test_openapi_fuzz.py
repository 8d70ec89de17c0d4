"""docs/openapi.yaml fuzzed with schemathesis against `chalice local`, on both stores.

Every operation gets valid (positive) and schema-violating (negative) requests;
each response must be no 5xx, a status the spec documents for the operation,
the documented content type, headers and body schema, and negative requests
must be refused. Guarded operations carry a fresh genuine token per request, so
a fuzzed logout revokes only its own token and the rest reach the app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.reliability.stack import Backend, Served, fresh_name, session
from tests.reliability.tally import TALLY

pytestmark = pytest.mark.reliability

SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
EXAMPLES_PER_OPERATION_AND_MODE = 50
MIN_REQUESTS_PER_STORE = 500  # two stores: at least 1,000 in every default run
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
# Negative requests for an operation with nothing to violate cannot be generated.
NOTHING_TO_NEGATE = {"GET /health"}


def load_schema(backend: Backend, username: str) -> Any:
    schema = schemathesis.openapi.from_path(str(SPEC))
    # Unknown query parameters are ignored, as HTTP APIs do; API.md's "unknown
    # extra fields are a 400" is about bodies, which negative mode still covers.
    schema.config.generation.update(allow_extra_parameters=False)

    @schema.auth(refresh_interval=None)
    class FreshToken:
        def get(self, case: Any, context: Any) -> str:
            return backend.mint(username)

        def set(self, case: Any, data: str, context: Any) -> None:
            TALLY.secret_token(data)
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    return schema


@dataclass
class Outcome:
    sent: int = 0
    failures: list[str] = field(default_factory=list)


def fuzz(operation: Any, mode: schemathesis.GenerationMode, served: Served,
         http: requests.Session, outcome: Outcome) -> None:
    """Send up to EXAMPLES_PER_OPERATION_AND_MODE generated requests for one operation."""
    negative = mode == schemathesis.GenerationMode.NEGATIVE
    checks = CHECKS + ([negative_data_rejection] if negative else [])
    documented = operation.responses.status_codes

    @settings(max_examples=EXAMPLES_PER_OPERATION_AND_MODE, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(case=operation.as_strategy(generation_mode=mode))
    def send(case: Any) -> None:
        # A fresh connection each time: see tests/reliability/client.py on Nagle.
        response = case.call(base_url=served.url, session=http, headers={"Connection": "close"})
        outcome.sent += 1
        failed = False
        try:
            case.validate_response(response, checks=checks)
        except BaseExceptionGroup as group:  # schemathesis' FailureGroup
            failed = True
            outcome.failures.append(f"{mode.value} {operation.label}: {group}"[:2000])
        status = response.status_code
        TALLY.status(served.kind, status)
        TALLY.fuzzed(served.kind, status, failed=failed, documented=str(status) in documented)

    send()


def test_fuzzed_requests_get_only_documented_answers_and_no_5xx(served: Served) -> None:
    username = fresh_name("fuzzer")
    session(served.http(), username)
    schema = load_schema(served.backend, username)
    http = requests.Session()
    outcome = Outcome()
    not_generated = set()
    for mode in [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]:
        for result in schema.get_all_operations():
            operation = result.ok()
            try:
                fuzz(operation, mode, served, http, outcome)
            except Unsatisfiable:
                if mode != schemathesis.GenerationMode.NEGATIVE:
                    raise
                not_generated.add(operation.label)

    assert not outcome.failures, "\n\n".join(outcome.failures[:10])
    assert not_generated <= NOTHING_TO_NEGATE
    assert outcome.sent >= MIN_REQUESTS_PER_STORE
