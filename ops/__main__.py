"""``python -m ops <command> [arguments]``: one entry point for every operator command.

A command is a module of this package with ``main(argv: list[str]) -> int``;
adding one is adding a line to ``COMMANDS``. Modules load only when run, so
``python -m ops --help`` imports neither boto3 nor the app.
"""

from __future__ import annotations

import importlib
import sys

# command name -> (module in this package, one-line summary)
COMMANDS: dict[str, tuple[str, str]] = {
    "create-tables": ("create_tables", "create a stage's DynamoDB tables (idempotent)"),
    "keyring": ("keyring", "create, rotate, prune, revoke or show a stage's signing keyring"),
    "render-infra": ("render_infra", "write (or --check) the deploy templates and policy files"),
    "rules": ("rules", "write (or --check) the web app's copy of the input rules"),
    "deploy-doc": ("deploy_doc", "write (or --check) docs/deploy.md's lists of tables, IAM, "
                                 "parameters and costs"),
    "package": ("package", "chalice package a stage, checked: pinned runtime, no missing wheel"),
    "deploy": ("deploy", "chalice deploy a stage after the same checks as package"),
    "upload-web": ("upload_web", "upload static/ to a stage's bucket, pointed at the API"),
    "gateway-responses": ("gateway_responses",
                          "for `chalice deploy`: CORS on API Gateway's own errors, stage settings"),
    "reliability-report": ("reliability_report", "run tests/reliability and print its figures"),
    "mail": ("mail", "list the local mailbox (newest first) or print one message"),
    "serve": ("local_server", "run the API locally: fast, answering as API Gateway does"),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: python -m ops <command> [arguments]   (<command> --help for more)", "",
             "commands:"]
    lines += [f"  {name:<{width}}  {summary}" for name, (_, summary) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(usage())
        return 0
    name, *rest = argv
    if name not in COMMANDS:
        print(f"ops: no command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"ops.{COMMANDS[name][0]}")
    status: int = module.main(rest)
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
