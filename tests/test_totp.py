"""Two-factor codes over HTTP (chalice.test.Client) and the store's atomic steps, both stores."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pyotp
import pytest

from chalicelib import deps
from chalicelib.signing_keys import get_keyring
from chalicelib.store.protocol import Store
from chalicelib.tokens import issue_mfa_token
from tests.helpers import Api, body_of

PASSWORD = "correct horse battery staple"


@pytest.fixture
def clock(app_env: dict[str, str]) -> Iterator[list[float]]:
    """A clock the test moves (``clock[0] += 30``); starts mid-step, 50-80 s before real
    time, so access tokens issued after a move or two are not from the future."""
    start = time.time()
    now = [start - start % 30 - 50]
    deps.use_clock(lambda: now[0])
    yield now
    deps.use_clock(time.time)


def code_at(secret: str, moment: float) -> str:
    return pyotp.TOTP(secret).at(moment)


def enable(api: Api, token: str, now: float) -> tuple[str, list[str]]:
    """Turn two-factor on; the secret and the recovery codes."""
    started = api.call("POST", "/me/totp", {"password": PASSWORD}, token=token)
    assert started.status_code == 200, started.body
    secret = body_of(started)["secret"]
    confirmed = api.call("POST", "/me/totp/confirm", {"code": code_at(secret, now)}, token=token)
    assert confirmed.status_code == 200, confirmed.body
    return secret, body_of(confirmed)["recovery_codes"]


def mfa_token(api: Api, username: str = "alice") -> str:
    response = api.login(username)
    assert response.status_code == 200
    body = body_of(response)
    assert body["mfa_required"] is True and set(body) == {"mfa_required", "mfa_token"}
    return body["mfa_token"]


def submit(api: Api, token: str, code: str):
    return api.call("POST", "/login/totp", {"mfa_token": token, "code": code})


@pytest.fixture
def alice(api: Api, clock: list[float]) -> tuple[str, list[str]]:
    """alice, signed up, with two-factor on; the clock moved to the next step."""
    pair = api.session("alice")
    secret, codes = enable(api, pair["access_token"], clock[0])
    clock[0] += 30
    return secret, codes


# -- enabling ---------------------------------------------------------------------------


def test_enabling_returns_a_secret_and_otpauth_uri_and_is_off_until_confirmed(
    api: Api, clock: list[float]
) -> None:
    token = api.session("alice")["access_token"]
    response = api.call("POST", "/me/totp", {"password": PASSWORD}, token=token)
    assert response.status_code == 200
    body = body_of(response)
    assert set(body) == {"secret", "otpauth_uri", "qr"}
    import segno

    assert body["qr"] == ["".join(str(m) for m in row)
                          for row in segno.make(body["otpauth_uri"], error="m").matrix]
    assert len(body["qr"]) == len(body["qr"][0]) >= 21
    parsed = pyotp.parse_uri(body["otpauth_uri"])
    assert parsed.secret == body["secret"] and parsed.digits == 6 and parsed.interval == 30
    assert body["otpauth_uri"].startswith("otpauth://totp/chalkboard:alice?")
    assert body_of(api.call("GET", "/me", token=token))["totp_enabled"] is False
    assert "access_token" in body_of(api.login("alice"))  # not on yet


def test_confirming_turns_it_on_with_ten_distinct_recovery_codes(
    api: Api, clock: list[float]
) -> None:
    token = api.session("alice")["access_token"]
    _, codes = enable(api, token, clock[0])
    assert len(codes) == len(set(codes)) == 10
    assert body_of(api.call("GET", "/me", token=token))["totp_enabled"] is True
    assert body_of(api.login("alice"))["mfa_required"] is True


def test_enabling_with_a_wrong_password_is_403(api: Api, clock: list[float]) -> None:
    token = api.session("alice")["access_token"]
    response = api.call("POST", "/me/totp", {"password": "not the password!"}, token=token)
    assert response.status_code == 403


def test_enabling_when_already_on_is_409(api: Api, alice: tuple[str, list[str]]) -> None:
    token = body_of(submit(api, mfa_token(api), alice[1][0]))["access_token"]
    assert api.call("POST", "/me/totp", {"password": PASSWORD}, token=token).status_code == 409


def test_confirming_with_a_wrong_code_is_400_and_leaves_it_off(
    api: Api, clock: list[float]
) -> None:
    token = api.session("alice")["access_token"]
    secret = body_of(api.call("POST", "/me/totp", {"password": PASSWORD}, token=token))["secret"]
    wrong = code_at(secret, clock[0] + 300)
    refused = api.call("POST", "/me/totp/confirm", {"code": wrong}, token=token)
    assert refused.status_code == 400
    assert body_of(refused)["Message"] == "code is wrong; enter the 6 digits your app shows now"
    assert body_of(api.call("GET", "/me", token=token))["totp_enabled"] is False


def test_confirming_before_starting_is_409(api: Api, clock: list[float]) -> None:
    token = api.session("alice")["access_token"]
    response = api.call("POST", "/me/totp/confirm", {"code": "123456"}, token=token)
    assert response.status_code == 409


def test_secret_is_stored_encrypted_and_never_returned_again(
    api: Api, alice: tuple[str, list[str]], direct_store: Store
) -> None:
    secret, codes = alice
    state = direct_store.get_totp(username="alice")
    assert state is not None and secret not in state.secret_ciphertext
    assert not any(code in " ".join(state.recovery_hashes) for code in codes)
    token = body_of(submit(api, mfa_token(api), codes[0]))["access_token"]
    assert secret not in api.call("GET", "/me", token=token).body.decode()


def test_a_replaced_mfa_key_is_503_for_codes_and_voids_recovery_codes(
    api: Api, alice: tuple[str, list[str]], clock: list[float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.helpers import make_keyring_json

    monkeypatch.setenv("CHALKBOARD_SIGNING_KEYS", make_keyring_json("k1"))  # a new mfa_key
    deps.reset()
    deps.use_clock(lambda: clock[0])
    token = mfa_token(api)
    response = submit(api, token, code_at(alice[0], clock[0]))
    assert response.status_code == 503 and "passkey" in body_of(response)["Message"]
    # Recovery codes are HMACs under a key derived from the same mfa_key (issue 21: a
    # database copy alone must not allow guessing them), so they go with it.
    assert submit(api, token, alice[1][0]).status_code == 401


# -- signing in -----------------------------------------------------------------------


def test_password_then_current_code_gives_a_token_pair(
    api: Api, alice: tuple[str, list[str]], clock: list[float]
) -> None:
    response = submit(api, mfa_token(api), code_at(alice[0], clock[0]))
    assert response.status_code == 200
    pair = body_of(response)
    assert pair["username"] == "alice" and pair["token_type"] == "Bearer"
    assert isinstance(pair["device_token"], str)  # every sign-in answer carries one
    assert api.call("GET", "/me", token=pair["access_token"]).status_code == 200
    listed = body_of(api.call("GET", "/me/sessions", token=pair["access_token"]))["sessions"]
    assert listed[0]["current"] and listed[0]["method"] == "totp"


def test_a_recovery_code_sign_in_is_listed_as_one(
    api: Api, alice: tuple[str, list[str]]
) -> None:
    pair = body_of(submit(api, mfa_token(api), alice[1][0]))
    listed = body_of(api.call("GET", "/me/sessions", token=pair["access_token"]))["sessions"]
    assert listed[0]["current"] and listed[0]["method"] == "recovery_code"


@pytest.mark.parametrize("offset", [-30, 30])
def test_a_code_of_the_neighbouring_step_is_accepted(
    api: Api, alice: tuple[str, list[str]], clock: list[float], offset: int
) -> None:
    clock[0] += 60  # past the step used to confirm, so -30 is a fresh step
    assert submit(api, mfa_token(api), code_at(alice[0], clock[0] + offset)).status_code == 200


@pytest.mark.parametrize("offset", [-90, -60, 60, 90])
def test_a_code_two_or_more_steps_away_is_401(
    api: Api, alice: tuple[str, list[str]], clock: list[float], offset: int
) -> None:
    clock[0] += 120
    assert submit(api, mfa_token(api), code_at(alice[0], clock[0] + offset)).status_code == 401


def test_a_code_already_used_is_refused_even_with_a_new_mfa_token(
    api: Api, alice: tuple[str, list[str]], clock: list[float]
) -> None:
    code = code_at(alice[0], clock[0])
    assert submit(api, mfa_token(api), code).status_code == 200
    replay = submit(api, mfa_token(api), code)
    assert replay.status_code == 401
    assert "used" in body_of(replay)["Message"]


def test_the_code_that_confirmed_setup_cannot_sign_in(
    api: Api, clock: list[float]
) -> None:
    token = api.session("alice")["access_token"]
    secret, _ = enable(api, token, clock[0])
    assert submit(api, mfa_token(api), code_at(secret, clock[0])).status_code == 401


def test_an_older_step_is_refused_once_a_newer_one_was_used(
    api: Api, alice: tuple[str, list[str]], clock: list[float]
) -> None:
    clock[0] += 30
    assert submit(api, mfa_token(api), code_at(alice[0], clock[0])).status_code == 200
    assert submit(api, mfa_token(api), code_at(alice[0], clock[0] - 30)).status_code == 401


def test_a_recovery_code_signs_in_once(api: Api, alice: tuple[str, list[str]]) -> None:
    code = alice[1][3]
    assert submit(api, mfa_token(api), code).status_code == 200
    assert submit(api, mfa_token(api), code).status_code == 401
    assert submit(api, mfa_token(api), alice[1][4].upper()).status_code == 200  # case-blind


def test_a_made_up_recovery_code_is_401(api: Api, alice: tuple[str, list[str]]) -> None:
    assert submit(api, mfa_token(api), "abcde-fghjk").status_code == 401


def test_an_mfa_token_is_single_use(
    api: Api, alice: tuple[str, list[str]], clock: list[float]
) -> None:
    token = mfa_token(api)
    assert submit(api, token, alice[1][0]).status_code == 200
    assert submit(api, token, alice[1][1]).status_code == 401


def test_a_forged_mfa_token_is_401(api: Api, alice: tuple[str, list[str]]) -> None:
    token = mfa_token(api)
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    assert submit(api, forged, alice[1][0]).status_code == 401
    assert submit(api, "not-a-token", alice[1][0]).status_code == 401


def test_an_expired_mfa_token_is_401(api: Api, alice: tuple[str, list[str]]) -> None:
    expired, _ = issue_mfa_token(
        username="alice", keyring=get_keyring(time.time()), settings=deps.current_deps().settings,
        now=deps.current_deps().now() - 400,
    )
    response = submit(api, expired, alice[1][0])
    assert response.status_code == 401
    assert "expired" in body_of(response)["Message"]


def test_an_mfa_token_is_not_an_access_token(api: Api, alice: tuple[str, list[str]]) -> None:
    token = mfa_token(api)
    response = api.call("GET", "/me", token=token)
    assert response.status_code == 401
    assert body_of(response) == {"message": "Unauthorized"}


def test_an_access_token_is_not_an_mfa_token(api: Api, alice: tuple[str, list[str]]) -> None:
    access = body_of(submit(api, mfa_token(api), alice[1][0]))["access_token"]
    assert submit(api, access, alice[1][1]).status_code == 401


def test_a_password_change_voids_a_pending_mfa_token(
    api: Api, alice: tuple[str, list[str]]
) -> None:
    access = body_of(submit(api, mfa_token(api), alice[1][0]))["access_token"]
    pending = mfa_token(api)
    new = "a brand new passphrase"
    changed = api.call(
        "POST", "/me/password", {"current_password": PASSWORD, "new_password": new},
        token=access,
    )
    assert changed.status_code == 204
    assert submit(api, pending, alice[1][1]).status_code == 401


def test_a_wrong_password_still_says_invalid_credentials(
    api: Api, alice: tuple[str, list[str]]
) -> None:
    response = api.login("alice", "not the password!")
    assert response.status_code == 401 and "mfa_token" not in body_of(response)


# -- throttling -----------------------------------------------------------------------


def test_wrong_codes_count_in_the_code_throttle(
    api: Api, alice: tuple[str, list[str]], clock: list[float]
) -> None:
    token = mfa_token(api)  # a wrong code keeps the mfa_token usable
    assert [submit(api, token, "000000").status_code for _ in range(5)] == [401] * 5
    locked = submit(api, token, code_at(alice[0], clock[0]))
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    # codes have their own bucket (issue 21): the password step still answers
    assert body_of(api.login("alice"))["mfa_required"] is True


def test_a_right_password_does_not_clear_the_count_on_a_two_factor_account(
    api: Api, alice: tuple[str, list[str]], clock: list[float]
) -> None:
    assert [api.login("alice", "not the password!").status_code for _ in range(3)] == [401] * 3
    token = mfa_token(api)  # a right password: counted, and the three failures stand
    assert api.login("alice", "not the password!").status_code == 401  # the 5th attempt
    assert api.login("alice").status_code == 429
    assert submit(api, token, code_at(alice[0], clock[0])).status_code == 200  # clears it
    assert body_of(api.login("alice"))["mfa_required"] is True


def test_an_accepted_code_clears_the_count(
    api: Api, alice: tuple[str, list[str]], clock: list[float]
) -> None:
    assert [api.login("alice", "not the password!").status_code for _ in range(3)] == [401] * 3
    assert submit(api, mfa_token(api), code_at(alice[0], clock[0])).status_code == 200
    assert [api.login("alice", "not the password!").status_code for _ in range(4)] == [401] * 4
    assert body_of(api.login("alice"))["mfa_required"] is True


# -- disabling ------------------------------------------------------------------------


def signed_in(api: Api, codes: list[str]) -> str:
    return body_of(submit(api, mfa_token(api), codes.pop()))["access_token"]


def test_disabling_with_password_and_code_turns_it_off(
    api: Api, alice: tuple[str, list[str]], clock: list[float], direct_store: Store
) -> None:
    token = signed_in(api, alice[1])
    body = {"password": PASSWORD, "code": code_at(alice[0], clock[0])}
    assert api.call("DELETE", "/me/totp", body, token=token).status_code == 204
    assert body_of(api.call("GET", "/me", token=token))["totp_enabled"] is False
    assert "access_token" in body_of(api.login("alice"))
    assert direct_store.get_totp(username="alice") is None


def test_disabling_without_a_code_is_400(api: Api, alice: tuple[str, list[str]]) -> None:
    token = signed_in(api, alice[1])
    response = api.call("DELETE", "/me/totp", {"password": PASSWORD}, token=token)
    assert response.status_code == 400
    assert body_of(api.call("GET", "/me", token=token))["totp_enabled"] is True


@pytest.mark.parametrize("which", ["password", "code"])
def test_disabling_with_a_wrong_password_or_code_is_403(
    api: Api, alice: tuple[str, list[str]], clock: list[float], which: str
) -> None:
    token = signed_in(api, alice[1])
    body = {"password": PASSWORD, "code": code_at(alice[0], clock[0])}
    body[which] = "000000" if which == "code" else "not the password!"
    assert api.call("DELETE", "/me/totp", body, token=token).status_code == 403
    assert body_of(api.call("GET", "/me", token=token))["totp_enabled"] is True


def test_disabling_when_off_is_409(api: Api, clock: list[float]) -> None:
    token = api.session("alice")["access_token"]
    body = {"password": PASSWORD, "code": "123456"}
    assert api.call("DELETE", "/me/totp", body, token=token).status_code == 409


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/me/totp"), ("POST", "/me/totp/confirm"), ("DELETE", "/me/totp")],
)
def test_two_factor_settings_need_a_bearer_token(api: Api, method: str, path: str) -> None:
    assert api.call(method, path, {"password": PASSWORD}).status_code == 401


@pytest.mark.parametrize(
    "body",
    [{"code": "123456"}, {"mfa_token": "x"}, {"mfa_token": 5, "code": "1"},
     {"mfa_token": "x", "code": "1", "extra": 1}],
)
def test_malformed_code_submission_is_400(api: Api, body: dict) -> None:
    assert api.call("POST", "/login/totp", body).status_code == 400


# -- the store's atomic steps ----------------------------------------------------------


def race(action, times: int = 8) -> list[bool]:
    results: list[bool] = []
    barrier = threading.Barrier(times)

    def run() -> None:
        barrier.wait()
        results.append(action())

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_of_concurrent_submissions_of_one_step_exactly_one_is_accepted(
    direct_store: Store,
) -> None:
    direct_store.put_pending_totp(username="alice", secret_ciphertext="v1.x")
    assert direct_store.enable_totp(username="alice", recovery_hashes=frozenset({"h"}), step=10)
    results = race(lambda: direct_store.accept_totp_step(username="alice", step=11))
    assert sorted(results) == [False] * 7 + [True]
    assert not direct_store.accept_totp_step(username="alice", step=11)
    assert direct_store.accept_totp_step(username="alice", step=12)


def test_of_concurrent_uses_of_one_recovery_code_exactly_one_wins(direct_store: Store) -> None:
    direct_store.put_pending_totp(username="alice", secret_ciphertext="v1.x")
    direct_store.enable_totp(username="alice", recovery_hashes=frozenset({"a", "b"}), step=1)
    results = race(lambda: direct_store.spend_recovery_code(username="alice", code_hash="a"))
    assert sorted(results) == [False] * 7 + [True]
    state = direct_store.get_totp(username="alice")
    assert state is not None and state.recovery_hashes == frozenset({"b"})


def test_a_pending_secret_cannot_replace_one_in_force(direct_store: Store) -> None:
    assert direct_store.put_pending_totp(username="alice", secret_ciphertext="v1.first")
    assert direct_store.put_pending_totp(username="alice", secret_ciphertext="v1.second")
    assert direct_store.enable_totp(username="alice", recovery_hashes=frozenset({"h"}), step=5)
    assert not direct_store.put_pending_totp(username="alice", secret_ciphertext="v1.third")
    assert not direct_store.enable_totp(username="alice", recovery_hashes=frozenset({"h"}), step=6)
    state = direct_store.get_totp(username="alice")
    assert state is not None and state.secret_ciphertext == "v1.second" and state.last_step == 5


def test_deleting_the_account_deletes_its_two_factor_secret_and_codes(
    api: Api, alice: tuple[str, list[str]], direct_store: Store
) -> None:
    token = signed_in(api, alice[1])
    assert api.call("DELETE", "/me", {"password": PASSWORD}, token=token).status_code == 204
    assert direct_store.get_totp(username="alice") is None
    api.session("alice")  # signed up again: no two-factor, old recovery codes mean nothing
    assert direct_store.get_totp(username="alice") is None
