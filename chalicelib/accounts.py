"""Accounts: signup, reading one's account, changing one's password."""

from __future__ import annotations

from chalicelib import passwords, throttle
from chalicelib.deps import Deps
from chalicelib.errors import AccountGone, WrongPassword
from chalicelib.store import User
from chalicelib.validation import check_new_password, check_username, may_be_password


def signup(deps: Deps, username: str, password: str) -> User:
    """Create an account; ``InvalidInput`` names the bad field, ``UsernameTaken`` is a 409."""
    username = check_username(username)
    password = check_new_password(password, username=username)
    now = deps.now()
    # Tokens issued before the account existed (to an earlier, deleted holder of
    # the name) must not open it, so every token from before its creation is void.
    # Strictly before: a login in this same millisecond must work (a password
    # change, below, also voids its own millisecond, so the two rules differ).
    user = User(
        username=username, password_hash=passwords.hash_password(password, deps.settings),
        created_at=now,
        tokens_valid_after_ms=int(now * 1000),
    )
    deps.store.create_user(user)
    return user


def get_account(deps: Deps, username: str) -> User:
    user = deps.store.get_user(username)
    if user is None:  # deleted after the authorizer checked the token
        raise AccountGone("this account no longer exists")
    return user


def change_password(
    deps: Deps, username: str, current_password: str, new_password: str
) -> None:
    """Set a new password and void every token issued before now (this one included)."""
    new_password = check_new_password(new_password, username=username)
    store = deps.store
    attempt = throttle.reserve_attempt(deps, username)  # the same throttle as logins
    user = store.get_user(username)
    verified = False
    if user is not None and may_be_password(current_password):  # else it cannot be right
        verified, _ = passwords.verify_password(
            current_password, user.password_hash, deps.settings
        )
    throttle.finish_attempt(deps, attempt, succeeded=verified)
    if not verified:
        raise WrongPassword("current password is wrong")
    store.set_password(
        username=username,
        password_hash=passwords.hash_password(new_password, deps.settings),
        tokens_valid_after_ms=int(deps.now() * 1000) + 1,
    )
