"""DynamoDB adapter (boto3's low-level client): for AWS, and locally for dynalite.

Tables (``table_definitions`` is the one source of their shape; the deploy
templates are tested against it):

- users: ``username``. Signup is a conditional put, so a name is taken once.
- messages: ``board`` + ``id``. The board is read by a Query on the
  time-ordered ``id``, newest first, with Limit: never a Scan, so a page costs
  the same at 100 or 100,000 messages.
- auth: ``pk`` with a TTL on ``expires_at``: revoked access tokens
  (``revoked#<jti>``), refresh tokens (``refresh#<sha256>``), revoked token
  families (``family#<id>``), login attempts (``login#<username>``) and recent
  posts (``posts#<username>``, a string set of at most the posting limit).
  TTL deletion is lazy, so every read also checks ``expires_at``.

Botocore's standard retry mode and short timeouts turn an unreachable or
throttling store into ``StoreUnavailable`` (503) within seconds.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.errors import Conflict, StoreUnavailable, UsernameTaken
from chalicelib.store import (
    BOARD,
    AccessState,
    LoginCount,
    LoginThrottle,
    Message,
    Page,
    RefreshToken,
    User,
    next_login_throttle,
)

CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=1,
    read_timeout=2,
)
# Errors that mean "try again later" rather than "this request is wrong".
TRANSIENT_ERRORS = frozenset({
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "ResourceNotFoundException",  # a missing table: logged, answered as 503
    "TransactionInProgressException",
})
BATCH_ATTEMPTS = 3
TTL_ATTRIBUTE = "expires_at"


@dataclass(frozen=True)
class TableNames:
    users: str
    messages: str
    auth: str


def make_client() -> Any:
    """A DynamoDB client; honours AWS_ENDPOINT_URL_DYNAMODB (e.g. dynalite)."""
    return boto3.client("dynamodb", config=CLIENT_CONFIG)


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
    ]


def tables_with_ttl(names: TableNames) -> dict[str, str]:
    """Table name → its TTL attribute."""
    return {names.auth: TTL_ATTRIBUTE}


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: float) -> dict[str, str]:
    return {"N": repr(value) if isinstance(value, float) else str(value)}


def _num(item: dict[str, Any], name: str) -> float:
    return float(item[name]["N"])


def _user(item: dict[str, Any]) -> User:
    return User(
        username=item["username"]["S"],
        password_hash=item["password_hash"]["S"],
        created_at=_num(item, "created_at"),
        tokens_valid_after_ms=int(_num(item, "tokens_valid_after_ms")),
    )


def _message(item: dict[str, Any]) -> Message:
    return Message(
        id=item["id"]["S"],
        username=item["username"]["S"],
        content=item["content"]["S"],
        created_at=_num(item, "created_at"),
    )


def _refresh_token(token_hash: str, item: dict[str, Any]) -> RefreshToken:
    return RefreshToken(
        token_hash=token_hash,
        username=item["username"]["S"],
        family=item["family"]["S"],
        issued_at_ms=int(_num(item, "issued_at_ms")),
        expires_at=int(_num(item, TTL_ATTRIBUTE)),
        used=item["used"]["BOOL"],
    )


class DynamoDBStore:
    def __init__(self, client: Any, tables: TableNames) -> None:
        self._client = client
        self._tables = tables

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """Call the client; transient failures (after botocore's retries) become 503s."""
        try:
            answer: dict[str, Any] = getattr(self._client, operation)(**kwargs)
            return answer
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in TRANSIENT_ERRORS:
                raise StoreUnavailable() from error
            raise
        except BotoCoreError as error:  # connection refused, timeouts, ...
            raise StoreUnavailable() from error

    @staticmethod
    def _condition_failed(error: ClientError) -> bool:
        code = error.response.get("Error", {}).get("Code")
        return bool(code == "ConditionalCheckFailedException")

    def _auth_item(self, pk: str) -> dict[str, Any] | None:
        answer = self._call(
            "get_item", TableName=self._tables.auth, Key={"pk": _s(pk)}, ConsistentRead=True
        )
        return answer.get("Item")

    @staticmethod
    def _live(item: dict[str, Any] | None, now: float) -> bool:
        return item is not None and _num(item, TTL_ATTRIBUTE) >= int(now)

    # -- Store --------------------------------------------------------------------

    def ping(self) -> None:
        self._auth_item("health#ping")

    def create_user(self, user: User) -> None:
        try:
            self._call(
                "put_item",
                TableName=self._tables.users,
                Item={
                    "username": _s(user.username),
                    "password_hash": _s(user.password_hash),
                    "created_at": _n(user.created_at),
                    "tokens_valid_after_ms": _n(user.tokens_valid_after_ms),
                },
                ConditionExpression="attribute_not_exists(username)",
            )
        except ClientError as error:
            if self._condition_failed(error):
                raise UsernameTaken("username is already taken") from None
            raise

    def get_user(self, username: str) -> User | None:
        answer = self._call(
            "get_item",
            TableName=self._tables.users,
            Key={"username": _s(username)},
            ConsistentRead=True,
        )
        return _user(answer["Item"]) if "Item" in answer else None

    def set_password(
        self, *, username: str, password_hash: str, tokens_valid_after_ms: int | None
    ) -> None:
        update = "SET password_hash = :h"
        values: dict[str, Any] = {":h": _s(password_hash)}
        if tokens_valid_after_ms is not None:
            update += ", tokens_valid_after_ms = :v"
            values[":v"] = _n(tokens_valid_after_ms)
        try:
            self._call(
                "update_item",
                TableName=self._tables.users,
                Key={"username": _s(username)},
                UpdateExpression=update,
                ExpressionAttributeValues=values,
                ConditionExpression="attribute_exists(username)",
            )
        except ClientError as error:
            if not self._condition_failed(error):  # a vanished user has no password to set
                raise

    def access_state(self, *, username: str, jti: str, now: float) -> AccessState:
        """The user and the token's revocation in one BatchGetItem round trip."""
        request: dict[str, Any] = {
            self._tables.users: {"Keys": [{"username": _s(username)}], "ConsistentRead": True},
            self._tables.auth: {"Keys": [{"pk": _s(f"revoked#{jti}")}], "ConsistentRead": True},
        }
        found: dict[str, list[dict[str, Any]]] = {}
        for attempt in range(BATCH_ATTEMPTS):
            answer = self._call("batch_get_item", RequestItems=request)
            for table, items in answer.get("Responses", {}).items():
                found.setdefault(table, []).extend(items)
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(0.05 * 2**attempt)
        else:
            raise StoreUnavailable()
        users = found.get(self._tables.users, [])
        revocations = found.get(self._tables.auth, [])
        return AccessState(
            user=_user(users[0]) if users else None,
            revoked=any(self._live(item, now) for item in revocations),
        )

    def _put_expiring(self, pk: str, expires_at: int, **attributes: dict[str, Any]) -> None:
        self._call(
            "put_item",
            TableName=self._tables.auth,
            Item={"pk": _s(pk), TTL_ATTRIBUTE: _n(expires_at), **attributes},
        )

    def revoke_access_token(self, *, jti: str, expires_at: int) -> None:
        self._put_expiring(f"revoked#{jti}", expires_at)

    def add_refresh_token(self, token: RefreshToken) -> None:
        self._put_expiring(
            f"refresh#{token.token_hash}",
            token.expires_at,
            username=_s(token.username),
            family=_s(token.family),
            issued_at_ms=_n(token.issued_at_ms),
            used={"BOOL": token.used},
        )

    def get_refresh_token(self, *, token_hash: str) -> RefreshToken | None:
        item = self._auth_item(f"refresh#{token_hash}")
        return _refresh_token(token_hash, item) if item is not None else None

    def spend_refresh_token(self, *, token_hash: str) -> RefreshToken | None:
        try:
            answer = self._call(
                "update_item",
                TableName=self._tables.auth,
                Key={"pk": _s(f"refresh#{token_hash}")},
                UpdateExpression="SET used = :true",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":true": {"BOOL": True}},
                ReturnValues="ALL_OLD",  # the old ``used`` tells exactly one caller it won
            )
        except ClientError as error:
            if self._condition_failed(error):
                return None
            raise
        return _refresh_token(token_hash, answer["Attributes"])

    def revoke_family(self, *, family: str, expires_at: int) -> None:
        self._put_expiring(f"family#{family}", expires_at)

    def is_family_revoked(self, *, family: str, now: float) -> bool:
        return self._live(self._auth_item(f"family#{family}"), now)

    def _login_throttle(self, username: str) -> LoginThrottle | None:
        item = self._auth_item(f"login#{username}")
        if item is None:
            return None
        return LoginThrottle(
            username=username,
            attempts=int(_num(item, "attempts")),
            locked_until=_num(item, "locked_until"),
        )

    def count_login_attempt(
        self, *, username: str, now: float, limit: int, window_seconds: int
    ) -> LoginCount:
        """Usually one UpdateItem: it adds 1 when the item is absent, or under the limit
        and within a window of its last attempt. Otherwise one consistent read decides:
        locked (no write, so the lock is never extended), or stale (a reset conditional
        on the state read)."""
        key = {"pk": _s(f"login#{username}")}
        lock_end = now + window_seconds
        try:
            answer = self._call(
                "update_item",
                TableName=self._tables.auth,
                Key=key,
                UpdateExpression=(
                    "SET attempts = if_not_exists(attempts, :zero) + :one,"
                    " locked_until = :lock_end, expires_at = :expires"
                ),
                ConditionExpression=(
                    "attribute_not_exists(pk) OR (attempts < :limit AND locked_until > :now)"
                ),
                ExpressionAttributeValues={
                    ":zero": _n(0), ":one": _n(1), ":limit": _n(limit), ":now": _n(now),
                    ":lock_end": _n(lock_end),
                    ":expires": _n(int(lock_end) + 1),
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if not self._condition_failed(error):
                raise
        else:
            item = answer["Attributes"]
            return LoginCount(counted=True, throttle=LoginThrottle(
                username=username,
                attempts=int(_num(item, "attempts")),
                locked_until=_num(item, "locked_until"),
            ))
        current = self._login_throttle(username)
        updated = next_login_throttle(
            current, username=username, now=now, limit=limit, window_seconds=window_seconds
        )
        if current is None or updated is None or updated.attempts != 1:
            if current is not None and updated is None:
                return LoginCount(counted=False, throttle=current)
            raise Conflict("login attempts changed between the update and the read")
        try:  # a window without attempts or an ended lock: start again, if nobody did meanwhile
            self._call(
                "put_item",
                TableName=self._tables.auth,
                Item={
                    **key,
                    "attempts": _n(updated.attempts),
                    "locked_until": _n(updated.locked_until),
                    TTL_ATTRIBUTE: _n(updated.expires_at),
                },
                ConditionExpression=(
                    "attempts = :attempts AND locked_until = :locked_until"
                ),
                ExpressionAttributeValues={
                    ":attempts": _n(current.attempts),
                    ":locked_until": _n(current.locked_until),
                },
            )
        except ClientError as error:
            if self._condition_failed(error):
                raise Conflict("login attempts changed concurrently") from None
            raise
        return LoginCount(counted=True, throttle=updated)

    def clear_login_throttle(self, *, username: str) -> None:
        self._call(
            "delete_item", TableName=self._tables.auth, Key={"pk": _s(f"login#{username}")}
        )

    def count_post(
        self, *, username: str, now: float, limit: int, window_seconds: int
    ) -> float | None:
        """One UpdateItem adds this post to the set of recent ones while the set holds
        fewer than ``limit``. When it is full, one read tells whether the oldest have
        left the window: if so they are deleted from the set and the caller retries."""
        key = {"pk": _s(f"posts#{username}")}
        entry = f"{now:017.6f}#{uuid.uuid4().hex[:8]}"  # unique; sorts by time
        try:
            self._call(
                "update_item",
                TableName=self._tables.auth,
                Key=key,
                UpdateExpression="ADD recent :entry SET expires_at = :expires",
                ConditionExpression="attribute_not_exists(recent) OR size(recent) < :limit",
                ExpressionAttributeValues={
                    ":entry": {"SS": [entry]}, ":limit": _n(limit),
                    ":expires": _n(int(now + window_seconds) + 1),
                },
            )
            return None
        except ClientError as error:
            if not self._condition_failed(error):
                raise
        item = self._auth_item(f"posts#{username}") or {}
        recent = item.get("recent", {}).get("SS", [])
        cutoff = now - window_seconds
        expired = [e for e in recent if float(e.partition("#")[0]) <= cutoff]
        live = sorted(float(e.partition("#")[0]) for e in recent if e not in expired)
        if len(live) >= limit:
            return live[len(live) - limit] + window_seconds
        if expired:
            self._call(
                "update_item",
                TableName=self._tables.auth,
                Key=key,
                UpdateExpression="DELETE recent :expired",
                ExpressionAttributeValues={":expired": {"SS": expired}},
            )
        raise Conflict("recent posts were full of expired entries; retry")

    def add_message(self, message: Message) -> None:
        self._call(
            "put_item",
            TableName=self._tables.messages,
            Item={
                "board": _s(BOARD),
                "id": _s(message.id),
                "username": _s(message.username),
                "content": _s(message.content),
                "created_at": _n(message.created_at),
            },
        )

    def get_message(self, *, message_id: str) -> Message | None:
        answer = self._call(
            "get_item",
            TableName=self._tables.messages,
            Key={"board": _s(BOARD), "id": _s(message_id)},
            ConsistentRead=True,
        )
        return _message(answer["Item"]) if "Item" in answer else None

    def list_messages(self, *, limit: int, before_id: str | None, consistent: bool = True
                      ) -> Page:
        condition = "board = :board"
        values = {":board": _s(BOARD)}
        if before_id is not None:
            condition += " AND id < :before"
            values[":before"] = _s(before_id)
        answer = self._call(
            "query",
            TableName=self._tables.messages,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            ScanIndexForward=False,  # newest first
            Limit=limit + 1,  # one extra item tells whether another page exists
            ConsistentRead=consistent,
        )
        items = answer.get("Items", [])
        return Page(
            messages=tuple(_message(item) for item in items[:limit]),
            has_more=len(items) > limit,
        )

    def delete_message(self, *, message_id: str) -> None:
        self._call(
            "delete_item",
            TableName=self._tables.messages,
            Key={"board": _s(BOARD), "id": _s(message_id)},
        )


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
