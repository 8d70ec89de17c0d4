"""Paging cursors: opaque, signed with the current signing key, so nobody can forge one.

A cursor is ``<kid>.<base64url(message id + MAC)>``; the kid lets a cursor signed
after a key rotation ask for a keyring reload (``UnknownCursorKey``).
"""

from __future__ import annotations

import binascii
import hashlib
import hmac

from chalicelib.encoding import b64url_decode, b64url_encode
from chalicelib.errors import InvalidInput
from chalicelib.signing_keys import KID_PATTERN, Keyring


class UnknownCursorKey(InvalidInput):
    """A well-formed cursor naming a key this keyring lacks: signed after a rotation
    (worth reloading the keyring for), or forged."""


_CURSOR_CONTEXT = b"chalkboard-cursor:"
_CURSOR_MAC_BYTES = 16


def _cursor_mac(key: bytes, message_id: str) -> bytes:
    digest = hmac.new(key, _CURSOR_CONTEXT + message_id.encode("ascii"), hashlib.sha256)
    return digest.digest()[:_CURSOR_MAC_BYTES]


def sign_cursor(message_id: str, keyring: Keyring) -> str:
    """An opaque cursor naming the last message of a page, so it cannot be forged:
    ``<kid>.<base64url(message id + MAC)>``, the kid naming the key that signed it."""
    raw = message_id.encode("ascii") + _cursor_mac(keyring.signing_key, message_id)
    return f"{keyring.current}.{b64url_encode(raw)}"


def read_cursor(cursor: str, keyring: Keyring) -> str:
    """The message id a cursor names; any tampering is a 400 (``InvalidInput``).

    A well-formed cursor whose kid this keyring lacks is ``UnknownCursorKey``, so
    only it is worth a keyring reload; a tampered one is refused outright.
    Cursors from before the kid was added have no ``.`` and are refused too: a
    cursor lives only while someone pages, so its reader starts again from the top.
    """
    invalid = InvalidInput("cursor is not valid; start again from the first page")
    kid, dot, body = cursor.partition(".")
    if not cursor.isascii() or len(cursor) > 200 or not dot or not KID_PATTERN.fullmatch(kid):
        raise invalid
    try:
        raw = b64url_decode(body)
        message_id = raw[:-_CURSOR_MAC_BYTES].decode("ascii")
    except (binascii.Error, ValueError):
        raise invalid from None
    if not message_id:
        raise invalid
    key = keyring.keys.get(kid)
    if key is None:
        raise UnknownCursorKey(str(invalid))
    if not hmac.compare_digest(raw[-_CURSOR_MAC_BYTES:], _cursor_mac(key, message_id)):
        raise invalid
    return message_id
