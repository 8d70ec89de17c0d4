"""What chalkboard needs from persistence: the one interface both adapters match."""

from __future__ import annotations

from typing import Protocol

from chalicelib.store.model import (
    LOGIN_SCOPE,
    AccessState,
    Challenge,
    EmailAddress,
    EmailToken,
    KnownDevice,
    LoginCount,
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


class Store(Protocol):
    """What chalkboard needs from persistence; both adapters match it exactly."""

    def ping(self) -> None:
        """Raise ``StoreUnavailable`` if the store cannot be reached."""

    def create_user(self, user: User) -> None:
        """Add a user; ``UsernameTaken`` if the name exists (atomically)."""

    def get_user(self, username: str) -> User | None: ...

    def set_password(
        self, *, username: str, password_hash: str, credential_stamp: str, expected_stamp: str
    ) -> bool:
        """Replace hash and stamp if the stored stamp is still ``expected_stamp``.

        False (nothing written) when it changed or the user is gone or being
        deleted: a rehash at login must never undo a password change that
        committed while it verified.
        """

    def set_display_name(self, *, username: str, display_name: str) -> User | None:
        """Rename; the updated user, or None if there is no such user."""

    def access_state(self, *, username: str, sid: str) -> AccessState:
        """The user and the session, in one round trip (the authorizer's only read)."""

    def start_session(self, session: Session) -> None: ...

    def touch_session(
        self, *, username: str, sid: str, credential_stamp: str, now: float, expires_at: int
    ) -> bool:
        """Record a refresh: set ``last_used_at``/``expires_at`` only if the session
        exists, is live at ``now`` and has ``credential_stamp``; False otherwise, so a
        refresh racing the session's end can never mint a token."""

    def list_sessions(self, *, username: str, now: float) -> list[Session]:
        """The user's live sessions, newest first."""

    def end_session(self, *, username: str, sid: str) -> Session | None:
        """End one session at once; the session as it was (it may have expired and
        not yet been cleaned up), or None if it was not there."""

    def end_sessions(self, *, username: str) -> None:
        """End every session of the user (a password change)."""

    def add_refresh_token(self, token: RefreshToken) -> None: ...

    def get_refresh_token(self, *, token_hash: str) -> RefreshToken | None: ...

    def spend_refresh_token(self, *, token_hash: str) -> RefreshToken | None:
        """Atomically mark a refresh token used; return it as it was *before* (or None).

        Of two concurrent calls for one token exactly one sees ``used=False``.
        """

    def count_login_attempt(
        self, *, username: str, now: float, limit: int, window_seconds: int,
        scope: str = LOGIN_SCOPE,
    ) -> LoginCount:
        """Atomically apply ``next_login_throttle`` to the stored state of the bucket
        (``username``, ``scope``) (one conditional write on DynamoDB, one transaction on
        SQLite). ``Conflict`` if a concurrent update won the race: the caller retries
        with fresh state."""

    def clear_login_throttle(self, *, username: str, scope: str = LOGIN_SCOPE) -> None:
        """Forget one bucket's attempts (a success)."""

    def clear_throttles(self, *, username: str) -> None:
        """Forget the attempts of every bucket of ``username`` (one Query on DynamoDB)."""

    def count_post(
        self, *, username: str, now: float, limit: int, window_seconds: int
    ) -> float | None:
        """Atomically record one post unless ``limit`` were recorded in the last
        ``window_seconds``: None when recorded, else the instant a slot frees.
        ``Conflict`` if a concurrent update won the race (the caller retries)."""

    def add_message(self, message: Message) -> None:
        """Add a message, findable by its author from before it is visible."""

    def get_message(self, *, message_id: str) -> Message | None: ...

    def list_messages(self, *, limit: int, before_id: str | None, consistent: bool = True
                      ) -> Page:
        """Newest first, ids strictly below ``before_id``, at most ``limit``, each with its
        author's current display name: one page read plus at most one read of the
        page's distinct authors, whatever the size of the board. Without ``consistent``
        the page read may miss the last second's writes (and costs half)."""

    def list_newer_messages(self, *, limit: int, after_id: str) -> Page:
        """Newest first, ids strictly above ``after_id``, at most ``limit``; ``has_more``
        says more than ``limit`` are newer. Costs next to nothing when none are."""

    def delete_message(self, *, message_id: str) -> None: ...

    def mark_user_deleted(self, *, username: str) -> User | None:
        """Start deleting an account: from now on it refuses every token and post and
        its name stays taken. The user as marked (its stamp, frozen from now on,
        names this account to the calls below), or None if there is no such user."""

    def delete_user_data(self, *, username: str, credential_stamp: str, batch: int) -> bool:
        """Delete up to ``batch`` of the records (sessions, messages, and any per-user
        kind added later) of the account marked deleted under ``credential_stamp``;
        True once none is left. Resumable: call again. Also True, touching nothing,
        once that account is gone: another call finished it, and the name may
        already belong to a new account, whose records are not this deletion's."""

    # -- two-factor codes (per-user data: account deletion removes them) ----------------

    def get_totp(self, *, username: str) -> TotpState | None: ...

    def put_pending_totp(self, *, username: str, secret_ciphertext: str) -> bool:
        """Store a new, unconfirmed secret; False (and nothing changes) if two-factor is on."""

    def enable_totp(self, *, username: str, recovery_hashes: frozenset[str], step: int) -> bool:
        """Turn two-factor on, having accepted ``step``; False if it was on or is gone."""

    def accept_totp_step(self, *, username: str, step: int) -> bool:
        """Atomically record ``step`` as used if it is newer than the last accepted one.

        Of concurrent calls with one step, exactly one returns True.
        """

    def spend_recovery_code(self, *, username: str, code_hash: str) -> bool:
        """Atomically remove one recovery code; True only for the call that removed it."""

    def delete_totp(self, *, username: str) -> None: ...

    # -- passkeys (per-user data: account deletion removes them) -----------------------

    def add_passkey(self, passkey: Passkey, *, limit: int) -> bool:
        """Store a new credential; False if the user already has ``limit`` of them.

        A credential id that is already stored (for anyone) is a ``Conflict``.
        """

    def get_passkey(self, *, credential_id: str) -> Passkey | None:
        """The passkey with that id, if its owner still has it."""

    def list_passkeys(self, *, username: str) -> list[Passkey]:
        """The user's passkeys, oldest first."""

    def rename_passkey(self, *, username: str, credential_id: str, name: str) -> bool:
        """False if the user has no such passkey."""

    def delete_passkey(self, *, username: str, credential_id: str) -> bool:
        """False if the user has no such passkey."""

    def record_passkey_use(
        self, *, username: str, credential_id: str, previous_sign_count: int, sign_count: int,
        now: float,
    ) -> bool:
        """Save the new sign count if the stored one is still ``previous_sign_count``."""

    # -- single-use challenges -----------------------------------------------------------

    def put_challenge(self, challenge: Challenge) -> None: ...

    def take_challenge(self, *, key: str, now: float) -> Challenge | None:
        """Remove and return a live challenge; of concurrent calls only one gets it."""

    def delete_user(self, *, username: str, credential_stamp: str) -> None:
        """Remove the user marked deleted under ``credential_stamp``, freeing the name
        (after ``delete_user_data``); any other account of the name stays."""

    # --- known devices (per-user data: account deletion removes them) ---

    def add_device(self, device: KnownDevice) -> None:
        """Keep a device token's hash under its account."""

    def get_device(self, *, username: str, token_hash: str) -> KnownDevice | None:
        """The account's device with that token hash (expired or not: the caller checks)."""

    def forget_devices(self, *, username: str) -> None:
        """End every device token of the account (a password reset); one Query on DynamoDB."""

    # --- security events ---

    def add_security_event(self, event: SecurityEvent) -> None:
        """Keep ``event`` under its user until ``event.expires_at``."""

    def list_security_events(
        self, *, username: str, limit: int, before_id: str | None, now: float
    ) -> SecurityEventPage:
        """Up to ``limit`` of the user's live events (``expires_at >= now``), newest first,
        older than ``before_id`` when given; one Query (an index range in SQLite)."""

    # --- email (issue 23) ---

    def get_email(self, *, username: str) -> EmailAddress | None:
        """The user's addresses, or None if none was ever given."""

    def set_pending_email(self, *, username: str, email: str, credential_stamp: str) -> None:
        """Record ``email`` as awaiting verification (replacing any earlier one).

        Only for the live account of ``credential_stamp``: ``AccountGone`` (nothing kept)
        if it is deleted, being deleted or its stamp moved, so a change racing
        ``DELETE /me`` leaves nothing for a later account of the same name."""

    def claim_email(self, *, username: str, email: str, credential_stamp: str) -> bool:
        """Make ``email`` the user's verified address, atomically unique: False (nothing
        changes) if another account holds it verified. The user's previous verified
        address is released; a pending ``email`` stops being pending.

        ``AccountGone`` (nothing kept, the address free) unless the account of
        ``credential_stamp`` is live, as for ``set_pending_email``."""

    def email_owner(self, *, email: str) -> str | None:
        """The username whose verified address ``email`` is, or None (never a Scan)."""

    def put_email_token(self, token: EmailToken) -> None: ...

    def take_email_token(self, *, purpose: str, token_hash: str, now: float
                         ) -> EmailToken | None:
        """Remove and return a live token of ``purpose``; of concurrent calls only one
        gets it."""

    # --- recovery codes and passkey handles (issue 21) ---

    def set_recovery_codes(self, *, username: str, recovery_hashes: frozenset[str]) -> bool:
        """Replace every recovery code while two-factor is on; False when it is off."""

    def set_webauthn_handle(self, *, username: str, handle: str) -> User | None:
        """Give an account made before user handles existed ``handle``, unless it has one
        already (a concurrent call won): the user as stored, None if it is gone."""
