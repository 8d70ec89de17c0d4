"""chalkboard: a message board with its own sign-up and login, as one Chalice app.

Each route parses the request, calls one function in chalicelib and shapes the
response. The HTTP contract is docs/openapi.yaml.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from chalice import AuthResponse, Chalice, Response
from chalice.app import AuthRequest, Request

from chalicelib import (
    accounts,
    authorizer,
    board,
    emails,
    health,
    live,
    passkeys,
    resets,
    security_events,
    sessions,
    signin,
    telemetry,
    totp,
)
from chalicelib.answers import (
    account_json,
    enrollment_json,
    events_page_json,
    message_json,
    new_account_json,
    page_json,
    passkey_json,
    session_json,
    ticket_json,
    token_pair_json,
)
from chalicelib.clients import Client
from chalicelib.deps import current_deps
from chalicelib.responses import NO_STORE, WebOriginCORS, api_errors, no_store_middleware
from chalicelib.tokens import AccessClaims
from chalicelib.validation import parse_body

app = Chalice(app_name="chalkboard")
app.log.setLevel(logging.INFO)
# Every route answers the one web origin; set once, before the routes are declared.
app.api.cors = WebOriginCORS()
# One JSON log line per request and the business metrics (chalicelib/telemetry.py).
app.register_middleware(telemetry.request_middleware, "http")
# Cache-Control: no-store on every answer (tokens and secrets must not be cached).
app.register_middleware(no_store_middleware, "http")

# API Gateway caches the authorizer's policy per token for this many seconds; it
# is fixed when the API is packaged, so it is the one setting read at import.
# 0 (the default) makes logout and password changes take effect at once.
AUTHORIZER_TTL = int(os.environ.get("CHALKBOARD_AUTHORIZER_TTL", "0"))


@app.authorizer(ttl_seconds=AUTHORIZER_TTL)
def jwt_auth(auth_request: AuthRequest) -> AuthResponse:
    """Verify the bearer JWT; allow every route, since API Gateway caches the policy per token."""
    claims = authorizer.decide(current_deps(), auth_request.token)
    return AuthResponse(routes=["*"], principal_id=claims.username,
                        context=authorizer.context(claims))


def current_request() -> Request:
    """The request being answered (Chalice sets it before any route runs)."""
    request = app.current_request
    if request is None:
        raise RuntimeError("no current request: called outside a route")
    return request


def caller() -> AccessClaims:
    """The verified caller, from the authorizer's context (never from the body)."""
    return authorizer.claims_from(current_request().context["authorizer"])


def client() -> Client:
    """The caller's address and User-Agent, as the gateway reports them."""
    request = current_request()
    identity = request.context.get("identity") or {}
    return Client.from_request(identity.get("sourceIp"), request.headers.get("user-agent"))


def body(
    required: Mapping[str, type], optional: Mapping[str, type] | None = None
) -> dict[str, Any]:
    """The JSON body with exactly these fields (``InvalidInput`` otherwise)."""
    return parse_body(current_request().raw_body, required=required, optional=optional)


def query() -> Mapping[str, str]:
    """The query string's parameters ({} without one)."""
    return current_request().query_params or {}


def no_content() -> Response:
    return Response(body="", status_code=204)


CREDENTIALS = {"username": str, "password": str}


@app.route("/signup", methods=["POST"])
@api_errors
def signup() -> Response:
    fields = body(CREDENTIALS, optional={"display_name": str, "email": str})
    account = accounts.signup(current_deps(), fields["username"], fields["password"],
                              fields.get("display_name"), fields.get("email"))
    return Response(status_code=201, body=new_account_json(account))


@app.route("/login", methods=["POST"])
@api_errors
def login() -> dict[str, Any]:
    fields = body(CREDENTIALS, optional={"device_token": str})
    result = signin.password(current_deps(), fields["username"], fields["password"], client(),
                             fields.get("device_token"))
    if isinstance(result, signin.MfaChallenge):
        return {"mfa_required": True, "mfa_token": result.mfa_token}
    return token_pair_json(result)


@app.route("/login/totp", methods=["POST"])
@api_errors
def login_totp() -> dict[str, Any]:
    fields = body({"mfa_token": str, "code": str})
    return token_pair_json(signin.code(current_deps(), fields["mfa_token"], fields["code"],
                                       client()))


@app.route("/login/passkey/options", methods=["POST"])
@api_errors
def passkey_login_options() -> dict[str, Any]:
    body({})
    return {"publicKey": passkeys.login_options(current_deps())}


