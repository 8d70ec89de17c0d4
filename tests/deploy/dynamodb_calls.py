"""A pytest plugin that records every DynamoDB call the store makes, for the IAM test.

    CHALKBOARD_RECORD_DYNAMODB_CALLS=calls.jsonl \\
        pytest -p tests.deploy.dynamodb_calls tests/test_store_contract.py -k dynamodb

A botocore ``before-call`` hook on boto3's default session (which the store's client
comes from) writes one line per call and table: the ``DynamoDBStore`` method that made
it (the outermost on the stack), the operation (= the IAM action) and the table's key
(users, messages, ...; from the test's CHALKBOARD_*_TABLE variables). Calls made
outside the store (creating tables) are not the functions' and are left out.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import boto3
import pytest

from ops.stage import TABLE_ENVIRONMENT

VARIABLE = "CHALKBOARD_RECORD_DYNAMODB_CALLS"


def tables_of(params: dict[str, Any]) -> list[str]:
    if "TableName" in params:
        return [params["TableName"]]
    if "RequestItems" in params:  # BatchGetItem, BatchWriteItem
        return list(params["RequestItems"])
    return [next(iter(item.values()))["TableName"] for item in params.get("TransactItems", [])]


def store_method() -> str | None:
    """The outermost DynamoDBStore method on the stack: the one the app called."""
    from chalicelib.store.dynamodb import DynamoDBStore

    found, frame = None, sys._getframe(1)
    while frame is not None:
        owner = frame.f_locals.get("self")
        if isinstance(owner, DynamoDBStore) and not frame.f_code.co_name.startswith("_"):
            found = frame.f_code.co_name
        frame = frame.f_back
    return found


def record(model: Any, params: dict[str, Any], **_: Any) -> None:
    """``params`` is the request as it will be sent: DynamoDB's body is the call's JSON."""
    method = store_method()
    if method is None:
        return
    body = params["body"]
    arguments = json.loads(body.decode() if isinstance(body, bytes) else body)
    keys = {os.environ.get(variable): key for key, variable in TABLE_ENVIRONMENT.items()}
    with open(os.environ[VARIABLE], "a") as out:
        for table in tables_of(arguments):
            out.write(json.dumps({"method": method, "operation": model.name,
                                  "table": keys.get(table, table)}) + "\n")


def pytest_configure(config: pytest.Config) -> None:
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("before-call.dynamodb", record)
