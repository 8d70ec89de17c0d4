"""`python -m ops create-tables` against a real DynamoDB-protocol server (dynalite)."""

from __future__ import annotations

import os
import subprocess
import sys

import boto3

from ops.stage import ROOT
from tests.helpers import DUMMY_AWS, unique_tables


def run_script(env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "ops", "create-tables", "--stage", "dev"],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
        check=True,
    )
    return result.stdout


def test_create_tables_is_idempotent_and_makes_the_documented_tables(dynalite_url: str) -> None:
    tables = unique_tables()
    env = {**DUMMY_AWS, **tables, "AWS_ENDPOINT_URL_DYNAMODB": dynalite_url}
    first = run_script(env)
    second = run_script(env)
    for name in tables.values():
        assert f"{name}: created" in first
        assert f"{name}: already exists" in second
    client = boto3.client("dynamodb", endpoint_url=dynalite_url, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    messages = client.describe_table(TableName=tables["CHALKBOARD_MESSAGES_TABLE"])["Table"]
    assert messages["TableStatus"] == "ACTIVE"
    assert {(k["AttributeName"], k["KeyType"]) for k in messages["KeySchema"]} == {
        ("board", "HASH"), ("id", "RANGE"),
    }
    assert messages["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_create_tables_names_a_missing_table_setting(tmp_path) -> None:
    env = {**os.environ, **DUMMY_AWS}
    env.pop("CHALKBOARD_USERS_TABLE", None)
    result = subprocess.run(
        [sys.executable, "-m", "ops", "create-tables", "--stage", "test"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "CHALKBOARD_USERS_TABLE is not set for stage 'test'" in result.stderr
