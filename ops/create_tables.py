"""Create chalkboard's DynamoDB tables (and enable TTL) for a stage; safe to run again.

Reads the table names from the stage's environment in .chalice/config.json,
or from CHALKBOARD_*_TABLE variables, and talks to whatever endpoint boto3 is
configured for: AWS, or a local server via AWS_ENDPOINT_URL_DYNAMODB.

    python -m ops create-tables --stage dev
    AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:4567 python -m ops create-tables --stage dev
"""

from __future__ import annotations

import argparse
import os
import sys

from chalicelib.store.dynamodb import make_client
from ops.stage import StageError, load_config, stage_environment, table_names
from ops.tables import create_tables


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops create-tables",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="dev", help="stage in .chalice/config.json")
    args = parser.parse_args(argv)
    try:
        env = stage_environment(load_config(), args.stage)
        names = table_names({**env, **os.environ}, stage=args.stage)
    except StageError as error:
        print(f"create-tables: {error}", file=sys.stderr)
        return 1
    report = create_tables(make_client(), names)
    for name in (names.users, names.messages, names.auth, names.user_items):
        print(f"{name}: {'created' if name in report.created else 'already exists'}")
    for name in report.ttl_unsupported:
        print(f"{name}: this endpoint has no TTL API; expired items stay but are never used")
    return 0
