"""The domain types the store holds: frozen dataclasses, shared by both adapters.

Every time is epoch seconds (float) except where a name says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

BOARD = "main"  # one shared board; the key leaves room for more


@dataclass(frozen=True)
class User:
    username: str
    password_hash: str
    created_at: float
    # Random, new at signup and at every password change. A session records the
    # stamp it was started under and dies when they differ, so a login racing a
    # password change (or an earlier account of the same name) never survives it.
    credential_stamp: str
    # Deletion has begun: nothing new is accepted and the name stays reserved
    # until ``delete_user_data`` has removed everything of the account.
    deleted: bool = False
    display_name: str = ""  # the name shown beside the username; "" means the username
    # The WebAuthn user handle (base64url of 16 random bytes), new at signup: random per
    # account, so a passkey of an earlier account of the same name never matches this one.
    # "" on accounts made before it existed (``passkeys.user_handle`` gives them one).
    webauthn_handle: str = ""

    def __post_init__(self) -> None:
        if not self.display_name:
            object.__setattr__(self, "display_name", self.username)


def live(user: User | None) -> User | None:
    """``user`` if the account exists and is not being deleted, else None: the one check
    every read of a user makes (a deleted account refuses everything while its records
    are being removed, as if it were gone already)."""
    return None if user is None or user.deleted else user


@dataclass(frozen=True)
class Message:
    id: str  # sorts by creation time
    username: str
    content: str
    created_at: float
    # The author's *current* display name, joined when the board is read (never stored
    # with the message, so a rename reaches old messages); "" means the username.
    display_name: str = ""

    def __post_init__(self) -> None:
        if not self.display_name:
            object.__setattr__(self, "display_name", self.username)


@dataclass(frozen=True)
class Page:
    messages: tuple[Message, ...]
    has_more: bool


@dataclass(frozen=True)
class RefreshToken:
    token_hash: str
    username: str
    family: str  # the session (``Session.sid``): every token rotated from one login
    issued_at_ms: int
    expires_at: int  # the earlier of its idle end and its session's absolute end
    used: bool = False
    session_ends_at: int = 0  # the session's absolute end, carried to every rotation


@dataclass(frozen=True)
class Session:
    """One login: its refresh-token family and every access token issued in it."""

    username: str
    sid: str
    credential_stamp: str  # the user's stamp when the session started
    created_at: float
    last_used_at: float  # the last refresh (the authorizer never writes)
    # Sliding: each refresh moves it to now + the refresh token lifetime, but never past
    # ``ends_at``; the authorizer refuses a session past it.
    expires_at: int
    ends_at: int = 0  # the absolute end: sign-in + CHALKBOARD_SESSION_MAX_SECONDS
    method: str = "password"  # how it signed in: password, totp, recovery_code, passkey
    ip: str = ""  # the client address at sign-in
    user_agent: str = ""  # the raw header, at most 256 characters
    device_id: str = ""  # the known device it signed in with ("": unknown)
    credential_id: str = ""  # the passkey it signed in with (method passkey)


@dataclass(frozen=True)
class AccessState:
    """What the authorizer needs to know beyond the signature, read in one round trip."""

    user: User | None  # None: the account is gone
    session: Session | None  # None: the session ended (logout, reuse, signed out)


LOGIN_SCOPE = "login"  # the bucket of password guesses
CODE_SCOPE = "code"  # the one per-account bucket of two-factor code guesses
CODE_RUN_SCOPE = "code-run"  # its run of consecutive wrong codes (the NIST bound)


@dataclass(frozen=True)
class LoginThrottle:
    """One bucket's attempts in its current run; each is counted *before* its
    password (or code) is checked, so concurrent attempts cannot all slip under the limit.

    A bucket is a username and a ``scope``: a short string naming what is guessed,
    ``"login"`` for passwords; a feature may add its own (``"code"``,
    ``"device:<id>"``), each counted apart, all cleared at once by ``clear_throttles``.

    A run ends only after a whole window with no counted attempt (the window slides
    with each attempt), so no window of time ever holds more than ``limit`` counted
    attempts: a fixed window starting at the first attempt would let ``limit - 1``
    attempts just before its end and ``limit`` more just after it.
    """

    username: str
    attempts: int  # counted in this run (a success clears them)
    locked_until: float  # last counted attempt + window: the run's end, or the lock's at the limit
    scope: str = LOGIN_SCOPE

    @property
    def expires_at(self) -> int:
        """When the state means nothing any more."""
        return int(self.locked_until) + 1

    def locked(self, *, now: float, limit: int) -> bool:
        return self.attempts >= limit and now < self.locked_until

    def stale(self, *, now: float) -> bool:
        """Over: a whole window passed since the last counted attempt (the lock ran out)."""
        return now >= self.locked_until


@dataclass(frozen=True)
class LoginCount:
    """The answer to counting one login attempt."""

    counted: bool  # False: the name is locked; the attempt was refused and not counted
    throttle: LoginThrottle


@dataclass(frozen=True)
class TotpState:
    """A user's two-factor codes: the secret (encrypted) and what has been spent."""

    username: str
    secret_ciphertext: str  # never the secret itself (see chalicelib/encryption.py)
    enabled: bool  # False until a first code confirms the user's app holds the secret
    last_step: int  # the last accepted time step; a code of this step or older is refused
    recovery_hashes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Passkey:
    """A WebAuthn credential: its id and public key, and what the authenticator last said."""

    credential_id: str  # base64url
    username: str
    public_key: str  # base64url COSE key
    sign_count: int
    transports: tuple[str, ...]
    name: str
    created_at: float
    last_used_at: float | None = None


