"""Secrets at rest: AES-256-GCM under a key derived from the keyring's ``mfa_key``.

Two-factor secrets must be readable by the app (to check codes) but useless in
a copy of the database, so they are encrypted with a key that lives only in the
keyring (SSM SecureString when deployed). Each value is bound to its owner by
the associated data, so a ciphertext copied onto another row does not decrypt.
``cryptography`` is imported on first use: it is a runtime dependency anyway
(py_webauthn needs it) but the authorizer and the board never load it.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from chalicelib.encoding import b64url_decode, b64url_encode
from chalicelib.errors import NotConfigured
from chalicelib.signing_keys import Keyring

VERSION = "v1"
NONCE_BYTES = 12


def derived_key(keyring: Keyring, purpose: str) -> bytes:
    """A 32-byte key for one purpose (HKDF-Expand with a single block: HMAC(key, info|1))."""
    if keyring.mfa_key is None:
        raise NotConfigured(
            "two-factor sign-in is not configured on this server (the keyring has no mfa_key)"
        )
    info = f"chalkboard {purpose}".encode() + b"\x01"
    return hmac.new(keyring.mfa_key, info, hashlib.sha256).digest()


def encrypt(plaintext: str, *, owner: str, keyring: Keyring) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(derived_key(keyring, "secret encryption")).encrypt(
        nonce, plaintext.encode(), owner.encode()
    )
    return f"{VERSION}.{b64url_encode(nonce + sealed)}"


def decrypt(ciphertext: str, *, owner: str, keyring: Keyring) -> str:
    """The plaintext; ``ValueError`` if it was made for another owner or key, or altered."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    version, _, encoded = ciphertext.partition(".")
    if version != VERSION:
        raise ValueError(f"unknown ciphertext version {version!r}")
    raw = b64url_decode(encoded)
    try:
        plain = AESGCM(derived_key(keyring, "secret encryption")).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], owner.encode()
        )
    except InvalidTag:
        raise ValueError("ciphertext does not decrypt under this key and owner") from None
    return plain.decode()
