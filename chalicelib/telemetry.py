"""Structured logs and business metrics: one JSON line per request, EMF metric lines.

Why plain JSON lines on stdout and not Powertools for AWS Lambda: importing this module
costs well under a millisecond; Powertools' logger and metrics import tens of
milliseconds on a cold start (measured in bench/README.md, figure 2) for the same two
features. Lines go to stdout as bare JSON (not through the Lambda runtime's
``[INFO]\\t<time>\\t<id>\\t`` prefix), which is what CloudWatch Logs Insights
parses and what Embedded Metric Format needs to turn a line into a metric
without an API call.

What may be logged: request id, route, method, status, latency, an error code
(the domain error's class name), and the caller as a keyed hash: HMAC-SHA256 under
a key derived from the signing keyring's ``mfa_key`` (kept in SSM, never in
config), so nobody without the keyring can test a guessed username against logs. Never a
password, a token, a token hash or a request body: nothing here is given one.

Metrics are Embedded Metric Format fields built in one place (``_emf``): the
request line itself counts the outcomes in ``ROUTE_METRICS``, and code elsewhere
(e.g. refresh token reuse) calls ``metric(name)`` for a line of its own.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import hmac
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from typing import Any

NAMESPACE = "chalkboard"
# Domain separation: the log key is derived from the keyring's MFA key, never equal to it.
LOG_KEY_LABEL = b"chalkboard caller pseudonyms v1"

# The Lambda Python runtime leaves the root logger at WARNING, so chalicelib's INFO
# lines (failed logins, passkey and two-factor changes) would be dropped: the
# package's own level lets them reach the runtime's handler (tests/deploy checks it).
logging.getLogger("chalicelib").setLevel(logging.INFO)

# (method, route, status) → the business metric that outcome counts.
ROUTE_METRICS: dict[tuple[str, str, int], str] = {
    ("POST", "/login", 200): "LoginSucceeded",
    ("POST", "/login", 401): "LoginFailed",
    ("POST", "/login", 429): "LoginThrottled",
    # The code step counts its failures; its success was counted at the password step.
    ("POST", "/login/totp", 401): "LoginFailed",
    ("POST", "/login/totp", 429): "LoginThrottled",
    ("POST", "/login/passkey", 200): "LoginSucceeded",
    ("POST", "/login/passkey", 401): "LoginFailed",
    ("POST", "/signup", 201): "Signups",
    ("POST", "/messages", 201): "Posts",
    ("POST", "/messages", 429): "PostingThrottled",
}
# Every metric name this app emits (the deploy templates' alarms and dashboard use them).
METRICS = (*dict.fromkeys(ROUTE_METRICS.values()), "RefreshTokenReuse", "AuthorizerErrors")

_error_code: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "chalkboard_error_code", default=None
)
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "chalkboard_request_id", default=None
)


def _write(document: dict[str, Any]) -> None:
    """One JSON line on stdout, written directly: the logging module's record and
    handler machinery cost more than the line itself on every request."""
    sys.stdout.write(json.dumps(document, separators=(",", ":"), default=str) + "\n")


def _line(**fields: Any) -> dict[str, Any]:
    return {"level": "INFO", "logger": "chalkboard.telemetry", **fields}


def _emf(name: str, value: float, unit: str) -> dict[str, Any]:
    """The Embedded Metric Format fields that make a line count ``name``."""
    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Stage"]],
                "Metrics": [{"Name": name, "Unit": unit}],
            }],
        },
        "Stage": os.environ.get("CHALKBOARD_STAGE", "local"),
        name: value,
    }


def caller_hash(username: str | None) -> str | None:
    """A stable pseudonym for a caller: searchable, but not the username itself.

    None when there is no caller or no keyring (a log line never fails a request).
    """
    if not username:
        return None
    from chalicelib.deps import current_deps
    from chalicelib.errors import ChalkboardError

    try:
        keyring = current_deps().keyring
    except ChalkboardError:
        return None
    # A keyring from before two-factor has no MFA key until its next rotation.
    return _keyed_hash(_log_key(keyring.mfa_key or keyring.signing_key), username)


@functools.lru_cache(maxsize=4)
def _log_key(secret: bytes) -> bytes:
    return hmac.new(secret, LOG_KEY_LABEL, hashlib.sha256).digest()


@functools.lru_cache(maxsize=1024)
def _keyed_hash(key: bytes, username: str) -> str:
    return hmac.new(key, username.encode(), hashlib.sha256).hexdigest()[:16]


def log_event(event: str, *, counts: str | None = None, **fields: Any) -> None:
    """One structured line; ``None`` fields are left out. ``counts`` names a metric
    this same line also counts (EMF), so an outcome costs one line, not two."""
    line = _line(event=event, **{name: value for name, value in fields.items()
                                 if value is not None})
    if counts:
        line.update(_emf(counts, 1, "Count"))
    _write(line)


def metric(name: str, value: float = 1, unit: str = "Count") -> None:
    """One Embedded Metric Format line: CloudWatch makes it a metric, no API call."""
    _write(_line(**_emf(name, value, unit)))


def note_error(code: str) -> None:
    """Record the domain error this request ended in (the error mapping calls it)."""
    _error_code.set(code)


def request_middleware(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice HTTP middleware: time the request, log one line, count its outcome."""
    started = time.perf_counter()
    token = _error_code.set(None)
    context = getattr(event, "context", None) or {}
    # API Gateway's id (in its access log too), else Lambda's (chalice local).
    request_id = context.get("requestId") or getattr(
        getattr(event, "lambda_context", None), "aws_request_id", None
    )
    id_token = _request_id.set(request_id)  # for the authentication lines of this request
    response = None
    try:
        response = get_response(event)
        return response
    finally:
        status = response.status_code if response is not None else 500
        authorizer = context.get("authorizer") or {}
        route = context.get("resourcePath") or getattr(event, "path", None)
        method = getattr(event, "method", None)
        log_event(
            "request",
            counts=ROUTE_METRICS.get((method or "", route or "", status)),
            request_id=request_id,
            method=method,
            route=route,
            status=status,
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
            caller=caller_hash(authorizer.get("principalId")),
            error=_error_code.get(),
        )
        _error_code.reset(token)
        _request_id.reset(id_token)


def auth_decision(
    type: str, outcome: str, *, username: str | None = None, reason: str | None = None,
    method: str | None = None, session_id: str | None = None,
) -> None:
    """One line per authentication decision (API.md, Security events): ``type`` (e.g.
    ``login``, ``code``, ``refresh``, ``authorizer``), ``outcome`` (``success``,
    ``failure``, ``throttled``, ``allow``, ``deny``, ``error``), a short fixed
    ``reason``, the sign-in ``method``, the session id, the request id and the
    subject as ``caller_hash`` — never a password, code, token or secret (callers
    pass only fixed words and ids)."""
    log_event("auth", type=type, outcome=outcome, reason=reason, method=method,
              session_id=session_id, request_id=_request_id.get(),
              subject=caller_hash(username))


def authorizer_decision(decision: str, *, username: str | None = None,
                        reason: str | None = None, session_id: str | None = None) -> None:
    """The authorizer's allow/deny/error, as one line (never the token)."""
    log_event("authorizer", decision=decision, caller=caller_hash(username), reason=reason,
              type="authorizer", outcome=decision, session_id=session_id)
    if decision == "error":  # Lambda's Errors metric also counts every refusal: not usable
        metric("AuthorizerErrors")
