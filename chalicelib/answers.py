"""The JSON shape of each answer: the domain objects as the contract names their fields.

app.py's routes parse, call one service and hand the result to one of these; every
timestamp leaves here as ISO 8601 UTC with milliseconds.
"""

from __future__ import annotations

from typing import Any

from chalicelib import accounts, board, live, security_events, sessions, totp
from chalicelib.store.model import Message, Passkey
from chalicelib.timestamps import iso_ms


def message_json(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "username": message.username,
        "display_name": message.display_name,
        "content": message.content,
        "created_at": iso_ms(message.created_at),
    }


def page_json(page: board.BoardPage, *, since: bool) -> dict[str, Any]:
    """A board page as GET /messages answers it (``gap`` only for a ``since`` ask)."""
    answer: dict[str, Any] = {
        "messages": [message_json(m) for m in page.messages], "next_cursor": page.next_cursor
    }
    if since:
        answer["gap"] = page.gap
    return answer


def token_pair_json(pair: sessions.TokenPair) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "access_token": pair.access_token,
        "token_type": "Bearer",
        "expires_in": pair.expires_in,
        "refresh_token": pair.refresh_token,
        "username": pair.username,
    }
    if pair.device_token is not None:  # every sign-in answer; never a refresh
        answer["device_token"] = pair.device_token
    return answer


def account_json(account: accounts.Account) -> dict[str, Any]:
    user = account.user
    return {
        "username": user.username,
        "display_name": user.display_name,
        "created_at": iso_ms(user.created_at),
        "totp_enabled": account.totp_enabled,
        "email": account.email,
        "email_verified": account.email_verified,
        "recovery_codes_left": account.recovery_codes_left,
    }


NEW_ACCOUNT_FIELDS = ("username", "display_name", "email", "email_verified")


def new_account_json(account: accounts.Account) -> dict[str, Any]:
    """POST /signup's answer: the account's names and address, nothing a new one lacks."""
    answer = account_json(account)
    return {name: answer[name] for name in NEW_ACCOUNT_FIELDS}


def enrollment_json(enrollment: totp.Enrollment) -> dict[str, Any]:
    return {
        "secret": enrollment.secret,
        "otpauth_uri": enrollment.otpauth_uri,
        "qr": enrollment.qr,
    }


def passkey_json(passkey: Passkey) -> dict[str, Any]:
    return {
        "id": passkey.credential_id,
        "name": passkey.name,
        "transports": list(passkey.transports),
        "created_at": iso_ms(passkey.created_at),
        "last_used_at": iso_ms(passkey.last_used_at) if passkey.last_used_at else None,
    }


def session_json(view: sessions.SessionView) -> dict[str, Any]:
    session = view.session
    return {
        "id": session.sid,
        "created_at": iso_ms(session.created_at),
        "last_used_at": iso_ms(session.last_used_at),
        "expires_at": iso_ms(session.expires_at),
        "current": view.current,
        "method": session.method,
        "ip": session.ip,
        "device": view.device,
        "device_kind": view.device_kind,
        "user_agent": session.user_agent,
    }


def event_json(event: security_events.EventView) -> dict[str, Any]:
    return {
        "id": event.id, "type": event.type, "created_at": iso_ms(event.created_at),
        "ip": event.ip, "device": event.device, "device_kind": event.device_kind,
        "details": event.details, "current": event.current,
    }


def events_page_json(page: security_events.EventsPage) -> dict[str, Any]:
    return {"events": [event_json(event) for event in page.events],
            "next_cursor": page.next_cursor}


def ticket_json(ticket: live.Ticket) -> dict[str, Any]:
    return {"ticket": ticket.ticket, "expires_at": iso_ms(ticket.expires_at)}
