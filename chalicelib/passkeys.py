"""Passkeys (WebAuthn): registering them, naming and removing them, signing in without a name.

Every ceremony starts with options holding a random challenge that the store
keeps for 5 minutes, for one purpose, and hands out once: the browser signs it,
and the response is checked against the challenge taken back from the store,
the stage's web origin and relying-party id (settings), with user verification
required. Sign-in is usernameless: the credential the browser picks names the
account, and its signature counter must move forward (a cloned authenticator
replays old counts). A passkey is already two factors (a device and a PIN or
biometric), so a passkey sign-in needs no two-factor code, and a valid assertion
signs in even while the username's password throttle is locked.

``webauthn`` (py_webauthn) is imported inside these functions only: the
authorizer and the board never pay for it at a cold start.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import logging
from typing import Any

from chalicelib import accounts, encryption, security_events, sessions, totp
from chalicelib.clients import Client
from chalicelib.deps import Deps
from chalicelib.encoding import b64url_decode, b64url_encode
from chalicelib.errors import (
    AccountGone,
    Conflict,
    InvalidCredentials,
    InvalidInput,
    PasskeyNotFound,
    StateConflict,
)
from chalicelib.store.model import Challenge, Passkey, User, live
from chalicelib.tokens import AccessClaims
from chalicelib.validation import check_one_line_name

log = logging.getLogger(__name__)

CHALLENGE_TTL = 300
TIMEOUT_MS = 120_000
MAX_PASSKEYS = 10
NAME_MAX = 50
RP_NAME = "chalkboard"
BASE64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
KNOWN_TRANSPORTS = frozenset({"ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"})


def user_handle(deps: Deps, user: User) -> str:
    """``user``'s WebAuthn user id (base64url), random per account since signup
    (``accounts.signup``). An account made before that gets, once, the handle its
    passkeys already carry (the old HMAC of the name), stored on it: only accounts that
    existed then ever have such a handle, so a later account of the same name (random
    handle) never matches their passkeys."""
    if user.webauthn_handle:
        return user.webauthn_handle
    key = encryption.derived_key(deps.keyring, "passkey user handle")
    legacy = b64url_encode(hmac.new(key, user.username.encode(), hashlib.sha256).digest()[:16])
    stored = deps.store.set_webauthn_handle(username=user.username, handle=legacy)
    if live(stored) is None or stored is None or not stored.webauthn_handle:
        raise AccountGone("this account no longer exists")
    return stored.webauthn_handle


def check_name(name: str) -> str:
    """A display name's rule (one line that shows something, at most 50 characters), each
    run of whitespace inside made one space."""
    return " ".join(check_one_line_name(name, field="name").split())


def _check_shape(credential: dict[str, Any], binary_fields: tuple[str, ...]) -> None:
    """The keyword rules docs/openapi.yaml states for a credential (400 when broken), so
    that only what no schema can state (a challenge of ours, a signature) is left to
    the verification."""
    response = credential.get("response")
    ids = (credential.get("id"), credential.get("rawId"))
    if (
        not all(isinstance(i, str) and 22 <= len(i) <= 1364 and _is_base64url(i) for i in ids)
        or credential.get("type") != "public-key"
        or not isinstance(response, dict)
        or not all(isinstance(response.get(f), str) and _is_base64url(response[f])
                   for f in binary_fields)
    ):
        raise InvalidInput("credential is not a WebAuthn credential in JSON form")


def _is_base64url(text: str) -> bool:
    return text.isascii() and not text.strip(BASE64URL_ALPHABET)


def _store_challenge(deps: Deps, challenge: bytes, purpose: str, username: str) -> None:
    deps.store.put_challenge(Challenge(
        key=b64url_encode(challenge), purpose=purpose, username=username,
        expires_at=int(deps.now()) + CHALLENGE_TTL,
    ))


def _take_challenge(deps: Deps, credential: dict[str, Any], purpose: str, username: str
                    ) -> bytes | None:
    """The challenge this response signed, if we issued it for this purpose and user and it
    is still live; it is spent either way, so a response can never be replayed."""
    response = credential.get("response")
    encoded = response.get("clientDataJSON") if isinstance(response, dict) else None
    if not isinstance(encoded, str) or len(encoded) > 4096:
        return None
    try:
        challenge = json.loads(b64url_decode(encoded)).get("challenge")
    except (ValueError, AttributeError, binascii.Error):
        return None
    if not isinstance(challenge, str) or not challenge or len(challenge) > 256:
        return None
    found = deps.store.take_challenge(key=challenge, now=deps.now())
    if found is None or found.purpose != purpose or found.username != username:
        return None
    return b64url_decode(challenge)


# -- registration (signed in) ------------------------------------------------------------


def step_up(deps: Deps, claims: AccessClaims, password: str, code: str | None, *,
            client: Client | None = None) -> User:
    """The proof adding a passkey needs: the password (login throttle), and with
    two-factor on also a current code (code throttle): a bearer token alone never adds
    a sign-in method. A missing code is a 400; a wrong password or code a 403."""
    user = accounts.check_password(deps, claims, password, "password is wrong", client=client)
    if totp.is_enabled(deps, user.username):
        if code is None:
            raise InvalidInput("code is required: two-factor authentication is on")
        totp.check_code(deps, user.username, code, client=client)
    return user


def registration_options(deps: Deps, claims: AccessClaims, password: str,
                         code: str | None = None, *, client: Client | None = None
                         ) -> dict[str, Any]:
    """``PublicKeyCredentialCreationOptions`` as JSON (binary fields base64url), after the
    step-up (``step_up``)."""
    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        PublicKeyCredentialDescriptor,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    user = step_up(deps, claims, password, code, client=client)
    username = user.username
    existing = deps.store.list_passkeys(username=username)
    if len(existing) >= MAX_PASSKEYS:
        raise StateConflict(f"an account can have at most {MAX_PASSKEYS} passkeys")
    options = generate_registration_options(
        rp_id=deps.settings.webauthn_rp_id,
        rp_name=RP_NAME,
        user_name=username,
        user_id=b64url_decode(user_handle(deps, user)),
        user_display_name=username,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=b64url_decode(p.credential_id)) for p in existing
        ],
    )
    _store_challenge(deps, options.challenge, "passkey-register", username)
    document: dict[str, Any] = json.loads(options_to_json(options))
    return document


def register(deps: Deps, username: str, credential: dict[str, Any], name: str | None, *,
             client: Client | None = None) -> Passkey:
    """Verify a new credential against its challenge and store it.

    Then a second look, as posts and sessions take: if the account went, is being
    deleted, or its stamp changed since it was read, what was written is removed and
    the answer is as for a gone account, so a registration racing ``DELETE /me``
    never outlives the account (its records may already have been swept).
    """
    from webauthn import verify_registration_response
    from webauthn.helpers.exceptions import WebAuthnException

    name = check_name(name) if name is not None else "Passkey"
    _check_shape(credential, ("clientDataJSON", "attestationObject"))
    gone = AccountGone("this account no longer exists")
    before = live(deps.store.get_user(username))
    if before is None:
        raise gone
    challenge = _take_challenge(deps, credential, "passkey-register", username)
    if challenge is None:  # well formed, but not an answer to a registration in progress
        raise StateConflict("the passkey request expired or was already used; try again")
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=deps.settings.webauthn_rp_id,
            expected_origin=deps.settings.web_origin,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        log.info("passkey registration refused for %s: %s", username, type(error).__name__)
        raise InvalidInput("the passkey could not be verified") from None
    response = credential.get("response")
    transports = response.get("transports") if isinstance(response, dict) else None
    passkey = Passkey(
        credential_id=b64url_encode(verified.credential_id),
        username=username,
        public_key=b64url_encode(verified.credential_public_key),
        sign_count=verified.sign_count,
        transports=tuple(
            t for t in (transports if isinstance(transports, list) else [])
            if t in KNOWN_TRANSPORTS
        ),
        name=name,
        created_at=deps.now(),
    )
    try:
        added = deps.store.add_passkey(passkey, limit=MAX_PASSKEYS)
    except Conflict:
        raise StateConflict("this passkey is already registered") from None
    after = live(deps.store.get_user(username))
    if after is None or after.credential_stamp != before.credential_stamp:
        if added:
            deps.store.delete_passkey(username=username, credential_id=passkey.credential_id)
        log.info("passkey registration for %s raced the account's end: removed", username)
        raise gone
    if not added:
        raise StateConflict(f"an account can have at most {MAX_PASSKEYS} passkeys")
    log.info("passkey added for %s", username)
    security_events.record(deps, username, "passkey_added", client=client)
    return passkey


def list_passkeys(deps: Deps, username: str) -> list[Passkey]:
    return deps.store.list_passkeys(username=username)


def rename(deps: Deps, username: str, credential_id: str, name: str) -> Passkey:
    name = check_name(name)
    if not deps.store.rename_passkey(username=username, credential_id=credential_id, name=name):
        raise PasskeyNotFound("no passkey of yours has that id")
    passkey = deps.store.get_passkey(credential_id=credential_id)
    if passkey is None:  # deleted in between
        raise PasskeyNotFound("no passkey of yours has that id")
    return passkey


def delete(deps: Deps, claims: AccessClaims, credential_id: str, password: str, *,
           client: Client | None = None) -> None:
    """Remove a passkey after the password (login throttle): a bearer token alone never
    removes a sign-in method. Every session it signed in ends with it (a stolen
    passkey's sessions die with it; signin.passkey's second look catches one being
    written)."""
    accounts.check_password(deps, claims, password, "password is wrong", client=client)
    username = claims.username
    if not deps.store.delete_passkey(username=username, credential_id=credential_id):
        raise PasskeyNotFound("no passkey of yours has that id")
    ended = sessions.end_passkey_sessions(deps, username, credential_id)
    log.info("passkey deleted for %s; %d of its sessions ended", username, ended)
    security_events.record(deps, username, "passkey_removed", client=client)


# -- usernameless sign-in ------------------------------------------------------------------


def login_options(deps: Deps) -> dict[str, Any]:
    """``PublicKeyCredentialRequestOptions`` with no allowed list: the browser offers every
    passkey it holds for this relying party."""
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers.structs import UserVerificationRequirement

    options = generate_authentication_options(
        rp_id=deps.settings.webauthn_rp_id,
        timeout=TIMEOUT_MS,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    _store_challenge(deps, options.challenge, "passkey-login", "")
    document: dict[str, Any] = json.loads(options_to_json(options))
    return document


def verify_assertion(deps: Deps, credential: dict[str, Any]) -> User:
    """The user (as read before the check, for its stamp) a valid assertion of a stored
    passkey signs in; ``InvalidCredentials`` (401) for anything else."""
    from webauthn import verify_authentication_response
    from webauthn.helpers.exceptions import WebAuthnException

    refused = InvalidCredentials("passkey sign-in failed")
    challenge = _take_challenge(deps, credential, "passkey-login", "")
    credential_id = credential.get("rawId")
    if challenge is None or not isinstance(credential_id, str) or len(credential_id) > 1400:
        raise refused
    passkey = deps.store.get_passkey(credential_id=credential_id)
    if passkey is None:
        log.info("passkey sign-in with an unknown credential")
        raise refused
    user = live(deps.store.get_user(passkey.username))  # read before the check, for its stamp
    if user is None:
        raise refused
    response = credential.get("response")
    handle = response.get("userHandle") if isinstance(response, dict) else None
    # A discoverable credential always names its account: the handle must be this
    # account's own (random) one, never an earlier account's of the same name.
    if not isinstance(handle, str) or not hmac.compare_digest(
        handle.encode(), user_handle(deps, user).encode()
    ):
        raise refused
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=deps.settings.webauthn_rp_id,
            expected_origin=deps.settings.web_origin,
            credential_public_key=b64url_decode(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        log.info("passkey sign-in refused for %s: %s", passkey.username, error)
        raise refused from None
    if not deps.store.record_passkey_use(
        username=passkey.username, credential_id=credential_id,
        previous_sign_count=passkey.sign_count, sign_count=verified.new_sign_count,
        now=deps.now(),
    ):
        raise refused  # another sign-in with this passkey moved the counter first
    return user
