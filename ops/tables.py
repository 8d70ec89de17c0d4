"""Provisioning chalkboard's DynamoDB tables: their shape, and creating them.

``table_definitions`` is the one source of the tables' keys and billing: the
``create-tables`` command, the deploy templates (``render_infra``), the tests and
the benchmarks all use it. It lives outside ``chalicelib`` because the running
app only reads and writes the tables (``chalicelib/store/dynamodb.py``); it never
creates them, and its role may not.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.store.dynamodb import TTL_ATTRIBUTE, TableNames


def table_definitions(names: TableNames) -> list[dict[str, Any]]:
    """CreateTable arguments for every table, on-demand billing."""

    def table(name: str, *keys: tuple[str, str]) -> dict[str, Any]:
        return {
            "TableName": name,
            "KeySchema": [{"AttributeName": key, "KeyType": kind} for key, kind in keys],
            "AttributeDefinitions": [
                {"AttributeName": key, "AttributeType": "S"} for key, _ in keys
            ],
            "BillingMode": "PAY_PER_REQUEST",
        }

    return [
        table(names.users, ("username", "HASH")),
        table(names.messages, ("board", "HASH"), ("id", "RANGE")),
        table(names.auth, ("pk", "HASH")),
        table(names.user_items, ("username", "HASH"), ("item", "RANGE")),
    ]


def tables_with_ttl(names: TableNames) -> dict[str, str]:
    """Table name → its TTL attribute."""
    return {names.auth: TTL_ATTRIBUTE, names.user_items: TTL_ATTRIBUTE}


@dataclass(frozen=True)
class CreateReport:
    created: tuple[str, ...]
    ttl_unsupported: tuple[str, ...]  # tables whose endpoint has no TTL API (dynalite)


def _wait_until_active(client: Any, table: str, timeout: float = 300) -> None:
    """Poll with a growing delay (boto3's waiter sleeps a fixed second or more)."""
    deadline, delay = time.monotonic() + timeout, 0.02
    while client.describe_table(TableName=table)["Table"]["TableStatus"] != "ACTIVE":
        if time.monotonic() > deadline:
            raise TimeoutError(f"table {table} did not become ACTIVE within {timeout}s")
        time.sleep(delay)
        delay = min(delay * 2, 2.0)


def create_tables(client: Any, names: TableNames) -> CreateReport:
    """Create any missing table, wait until active, enable TTL; safe to run again."""
    created = []
    for definition in table_definitions(names):
        try:
            client.create_table(**definition)
            created.append(definition["TableName"])
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceInUseException":
                raise
    for definition in table_definitions(names):
        _wait_until_active(client, definition["TableName"])
    unsupported = []
    for table, attribute in tables_with_ttl(names).items():
        try:
            status = client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
            if status.get("TimeToLiveStatus") not in {"ENABLED", "ENABLING"}:
                client.update_time_to_live(
                    TableName=table,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute},
                )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "UnknownOperationException":
                raise
            unsupported.append(table)  # reads check expires_at, so nothing expired is used
    return CreateReport(created=tuple(created), ttl_unsupported=tuple(unsupported))