@dataclass(frozen=True)
class Challenge:
    """Something handed out to be used once, soon: a WebAuthn challenge, or the id of an
    ``mfa_token`` (the step between a password and a two-factor code)."""

    key: str  # the WebAuthn challenge (base64url, as clientDataJSON carries it), or a jti
    purpose: str  # "passkey-register", "passkey-login" or "mfa"
    username: str  # whose it is; "" for a usernameless passkey sign-in
    expires_at: int
    credential_stamp: str = ""  # "mfa": the user's stamp when the password was checked
    device_id: str = ""  # "mfa": the known device the password step came from ("": unknown)


@dataclass(frozen=True)
class KnownDevice:
    """A device the owner signed in on: only the hash of its token is kept, under the
    account (a per-user record: account deletion removes it)."""

    username: str
    token_hash: str  # sha256 of the device token
    device_id: str  # names its throttle bucket, ``device:<id>``
    created_at: float
    expires_at: int  # 365 days after it was handed out

# --- security events ---


@dataclass(frozen=True)
class SecurityEvent:
    """Something that happened to an account, shown to its owner (``GET /me/security-events``).

    Kept until ``expires_at`` (90 days; DynamoDB's TTL, SQLite's pruning); the
    device label is made from ``user_agent`` when the list is read, so recording
    one on the sign-in path never loads the User-Agent parser.
    """

    username: str
    id: str  # time-ordered (a ULID): newest first is ``id`` descending
    type: str
    created_at: float
    expires_at: int
    ip: str = ""
    user_agent: str = ""
    details_json: str = "{}"  # a JSON object: only ints, bools and short strings


@dataclass(frozen=True)
class SecurityEventPage:
    events: tuple[SecurityEvent, ...]  # newest first
    has_more: bool

# --- email (issue 23) ---


@dataclass(frozen=True)
class EmailAddress:
    """A user's addresses: the verified one (mail goes only there) and one awaiting its link."""

    username: str
    verified: str = ""  # "" when none is verified
    pending: str = ""  # an address sent a verification link, used for nothing yet


@dataclass(frozen=True)
class EmailToken:
    """A link's token, stored only as its hash, single use: taking it removes it."""

    token_hash: str  # SHA-256 hex of the token (random, >= 256 bits)
    purpose: str  # "verify" (an address) or "reset" (a password)
    username: str
    expires_at: int
    email: str = ""  # "verify": the address the link confirms
    credential_stamp: str = ""  # the account's stamp when mailed; a change kills the link
