"""Run inside a Lambda-like interpreter: ``python -I -S -B lambda_like.py TREE RUNTIME DATA``.

``TREE`` is an unzipped ``deployment.zip``; ``RUNTIME`` holds only what the Lambda
Python runtime provides besides the standard library (boto3, botocore and their
dependencies). Nothing else is importable: no site-packages, no repository.

It imports ``app``, every ``chalicelib`` module and every third-party module they
import (also the ones imported lazily inside functions), then drives one request
per route family through the Lambda handlers as API Gateway would call them (the
authorizer first, its context passed on), on the SQLite store in ``DATA``. It
prints one JSON report on stdout's last line; the log lines go before it.
Standard library only until the paths are set.
"""

from __future__ import annotations

import ast
import importlib
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

tree, runtime, data = (Path(argument) for argument in sys.argv[1:4])
sys.path[:0] = [str(tree), str(runtime)]
# The Lambda Python runtime's logging: one handler on the root logger, level WARNING.
logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                    format="[%(levelname)s] %(name)s: %(message)s")
os.environ.update({
    "CHALKBOARD_STAGE": "test", "CHALKBOARD_STORE": "sqlite", "CHALKBOARD_DATA_DIR": str(data),
    "CHALKBOARD_WEB_ORIGIN": "https://chalkboard.example", "CHALKBOARD_WEBAUTHN_RP_ID":
    "chalkboard.example", "CHALKBOARD_ARGON2_MEMORY_KIB": "1024",
    "CHALKBOARD_ARGON2_TIME_COST": "1", "AWS_DEFAULT_REGION": "eu-west-1",
})


def guarded(node: ast.AST) -> bool:
    """An `if TYPE_CHECKING:` block, or a `try:` whose import may fail (``except ImportError``)."""
    if isinstance(node, ast.If):
        return "TYPE_CHECKING" in ast.unparse(node.test)
    return isinstance(node, ast.Try) and any(
        handler.type is not None and "ImportError" in ast.unparse(handler.type)
        for handler in node.handlers)


def imported(node: ast.AST) -> list[str]:
    """The modules ``node`` imports, in functions too, leaving out guarded imports."""
    if guarded(node):
        return []
    names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
             else [node.module] if isinstance(node, ast.ImportFrom) and node.module
             and node.level == 0 else [])
    for child in ast.iter_child_nodes(node):
        names += imported(child)
    return names


def third_party_imports() -> list[str]:
    """Every module app.py and chalicelib import that is neither stdlib nor their own."""
    found: set[str] = set()
    for path in [tree / "app.py", *sorted((tree / "chalicelib").rglob("*.py"))]:
        found.update(imported(ast.parse(path.read_text())))
    ours = {"chalicelib", "app", "__future__"}
    return sorted(name for name in found
                  if name.split(".")[0] not in sys.stdlib_module_names | ours)


def chalicelib_modules() -> list[str]:
    return sorted(".".join(path.relative_to(tree).with_suffix("").parts).removesuffix(".__init__")
                  for path in (tree / "chalicelib").rglob("*.py"))


class Context:
    """The attributes of Lambda's context object that Chalice and the app read."""

    function_name = "chalkboard-api"
    memory_limit_in_mb = 256

    def __init__(self, number: int) -> None:
        self.aws_request_id = f"request-{number}"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def event(method: str, path: str, body: Any = None, authorizer: dict[str, Any] | None = None,
          query: dict[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway REST (proxy) event as the stage sends it to the handler."""
    return {
        "resource": path, "path": path, "httpMethod": method,
        "headers": {"Content-Type": "application/json", "Origin": "https://chalkboard.example"},
        "multiValueHeaders": {}, "queryStringParameters": query,
        "multiValueQueryStringParameters": None if query is None else {
            name: [value] for name, value in query.items()}, "pathParameters": None,
        "stageVariables": None, "isBase64Encoded": False,
        "body": None if body is None else json.dumps(body),
        "requestContext": {
            "resourcePath": path, "httpMethod": method, "path": f"/api{path}",
            "stage": "api", "requestId": f"gateway-{method}-{path}",
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "lambda-like"},
            **({"authorizer": authorizer} if authorizer is not None else {}),
        },
    }


def main() -> dict[str, Any]:
    started = time.perf_counter()
    app_module = importlib.import_module("app")
    cold_start_ms = (time.perf_counter() - started) * 1000
    for name in chalicelib_modules() + third_party_imports():
        importlib.import_module(name)
    handler, authorizer = app_module.app, app_module.jwt_auth
    calls = 0
    answers: dict[str, int] = {}

    def call(method: str, path: str, body: Any = None, token: str | None = None,
             query: dict[str, str] | None = None) -> Any:
        nonlocal calls
        calls += 1
        context = None
        if token is not None:  # API Gateway runs the authorizer, then passes its context on
            policy = authorizer({"type": "TOKEN", "authorizationToken": f"Bearer {token}",
                                 "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:"
                                              f"abcdef1234/api/{method}{path}"},
                                Context(calls))
            context = {"principalId": policy["principalId"], **policy.get("context", {})}
        response = handler(event(method, path, body, context, query), Context(calls))
        answers[f"{method} {path}"] = response["statusCode"]
        return json.loads(response["body"]) if response.get("body") else None

    credentials = {"username": "alice", "password": "correct horse battery staple"}
    call("POST", "/signup", credentials)
    call("POST", "/login", {**credentials, "password": "not the password"})  # an auth line
    call("POST", "/login/totp", {"mfa_token": "not.a.token", "code": "123456"})  # INFO
    token = call("POST", "/login", credentials)["access_token"]
    registration = call("POST", "/me/passkeys/options", {"password": credentials["password"]},
                        token)  # step-up (issue 21)
    sign_in = call("POST", "/login/passkey/options", {})
    totp = call("POST", "/me/totp", {"password": credentials["password"]}, token)
    call("POST", "/messages", {"content": "hello from the zip"}, token)
    board = call("GET", "/messages", None, token)
    # Live reading (issue 26): a ticket from the API, asked on the API's GET /live and
    # on the live function as a Lambda function URL calls it (payload format 2.0).
    ticket = call("GET", "/live/ticket", None, token)["ticket"]
    via_api = call("GET", "/live", None, None, {"t": ticket})
    url_answer = app_module.live_url({
        "version": "2.0", "routeKey": "$default", "rawPath": "/", "rawQueryString": "",
        "headers": {"origin": "https://chalkboard.example"},
        "queryStringParameters": {"t": ticket},
        "requestContext": {"http": {"method": "GET", "path": "/", "sourceIp": "203.0.113.7"}},
        "isBase64Encoded": False,
    }, Context(calls + 1))
    answers["live function URL"] = url_answer["statusCode"]
    live = [json.loads(url_answer["body"]), via_api]
    return {
        "sys_path": sys.path,
        "modules": {name: getattr(module, "__file__", None)
                    for name, module in sorted(sys.modules.items())},
        "third_party": third_party_imports(),
        "answers": answers,
        "passkey_challenge": bool(registration["publicKey"]["challenge"])
        and bool(sign_in["publicKey"]["challenge"]),
        "totp_uri": totp["otpauth_uri"],
        "board": [message["content"] for message in board["messages"]],
        "live": [[message["content"] for message in page["messages"]] for page in live],
        "live_cache_control": url_answer["headers"].get("Cache-Control"),
        "cold_start_ms": round(cold_start_ms, 1),
        "dont_write_bytecode": sys.dont_write_bytecode,
    }


if __name__ == "__main__":
    report = main()
    sys.stdout.flush()
    sys.stdout.write("\n" + json.dumps(report) + "\n")
