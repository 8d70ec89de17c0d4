"""HTTP shaping shared by the routes: the error table, CORS, ``Cache-Control`` and the
authorizer's 401 and 503.

Chalice turns any exception that is not one of its own errors into a 500
before middleware sees it, so routes are wrapped in ``api_errors``, which maps
domain errors to responses through the one table below. Responses are built
with ``Response`` (not Chalice's error classes) because 413, 429 and 503 need
status codes or a ``Retry-After`` header those classes cannot carry; the body
keeps Chalice's ``{"Code", "Message"}`` shape.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

from chalice import CORSConfig, Response

from chalicelib import errors, telemetry
from chalicelib.config import get_settings

# Domain error → (status, Code). One place, one table.
ERROR_TABLE: dict[type[errors.ChalkboardError], tuple[int, str]] = {
    errors.InvalidInput: (400, "BadRequestError"),
    errors.InvalidCredentials: (401, "UnauthorizedError"),
    errors.InvalidRefreshToken: (401, "UnauthorizedError"),
    errors.InvalidTicket: (401, "UnauthorizedError"),
    errors.AccountGone: (401, "UnauthorizedError"),
    errors.WrongPassword: (403, "ForbiddenError"),
    errors.NotAuthor: (403, "ForbiddenError"),
    errors.MessageNotFound: (404, "NotFoundError"),
    errors.SessionNotFound: (404, "NotFoundError"),
    errors.PasskeyNotFound: (404, "NotFoundError"),
    errors.UsernameTaken: (409, "ConflictError"),
    errors.StateConflict: (409, "ConflictError"),
    errors.BodyTooLarge: (413, "RequestEntityTooLargeError"),
    errors.LoginThrottled: (429, "TooManyRequestsError"),
    errors.PostingThrottled: (429, "TooManyRequestsError"),
    errors.StoreUnavailable: (503, "ServiceUnavailable"),
    errors.KeyringUnavailable: (503, "ServiceUnavailable"),
    errors.NotConfigured: (503, "ServiceUnavailable"),
}

View = TypeVar("View", bound=Callable[..., Any])

# Every API answer: tokens, TOTP secrets and account data must not stay in a browser's
# or a proxy's cache (ASVS 8.2.1). API Gateway's own answers get it from the deploy
# template's gateway responses; the local runtimes' from ``gateway_headers``.
NO_STORE = {"Cache-Control": "no-store"}


def error_response(error: errors.ChalkboardError) -> Response:
    status, code = ERROR_TABLE[type(error)]
    telemetry.note_error(type(error).__name__)  # the request's log line names the cause
    headers: dict[str, str | list[str]] = {}
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return Response(status_code=status, headers=headers, body={"Code": code, "Message": str(error)})


def api_errors(view: View) -> View:
    """Answer the domain errors in ``ERROR_TABLE``; anything else stays a 500 (a bug)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except tuple(ERROR_TABLE) as error:
            return error_response(error)

    return wrapper  # type: ignore[return-value]


def no_store_middleware(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Chalice HTTP middleware: ``Cache-Control: no-store`` on every answer the app makes.

    Middleware wraps all of them: the routes' successes and errors, and Chalice's own
    405, 415 and 500 (which it makes inside the chain, after any middleware starts).
    """
    response = get_response(event)
    response.headers.update(NO_STORE)
    return response


class WebOriginCORS(CORSConfig):
    """CORS for the stage's one web origin, read from settings when a response is made.

    Chalice builds CORS headers per request and ``chalice package`` reads them
    with the stage's environment set, so the origin is never frozen at import.
    """

    def __init__(self) -> None:
        super().__init__(allow_origin="", expose_headers=["Retry-After"], max_age=600)

    @property
    def allow_origin(self) -> str:
        return get_settings().web_origin

    @allow_origin.setter
    def allow_origin(self, _value: str) -> None:
        """Ignored: the origin always comes from settings."""


# -- the authorizer's refusals: one exception per answer, the same in every runtime


@functools.cache
def _local_gateway_errors() -> dict[int, type[Exception]] | None:
    """Status → chalice.local's gateway exception for it; None when deployed.

    chalice.local is not packaged into the Lambda zip (and is not worth importing
    on a cold start), so it is looked up on the first refusal.
    """
    try:
        from chalice.local import LocalGatewayException, NotAuthorizedError
    except ImportError:  # deployed: only chalice.app is in the zip
        return None

    class GatewayUnavailable(LocalGatewayException):
        CODE = 503

    return {401: NotAuthorizedError, 503: GatewayUnavailable}


def gateway_headers() -> dict[str, str]:
    """The headers the deploy template's gateway responses put on API Gateway's own
    answers, for the local runtimes that answer in its place: CORS and no-store."""
    return {**gateway_cors_headers(), **NO_STORE}


def gateway_cors_headers() -> dict[str, str]:
    """The CORS headers the deploy template's gateway responses put on API Gateway's own
    answers (ops/render_infra.py), for the local runtimes that answer in its place."""
    return {
        "Access-Control-Allow-Origin": get_settings().web_origin,
        "Access-Control-Expose-Headers": "Retry-After",
        "Vary": "Origin",
    }


def _gateway_error(status: int, message: str, body: dict[str, str], headers: dict[str, str]
                   ) -> Exception:
    """Deployed, a plain exception with ``message``; under ``chalice local`` and
    ``chalice.test.Client``, which answer only their own gateway exceptions (anything
    else drops the connection), that exception with ``body`` and the CORS headers."""
    local_errors = _local_gateway_errors()
    if local_errors is None:
        return Exception(message)
    all_headers = {"Content-Type": "application/json", **gateway_headers(), **headers}
    error = local_errors[status](all_headers, json.dumps(body).encode())
    error.args = (message,)
    return error


def unauthorized() -> Exception:
    """What the authorizer raises to refuse a token: a 401 everywhere.

    API Gateway (deployed) answers 401 when a TOKEN authorizer raises an exception
    whose message is exactly "Unauthorized" (a Deny policy would be 403); locally it
    is chalice.local's NotAuthorizedError with API Gateway's body and the CORS
    headers the deploy template's gateway responses add.
    """
    return _gateway_error(401, "Unauthorized", {"message": "Unauthorized"}, {})


def unavailable(error: errors.StoreUnavailable | errors.KeyringUnavailable) -> Exception:
    """What the authorizer raises when the store or the keyring cannot be had: a 503.

    The authorizer cannot decide then. Deployed, any exception but "Unauthorized" is
    API Gateway's AUTHORIZER_FAILURE, which the deploy template's gateway response
    turns into a 503 with Retry-After; locally it is a gateway exception with that code.
    """
    message = str(error)
    return _gateway_error(
        503, message, {"Code": "ServiceUnavailable", "Message": message},
        {"Retry-After": str(error.retry_after)},
    )
