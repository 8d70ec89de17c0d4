"""Email addresses: a verification link to a new address, and the link's redemption.

A link carries a random token (256 bits) in the URL *fragment*, so it never reaches
a server log or a Referer; only its SHA-256 is stored, and taking it removes it, so
it works once. A verified address belongs to one account (``Store.claim_email``).
"""

from __future__ import annotations

import hashlib
import logging
import secrets

from chalicelib import security_events, throttle
from chalicelib.clients import Client
from chalicelib.deps import Deps
from chalicelib.errors import AccountGone, InvalidInput, LoginThrottled, StateConflict
from chalicelib.mail import Mail, send_safely
from chalicelib.store.model import EmailToken, User, live

log = logging.getLogger(__name__)

VERIFY_SECONDS = 24 * 3600
VERIFY = "verify"
# Verification mails to one address, per hour: sign-up needs no account and POST /me/email
# only one's own, so without a cap anyone could flood any mailbox (and the stage's SES
# reputation) with them. Counted per address, in a throttle bucket named by its hash.
VERIFY_MAILS_PER_HOUR = 5
VERIFY_MAIL_SCOPE = "verify-mail"
TOKEN_MAX = 128  # a token is 43 characters; anything much longer is not one


def new_token() -> tuple[str, str]:
    """A link token and the hash stored for it."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    """SHA-256 suffices: tokens are random, so there is nothing to guess offline."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def take_link(deps: Deps, purpose: str, token: str, invalid: InvalidInput
              ) -> tuple[EmailToken, User]:
    """Take a mailed link's token (atomically: of two takers one wins) and its live
    account; ``invalid`` for a malformed, used or expired link, a gone account, or an
    account whose credential stamp moved since it was mailed (a password change, or an
    earlier account of the same name: DynamoDB cannot find a deleted account's links)."""
    if not token or len(token) > TOKEN_MAX:
        raise invalid
    found = deps.store.take_email_token(purpose=purpose, token_hash=token_hash(token),
                                        now=deps.now())
    if found is None:
        raise invalid
    user = live(deps.store.get_user(found.username))
    if user is None or user.credential_stamp != found.credential_stamp:
        raise invalid
    return found, user


def _address_key(email: str) -> str:
    """A throttle bucket name for an address: its hash, in the username alphabet."""
    return hashlib.sha256(email.encode("utf-8", "replace")).hexdigest()[:32]


def send_verification(deps: Deps, user: User, email: str) -> None:
    """Record ``email`` as pending and mail it a link (valid 24 hours, for this account
    under its current credential stamp); never fails on the mail."""
    username = user.username
    deps.store.set_pending_email(username=username, email=email,
                                 credential_stamp=user.credential_stamp)
    try:
        throttle.reserve_attempt(deps, _address_key(email), VERIFY_MAIL_SCOPE,
                                 limit=VERIFY_MAILS_PER_HOUR, window_seconds=3600)
    except LoginThrottled:
        log.warning("verification mail for %s not sent: %d an hour to that address already",
                    username, VERIFY_MAILS_PER_HOUR)
        return
    token, digest = new_token()
    deps.store.put_email_token(EmailToken(
        token_hash=digest, purpose=VERIFY, username=username,
        expires_at=int(deps.now()) + VERIFY_SECONDS, email=email,
        credential_stamp=user.credential_stamp,
    ))
    send_safely(deps, Mail(
        to=email, subject="Confirm your email address", sent_at=deps.now(),
        text=f"Confirm that this address belongs to the Chalkboard account {username} by "
             f"opening the link below within 24 hours. If you did not ask for this, "
             f"ignore this mail: the address will not be used.",
        link=f"{deps.settings.web_origin}/#/verify-email?token={token}",
    ))


def verify(deps: Deps, token: str, *, client: Client | None = None) -> str:
    """Make the link's address its account's verified one; the username.

    ``InvalidInput`` for an invalid, used or expired link (or a gone account);
    ``StateConflict`` when another account verified the address meanwhile.
    """
    invalid = InvalidInput("this verification link is invalid, used or expired")
    found, user = take_link(deps, VERIFY, token, invalid)
    # Only the address last asked for: an older link (the owner changed their mind, or
    # an earlier account of the same name asked for it) verifies nothing.
    held = deps.store.get_email(username=found.username)
    if held is None or found.email not in {held.pending, held.verified}:
        raise invalid
    try:
        claimed = deps.store.claim_email(username=found.username, email=found.email,
                                         credential_stamp=user.credential_stamp)
    except AccountGone:  # deleted (or its password changed) while the link was opened
        raise invalid from None
    if not claimed:
        raise StateConflict("another account has verified this email address")
    log.info("email address verified for %s", found.username)
    security_events.record(deps, found.username, "email_verified", client=client)
    return found.username
