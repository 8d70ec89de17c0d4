"""A software WebAuthn authenticator for API tests: a P-256 key, "none" attestation.

It builds the JSON a browser's ``PublicKeyCredential`` serializes to, signing
exactly what a real authenticator signs (authenticator data followed by the
SHA-256 of the client data), so py_webauthn on the server checks it for real.
Every knob a test needs to misbehave with (origin, RP id, user verification,
sign count, challenge) can be set per call.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftAuthenticator:
    origin: str = "http://localhost:8080"
    rp_id: str = "localhost"
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    credential_id: bytes = field(default_factory=lambda: os.urandom(32))
    sign_count: int = 0
    user_handle: str | None = None  # set from the creation options

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps({
            "type": kind, "challenge": challenge, "origin": origin or self.origin,
            "crossOrigin": False,
        }).encode()

    def _auth_data(self, rp_id: str | None, flags: int, extra: bytes = b"") -> bytes:
        rp_hash = hashlib.sha256((rp_id or self.rp_id).encode()).digest()
        return rp_hash + bytes([flags]) + struct.pack(">I", self.sign_count) + extra

    def create(self, options: dict[str, Any], *, origin: str | None = None,
               rp_id: str | None = None, verified: bool = True) -> dict[str, Any]:
        """The JSON of ``navigator.credentials.create`` answering ``options["publicKey"]``."""
        public = options["publicKey"]
        self.user_handle = public["user"]["id"]
        numbers = self.key.public_key().public_numbers()
        cose_key = cbor2.dumps({
            1: 2, 3: -7, -1: 1,
            -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big"),
        })
        attested = (bytes(16) + struct.pack(">H", len(self.credential_id))
                    + self.credential_id + cose_key)
        flags = UP | AT | (UV if verified else 0)
        auth_data = self._auth_data(rp_id, flags, attested)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", public["challenge"], origin)
        return {
            "id": b64(self.credential_id),
            "rawId": b64(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(client_data),
                "attestationObject": b64(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def get(self, options: dict[str, Any], *, origin: str | None = None,
            rp_id: str | None = None, verified: bool = True,
            count_step: int = 1) -> dict[str, Any]:
        """The JSON of ``navigator.credentials.get`` answering ``options["publicKey"]``."""
        self.sign_count += count_step
        auth_data = self._auth_data(rp_id, UP | (UV if verified else 0))
        client_data = self._client_data(
            "webauthn.get", options["publicKey"]["challenge"], origin
        )
        signature = self.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": b64(self.credential_id),
            "rawId": b64(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(client_data),
                "authenticatorData": b64(auth_data),
                "signature": b64(signature),
                "userHandle": self.user_handle,
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }
