"""chalkboard's application code, packaged by Chalice into the Lambda zip."""

import sys

# botocore imports urllib3.contrib.pyopenssl whenever it can (it makes its first client's
# SSL context from it), which loads pyOpenSSL and cryptography: tens of milliseconds on
# every cold start, the authorizer's included, once py_webauthn brings pyOpenSSL into the
# zip. Nothing here needs urllib3 to use pyOpenSSL (the standard ssl module serves
# HTTPS, and py_webauthn imports OpenSSL itself when a passkey route needs it), so the
# import fails fast and botocore takes its standard-library fallback.
sys.modules.setdefault("urllib3.contrib.pyopenssl", None)  # type: ignore[arg-type]

# PyJWT imports cryptography (~17 ms) when it is installed, for RSA and EC algorithms.
# Tokens here are HS256 only (tokens.py pins it), so PyJWT is loaded without them:
# cryptography is hidden for that one import and stays importable for the passkey and
# two-factor routes that need it.
if "jwt" not in sys.modules and "cryptography" not in sys.modules:
    sys.modules["cryptography"] = None  # type: ignore[assignment]
    try:
        import jwt  # noqa: F401
    finally:
        del sys.modules["cryptography"]
