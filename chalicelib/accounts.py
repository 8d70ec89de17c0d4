"""Accounts: signup, reading one's account, renaming, changing one's password, deleting it."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from chalicelib import emails, known_devices, passwords, security_events
from chalicelib.clients import Client
from chalicelib.deps import Deps
from chalicelib.encoding import b64url_encode
from chalicelib.errors import AccountGone, UsernameTaken, WrongPassword
from chalicelib.store.model import User, live
from chalicelib.tokens import AccessClaims
from chalicelib.validation import (
    check_display_name,
    check_email,
    check_new_password,
    check_username,
    may_be_password,
)

log = logging.getLogger(__name__)

# Records removed per store call while deleting an account: each call is a
# bounded amount of work, so a deletion cut short (a Lambda timeout) loses
# nothing and the next call carries on.
DELETION_BATCH = 100


def new_credential_stamp() -> str:
    """A fresh stamp: sessions started under any other stamp stop working."""
    return secrets.token_urlsafe(16)


def signup(
    deps: Deps, username: str, password: str, display_name: str | None = None,
    email: str | None = None,
) -> Account:
    """Create an account; ``InvalidInput`` names the bad field, ``UsernameTaken`` is a 409.
    With an ``email``, a verification link goes to it (the account is created even if
    the mail cannot go out).

    The new account's stamp is new, so no token of an earlier account of the
    same name (its sessions carry another stamp) ever opens it. The display name
    defaults to the username (the classic sign-up form asked for one).
    """
    username = check_username(username)
    name = check_display_name(display_name) if display_name is not None else username
    address = check_email(email) if email is not None else None
    password = check_new_password(
        password, username=username, display_name=name, settings=deps.settings
    )
    user = User(
        username=username, password_hash=passwords.hash_password(password, deps.settings),
        created_at=deps.now(), credential_stamp=new_credential_stamp(), display_name=name,
        # random per account: a passkey of an earlier account of this name never matches it
        webauthn_handle=b64url_encode(secrets.token_bytes(16)),
    )
    try:
        deps.store.create_user(user)
    except UsernameTaken:
        existing = deps.store.get_user(username)
        if existing is None or not existing.deleted:
            raise
        finish_deletion(deps, existing)  # an earlier deletion was cut short: finish it
        deps.store.create_user(user)
    if address is None:
        return Account(user, totp_enabled=False)
    emails.send_verification(deps, username, address)
    return Account(user, totp_enabled=False, email=address, email_verified=False)


@dataclass(frozen=True)
class Account:
    """What the caller's account page shows: the user, whether two-factor is on and how
    many recovery codes are left (None while it is off), and the address: the
    verified one if any, else one awaiting its link (or None)."""

    user: User
    totp_enabled: bool
    recovery_codes_left: int | None = None
    email: str | None = None
    email_verified: bool = False


def _account(deps: Deps, user: User) -> Account:
    second_factor = deps.store.get_totp(username=user.username)
    enabled = second_factor is not None and second_factor.enabled
    left = len(second_factor.recovery_hashes) if second_factor is not None and enabled else None
    address = deps.store.get_email(username=user.username)
    shown = (address and (address.verified or address.pending)) or None
    return Account(user, enabled, left, email=shown,
                   email_verified=bool(address and address.verified))


def get_account(deps: Deps, username: str) -> Account:
    user = live(deps.store.get_user(username))
    if user is None:  # deleted after the authorizer checked the token
        raise AccountGone("this account no longer exists")
    return _account(deps, user)


def rename(deps: Deps, username: str, display_name: str) -> Account:
    """Set the caller's display name; every message of theirs shows it from now on."""
    user = live(deps.store.set_display_name(
        username=username, display_name=check_display_name(display_name)
    ))
    if user is None:  # deleted after the authorizer checked the token
        raise AccountGone("this account no longer exists")
    # The newest page this instance keeps shows the old name: like a post, a rename
    # drops it, so the renamer sees it at once here (other instances within a second).
    deps.page_cache.invalidate()
    return _account(deps, user)


