"""Create chalkboard's DynamoDB tables (and enable TTL) for a stage; safe to run again.

Reads the table names from the stage's environment in .chalice/config.json,
or from CHALKBOARD_*_TABLE variables, and talks to whatever endpoint boto3 is
configured for: AWS, or a local server via AWS_ENDPOINT_URL_DYNAMODB.

    python scripts/create_tables.py --stage dev
    AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:4567 python scripts/create_tables.py --stage dev
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chalicelib.store.dynamodb import TableNames, create_tables, make_client  # noqa: E402


def stage_environment(stage: str) -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    if stage not in config.get("stages", {}):
        raise SystemExit(f"no stage {stage!r} in .chalice/config.json")
    return {
        **config.get("environment_variables", {}),
        **config["stages"][stage].get("environment_variables", {}),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="dev", help="stage in .chalice/config.json")
    args = parser.parse_args(argv)
    env = {**stage_environment(args.stage), **os.environ}
    try:
        names = TableNames(
            users=env["CHALKBOARD_USERS_TABLE"],
            messages=env["CHALKBOARD_MESSAGES_TABLE"],
            auth=env["CHALKBOARD_AUTH_TABLE"],
        )
    except KeyError as missing:
        raise SystemExit(f"{missing.args[0]} is not set for stage {args.stage!r}") from None
    report = create_tables(make_client(), names)
    for name in (names.users, names.messages, names.auth):
        print(f"{name}: {'created' if name in report.created else 'already exists'}")
    for name in report.ttl_unsupported:
        print(f"{name}: this endpoint has no TTL API; expired items stay but are never used")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
