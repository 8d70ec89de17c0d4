"""Password hashing and the common-password list (chalicelib/passwords.py)."""

from __future__ import annotations

import pytest

from chalicelib import deps, passwords
from chalicelib.config import get_settings


@pytest.fixture
def owasp(monkeypatch: pytest.MonkeyPatch):
    """The production parameters: OWASP's minimum."""
    monkeypatch.setenv("CHALKBOARD_STAGE", "dev")
    monkeypatch.setenv("CHALKBOARD_WEB_ORIGIN", "https://app.example")
    monkeypatch.setenv("CHALKBOARD_SIGNING_KEYS_PARAMETER", "/unused")
    for name in ("MEMORY_KIB", "TIME_COST", "PARALLELISM"):
        monkeypatch.delenv(f"CHALKBOARD_ARGON2_{name}", raising=False)
    deps.reset()
    yield get_settings()
    deps.reset()


def test_hashes_are_argon2id_at_owasp_minimum_by_default(owasp) -> None:
    hashed = passwords.hash_password("correct horse battery staple", owasp)
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert passwords.verify_password("correct horse battery staple", hashed, owasp) == (True, None)
    assert passwords.verify_password("wrong", hashed, owasp) == (False, None)


def test_hash_made_with_weaker_parameters_is_upgraded_on_verify(owasp) -> None:
    weak = passwords._context(1024, 1, 1).hash("correct horse battery staple")
    verified, upgraded = passwords.verify_password("correct horse battery staple", weak, owasp)
    assert verified
    assert upgraded is not None and upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_wrong_password_on_weak_hash_is_not_upgraded(owasp) -> None:
    weak = passwords._context(1024, 1, 1).hash("correct horse battery staple")
    assert passwords.verify_password("nope nope nope", weak, owasp) == (False, None)


def test_common_list_has_at_least_20000_entries_including_long_ones() -> None:
    common = passwords._common_passwords()
    assert len(common) >= 20_000
    assert sum(len(p) >= 12 for p in common) >= 200
    for password in ["qwerty123456", "password1234", "QWERTY123456", "Password1234"]:
        assert passwords.is_common(password)
    assert not passwords.is_common("violet tractor umbrella")
