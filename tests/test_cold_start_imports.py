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


SIGN_IN_PROBE = """
import json, os, sys, tempfile
os.environ["CHALKBOARD_DATA_DIR"] = tempfile.mkdtemp()
os.environ["CHALKBOARD_WEB_ORIGIN"] = "http://localhost:8080"
from chalice.test import Client
import app
body = {"username": "alice", "password": "correct horse battery staple"}
headers = {"Content-Type": "application/json",
           "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0 Safari/537.36"}
with Client(app.app, stage_name="test") as client:
    assert client.http.post("/signup", headers=headers, body=json.dumps(body)).status_code == 201
    assert client.http.post("/login", headers=headers, body=json.dumps(body)).status_code == 200
    print(json.dumps("ua_parser" in sys.modules))
"""


def test_a_sign_in_does_not_load_the_user_agent_parser() -> None:
    """Its rules cost ~0.3 s to load: the sessions list and the events list label devices
    when they are read, so no sign-in on a cold instance pays for it."""
    env = {"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"}
    answer = subprocess.run(
        [sys.executable, "-c", SIGN_IN_PROBE], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=120,
    )
    assert answer.returncode == 0, answer.stderr[-2000:]
    assert json.loads(answer.stdout.splitlines()[-1]) is False
