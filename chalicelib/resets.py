"""Password reset: a single-use, 30-minute link to the verified address, then a new
password that ends every session.

``forgot`` does the same store work whatever it is given (a name or an address,
known or not, verified or not) and answers the same, so it tells nobody whether an
account or address exists. The link's token is stored only as a hash, bound to the
account's credential stamp: a password change since it was mailed kills it.
"""

from __future__ import annotations

import logging
import time

from chalicelib import accounts, known_devices, passwords, security_events, throttle, totp
from chalicelib.clients import Client
from chalicelib.deps import Deps
from chalicelib.emails import new_token, take_link
from chalicelib.errors import (
    InvalidCredentials,
    InvalidInput,
    LoginThrottled,
    NotConfigured,
)
from chalicelib.mail import Mail, send_safely
from chalicelib.store.model import EmailToken, live
from chalicelib.validation import (
    check_email,
    check_new_password,
    is_plausible_username,
    normalize_username,
)

log = logging.getLogger(__name__)

RESET = "reset"
RESET_SECONDS = 30 * 60
MAILS_PER_HOUR = 3
MAIL_SCOPE = "reset-mail"  # the throttle bucket counting reset mails per account
CODE_SCOPE = "code"  # the per-account code throttle (API.md, Second factor)
# A request naming no possible account is counted in a bucket of its own scope (so no
# real account's bucket), under a name the username rules allow.
NOBODY, NOBODY_SCOPE = "nobody", "reset-mail-none"
# Every forgot answer takes at least this long (real time, not the Deps clock: it is
# about what a caller can measure). Building and sending a mail costs ~5-30 ms locally
# and an SES round trip more; padding every answer to one floor hides which answers
# sent one. (An SES call slower than this, e.g. a timeout, still shows.)
FORGOT_FLOOR_SECONDS = 0.25


def _target(deps: Deps, username: str | None, email: str | None) -> str | None:
    """The account the request names (by name: no read; by address: its pointer),
    or None."""
    if username is not None:
        name = normalize_username(username)
        return name if is_plausible_username(name) else None
    try:
        address = check_email(email or "")
    except InvalidInput:
        address = ""
    owner = deps.store.email_owner(email=address) if address else None
    return owner


def forgot(deps: Deps, *, username: str | None = None, email: str | None = None) -> None:
    """Mail a reset link when the named account has a verified address (at most 3 an
    hour); otherwise do the same work and send nothing. Never raises for who or what,
    only (at once, unpadded) for a request naming both or neither."""
    if (username is None) == (email is None):
        raise InvalidInput("send exactly one of username or email")
    started = time.perf_counter()
    try:
        _forgot(deps, username, email)
    finally:
        time.sleep(max(0.0, FORGOT_FLOOR_SECONDS - (time.perf_counter() - started)))


def _forgot(deps: Deps, username: str | None, email: str | None) -> None:
    target = _target(deps, username, email)
    name = target or NOBODY
    user = live(deps.store.get_user(name)) if target else (deps.store.get_user(name) and None)
    address = deps.store.get_email(username=name)
    try:  # counted for every request, so the count says nothing either
        throttle.reserve_attempt(deps, name, MAIL_SCOPE if target else NOBODY_SCOPE,
                                 limit=MAILS_PER_HOUR, window_seconds=3600)
        allowed = True
    except LoginThrottled:
        allowed = False
    token, digest = new_token()
    deps.store.put_email_token(EmailToken(
        token_hash=digest, purpose=RESET, username=name,
        expires_at=int(deps.now()) + RESET_SECONDS,
        credential_stamp=user.credential_stamp if user else "",
    ))
    if user is None or address is None or not address.verified:
        return
    if not allowed:
        log.info("reset mail for %s not sent: %d an hour already", name, MAILS_PER_HOUR)
        return
    send_safely(deps, Mail(
        to=address.verified, subject="Reset your password", sent_at=deps.now(),
        text=f"Someone asked to reset the password of the Chalkboard account {name}. "
             f"To choose a new one, open the link below within 30 minutes; it works once. "
             f"If you did not ask, ignore this mail: your password stays as it is.",
        link=f"{deps.settings.web_origin}/#/reset?token={token}",
    ))


def reset(
    deps: Deps, token: str, new_password: str, code: str | None = None, *,
    client: Client | None = None,
) -> None:
    """Set a new password from a reset link: a new credential stamp ends every session
    and token, the throttles clear. With two-factor on, ``code`` is needed too.

    The token is taken atomically (of two resets with one link, one wins); a refused
    password or a missing or wrong code puts it back, usable until it expires.
    """
    invalid = InvalidInput("this reset link is invalid, used or expired")
    found, user = take_link(deps, RESET, token, invalid)
    try:
        password = check_new_password(
            new_password, username=user.username, display_name=user.display_name,
            settings=deps.settings,
        )
        _second_factor(deps, user.username, code, client)
    except (InvalidInput, InvalidCredentials, LoginThrottled, NotConfigured):
        deps.store.put_email_token(found)  # refused: the link stays usable until it expires
        raise
    if not deps.store.set_password(
        username=user.username, password_hash=passwords.hash_password(password, deps.settings),
        credential_stamp=accounts.new_credential_stamp(), expected_stamp=user.credential_stamp,
    ):
        raise invalid  # the password changed meanwhile: this link is spent
    deps.store.end_sessions(username=user.username)
    throttle.clear_throttles(deps, user.username)
    known_devices.forget_all(deps, user.username)
    log.info("password reset for %s", user.username)
    security_events.record(deps, user.username, "password_reset", client=client)


def _second_factor(deps: Deps, username: str, code: str | None, client: Client | None
                   ) -> None:
    """With two-factor on: a code is required (400 naming it) and must be right (401,
    counted in the per-account code throttle)."""
    state = deps.store.get_totp(username=username)
    if state is None or not state.enabled:
        return
    if code is None:
        raise InvalidInput("code is required: two-factor authentication is on")
    if not totp.spend_counted(deps, state, code, client=client):
        raise InvalidCredentials("code is wrong or was already used")

