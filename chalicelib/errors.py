"""Domain errors: plain Python, raised by chalicelib and mapped to HTTP in one table.

The mapping to status codes lives in ``responses.py`` so that nothing here
depends on Chalice.
"""

from __future__ import annotations


class ChalkboardError(Exception):
    """Base class; ``str(error)`` is the message shown to the client."""


class InvalidInput(ChalkboardError):
    """A field or the body is malformed (400)."""


class BodyTooLarge(ChalkboardError):
    """The request body is over the size limit (413)."""


class UsernameTaken(ChalkboardError):
    """Signup for a username that already exists (409)."""


class InvalidCredentials(ChalkboardError):
    """Unknown user or wrong password; deliberately not saying which (401)."""


class InvalidRefreshToken(ChalkboardError):
    """Refresh token unknown, expired, revoked or already used (401)."""


class InvalidTicket(ChalkboardError):
    """A live ticket that is malformed, forged, expired or whose session ended (401)."""


class AccountGone(ChalkboardError):
    """A valid token for an account that no longer exists (401)."""


class WrongPassword(ChalkboardError):
    """The current password given to change it is wrong (403)."""


class StateConflict(ChalkboardError):
    """The request does not fit the current state: two-factor already on, not on, ... (409)."""


class PasskeyNotFound(ChalkboardError):
    """None of the caller's passkeys has that id (404)."""


class NotConfigured(ChalkboardError):
    """A feature needs configuration this server lacks, e.g. the keyring's mfa_key (503)."""


class NotAuthor(ChalkboardError):
    """Deleting someone else's message (403)."""


class MessageNotFound(ChalkboardError):
    """No message with that id (404)."""


class SessionNotFound(ChalkboardError):
    """Not one of the caller's live sessions (404): another user's id looks the same."""


class LoginThrottled(ChalkboardError):
    """Too many failed attempts at a username's password (429)."""

    def __init__(self, retry_after: int) -> None:
        # The wait is in Retry-After; the web app words it ("in about a minute").
        super().__init__("too many failed attempts for this account; try again later")
        self.retry_after = retry_after


class PostingThrottled(ChalkboardError):
    """Over the per-user posting rate limit (429)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("you are posting too fast; try again later")
        self.retry_after = retry_after


class StoreUnavailable(ChalkboardError):
    """The store is unreachable or throttling after retries (503)."""

    def __init__(self, retry_after: int = 2) -> None:
        super().__init__("the service is temporarily unavailable; try again shortly")
        self.retry_after = retry_after


class KeyringUnavailable(ChalkboardError):
    """No signing keyring could be loaded (SSM failing on a cold instance) (503)."""

    def __init__(self, retry_after: int = 60) -> None:
        super().__init__("the service is temporarily unavailable; try again shortly")
        self.retry_after = retry_after


class ConfigurationError(ChalkboardError):
    """A setting is missing or unsafe; raised when settings are first read."""


class Conflict(ChalkboardError):
    """A concurrent update won a race the caller may retry (internal to the store)."""
