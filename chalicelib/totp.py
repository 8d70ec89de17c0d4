"""Two-factor codes (TOTP, RFC 6238) and recovery codes.

Turning it on is two steps, so a typo never locks anyone out: ``begin`` stores
a new secret (encrypted) that is not yet in force, ``confirm`` turns it on once
the user's app shows a valid code, and hands out ten single-use recovery codes
stored only as hashes. A password step on such an account yields an ``mfa_token``
(tokens.py); ``signin.code`` trades it and one code (``spend_code``) for a session.

A code is accepted for the current 30-second step or one either side (clock
drift), and never twice: the store records the last accepted step and only a
strictly newer one is taken, atomically, so of two concurrent submissions of
one code exactly one wins. Every route that takes a code checks it through
``check_code``: wrong codes count in one per-account code throttle (scope
``"code"``), which only an accepted code clears; a correct password never does, so
a token and the password buy no more than 5 code guesses per 15 minutes, and no
more than 100 in a row (``throttle.reserve_run``, scope ``"code-run"``) until a
code is accepted or the password is reset.
Recovery codes are stored as HMACs under a key derived from the keyring's
``mfa_key``, so a copy of the database alone does not allow guessing them offline.
``pyotp`` is imported only here, on first use.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass

from chalicelib import accounts, encryption, security_events, throttle
from chalicelib.clients import Client
from chalicelib.deps import Deps
from chalicelib.errors import (
    InvalidInput,
    NotConfigured,
    StateConflict,
    WrongPassword,
)
from chalicelib.store.model import CODE_RUN_SCOPE, CODE_SCOPE, TotpState
from chalicelib.tokens import AccessClaims

log = logging.getLogger(__name__)

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
ISSUER = "chalkboard"
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i look-alikes
_RECOVERY_HALF = 5  # two halves of 5: ~49 bits each code
CODE_MAX = 32


@dataclass(frozen=True)
class Enrollment:
    secret: str  # base32, shown once so the user can type it into an app
    otpauth_uri: str
    qr: list[str]  # the URI as a QR code: one string of "0"/"1" modules a row, no border


def qr_rows(text: str) -> list[str]:
    """The QR code's modules, for the web app to draw without a QR library of its own.

    ``segno`` is imported here only, so no cold start pays for it.
    """
    import segno

    code = segno.make(text, error="m")
    return ["".join("1" if module else "0" for module in row) for row in code.matrix]


def begin(deps: Deps, claims: AccessClaims, password: str, *, client: Client | None = None
          ) -> Enrollment:
    """A new secret, stored encrypted but not in force until ``confirm``."""
    import pyotp

    accounts.check_password(deps, claims, password, "password is wrong", client=client)
    username = claims.username
    state = deps.store.get_totp(username=username)
    if state is not None and state.enabled:
        raise StateConflict("two-factor authentication is already on")
    secret = pyotp.random_base32()
    ciphertext = encryption.encrypt(secret, owner=username, keyring=deps.keyring)
    if not deps.store.put_pending_totp(username=username, secret_ciphertext=ciphertext):
        raise StateConflict("two-factor authentication is already on")
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)
    return Enrollment(secret=secret, otpauth_uri=uri, qr=qr_rows(uri))


def confirm(deps: Deps, username: str, code: str, *, client: Client | None = None
            ) -> list[str]:
    """Turn two-factor on with a first valid code; the recovery codes, shown only now."""
    state = deps.store.get_totp(username=username)
    if state is None:
        raise StateConflict("start two-factor setup first (POST /me/totp)")
    if state.enabled:
        raise StateConflict("two-factor authentication is already on")
    step = _matching_step(_secret(deps, state), code, deps.now())
    if step is None:
        # A 400, as the contract (docs/openapi.yaml) says: the request is wrong, not the caller.
        raise InvalidInput("code is wrong; enter the 6 digits your app shows now")
    codes, hashes = _new_recovery_codes(deps, username)
    if not deps.store.enable_totp(username=username, recovery_hashes=hashes, step=step):
        raise StateConflict("two-factor authentication is already on")
    log.info("two-factor turned on for %s", username)
    security_events.record(deps, username, "totp_enabled", client=client)
    return codes


def disable(deps: Deps, claims: AccessClaims, password: str, code: str, *,
            client: Client | None = None) -> None:
    """Turn two-factor off; needs the password (login throttle) and a current code or a
    recovery code (code throttle)."""
    accounts.check_password(deps, claims, password, "password is wrong", client=client)
    username = claims.username
    check_code(deps, username, code, client=client)
    deps.store.delete_totp(username=username)
    log.info("two-factor turned off for %s", username)
    security_events.record(deps, username, "totp_disabled", client=client)


def regenerate_recovery_codes(
    deps: Deps, claims: AccessClaims, password: str, code: str, *, client: Client | None = None
) -> list[str]:
    """Ten new recovery codes, shown only now; every earlier one stops working. Needs
    the password (login throttle) and a current code (code throttle)."""
    accounts.check_password(deps, claims, password, "password is wrong", client=client)
    username = claims.username
    check_code(deps, username, code, client=client)
    codes, hashes = _new_recovery_codes(deps, username)
    if not deps.store.set_recovery_codes(username=username, recovery_hashes=hashes):
        raise StateConflict("two-factor authentication is not on")
    log.info("recovery codes regenerated for %s", username)
    security_events.record(deps, username, "recovery_codes_regenerated", client=client)
    return codes


def is_enabled(deps: Deps, username: str) -> bool:
    state = deps.store.get_totp(username=username)
    return state is not None and state.enabled


def check_code(deps: Deps, username: str, code: str, *, client: Client | None = None) -> None:
    """Spend one code of ``username`` (two-factor on, else 409), counted in the
    per-account code throttle: ``LoginThrottled`` (429) while it is locked, without
    looking at the code; ``WrongPassword`` (403) for a wrong or used code. An accepted
    code clears the bucket."""
    state = deps.store.get_totp(username=username)
    if state is None or not state.enabled:
        raise StateConflict("two-factor authentication is not on")
    if not spend_counted(deps, state, code, client=client):
        raise WrongPassword("code is wrong or was already used")


def spend_counted(deps: Deps, state: TotpState, code: str, *, client: Client | None = None
                  ) -> bool:
    """``spend_code`` counted in the code throttle (``LoginThrottled`` while locked):
    the one way any route checks a code. The failure that locks is the owner's
    ``locked`` event."""
    attempt = throttle.reserve_attempt(deps, state.username, CODE_SCOPE)
    # The window bucket restarts after each lock: the run bounds wrong codes in a row
    # at 100 (NIST), until an accepted code or a reset (``clear_throttles``).
    throttle.reserve_run(deps, state.username, CODE_RUN_SCOPE)
    accepted = spend_code(deps, state, code, client=client)
    throttle.finish_attempt(deps, attempt, succeeded=accepted, account_exists=True,
                            client=client)
    if accepted:
        deps.store.clear_login_throttle(username=state.username, scope=CODE_RUN_SCOPE)
    return accepted


def code_kind(code: str) -> str:
    """``totp`` for digits (an app's code), else ``recovery_code``: how ``spend_code``
    reads it, and the sign-in method it makes."""
    return "totp" if _digits(code).isdigit() else "recovery_code"


# -- codes ----------------------------------------------------------------------------


def _secret(deps: Deps, state: TotpState) -> str:
    try:
        return encryption.decrypt(state.secret_ciphertext, owner=state.username,
                                  keyring=deps.keyring)
    except ValueError:
        log.error("two-factor secret of %s does not decrypt: was the mfa_key replaced?",
                  state.username)
        raise NotConfigured(
            "two-factor codes cannot be checked right now; sign in with a passkey"
        ) from None


def _digits(code: str) -> str:
    return code.replace(" ", "")


def _matching_step(secret: str, code: str, now: float) -> int | None:
    """The time step (current ±1) whose code ``code`` is, compared in constant time."""
    import pyotp

    code = _digits(code)
    if len(code) != DIGITS or not (code.isascii() and code.isdigit()):
        return None
    generator = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = int(now // STEP_SECONDS)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(generator.generate_otp(step), code):
            found = step
    return found


def spend_code(deps: Deps, state: TotpState, code: str, *, client: Client | None = None
               ) -> bool:
    """Accept a TOTP code of an unused step, or an unused recovery code, atomically.

    A recovery code used is the owner's ``recovery_code_used`` event (with how many
    are left); ``client`` is whoever used it."""
    if len(code) > CODE_MAX:
        return False
    store, username = deps.store, state.username
    if code_kind(code) == "totp":
        step = _matching_step(_secret(deps, state), code, deps.now())
        return step is not None and store.accept_totp_step(username=username, step=step)
    if not (store.spend_recovery_code(username=username,
                                      code_hash=_recovery_hash(deps, username, code))
            or store.spend_recovery_code(username=username,
                                         code_hash=_legacy_recovery_hash(username, code))):
        return False
    log.info("recovery code used by %s", username)
    # ``state`` was read before this code was spent: one fewer is left now.
    security_events.record(deps, username, "recovery_code_used", client=client,
                           details={"left": max(0, len(state.recovery_hashes) - 1)})
    return True


def _new_recovery_code() -> str:
    def half() -> str:
        return "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_HALF))

    return f"{half()}-{half()}"


def _new_recovery_codes(deps: Deps, username: str) -> tuple[list[str], frozenset[str]]:
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    return codes, frozenset(_recovery_hash(deps, username, code) for code in codes)


def _normalized(code: str) -> str:
    """Codes are compared after removing spaces and hyphens and lowercasing."""
    return code.replace("-", "").replace(" ", "").lower()


def _recovery_hash(deps: Deps, username: str, code: str) -> str:
    """HMAC-SHA256 under a key derived from the keyring's ``mfa_key`` (its own label):
    ~49 random bits are enough online (the code throttle) but not against a database
    copy hashed without a secret, so without the keyring nobody can test a guess."""
    key = encryption.derived_key(deps.keyring, "recovery codes")
    message = f"{username}:{_normalized(code)}".encode()
    return "h1:" + hmac.new(key, message, hashlib.sha256).hexdigest()


def _legacy_recovery_hash(username: str, code: str) -> str:
    """The plain salted SHA-256 codes were stored as before the keyed HMAC: still
    accepted (each once, like any recovery code) until the owner regenerates them."""
    return hashlib.sha256(
        f"chalkboard-recovery:{username}:{_normalized(code)}".encode()
    ).hexdigest()
