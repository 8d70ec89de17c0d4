"""Structured logs and business metrics: one JSON line per request, EMF metric lines.

Why stdlib ``logging`` and not Powertools for AWS Lambda: importing this module
costs well under a millisecond; Powertools' logger and metrics import tens of
milliseconds on a cold start (measured in README.md, figure 2) for the same two
features. Lines go to stdout as bare JSON (not through the Lambda runtime's
``[INFO]\\t<time>\\t<id>\\t`` prefix), which is what CloudWatch Logs Insights
parses and what Embedded Metric Format needs to turn a line into a metric
without an API call.

What may be logged: request id, route, method, status, latency, an error code
(the domain error's class name), and the caller as a salted hash. Never a
password, a token, a token hash or a request body: nothing here is given one.

Metrics are emitted from one place: ``metric(name)``. The request middleware
calls it for the outcomes in ``ROUTE_METRICS``; code elsewhere (e.g. refresh
token reuse) calls it directly.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from typing import Any

NAMESPACE = "chalkboard"
SALT_VARIABLE = "CHALKBOARD_LOG_SALT"

# (method, route, status) → the business metric that outcome counts.
ROUTE_METRICS: dict[tuple[str, str, int], str] = {
    ("POST", "/login", 200): "LoginSucceeded",
    ("POST", "/login", 401): "LoginFailed",
    ("POST", "/login", 429): "LoginThrottled",
    ("POST", "/signup", 201): "Signups",
    ("POST", "/messages", 201): "Posts",
    ("POST", "/messages", 429): "PostingThrottled",
}
# Every metric name this app emits (the deploy templates' alarms and dashboard use them).
METRICS = (*dict.fromkeys(ROUTE_METRICS.values()), "RefreshTokenReuse", "AuthorizerErrors")

_error_code: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "chalkboard_error_code", default=None
)


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: level, logger, message, and the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {"level": record.levelname, "logger": record.name}
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            document.update(fields)
        message = record.getMessage()
        if message:
            document["message"] = message
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, separators=(",", ":"), default=str)


class _Stdout:
    """Whatever ``sys.stdout`` is when a line is written (tests capture it)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def _logger() -> logging.Logger:
    logger = logging.getLogger("chalkboard.telemetry")
    if not logger.handlers:
        handler = logging.StreamHandler(_Stdout())
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False  # bare JSON, not the runtime's prefixed format
    return logger


def caller_hash(username: str | None) -> str | None:
    """A stable pseudonym for a caller: searchable, but not the username itself."""
    if not username:
        return None
    salt = os.environ.get(SALT_VARIABLE) or f"chalkboard-{os.environ.get('CHALKBOARD_STAGE', '')}"
    return hashlib.sha256(f"{salt}\0{username}".encode()).hexdigest()[:16]


def log_event(event: str, **fields: Any) -> None:
    """One structured line; ``None`` fields are left out."""
    clean = {name: value for name, value in fields.items() if value is not None}
    _logger().info("", extra={"fields": {"event": event, **clean}})


def metric(name: str, value: float = 1, unit: str = "Count") -> None:
    """One Embedded Metric Format line: CloudWatch makes it a metric, no API call."""
    stage = os.environ.get("CHALKBOARD_STAGE", "local")
    _logger().info("", extra={"fields": {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Stage"]],
                "Metrics": [{"Name": name, "Unit": unit}],
            }],
        },
        "Stage": stage,
        name: value,
    }})


def note_error(code: str) -> None:
    """Record the domain error this request ended in (the error mapping calls it)."""
    _error_code.set(code)


def request_middleware(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice HTTP middleware: time the request, log one line, count its outcome."""
    started = time.perf_counter()
    token = _error_code.set(None)
    response = None
    try:
        response = get_response(event)
        return response
    finally:
        status = response.status_code if response is not None else 500
        context = getattr(event, "context", None) or {}
        authorizer = context.get("authorizer") or {}
        route = context.get("resourcePath") or getattr(event, "path", None)
        method = getattr(event, "method", None)
        log_event(
            "request",
            # API Gateway's id (in its access log too), else Lambda's (chalice local).
            request_id=context.get("requestId")
            or getattr(getattr(event, "lambda_context", None), "aws_request_id", None),
            method=method,
            route=route,
            status=status,
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
            caller=caller_hash(authorizer.get("principalId")),
            error=_error_code.get(),
        )
        _error_code.reset(token)
        name = ROUTE_METRICS.get((method or "", route or "", status))
        if name:
            metric(name)


def authorizer_decision(decision: str, *, username: str | None = None,
                        reason: str | None = None) -> None:
    """The authorizer's allow/deny/error, as one line (never the token)."""
    log_event("authorizer", decision=decision, caller=caller_hash(username), reason=reason)
    if decision == "error":  # Lambda's Errors metric also counts every refusal: not usable
        metric("AuthorizerErrors")
