"""What a cold start imports: the authorizer and the board pay for nothing they do not use.

Each check runs in a fresh interpreter, as a Lambda cold start does.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from ops.stage import ROOT

PROBE = """
import json, sys
import app
from chalicelib.store.dynamodb import make_client
make_client()  # botocore builds its HTTP session (and SSL context) here
print(json.dumps(sorted(name for name in ("OpenSSL", "cryptography", "pyotp", "segno",
                                           "webauthn", "zxcvbn") if name in sys.modules)))
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # still there when needed
import jwt
assert not jwt.algorithms.has_crypto  # PyJWT can only do HMAC: no RS/ES alg confusion
"""


def test_the_app_and_its_dynamodb_client_load_no_heavy_library() -> None:
    """Neither pyOpenSSL nor cryptography, nor the two-factor, passkey or password-strength
    libraries (zxcvbn alone costs ~60 ms): each is imported by the routes that use it."""
    if importlib.util.find_spec("OpenSSL") is None:
        pytest.fail("pyOpenSSL is not installed, so this check would prove nothing "
                    "(requirements.txt brings it with py_webauthn)")
    env = {"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"}
    answer = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
        check=True, timeout=60,
    )
    assert json.loads(answer.stdout.splitlines()[-1]) == []
