"""Security notices: one mail to the account's verified address per security event.

``on_security_event`` is the one place that decides which event is worth a mail and
what it says; ``security_events.record`` calls it once per event, and it never
raises: a notice that cannot go out is logged and counted, the action stands.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from chalicelib.clients import Client, device_name
from chalicelib.deps import Deps
from chalicelib.mail import Mail, send_safely

log = logging.getLogger(__name__)

NOT_ME = ("If this wasn't you, reset your password now with \"Forgot password?\" on the "
          "sign-in page (a reset ends every session), then check your account:")


def _left(details: Mapping[str, Any]) -> str:
    left = details.get("left")
    return "" if left is None else f" You have {left} recovery codes left."


# event type -> (subject, what happened): only these events send a notice.
_NOTICES: dict[str, tuple[str, Callable[[Mapping[str, Any]], str]]] = {
    "password_changed": ("Your password was changed",
                         lambda d: "The password of your Chalkboard account {user} was changed."
                                   " Every session was signed out."),
    "password_reset": ("Your password was reset",
                       lambda d: "The password of your Chalkboard account {user} was reset"
                                 " from a link mailed to this address. Every session was"
                                 " signed out."),
    "email_changed": ("Your email address is being changed",
                      lambda d: "Someone signed in to your Chalkboard account {user} asked to"
                                " send its mail to another address. This address keeps"
                                " receiving it until the new one is confirmed."),
    "totp_enabled": ("Two-factor authentication is on",
                     lambda d: "Two-factor authentication was turned on for your Chalkboard"
                               " account {user}."),
    "totp_disabled": ("Two-factor authentication is off",
                      lambda d: "Two-factor authentication was turned off for your Chalkboard"
                                " account {user}."),
    "recovery_code_used": ("A recovery code was used",
                           lambda d: "A recovery code was used to sign in to or change your"
                                     " Chalkboard account {user}." + _left(d)),
    "passkey_added": ("A passkey was added",
                      lambda d: "A passkey was added to your Chalkboard account {user}."),
    "passkey_removed": ("A passkey was removed",
                        lambda d: "A passkey was removed from your Chalkboard account {user}."),
    "sign_in": ("New sign-in to your account",
                lambda d: "Your Chalkboard account {user} was signed in to from a device it"
                          " had not seen before" + (f" ({d['device']})" if d.get("device")
                                                     else "") + "."),
    "locked": ("Sign-in paused after failed attempts",
               lambda d: "Several wrong passwords or codes were tried for your Chalkboard"
                         " account {user}; signing in is paused for a while."),
}


def on_security_event(
    deps: Deps, username: str, event_type: str, details: Mapping[str, Any] | None = None,
    *, client: Client | None = None,
) -> bool:
    """Mail the account's verified address about ``event_type`` (the security event
    names) when it is one worth a notice; True if a mail went out. Never raises.
    ``security_events.record`` is its one caller, once per event."""
    details = dict(details or {})
    try:
        if event_type not in _NOTICES or (event_type == "sign_in"
                                          and not details.get("new_device")):
            return False
        address = deps.store.get_email(username=username)
        if address is None or not address.verified:
            return False
        if client is not None and client.user_agent:  # parsed only for a mail that goes out
            details.setdefault("device", device_name(client.user_agent))
        subject, happened = _NOTICES[event_type]
        text = happened(details).replace("{user}", username) + "\n\n" + NOT_ME
        return send_safely(deps, Mail(
            to=address.verified, subject=subject, text=text, sent_at=deps.now(),
            link=f"{deps.settings.web_origin}/",
        ))
    except Exception as error:
        log.error("notice %s for %s not sent: %s: %s",
                  event_type, username, type(error).__name__, error)
        return False
