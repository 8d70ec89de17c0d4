"""Base64url without padding, as JWTs, keys and cursors spell bytes (RFC 7515 §2)."""

from __future__ import annotations

import base64


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """The bytes ``text`` spells, padding or not; ``binascii.Error`` or ``ValueError``
    (non-ASCII) when it spells none."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