def check_password(deps: Deps, claims: AccessClaims, password: str, wrong: str, *,
                   client: Client | None = None) -> User:
    """The caller's user, if ``password`` is theirs; ``WrongPassword`` otherwise.

    Counted like a login, in the bucket of the device the caller's session signed in
    with (unknown when none: known_devices.py), so a flood of wrong passwords from
    elsewhere does not stop the owner's own device changing the password. One read
    gives the user and the session (the authorizer's).
    """
    if not may_be_password(password):  # no account's password, as at login: nothing to count
        raise WrongPassword(wrong)
    username = claims.username
    state = deps.store.access_state(username=username, sid=claims.session_id)
    device_id = state.session.device_id if state.session is not None else ""
    attempt = known_devices.reserve(deps, username, device_id)
    user = live(state.user)
    verified = False
    if user is not None:
        verified, _ = passwords.verify_password(password, user.password_hash, deps.settings)
    known_devices.finish(deps, attempt, succeeded=verified, account_exists=user is not None,
                         client=client)
    if not verified:
        raise WrongPassword(wrong)
    assert user is not None
    return user


def change_password(
    deps: Deps, claims: AccessClaims, current_password: str, new_password: str, *,
    client: Client | None = None,
) -> None:
    """Set a new password and a new credential stamp: every session ends, this one too.

    The stamp is written only if it is still the one read before verifying, so
    two concurrent changes, or a change and a login's rehash, cannot undo each other.
    """
    username = claims.username
    new_password = check_new_password(
        new_password, username=username, settings=deps.settings,
        display_name=get_account(deps, username).user.display_name,  # one of the user's own words
    )
    user = check_password(deps, claims, current_password, "current password is wrong",
                          client=client)
    changed = deps.store.set_password(
        username=username,
        password_hash=passwords.hash_password(new_password, deps.settings),
        credential_stamp=new_credential_stamp(),
        expected_stamp=user.credential_stamp,
    )
    if not changed:
        raise AccountGone("the password was changed meanwhile; sign in again")
    # The new stamp already ends every session; removing them keeps the list honest.
    deps.store.end_sessions(username=username)
    security_events.record(deps, username, "password_changed", client=client)


def change_email(
    deps: Deps, claims: AccessClaims, email: str, password: str, *, client: Client | None = None
) -> None:
    """Send a verification link to a new address (it replaces the verified one only
    once confirmed) and tell the verified address, if any, that a change was asked.
    Needs the password, counted like any password check."""
    address = check_email(email)
    username = claims.username
    check_password(deps, claims, password, "password is wrong", client=client)
    previous = deps.store.get_email(username=username)
    emails.send_verification(deps, username, address)
    if previous is not None and previous.verified and previous.verified != address:
        security_events.record(deps, username, "email_changed", client=client)


def delete_account(
    deps: Deps, claims: AccessClaims, password: str, *, client: Client | None = None
) -> None:
    """Delete the account and every record of it (sessions, tokens, messages, and any
    other per-user kind the store keeps), after checking the password.

    The user is marked deleted first: from then on every token, post and login
    of it is refused and the name stays taken, so nothing new appears while the
    records go in bounded batches; the name is freed last.
    """
    check_password(deps, claims, password, "password is wrong", client=client)
    username = claims.username
    marked = deps.store.mark_user_deleted(username=username)
    if marked is not None:  # None: a concurrent deletion already finished it
        finish_deletion(deps, marked)


def finish_deletion(deps: Deps, user: User) -> None:
    """Delete what is left of ``user`` (as marked deleted), then free its name.

    The store calls name the account by its stamp (frozen once marked), so a
    deletion that resumes late, after another call finished it and the name was
    signed up again, stops instead of deleting the new account's records.
    """
    username, stamp = user.username, user.credential_stamp
    batches = 1
    while not deps.store.delete_user_data(
        username=username, credential_stamp=stamp, batch=DELETION_BATCH
    ):
        batches += 1
    deps.page_cache.invalidate()  # as a deleted message does: gone on the next read here
    deps.store.delete_user(username=username, credential_stamp=stamp)
    log.info("account %s deleted (%d batches)", username, batches)