@app.route("/login/passkey", methods=["POST"])
@api_errors
def login_passkey() -> dict[str, Any]:
    fields = body({"credential": dict})
    return token_pair_json(signin.passkey(current_deps(), fields["credential"], client()))


@app.route("/token/refresh", methods=["POST"])
@api_errors
def refresh_token() -> dict[str, Any]:
    fields = body({"refresh_token": str})
    return token_pair_json(sessions.refresh(current_deps(), fields["refresh_token"]))


@app.route("/logout", methods=["POST"], authorizer=jwt_auth)
@api_errors
def logout() -> Response:
    body({}, optional={"refresh_token": str})  # validated; the session is the token's
    sessions.logout(current_deps(), caller(), client=client())
    return no_content()


@app.route("/me", methods=["GET"], authorizer=jwt_auth)
@api_errors
def get_me() -> dict[str, Any]:
    return account_json(accounts.get_account(current_deps(), caller().username))


@app.route("/me", methods=["PATCH"], authorizer=jwt_auth)
@api_errors
def update_me() -> dict[str, Any]:
    fields = body({"display_name": str})
    return account_json(accounts.rename(current_deps(), caller().username, fields["display_name"]))


@app.route("/me", methods=["DELETE"], authorizer=jwt_auth)
@api_errors
def delete_me() -> Response:
    fields = body({"password": str})
    accounts.delete_account(current_deps(), caller(), fields["password"], client=client())
    return no_content()


@app.route("/me/sessions", methods=["GET"], authorizer=jwt_auth)
@api_errors
def list_sessions() -> dict[str, Any]:
    views = sessions.list_sessions(current_deps(), caller())
    return {"sessions": [session_json(view) for view in views]}


@app.route("/me/sessions/{session_id}", methods=["DELETE"], authorizer=jwt_auth)
@api_errors
def end_session(session_id: str) -> Response:
    sessions.end_session(current_deps(), caller(), session_id, client=client())
    return no_content()


@app.route("/me/password", methods=["POST"], authorizer=jwt_auth)
@api_errors
def change_password() -> Response:
    fields = body({"current_password": str, "new_password": str})
    accounts.change_password(current_deps(), caller(), fields["current_password"],
                             fields["new_password"], client=client())
    return no_content()


@app.route("/me/totp", methods=["POST"], authorizer=jwt_auth)
@api_errors
def begin_totp() -> dict[str, Any]:
    fields = body({"password": str})
    return enrollment_json(
        totp.begin(current_deps(), caller(), fields["password"], client=client())
    )


@app.route("/me/totp/confirm", methods=["POST"], authorizer=jwt_auth)
@api_errors
def confirm_totp() -> dict[str, Any]:
    fields = body({"code": str})
    codes = totp.confirm(current_deps(), caller().username, fields["code"], client=client())
    return {"recovery_codes": codes}


@app.route("/me/totp", methods=["DELETE"], authorizer=jwt_auth)
@api_errors
def disable_totp() -> Response:
    fields = body({"password": str, "code": str})
    totp.disable(current_deps(), caller(), fields["password"], fields["code"], client=client())
    return no_content()


# --- recovery codes (issue 21) ---
@app.route("/me/totp/recovery-codes", methods=["POST"], authorizer=jwt_auth)
@api_errors
def regenerate_recovery_codes() -> dict[str, Any]:
    fields = body({"password": str, "code": str})
    return {"recovery_codes": totp.regenerate_recovery_codes(
        current_deps(), caller(), fields["password"], fields["code"], client=client()
    )}


@app.route("/me/passkeys/options", methods=["POST"], authorizer=jwt_auth)
@api_errors
def passkey_registration_options() -> dict[str, Any]:
    fields = body({"password": str}, optional={"code": str})  # step-up: passkeys.step_up
    return {"publicKey": passkeys.registration_options(
        current_deps(), caller(), fields["password"], fields.get("code"), client=client()
    )}


@app.route("/me/passkeys", methods=["POST"], authorizer=jwt_auth)
@api_errors
def add_passkey() -> Response:
    fields = body({"credential": dict}, optional={"name": str})
    passkey = passkeys.register(current_deps(), caller().username, fields["credential"],
                                fields.get("name"), client=client())
    return Response(status_code=201, body=passkey_json(passkey))


@app.route("/me/passkeys", methods=["GET"], authorizer=jwt_auth)
@api_errors
def list_passkeys() -> dict[str, Any]:
    found = passkeys.list_passkeys(current_deps(), caller().username)
    return {"passkeys": [passkey_json(p) for p in found]}


