"""DynamoDB adapter (boto3's low-level client): for AWS, and locally for dynalite.

Tables (``ops.tables.table_definitions`` is the one source of their shape; the
deploy templates are tested against it):

- users: ``username``. Signup is a conditional put, so a name is taken once. The
  ``display_name`` lives here only: a board page reads its distinct authors' names
  in one BatchGetItem, so a rename reaches every older message.
- messages: ``board`` + ``id``. The board is read by a Query on the
  time-ordered ``id``, newest first, with Limit: never a Scan, so a page costs
  the same at 100 or 100,000 messages.
- auth: ``pk`` with a TTL on ``expires_at``: refresh tokens
  (``refresh#<sha256>``), recent posts (``posts#<username>``, a string set of at
  most the posting limit),
  single-use challenges (``challenge#<key>``: WebAuthn challenges and the ids
  of mfa_tokens) and, without a TTL, which user a passkey belongs to
  (``passkey#<digest of the credential id>`` → username: a pointer, the passkey itself is a
  user item, so a pointer left by a deleted account leads nowhere).
- user_items: ``username`` + ``item``, TTL on ``expires_at``: every record that
  belongs to one user, so one Query finds them all without a Scan: sessions
  (``session#<sid>``, expiring) and one index item per message
  (``message#<id>``), two-factor state (``totp``), passkeys
  (``passkey#<digest of the credential id>``), known devices
  (``device#<sha256 of the device token>``, expiring) and attempt throttles
  (``throttle#<scope>``, expiring; kept for names without an account too, so one
  Query clears every bucket of a name), security events (``event#<ULID>``,
  expiring after 90 days; read newest first by a Query with
  ``ScanIndexForward=False``) and the addresses (``email``); account deletion removes
  them all.
- auth also holds, without a TTL, which account a verified address belongs to
  (``email#<address>`` → username, written with a conditional put: the one claim of
  an address) and, with a TTL, mailed links' token hashes
  (``emailtoken#<purpose>#<sha256>``).
TTL deletion is lazy, so every read also checks ``expires_at``.

Botocore's standard retry mode and short timeouts turn an unreachable or
throttling store into ``StoreUnavailable`` (503) within seconds.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.encoding import b64url_encode
from chalicelib.errors import AccountGone, Conflict, StoreUnavailable, UsernameTaken
from chalicelib.store.model import (
    BOARD,
    LOGIN_SCOPE,
    AccessState,
    Challenge,
    EmailAddress,
    EmailToken,
    KnownDevice,
    LoginCount,
    LoginThrottle,
    Message,
    Page,
    Passkey,
    RefreshToken,
    SecurityEvent,
    SecurityEventPage,
    Session,
    TotpState,
    User,
)
from chalicelib.throttle import next_login_throttle

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
BATCH_WRITE_SIZE = 25  # BatchWriteItem's limit
TTL_ATTRIBUTE = "expires_at"
SESSION_PREFIX = "session#"
MESSAGE_PREFIX = "message#"
PASSKEY_PREFIX = "passkey#"
TOTP_ITEM = "totp"
THROTTLE_PREFIX = "throttle#"
DEVICE_PREFIX = "device#"
# A session's fields beyond its key, stamp, times and TTL: absent on items written
# before they existed (the model's defaults then apply).
_SESSION_EXTRAS = ("ends_at", "method", "ip", "user_agent", "device_id",
                   "credential_id")

EVENT_PREFIX = "event#"
EMAIL_ITEM = "email"  # a user item: the verified and the pending address


@dataclass(frozen=True)
class TableNames:
    users: str
    messages: str
    auth: str
    user_items: str


def make_client() -> Any:
    """A DynamoDB client; honours AWS_ENDPOINT_URL_DYNAMODB (e.g. dynalite)."""
    return boto3.client("dynamodb", config=CLIENT_CONFIG)


_SERIALIZER, _DESERIALIZER = TypeSerializer(), TypeDeserializer()


def _av(value: object) -> dict[str, Any]:
    """A Python value as a DynamoDB attribute value (boto3's serializer); a float goes
    as the exact Decimal of its repr, since the serializer refuses floats."""
    wire: dict[str, Any] = _SERIALIZER.serialize(
        Decimal(repr(value)) if isinstance(value, float) else value
    )
    return wire


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    """An item's attributes as Python values (boto3's deserializer: numbers as Decimal,
    string sets as sets)."""
    return {name: _DESERIALIZER.deserialize(value) for name, value in item.items()}


def _user(item: dict[str, Any]) -> User:
    fields = _plain(item)
    return User(
        username=fields["username"],
        password_hash=fields["password_hash"],
        created_at=float(fields["created_at"]),
        credential_stamp=fields.get("credential_stamp", ""),
        deleted="deleted" in item,
        display_name=fields.get("display_name", ""),  # absent on older items
        webauthn_handle=fields.get("webauthn_handle", ""),  # absent on older items
    )


def _session(item: dict[str, Any]) -> Session:
    fields = _plain(item)
    return Session(
        username=fields["username"],
        sid=fields["item"].removeprefix(SESSION_PREFIX),
        credential_stamp=fields["credential_stamp"],
        created_at=float(fields["created_at"]),
        last_used_at=float(fields["last_used_at"]),
        expires_at=int(fields[TTL_ATTRIBUTE]),
        ends_at=int(fields.get("ends_at", 0)),
        method=fields.get("method", "password"),
        ip=fields.get("ip", ""),
        user_agent=fields.get("user_agent", ""),
        device_id=fields.get("device_id", ""),
        credential_id=fields.get("credential_id", ""),
    )


def _message(item: dict[str, Any], names: dict[str, str] | None = None) -> Message:
    fields = _plain(item)
    username = fields["username"]
    return Message(
        id=fields["id"],
        username=username,
        content=fields["content"],
        created_at=float(fields["created_at"]),
        display_name=(names or {}).get(username, ""),
    )


def _refresh_token(token_hash: str, item: dict[str, Any]) -> RefreshToken:
    fields = _plain(item)
    return RefreshToken(
        token_hash=token_hash,
        username=fields["username"],
        family=fields["family"],
        issued_at_ms=int(fields["issued_at_ms"]),
        expires_at=int(fields[TTL_ATTRIBUTE]),
        used=fields["used"],
        session_ends_at=int(fields.get("session_ends_at", 0)),
    )


def _passkey_key(credential_id: str) -> str:
    """A passkey's key in both tables: a digest of its credential id, because an id may be
    up to 1364 characters (1023 bytes, base64url) and a sort key only 1024 bytes."""
    digest = hashlib.sha256(credential_id.encode()).digest()
    return PASSKEY_PREFIX + b64url_encode(digest)


def _passkey(item: dict[str, Any]) -> Passkey:
    fields = _plain(item)
    return Passkey(
        credential_id=fields["credential_id"],
        username=fields["username"],
        public_key=fields["public_key"],
        sign_count=int(fields["sign_count"]),
        transports=tuple(fields["transports"].split()),
        name=fields["name"],
        created_at=float(fields["created_at"]),
        last_used_at=float(fields["last_used_at"]) if "last_used_at" in fields else None,
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

    def _conditional(self, operation: str, **kwargs: Any) -> dict[str, Any] | None:
        """``_call`` for a write with a ConditionExpression: its answer, or None when
        the condition failed (the one way this adapter meets a failed condition)."""
        try:
            return self._call(operation, **kwargs)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise

    def _auth_item(self, pk: str) -> dict[str, Any] | None:
        answer = self._call(
            "get_item", TableName=self._tables.auth, Key={"pk": _av(pk)}, ConsistentRead=True
        )
        return answer.get("Item")

    @staticmethod
    def _live(item: dict[str, Any] | None, now: float) -> bool:
        return item is not None and _plain(item)[TTL_ATTRIBUTE] >= int(now)

    # -- Store --------------------------------------------------------------------

    def ping(self) -> None:
        self._auth_item("health#ping")

    def create_user(self, user: User) -> None:
        if self._conditional(
            "put_item",
            TableName=self._tables.users,
            Item={
                "username": _av(user.username),
                "password_hash": _av(user.password_hash),
                "created_at": _av(user.created_at),
                "credential_stamp": _av(user.credential_stamp),
                "display_name": _av(user.display_name),
                "passkeys": _av(0),
                **({"webauthn_handle": _av(user.webauthn_handle)} if user.webauthn_handle else {}),
            },
            ConditionExpression="attribute_not_exists(username)",
        ) is None:
            raise UsernameTaken("username is already taken")

    def get_user(self, username: str) -> User | None:
        answer = self._call(
            "get_item",
            TableName=self._tables.users,
            Key={"username": _av(username)},
            ConsistentRead=True,
        )
        return _user(answer["Item"]) if "Item" in answer else None

    def set_password(
        self, *, username: str, password_hash: str, credential_stamp: str, expected_stamp: str
    ) -> bool:
        written = self._conditional(
            "update_item",
            TableName=self._tables.users,
            Key={"username": _av(username)},
            UpdateExpression="SET password_hash = :h, credential_stamp = :s",
            ConditionExpression=(
                "credential_stamp = :expected AND attribute_not_exists(deleted)"
            ),
            ExpressionAttributeValues={
                ":h": _av(password_hash), ":s": _av(credential_stamp),
                ":expected": _av(expected_stamp),
            },
        )
        return written is not None

    def set_display_name(self, *, username: str, display_name: str) -> User | None:
        answer = self._conditional(
            "update_item",
            TableName=self._tables.users,
            Key={"username": _av(username)},
            UpdateExpression="SET display_name = :d",
            ExpressionAttributeValues={":d": _av(display_name)},
            ConditionExpression="attribute_exists(username)",
            ReturnValues="ALL_NEW",
        )
        return None if answer is None else _user(answer["Attributes"])

    def _batch_get(self, request: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        """BatchGetItem, retrying unprocessed keys; one round trip when nothing is left over."""
        found: dict[str, list[dict[str, Any]]] = {}
        for attempt in range(BATCH_ATTEMPTS):
            answer = self._call("batch_get_item", RequestItems=request)
            for table, items in answer.get("Responses", {}).items():
                found.setdefault(table, []).extend(items)
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                return found
            time.sleep(0.05 * 2**attempt)
        raise StoreUnavailable()

    def access_state(self, *, username: str, sid: str) -> AccessState:
        """The user and the session in one BatchGetItem round trip."""
        found = self._batch_get({
            self._tables.users: {"Keys": [{"username": _av(username)}], "ConsistentRead": True},
            self._tables.user_items: {
                "Keys": [{"username": _av(username), "item": _av(SESSION_PREFIX + sid)}],
                "ConsistentRead": True,
            },
        })
        users = found.get(self._tables.users, [])
        sessions = found.get(self._tables.user_items, [])
        return AccessState(
            user=_user(users[0]) if users else None,
            session=_session(sessions[0]) if sessions else None,
        )

    def start_session(self, session: Session) -> None:
        self._call(
            "put_item",
            TableName=self._tables.user_items,
            Item={
                "username": _av(session.username),
                "item": _av(SESSION_PREFIX + session.sid),
                "credential_stamp": _av(session.credential_stamp),
                "created_at": _av(session.created_at),
                "last_used_at": _av(session.last_used_at),
                TTL_ATTRIBUTE: _av(session.expires_at),
                **{name: _av(getattr(session, name)) for name in _SESSION_EXTRAS},
            },
        )

    def touch_session(
        self, *, username: str, sid: str, credential_stamp: str, now: float, expires_at: int
    ) -> bool:
        written = self._conditional(
            "update_item",
            TableName=self._tables.user_items,
            Key={"username": _av(username), "item": _av(SESSION_PREFIX + sid)},
            UpdateExpression="SET last_used_at = :now, expires_at = :ends",
            ConditionExpression=(
                "attribute_exists(username) AND credential_stamp = :stamp"
                " AND expires_at >= :today"
            ),
            ExpressionAttributeValues={
                ":now": _av(now), ":ends": _av(expires_at), ":stamp": _av(credential_stamp),
                ":today": _av(int(now)),
            },
        )
        return written is not None

    def _user_items(self, username: str, *, prefix: str = "", limit: int | None = None
                    ) -> list[dict[str, Any]]:
        """The user's items (of one kind, with ``prefix``), by Query: never a Scan."""
        condition = "username = :u"
        values = {":u": _av(username)}
        arguments: dict[str, Any] = {"TableName": self._tables.user_items, "ConsistentRead": True}
        if prefix:
            condition += " AND begins_with(#item, :prefix)"
            values[":prefix"] = _av(prefix)
            arguments["ExpressionAttributeNames"] = {"#item": "item"}
        arguments |= {"KeyConditionExpression": condition, "ExpressionAttributeValues": values}
        if limit is not None:
            arguments["Limit"] = limit
        items: list[dict[str, Any]] = []
        while True:
            answer = self._call("query", **arguments)
            items += answer.get("Items", [])
            last = answer.get("LastEvaluatedKey")
            if last is None or (limit is not None and len(items) >= limit):
                return items
            arguments["ExclusiveStartKey"] = last

    def list_sessions(self, *, username: str, now: float) -> list[Session]:
        sessions = [
            _session(item) for item in self._user_items(username, prefix=SESSION_PREFIX)
            if self._live(item, now)
        ]
        return sorted(sessions, key=lambda s: (s.created_at, s.sid), reverse=True)

    def end_session(self, *, username: str, sid: str) -> Session | None:
        answer = self._call(
            "delete_item",
            TableName=self._tables.user_items,
            Key={"username": _av(username), "item": _av(SESSION_PREFIX + sid)},
            ReturnValues="ALL_OLD",
        )
        return _session(answer["Attributes"]) if "Attributes" in answer else None

    def end_sessions(self, *, username: str) -> None:
        items = self._user_items(username, prefix=SESSION_PREFIX)
        self._batch_delete(self._tables.user_items, [
            {"username": item["username"], "item": item["item"]} for item in items
        ])

    def _batch_delete(self, table: str, keys: list[dict[str, Any]]) -> None:
        """Delete ``keys`` 25 at a time, retrying what DynamoDB leaves unprocessed."""
        for start in range(0, len(keys), BATCH_WRITE_SIZE):
            request = {table: [{"DeleteRequest": {"Key": key}}
                               for key in keys[start:start + BATCH_WRITE_SIZE]]}
            for attempt in range(BATCH_ATTEMPTS + 1):
                answer = self._call("batch_write_item", RequestItems=request)
                request = answer.get("UnprocessedItems") or {}
                if not request:
                    break
                if attempt == BATCH_ATTEMPTS:
                    raise StoreUnavailable()
                time.sleep(0.05 * 2**attempt)

    def _put_expiring(self, pk: str, expires_at: int, **attributes: dict[str, Any]) -> None:
        self._call(
            "put_item",
            TableName=self._tables.auth,
            Item={"pk": _av(pk), TTL_ATTRIBUTE: _av(expires_at), **attributes},
        )

    def add_refresh_token(self, token: RefreshToken) -> None:
        self._put_expiring(
            f"refresh#{token.token_hash}",
            token.expires_at,
            username=_av(token.username),
            family=_av(token.family),
            issued_at_ms=_av(token.issued_at_ms),
            used=_av(token.used),
            session_ends_at=_av(token.session_ends_at),
        )

    def get_refresh_token(self, *, token_hash: str) -> RefreshToken | None:
        item = self._auth_item(f"refresh#{token_hash}")
        return _refresh_token(token_hash, item) if item is not None else None

    def spend_refresh_token(self, *, token_hash: str) -> RefreshToken | None:
        answer = self._conditional(
            "update_item",
            TableName=self._tables.auth,
            Key={"pk": _av(f"refresh#{token_hash}")},
            UpdateExpression="SET used = :true",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":true": _av(True)},
            ReturnValues="ALL_OLD",  # the old ``used`` tells exactly one caller it won
        )
        return None if answer is None else _refresh_token(token_hash, answer["Attributes"])

    def _login_throttle(self, username: str, scope: str) -> LoginThrottle | None:
        item = self._user_item(username, THROTTLE_PREFIX + scope)
        if item is None:
            return None
        fields = _plain(item)
        return LoginThrottle(
            username=username,
            attempts=int(fields["attempts"]),
            locked_until=float(fields["locked_until"]),
            scope=scope,
        )

    def count_login_attempt(
        self, *, username: str, now: float, limit: int, window_seconds: int,
        scope: str = LOGIN_SCOPE,
    ) -> LoginCount:
        """Usually one UpdateItem: it adds 1 when the item is absent, or under the limit
        and within a window of its last attempt. Otherwise one consistent read decides:
        locked (no write, so the lock is never extended), or stale (a reset conditional
        on the state read)."""
        key = self._key(username, THROTTLE_PREFIX + scope)
        lock_end = now + window_seconds
        answer = self._conditional(
            "update_item",
            TableName=self._tables.user_items,
            Key=key,
            UpdateExpression=(
                "SET attempts = if_not_exists(attempts, :zero) + :one,"
                " locked_until = :lock_end, expires_at = :expires"
            ),
            ConditionExpression=(
                "attribute_not_exists(username)"
                " OR (attempts < :limit AND locked_until > :now)"
            ),
            ExpressionAttributeValues={
                ":zero": _av(0), ":one": _av(1), ":limit": _av(limit), ":now": _av(now),
                ":lock_end": _av(lock_end),
                ":expires": _av(int(lock_end) + 1),
            },
            ReturnValues="ALL_NEW",
        )
        if answer is not None:
            fields = _plain(answer["Attributes"])
            return LoginCount(counted=True, throttle=LoginThrottle(
                username=username,
                attempts=int(fields["attempts"]),
                locked_until=float(fields["locked_until"]),
                scope=scope,
            ))
        current = self._login_throttle(username, scope)
        updated = next_login_throttle(
            current, username=username, now=now, limit=limit, window_seconds=window_seconds,
            scope=scope,
        )
        if current is None or updated is None or updated.attempts != 1:
            if current is not None and updated is None:
                return LoginCount(counted=False, throttle=current)
            raise Conflict("login attempts changed between the update and the read")
        # A window without attempts or an ended lock: start again, if nobody did meanwhile.
        if self._conditional(
            "put_item",
            TableName=self._tables.user_items,
            Item={
                **key,
                "attempts": _av(updated.attempts),
                "locked_until": _av(updated.locked_until),
                TTL_ATTRIBUTE: _av(updated.expires_at),
            },
            ConditionExpression=(
                "attempts = :attempts AND locked_until = :locked_until"
            ),
            ExpressionAttributeValues={
                ":attempts": _av(current.attempts),
                ":locked_until": _av(current.locked_until),
            },
        ) is None:
            raise Conflict("login attempts changed concurrently")
        return LoginCount(counted=True, throttle=updated)

    def clear_login_throttle(self, *, username: str, scope: str = LOGIN_SCOPE) -> None:
        self._call("delete_item", TableName=self._tables.user_items,
                   Key=self._key(username, THROTTLE_PREFIX + scope))

    def clear_throttles(self, *, username: str) -> None:
        """One Query for the name's buckets (its partition, never a Scan), then one
        BatchWriteItem per 25 of them."""
        items = self._user_items(username, prefix=THROTTLE_PREFIX)
        self._batch_delete(self._tables.user_items, [
            {"username": item["username"], "item": item["item"]} for item in items
        ])

    def count_post(
        self, *, username: str, now: float, limit: int, window_seconds: int
    ) -> float | None:
        """One UpdateItem adds this post to the set of recent ones while the set holds
        fewer than ``limit``. When it is full, one read tells whether the oldest have
        left the window: if so they are deleted from the set and the caller retries."""
        key = {"pk": _av(f"posts#{username}")}
        entry = f"{now:017.6f}#{uuid.uuid4().hex[:8]}"  # unique; sorts by time
        if self._conditional(
            "update_item",
            TableName=self._tables.auth,
            Key=key,
            UpdateExpression="ADD recent :entry SET expires_at = :expires",
            ConditionExpression="attribute_not_exists(recent) OR size(recent) < :limit",
            ExpressionAttributeValues={
                ":entry": _av({entry}), ":limit": _av(limit),
                ":expires": _av(int(now + window_seconds) + 1),
            },
        ) is not None:
            return None
        recent = _plain(self._auth_item(f"posts#{username}") or {}).get("recent", set())
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
                ExpressionAttributeValues={":expired": _av(set(expired))},
            )
        raise Conflict("recent posts were full of expired entries; retry")

    def add_message(self, message: Message) -> None:
        """The author's index item first, then the message: whatever deletes the author's
        records after this starts finds the message (see ``board.add_message``)."""
        self._call(
            "put_item",
            TableName=self._tables.user_items,
            Item={"username": _av(message.username), "item": _av(MESSAGE_PREFIX + message.id)},
        )
        self._call(
            "put_item",
            TableName=self._tables.messages,
            Item={
                "board": _av(BOARD),
                "id": _av(message.id),
                "username": _av(message.username),
                "content": _av(message.content),
                "created_at": _av(message.created_at),
            },
        )

    def get_message(self, *, message_id: str) -> Message | None:
        answer = self._call(
            "get_item",
            TableName=self._tables.messages,
            Key={"board": _av(BOARD), "id": _av(message_id)},
            ConsistentRead=True,
        )
        return _message(answer["Item"]) if "Item" in answer else None

    def list_messages(self, *, limit: int, before_id: str | None, consistent: bool = True
                      ) -> Page:
        if before_id is None:
            return self._page("", {}, limit, consistent=consistent)
        return self._page(" AND id < :edge", {":edge": _av(before_id)}, limit,
                          consistent=consistent)

    def list_newer_messages(self, *, limit: int, after_id: str) -> Page:
        # The key condition bounds what the Query reads: nothing new costs ~1 RCU.
        return self._page(" AND id > :edge", {":edge": _av(after_id)}, limit, consistent=True)

    def _page(self, condition: str, values: dict[str, Any], limit: int, *, consistent: bool
              ) -> Page:
        """One Query, newest first, then the page's distinct authors' current names in
        one BatchGetItem (at most 100 keys, as ``limit`` is): never a read per message."""
        answer = self._call(
            "query",
            TableName=self._tables.messages,
            KeyConditionExpression="board = :board" + condition,
            ExpressionAttributeValues={":board": _av(BOARD), **values},
            ScanIndexForward=False,  # newest first
            Limit=limit + 1,  # one extra item tells whether another page exists
            ConsistentRead=consistent,
        )
        items = answer.get("Items", [])[:limit]
        names = self._display_names({_plain(item)["username"] for item in items})
        return Page(
            messages=tuple(_message(item, names) for item in items),
            has_more=len(answer.get("Items", [])) > limit,
        )

    def _display_names(self, usernames: set[str]) -> dict[str, str]:
        """Username → current display name; eventually consistent (half the read units),
        well within the minute a rename may take to show."""
        if not usernames:
            return {}
        found = self._batch_get({self._tables.users: {
            "Keys": [{"username": _av(name)} for name in sorted(usernames)],
            "ProjectionExpression": "#u, #d",
            "ExpressionAttributeNames": {"#u": "username", "#d": "display_name"},
        }})
        return {
            fields["username"]: fields.get("display_name", "")
            for fields in map(_plain, found.get(self._tables.users, []))
        }

    def delete_message(self, *, message_id: str) -> None:
        answer = self._call(
            "delete_item",
            TableName=self._tables.messages,
            Key={"board": _av(BOARD), "id": _av(message_id)},
            ReturnValues="ALL_OLD",
        )
        author = answer.get("Attributes", {}).get("username")
        if author is not None:
            self._call(
                "delete_item",
                TableName=self._tables.user_items,
                Key={"username": author, "item": _av(MESSAGE_PREFIX + message_id)},
            )

    def mark_user_deleted(self, *, username: str) -> User | None:
        answer = self._conditional(
            "update_item",
            TableName=self._tables.users,
            Key={"username": _av(username)},
            UpdateExpression="SET deleted = :true",
            ConditionExpression="attribute_exists(username)",
            ExpressionAttributeValues={":true": _av(True)},
            ReturnValues="ALL_NEW",
        )
        return None if answer is None else _user(answer["Attributes"])

    def delete_user_data(self, *, username: str, credential_stamp: str, batch: int) -> bool:
        """One Query of up to ``batch`` of the user's items; their messages go first,
        then the items, so a run cut short leaves the index to find them again.

        The account is looked up *after* the Query: if it is still the one marked
        deleted under ``credential_stamp``, no new account of the name existed when
        the items were read, so every item read is the old account's. (Checking
        before the Query would let a new account's items slip in between.)
        """
        items = self._user_items(username, limit=batch)[:batch]
        user = self.get_user(username)
        if user is None or not user.deleted or user.credential_stamp != credential_stamp:
            return True  # finished by another call; the name may be someone else's now
        for item in items:  # the account's verified address is free again
            fields = _plain(item)
            if fields["item"] == EMAIL_ITEM and fields.get("verified"):
                self._release_email(username, fields["verified"])
        message_keys = [
            {"board": _av(BOARD), "id": _av(name.removeprefix(MESSAGE_PREFIX))}
            for name in (_plain(item)["item"] for item in items)
            if name.startswith(MESSAGE_PREFIX)
        ]
        self._batch_delete(self._tables.messages, message_keys)
        for name in (_plain(item)["item"] for item in items):
            if name.startswith(PASSKEY_PREFIX):  # the pointer goes with its passkey, so the
                self._drop_passkey_pointer(name, username)  # authenticator can come back
        self._batch_delete(self._tables.user_items, [
            {"username": item["username"], "item": item["item"]} for item in items
        ])
        return len(items) < batch

    # -- two-factor codes and passkeys (user items) ------------------------------------

    def _user_item(self, username: str, item: str) -> dict[str, Any] | None:
        """One user item, read consistently (a Query on its whole key)."""
        answer = self._call(
            "query",
            TableName=self._tables.user_items,
            KeyConditionExpression="username = :u AND #item = :item",
            ExpressionAttributeNames={"#item": "item"},
            ExpressionAttributeValues={":u": _av(username), ":item": _av(item)},
            ConsistentRead=True,
        )
        items = answer.get("Items", [])
        return items[0] if items else None

    @staticmethod
    def _key(username: str, item: str) -> dict[str, Any]:
        return {"username": _av(username), "item": _av(item)}

    def get_totp(self, *, username: str) -> TotpState | None:
        item = self._user_item(username, TOTP_ITEM)
        if item is None:
            return None
        fields = _plain(item)
        return TotpState(
            username=username,
            secret_ciphertext=fields["secret"],
            enabled=fields["enabled"],
            last_step=int(fields["last_step"]),
            recovery_hashes=frozenset(fields.get("recovery", set())),
        )

    def put_pending_totp(self, *, username: str, secret_ciphertext: str) -> bool:
        written = self._conditional(
            "put_item", TableName=self._tables.user_items,
            Item={
                **self._key(username, TOTP_ITEM),
                "secret": _av(secret_ciphertext),
                "enabled": _av(False),
                "last_step": _av(0),
            },
            ConditionExpression="attribute_not_exists(username) OR enabled = :false",
            ExpressionAttributeValues={":false": _av(False)},
        )
        return written is not None

    def enable_totp(self, *, username: str, recovery_hashes: frozenset[str], step: int) -> bool:
        written = self._conditional(
            "update_item", TableName=self._tables.user_items,
            Key=self._key(username, TOTP_ITEM),
            UpdateExpression="SET enabled = :true, last_step = :step, recovery = :codes",
            ConditionExpression="enabled = :false",
            ExpressionAttributeValues={
                ":true": _av(True),
                ":false": _av(False),
                ":step": _av(step),
                ":codes": _av(set(recovery_hashes)),
            },
        )
        return written is not None

    def accept_totp_step(self, *, username: str, step: int) -> bool:
        written = self._conditional(
            "update_item", TableName=self._tables.user_items,
            Key=self._key(username, TOTP_ITEM),
            UpdateExpression="SET last_step = :step",
            ConditionExpression="enabled = :true AND last_step < :step",
            ExpressionAttributeValues={":true": _av(True), ":step": _av(step)},
        )
        return written is not None

    def spend_recovery_code(self, *, username: str, code_hash: str) -> bool:
        written = self._conditional(
            "update_item", TableName=self._tables.user_items,
            Key=self._key(username, TOTP_ITEM),
            UpdateExpression="DELETE recovery :code",
            ConditionExpression="enabled = :true AND contains(recovery, :hash)",
            ExpressionAttributeValues={
                ":true": _av(True),
                ":code": _av({code_hash}),
                ":hash": _av(code_hash),
            },
        )
        return written is not None

    def delete_totp(self, *, username: str) -> None:
        self._call(
            "delete_item", TableName=self._tables.user_items, Key=self._key(username, TOTP_ITEM)
        )

    # Passkeys are user items (so account deletion removes them); a sign-in finds the
    # owner through the auth table's pointer, then reads the user item, so a pointer
    # whose passkey or account is gone leads nowhere. Without transactions (dynalite
    # has none) the pointer is written first and removed last.

    def add_passkey(self, passkey: Passkey, *, limit: int) -> bool:
        """A slot is taken first on the user item's ``passkeys`` counter (one conditional
        update: at most ``limit``, only while the account is live), so concurrent
        registrations never store more than ``limit``; then the pointer, then the item."""
        username = passkey.username
        if not self._reserve_passkey_slot(username, limit):
            return False
        pointer = {"pk": _av(_passkey_key(passkey.credential_id))}
        claimed = self._conditional(
            "put_item", TableName=self._tables.auth,
            Item={**pointer, "username": _av(username)},
            ConditionExpression="attribute_not_exists(pk)",
        )
        if claimed is None:
            self._release_passkey_slot(username)
            raise Conflict("this passkey is already registered")
        item: dict[str, Any] = {
            **self._key(username, _passkey_key(passkey.credential_id)),
            "credential_id": _av(passkey.credential_id),
            "public_key": _av(passkey.public_key),
            "sign_count": _av(passkey.sign_count),
            "transports": _av(" ".join(passkey.transports)),
            "name": _av(passkey.name),
            "created_at": _av(passkey.created_at),
        }
        if passkey.last_used_at is not None:
            item["last_used_at"] = _av(passkey.last_used_at)
        self._call("put_item", TableName=self._tables.user_items, Item=item)
        return True

    def _reserve_passkey_slot(self, username: str, limit: int) -> bool:
        live_user = "attribute_exists(username) AND attribute_not_exists(deleted)"
        # An account made before the counter: start it at what it holds (once; a
        # concurrent first registration that lost this write counts on the winner's).
        if "passkeys" not in self._user_attributes(username):
            self._conditional(
                "update_item", TableName=self._tables.users, Key={"username": _av(username)},
                UpdateExpression="SET passkeys = :held",
                ConditionExpression=f"{live_user} AND attribute_not_exists(passkeys)",
                ExpressionAttributeValues={
                    ":held": _av(len(self.list_passkeys(username=username)))
                },
            )
        return self._conditional(
            "update_item", TableName=self._tables.users, Key={"username": _av(username)},
            UpdateExpression="SET passkeys = passkeys + :one",
            ConditionExpression=f"{live_user} AND passkeys < :limit",
            ExpressionAttributeValues={":one": _av(1), ":limit": _av(limit)},
        ) is not None

    def _release_passkey_slot(self, username: str) -> None:
        self._conditional(
            "update_item", TableName=self._tables.users, Key={"username": _av(username)},
            UpdateExpression="SET passkeys = passkeys - :one",
            ConditionExpression="passkeys > :zero",
            ExpressionAttributeValues={":one": _av(1), ":zero": _av(0)},
        )

    def _user_attributes(self, username: str) -> dict[str, Any]:
        answer = self._call(
            "get_item", TableName=self._tables.users, Key={"username": _av(username)},
            ConsistentRead=True,
        )
        item: dict[str, Any] = answer.get("Item", {})
        return item

    def get_passkey(self, *, credential_id: str) -> Passkey | None:
        pointer = self._auth_item(_passkey_key(credential_id))
        if pointer is None:
            return None
        item = self._user_item(_plain(pointer)["username"], _passkey_key(credential_id))
        return _passkey(item) if item is not None else None

    def list_passkeys(self, *, username: str) -> list[Passkey]:
        passkeys = [_passkey(item) for item in self._user_items(username, prefix=PASSKEY_PREFIX)]
        return sorted(passkeys, key=lambda p: (p.created_at, p.credential_id))

    def rename_passkey(self, *, username: str, credential_id: str, name: str) -> bool:
        written = self._conditional(
            "update_item", TableName=self._tables.user_items,
            Key=self._key(username, _passkey_key(credential_id)),
            UpdateExpression="SET #name = :name",
            ConditionExpression="attribute_exists(username)",
            ExpressionAttributeNames={"#name": "name"},
            ExpressionAttributeValues={":name": _av(name)},
        )
        return written is not None

    def delete_passkey(self, *, username: str, credential_id: str) -> bool:
        passkey = self._conditional(
            "delete_item", TableName=self._tables.user_items,
            Key=self._key(username, _passkey_key(credential_id)),
            ConditionExpression="attribute_exists(username)",
        )
        if passkey is None:
            return False
        self._release_passkey_slot(username)
        self._drop_passkey_pointer(_passkey_key(credential_id), username)
        return True

    def _drop_passkey_pointer(self, key: str, username: str) -> None:
        self._conditional(  # another owner's pointer stays
            "delete_item", TableName=self._tables.auth, Key={"pk": _av(key)},
            ConditionExpression="username = :u",
            ExpressionAttributeValues={":u": _av(username)},
        )

    def record_passkey_use(
        self, *, username: str, credential_id: str, previous_sign_count: int, sign_count: int,
        now: float,
    ) -> bool:
        written = self._conditional(
            "update_item", TableName=self._tables.user_items,
            Key=self._key(username, _passkey_key(credential_id)),
            UpdateExpression="SET sign_count = :new, last_used_at = :now",
            ConditionExpression="sign_count = :old",
            ExpressionAttributeValues={
                ":new": _av(sign_count), ":old": _av(previous_sign_count), ":now": _av(now)
            },
        )
        return written is not None

    # -- single-use challenges ----------------------------------------------------------

    def put_challenge(self, challenge: Challenge) -> None:
        self._put_expiring(
            f"challenge#{challenge.key}",
            challenge.expires_at,
            purpose=_av(challenge.purpose),
            username=_av(challenge.username),
            credential_stamp=_av(challenge.credential_stamp),
            device_id=_av(challenge.device_id),
        )

    def _take_auth_item(self, pk: str, now: float) -> dict[str, Any] | None:
        """Delete a single-use auth item and return its fields if it was live: of any
        number of concurrent takers, only the one whose delete removed it sees them."""
        answer = self._call(
            "delete_item",
            TableName=self._tables.auth,
            Key={"pk": _av(pk)},
            ReturnValues="ALL_OLD",
        )
        item = answer.get("Attributes")
        return _plain(item) if item is not None and self._live(item, now) else None

    def take_challenge(self, *, key: str, now: float) -> Challenge | None:
        fields = self._take_auth_item(f"challenge#{key}", now)
        if fields is None:
            return None
        return Challenge(
            key=key,
            purpose=fields["purpose"],
            username=fields["username"],
            expires_at=int(fields[TTL_ATTRIBUTE]),
            credential_stamp=fields["credential_stamp"],
            device_id=fields.get("device_id", ""),
        )

    def delete_user(self, *, username: str, credential_stamp: str) -> None:
        self._conditional(
            "delete_item",
            TableName=self._tables.users,
            Key={"username": _av(username)},
            ConditionExpression="attribute_exists(deleted) AND credential_stamp = :stamp",
            ExpressionAttributeValues={":stamp": _av(credential_stamp)},
        )

    # --- known devices (user items ``device#<token hash>``, expiring) ---

    def add_device(self, device: KnownDevice) -> None:
        self._call(
            "put_item",
            TableName=self._tables.user_items,
            Item={
                **self._key(device.username, DEVICE_PREFIX + device.token_hash),
                "device_id": _av(device.device_id),
                "created_at": _av(device.created_at),
                TTL_ATTRIBUTE: _av(device.expires_at),
            },
        )

    def get_device(self, *, username: str, token_hash: str) -> KnownDevice | None:
        item = self._user_item(username, DEVICE_PREFIX + token_hash)
        if item is None:
            return None
        fields = _plain(item)
        return KnownDevice(
            username=username,
            token_hash=token_hash,
            device_id=fields["device_id"],
            created_at=float(fields["created_at"]),
            expires_at=int(fields[TTL_ATTRIBUTE]),
        )

    def forget_devices(self, *, username: str) -> None:
        items = self._user_items(username, prefix=DEVICE_PREFIX)
        self._batch_delete(self._tables.user_items, [
            {"username": item["username"], "item": item["item"]} for item in items
        ])

    # --- security events ---

    def add_security_event(self, event: SecurityEvent) -> None:
        self._call("put_item", TableName=self._tables.user_items, Item={
            **self._key(event.username, EVENT_PREFIX + event.id),
            "type": _av(event.type),
            "created_at": _av(event.created_at),
            TTL_ATTRIBUTE: _av(event.expires_at),
            "ip": _av(event.ip),
            "user_agent": _av(event.user_agent),
            "details": _av(event.details_json),
        })

    def list_security_events(
        self, *, username: str, limit: int, before_id: str | None, now: float
    ) -> SecurityEventPage:
        """One Query, newest first, starting after ``before_id``'s key (which need not
        exist any more). Expiry follows the id's order, so events past ``expires_at``
        that TTL has not removed yet are all at the end: dropping them is enough."""
        arguments: dict[str, Any] = {
            "TableName": self._tables.user_items,
            "KeyConditionExpression": "username = :u AND begins_with(#item, :prefix)",
            "ExpressionAttributeNames": {"#item": "item"},
            "ExpressionAttributeValues": {":u": _av(username), ":prefix": _av(EVENT_PREFIX)},
            "ScanIndexForward": False,
            "Limit": limit + 1,  # one extra item tells whether another page exists
            "ConsistentRead": True,
        }
        if before_id is not None:
            arguments["ExclusiveStartKey"] = self._key(username, EVENT_PREFIX + before_id)
        items = [_plain(item) for item in self._call("query", **arguments).get("Items", [])]
        live = [fields for fields in items if int(fields[TTL_ATTRIBUTE]) >= int(now)]
        events = tuple(
            SecurityEvent(
                username=fields["username"], id=fields["item"].removeprefix(EVENT_PREFIX),
                type=fields["type"], created_at=float(fields["created_at"]),
                expires_at=int(fields[TTL_ATTRIBUTE]), ip=fields["ip"],
                user_agent=fields["user_agent"], details_json=fields["details"],
            )
            for fields in live[:limit]
        )
        return SecurityEventPage(events=events, has_more=len(live) > limit)

    # --- email (issue 23) ---
    # The claim of an address is its pointer in auth, written first with a conditional
    # put and released last; the address itself is a user item, so account deletion
    # removes it (and releases the pointer). A pointer is believed only when its
    # owner's item still names the address, so a pointer left by a cut-short change
    # leads nowhere and may be taken over.

    def get_email(self, *, username: str) -> EmailAddress | None:
        item = self._user_item(username, EMAIL_ITEM)
        if item is None:
            return None
        fields = _plain(item)
        return EmailAddress(username=username, verified=fields.get("verified", ""),
                            pending=fields.get("pending", ""))

    def set_pending_email(self, *, username: str, email: str, credential_stamp: str) -> None:
        old = _plain(self._call(
            "update_item", TableName=self._tables.user_items, Key=self._key(username, EMAIL_ITEM),
            UpdateExpression="SET pending = :e", ExpressionAttributeValues={":e": _av(email)},
            ReturnValues="ALL_OLD",
        ).get("Attributes", {}))
        if not self._still_live(username, credential_stamp):
            self._undo_email_write(username, "pending", email, old)
            raise AccountGone("this account no longer exists")

    def _still_live(self, username: str, credential_stamp: str) -> bool:
        """The second look after writing a user item (no transactions in dynalite):
        deletion marks the account, then sweeps its items, so a write that still sees
        the account live is swept with the rest, and one that does not undoes itself."""
        user = self.get_user(username)
        return user is not None and not user.deleted and user.credential_stamp == credential_stamp

    def _undo_email_write(self, username: str, field: str, email: str,
                          old: dict[str, Any]) -> None:
        """Put ``field`` of the email item back as it was before it was set to ``email``
        (the item goes if it did not exist), unless something changed it since."""
        key = self._key(username, EMAIL_ITEM)
        names = {"#f": field}
        if not old:
            self._conditional("delete_item", TableName=self._tables.user_items, Key=key,
                              ConditionExpression="#f = :e", ExpressionAttributeNames=names,
                              ExpressionAttributeValues={":e": _av(email)})
            return
        self._conditional("update_item", TableName=self._tables.user_items, Key=key,
                          UpdateExpression="SET #f = :old", ConditionExpression="#f = :e",
                          ExpressionAttributeNames=names,
                          ExpressionAttributeValues={":e": _av(email),
                                                     ":old": _av(old.get(field, ""))})

    def _pointer_owner(self, email: str) -> str | None:
        pointer = self._auth_item(f"email#{email}")
        return None if pointer is None else str(_plain(pointer)["username"])

    def claim_email(self, *, username: str, email: str, credential_stamp: str) -> bool:
        key = {"pk": _av(f"email#{email}")}
        if self._conditional(
            "put_item", TableName=self._tables.auth, Item={**key, "username": _av(username)},
            ConditionExpression="attribute_not_exists(pk) OR username = :u",
            ExpressionAttributeValues={":u": _av(username)},
        ) is None:
            owner = self._pointer_owner(email)
            if owner is None:
                return False  # released meanwhile: still contested
            # Held, or being claimed at this moment (its record not written yet): while
            # the pointer's account lives, the pointer is its, whatever its record says.
            # Taking over on "its record lacks the address" let two claims both win: the
            # other could write its record and check its pointer between our look and
            # our takeover.
            holder = self.get_user(owner)
            if holder is not None and not holder.deleted:
                return False
            if self._conditional(  # a dead account's pointer: take it over, if nobody did meanwhile
                "put_item", TableName=self._tables.auth, Item={**key, "username": _av(username)},
                ConditionExpression="username = :stale",
                ExpressionAttributeValues={":stale": _av(owner)},
            ) is None:
                return False
        old = _plain(self._call(
            "update_item", TableName=self._tables.user_items, Key=self._key(username, EMAIL_ITEM),
            UpdateExpression="SET verified = :e", ExpressionAttributeValues={":e": _av(email)},
            ReturnValues="ALL_OLD",
        ).get("Attributes", {}))
        # Between our pointer and our record, a concurrent claim could see the pointer as
        # stale and take it over; whoever holds the pointer once its record is written
        # wins, so a claim overtaken meanwhile undoes its record (else two accounts
        # would both hold the address verified).
        if self._pointer_owner(email) != username:
            self._undo_email_write(username, "verified", email, old)
            return False
        if not self._still_live(username, credential_stamp):
            self._undo_email_write(username, "verified", email, old)
            self._release_email(username, email)
            raise AccountGone("this account no longer exists")
        if old.get("pending") == email:
            self._conditional(
                "update_item", TableName=self._tables.user_items,
                Key=self._key(username, EMAIL_ITEM), UpdateExpression="SET pending = :none",
                ConditionExpression="pending = :e",
                ExpressionAttributeValues={":e": _av(email), ":none": _av("")},
            )
        previous = old.get("verified", "")
        if previous and previous != email:
            self._release_email(username, previous)
        return True

    def _release_email(self, username: str, email: str) -> None:
        self._conditional(  # another owner's pointer stays
            "delete_item", TableName=self._tables.auth, Key={"pk": _av(f"email#{email}")},
            ConditionExpression="username = :u", ExpressionAttributeValues={":u": _av(username)},
        )

    def email_owner(self, *, email: str) -> str | None:
        owner = self._pointer_owner(email)
        if owner is None:
            return None
        held = self.get_email(username=owner)
        return owner if held is not None and held.verified == email else None

    def put_email_token(self, token: EmailToken) -> None:
        self._put_expiring(
            f"emailtoken#{token.purpose}#{token.token_hash}",
            token.expires_at,
            username=_av(token.username),
            email=_av(token.email),
            credential_stamp=_av(token.credential_stamp),
        )

    def take_email_token(self, *, purpose: str, token_hash: str, now: float
                         ) -> EmailToken | None:
        fields = self._take_auth_item(f"emailtoken#{purpose}#{token_hash}", now)
        if fields is None:
            return None
        return EmailToken(
            token_hash=token_hash, purpose=purpose, username=fields["username"],
            expires_at=int(fields[TTL_ATTRIBUTE]), email=fields["email"],
            credential_stamp=fields["credential_stamp"],
        )

    # --- recovery codes and passkey handles (issue 21) ---

    def set_recovery_codes(self, *, username: str, recovery_hashes: frozenset[str]) -> bool:
        written = self._conditional(
            "update_item", TableName=self._tables.user_items,
            Key=self._key(username, TOTP_ITEM),
            UpdateExpression="SET recovery = :codes",
            ConditionExpression="enabled = :true",
            ExpressionAttributeValues={":true": _av(True), ":codes": _av(set(recovery_hashes))},
        )
        return written is not None

    def set_webauthn_handle(self, *, username: str, handle: str) -> User | None:
        self._conditional(
            "update_item", TableName=self._tables.users, Key={"username": _av(username)},
            UpdateExpression="SET webauthn_handle = :h",
            ConditionExpression=(
                "attribute_exists(username) AND"
                " attribute_not_exists(webauthn_handle)"
            ),
            ExpressionAttributeValues={":h": _av(handle)},
        )
        return self.get_user(username)
