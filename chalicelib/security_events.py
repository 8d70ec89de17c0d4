"""Security events: what happened to an account, for its owner to read (90 days).

``record`` is the one place an event is written, so anything that must follow
every event (e.g. a security notice by mail) hooks in here. Recording never
fails the action that caused it: a store error is logged and counted
(``SecurityEventErrors``), and the action goes on.

Events are recorded only for accounts that exist: callers never record for a
username nobody holds (a failed login for an unknown name leaves nothing), and
the list also skips any event older than the account itself, so an event
written while an earlier account of the same name was being deleted never shows.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from chalicelib import notices, telemetry
from chalicelib.clients import Client, DeviceKind, device_kind, device_label
from chalicelib.cursors import UnknownCursorKey, read_cursor, sign_cursor
from chalicelib.deps import Deps
from chalicelib.errors import AccountGone, InvalidInput
from chalicelib.store.model import SecurityEvent, live
from chalicelib.timestamps import new_message_id
from chalicelib.validation import check_limit

log = logging.getLogger(__name__)

RETENTION_SECONDS = 90 * 24 * 3600
# Every type the contract (API.md, Security events) names; anything else is a bug.
EVENT_TYPES = frozenset({
    "sign_in",  # details.method, details.new_device; session_id (kept, not listed)
    "sign_in_failed",  # details.reason: "password" or "code"
    "locked",  # details.retry_after (seconds)
    "password_changed",
    "password_reset",
    "totp_enabled",
    "totp_disabled",
    "recovery_code_used",  # details.left
    "recovery_codes_regenerated",
    "passkey_added",
    "passkey_removed",
    "session_ended",
    "email_changed",
    "email_verified",
})
ERROR_METRIC = "SecurityEventErrors"
# Cursors name an event id with this prefix, so a board cursor is refused here.
_CURSOR_PREFIX = "event:"


def record(
    deps: Deps, username: str, type: str, *, client: Client | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Keep one event of ``type`` for ``username`` (an existing account), never failing.

    ``client`` is who caused it (its address and User-Agent), when a request did.
    """
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown security event type {type!r}")
    now = deps.now()
    event = SecurityEvent(
        username=username,
        id=new_message_id(now),
        type=type,
        created_at=now,
        expires_at=int(now) + RETENTION_SECONDS,
        ip=client.ip if client else "",
        user_agent=client.user_agent if client else "",
        details_json=json.dumps(details or {}, separators=(",", ":"), sort_keys=True),
    )
    try:
        deps.store.add_security_event(event)
    except Exception:  # whatever the store raised, the action goes on
        log.exception("security event %s for %s not recorded", type, username)
        telemetry.metric(ERROR_METRIC)
    # The owner's mail about it (only some types; never raises, never blocks the action).
    notices.on_security_event(deps, username, type, details, client=client)


@dataclass(frozen=True)
class EventView:
    """An event as the owner sees it."""

    id: str
    type: str
    created_at: float
    ip: str
    device: str
    device_kind: DeviceKind
    details: dict[str, Any]
    current: bool  # the sign-in that started the caller's own session


@dataclass(frozen=True)
class EventsPage:
    events: tuple[EventView, ...]  # newest first
    next_cursor: str | None


def _before_id(deps: Deps, cursor: str) -> str:
    try:
        named = deps.with_keyring(lambda keyring: read_cursor(cursor, keyring),
                                  unknown_key=UnknownCursorKey)
    except UnknownCursorKey as error:  # still unknown after a reload: a plain 400
        raise InvalidInput(str(error)) from None
    if not named.startswith(_CURSOR_PREFIX):  # e.g. a board cursor
        raise InvalidInput("cursor is not valid; start again from the first page")
    return named.removeprefix(_CURSOR_PREFIX)


def _view(event: SecurityEvent, session_id: str) -> EventView:
    """The owner's view: the session a sign-in started stays inside (it says ``current``)."""
    details = json.loads(event.details_json)
    started = details.pop("session_id", None)
    current = bool(session_id) and event.type == "sign_in" and started == session_id
    return EventView(
        id=event.id, type=event.type, created_at=event.created_at, ip=event.ip,
        device=device_label(event.user_agent), device_kind=device_kind(event.user_agent),
        details=details, current=current,
    )


def list_events(
    deps: Deps, username: str, *, limit: str | None, cursor: str | None, session_id: str = "",
) -> EventsPage:
    """A page of the owner's events, newest first; following ``next_cursor`` visits
    each event once, even while new ones are recorded (they sort before the cursor).

    An event is ``current`` when it is the sign-in that started ``session_id`` (the
    caller's session): the browser asking, told apart from an identical one elsewhere."""
    size = check_limit(limit)
    before_id = _before_id(deps, cursor) if cursor is not None else None
    user = live(deps.store.get_user(username))
    if user is None:
        raise AccountGone("the account no longer exists")
    page = deps.store.list_security_events(
        username=username, limit=size, before_id=before_id, now=deps.now()
    )
    views = tuple(
        _view(event, session_id) for event in page.events
        if event.created_at >= user.created_at  # not an earlier account's of this name
    )
    next_cursor = None
    if page.has_more and page.events:
        next_cursor = sign_cursor(_CURSOR_PREFIX + page.events[-1].id, deps.keyring)
    return EventsPage(events=views, next_cursor=next_cursor)