@app.route("/me/passkeys/{passkey_id}", methods=["PATCH"], authorizer=jwt_auth)
@api_errors
def rename_passkey(passkey_id: str) -> dict[str, Any]:
    fields = body({"name": str})
    passkey = passkeys.rename(current_deps(), caller().username, passkey_id, fields["name"])
    return passkey_json(passkey)


@app.route("/me/passkeys/{passkey_id}", methods=["DELETE"], authorizer=jwt_auth)
@api_errors
def delete_passkey(passkey_id: str) -> Response:
    fields = body({"password": str})
    passkeys.delete(current_deps(), caller(), passkey_id, fields["password"], client=client())
    return no_content()


@app.route("/messages", methods=["GET"], authorizer=jwt_auth)
@api_errors
def list_messages() -> dict[str, Any]:
    params = query()
    page = board.list_messages(current_deps(), limit=params.get("limit"),
                               cursor=params.get("cursor"), since=params.get("since"))
    return page_json(page, since=params.get("since") is not None)


@app.route("/messages", methods=["POST"], authorizer=jwt_auth)
@api_errors
def create_message() -> Response:
    fields = body({"content": str})
    claims = caller()
    message = board.add_message(current_deps(), username=claims.username,
                                session_id=claims.session_id, content=fields["content"])
    return Response(status_code=201, body=message_json(message))


@app.route("/messages/{message_id}", methods=["DELETE"], authorizer=jwt_auth)
@api_errors
def delete_message(message_id: str) -> Response:
    board.delete_message(current_deps(), username=caller().username, message_id=message_id)
    return no_content()


# --- security events ---
@app.route("/me/security-events", methods=["GET"], authorizer=jwt_auth)
@api_errors
def list_security_events() -> dict[str, Any]:
    params = query()
    me = caller()
    page = security_events.list_events(current_deps(), me.username, session_id=me.session_id,
                                       limit=params.get("limit"), cursor=params.get("cursor"))
    return events_page_json(page)


# --- email (issue 23) ---
@app.route("/me/email", methods=["POST"], authorizer=jwt_auth)
@api_errors
def change_email() -> Response:
    fields = body({"email": str, "password": str})
    accounts.change_email(current_deps(), caller(), fields["email"], fields["password"],
                          client=client())
    return Response(status_code=202, body={"status": "verification sent"})


@app.route("/email/verify", methods=["POST"])
@api_errors
def verify_email() -> Response:
    fields = body({"token": str})
    emails.verify(current_deps(), fields["token"], client=client())
    return no_content()


@app.route("/password/forgot", methods=["POST"])
@api_errors
def forgot_password() -> Response:
    fields = body({}, optional={"username": str, "email": str})
    resets.forgot(current_deps(), username=fields.get("username"), email=fields.get("email"))
    return Response(status_code=202, body={
        "status": "if that account has a verified email address, a reset link is on its way"
    })


@app.route("/password/reset", methods=["POST"])
@api_errors
def reset_password() -> Response:
    fields = body({"token": str, "new_password": str}, optional={"code": str})
    resets.reset(current_deps(), fields["token"], fields["new_password"], fields.get("code"),
                 client=client())
    return no_content()


@app.route("/health", methods=["GET"])
@api_errors
def get_health() -> dict[str, str]:
    health.check(current_deps())
    return {"status": "ok"}


# --- live reading (issue 26): a cheap "anything new?" (chalicelib/live.py) ---
@app.route("/live/ticket", methods=["GET"], authorizer=jwt_auth)
@api_errors
def get_live_ticket() -> dict[str, Any]:
    return ticket_json(live.issue_ticket(current_deps(), caller()))


@app.route("/live", methods=["GET"])
def get_live() -> Response:
    return live_answer(query())


@app.lambda_function(name="live")
def live_url(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    """GET /live on a Lambda function URL (deployed: ops/infra/live.py; its CORS is the
    URL's): the route's answer without an API Gateway request or an authorizer Lambda."""
    answer = live_answer(event.get("queryStringParameters") or {})
    answer.headers.update(NO_STORE)
    return answer.to_dict()


@api_errors
def live_answer(params: Mapping[str, str]) -> Response:
    page = live.newer(current_deps(), params.get("t"), limit=params.get("limit"),
                      since=params.get("since"))
    return Response(body=page_json(page, since=params.get("since") is not None))
