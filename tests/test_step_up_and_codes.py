"""Issue 21, findings 1-3 and recovery-code hardening, over HTTP on both stores: step-up
for sign-in methods, the one per-account code throttle, spent mfa_tokens refused before
any code is looked at, recovery codes keyed with a server secret and regenerable."""

from __future__ import annotations

import hashlib
import threading
import time

import pytest

from chalicelib import accounts, deps, passkeys, sessions, totp
from chalicelib.errors import AccountGone, LoginThrottled, StateConflict, WrongPassword
from chalicelib.store.protocol import Store
from tests.authenticator import SoftAuthenticator, b64
from tests.helpers import Api, body_of
from tests.test_passkeys import sign_in
from tests.test_totp import PASSWORD, clock, code_at, enable, mfa_token, submit  # noqa: F401

WRONG = "000000"


@pytest.fixture
def alice(api: Api, clock: list[float]) -> tuple[str, list[str], str]:  # noqa: F811
    """alice with two-factor on: (secret, recovery codes, an access token)."""
    token = api.session("alice")["access_token"]
    secret, codes = enable(api, token, clock[0])
    clock[0] += 30
    return secret, codes, token


def options(api: Api, token: str, **body: str):
    return api.call("POST", "/me/passkeys/options", body, token=token)


def add_passkey(api: Api, token: str, device: SoftAuthenticator, **step_up: str):
    answer = options(api, token, **step_up)
    assert answer.status_code == 200, answer.body
    return api.call("POST", "/me/passkeys", {"credential": device.create(body_of(answer))},
                    token=token)


# -- 1. step-up -------------------------------------------------------------------------


def test_a_bearer_token_alone_cannot_add_a_passkey(api: Api) -> None:
    token = api.session("alice")["access_token"]
    assert options(api, token).status_code == 400  # the password is required
    assert options(api, token, password="not the password!").status_code == 403
    assert options(api, token, password=PASSWORD).status_code == 200


def test_a_wrong_step_up_password_counts_as_a_failed_login(api: Api) -> None:
    token = api.session("alice")["access_token"]
    assert [options(api, token, password="not the password!").status_code
            for _ in range(5)] == [403] * 5
    assert options(api, token, password=PASSWORD).status_code == 429
    assert api.login("alice").status_code == 429


def test_with_two_factor_on_adding_a_passkey_also_needs_a_code(
    api: Api, alice: tuple[str, list[str], str], clock: list[float]  # noqa: F811
) -> None:
    secret, _, token = alice
    assert options(api, token, password=PASSWORD).status_code == 400
    assert options(api, token, password=PASSWORD, code=WRONG).status_code == 403
    answer = options(api, token, password=PASSWORD, code=code_at(secret, clock[0]))
    assert answer.status_code == 200, answer.body


def test_removing_a_passkey_needs_the_password(api: Api) -> None:
    token = api.session("alice")["access_token"]
    device = SoftAuthenticator()
    assert add_passkey(api, token, device, password=PASSWORD).status_code == 201
    path = f"/me/passkeys/{b64(device.credential_id)}"
    assert api.call("DELETE", path, token=token).status_code == 400
    assert api.call("DELETE", path, {}, token=token).status_code == 400
    assert api.call("DELETE", path, {"password": "not the password!"},
                    token=token).status_code == 403
    assert sign_in(api, device).status_code == 200
    assert api.call("DELETE", path, {"password": PASSWORD}, token=token).status_code == 204
    assert sign_in(api, device).status_code == 401


# -- 3. one code throttle -------------------------------------------------------------


def test_wrong_codes_at_disable_with_the_right_password_are_throttled(
    api: Api, alice: tuple[str, list[str], str]
) -> None:
    """Finding 3: 50 wrong codes with the right password were 50x403, 0x429."""
    token = alice[2]
    statuses = [api.call("DELETE", "/me/totp", {"password": PASSWORD, "code": WRONG},
                         token=token).status_code for _ in range(50)]
    assert statuses.count(403) == 5 and statuses.count(429) == 45, statuses
    locked = api.call("DELETE", "/me/totp", {"password": PASSWORD, "code": WRONG}, token=token)
    assert 0 < int(locked.headers["Retry-After"]) <= 900


def test_a_correct_password_never_clears_the_code_throttle(
    api: Api, alice: tuple[str, list[str], str], clock: list[float]  # noqa: F811
) -> None:
    """Finding 3: 3 wrong codes, then a correct-password POST /me/totp (409), per round."""
    secret, _, token = alice
    checked = 0
    for _ in range(10):
        for _ in range(3):
            status = submit(api, mfa_token(api), WRONG).status_code
            assert status in (401, 429)
            checked += status == 401
        assert api.call("POST", "/me/totp", {"password": PASSWORD},
                        token=token).status_code == 409
    assert checked == 5
    # every code-taking route is locked, whatever the code
    right = code_at(secret, clock[0])
    assert submit(api, mfa_token(api), right).status_code == 429
    assert api.call("DELETE", "/me/totp", {"password": PASSWORD, "code": right},
                    token=token).status_code == 429
    assert api.call("POST", "/me/totp/recovery-codes", {"password": PASSWORD, "code": right},
                    token=token).status_code == 429
    assert options(api, token, password=PASSWORD, code=right).status_code == 429
    clock[0] += 15 * 60 + 30  # the lock ends by itself
    assert submit(api, mfa_token(api), code_at(secret, clock[0])).status_code == 200


def test_an_accepted_code_clears_the_code_throttle(
    api: Api, alice: tuple[str, list[str], str], clock: list[float]  # noqa: F811
) -> None:
    secret = alice[0]
    assert [submit(api, mfa_token(api), WRONG).status_code for _ in range(4)] == [401] * 4
    assert submit(api, mfa_token(api), code_at(secret, clock[0])).status_code == 200
    assert [submit(api, mfa_token(api), WRONG).status_code for _ in range(4)] == [401] * 4


def test_concurrent_wrong_codes_check_at_most_five(
    api: Api, alice: tuple[str, list[str], str]
) -> None:
    """20 simultaneous wrong codes with the right password (the service, in threads: the
    test client sets the environment per request, so it is not thread-safe)."""
    outcomes: list[str] = []
    barrier = threading.Barrier(20)
    context = deps.current_deps()
    claims = sessions.authenticate(context, alice[2])

    def guess() -> None:
        barrier.wait()
        try:
            totp.disable(context, claims, PASSWORD, WRONG)
            outcomes.append("accepted")
        except WrongPassword:
            outcomes.append("checked")
        except LoginThrottled:
            outcomes.append("throttled")

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 20 and "accepted" not in outcomes
    assert outcomes.count("checked") <= 5, outcomes


# -- 3. spent mfa_token -------------------------------------------------------------------


def test_a_spent_mfa_token_is_refused_before_the_code_is_looked_at(
    api: Api, alice: tuple[str, list[str], str], clock: list[float]  # noqa: F811
) -> None:
    secret, codes = alice[0], alice[1]
    token = mfa_token(api)
    assert submit(api, token, code_at(secret, clock[0])).status_code == 200
    right, wrong = submit(api, token, codes[0]), submit(api, token, "aaaaa-bbbbb")
    assert right.status_code == wrong.status_code == 401
    assert right.body == wrong.body  # no oracle
    assert submit(api, mfa_token(api), codes[0]).status_code == 200  # not consumed


def test_a_wrong_code_leaves_the_mfa_token_usable(
    api: Api, alice: tuple[str, list[str], str]
) -> None:
    token = mfa_token(api)
    assert submit(api, token, WRONG).status_code == 401
    assert submit(api, token, alice[1][0]).status_code == 200


# -- 4. recovery codes --------------------------------------------------------------------


def test_recovery_codes_are_not_plain_sha256_of_the_code(
    api: Api, alice: tuple[str, list[str], str], direct_store: Store
) -> None:
    state = direct_store.get_totp(username="alice")
    assert state is not None
    for code in alice[1]:
        normalized = code.replace("-", "").lower()
        plain = hashlib.sha256(f"chalkboard-recovery:alice:{normalized}".encode()).hexdigest()
        assert plain not in state.recovery_hashes


def test_a_recovery_code_stored_the_old_way_still_works_once(
    api: Api, alice: tuple[str, list[str], str], direct_store: Store, clock: list[float]  # noqa: F811
) -> None:
    code = "abcde-fghjk"
    old = hashlib.sha256(b"chalkboard-recovery:alice:abcdefghjk").hexdigest()
    direct_store.set_recovery_codes(username="alice", recovery_hashes=frozenset({old}))
    assert submit(api, mfa_token(api), code).status_code == 200
    assert submit(api, mfa_token(api), code).status_code == 401


def test_me_says_how_many_recovery_codes_are_left(
    api: Api, alice: tuple[str, list[str], str]
) -> None:
    token = alice[2]
    assert body_of(api.call("GET", "/me", token=token))["recovery_codes_left"] == 10
    assert submit(api, mfa_token(api), alice[1][0]).status_code == 200
    assert body_of(api.call("GET", "/me", token=token))["recovery_codes_left"] == 9
    renamed = api.call("PATCH", "/me", {"display_name": "Alice"}, token=token)
    assert body_of(renamed)["recovery_codes_left"] == 9
    bob = api.session("bob")["access_token"]
    assert body_of(api.call("GET", "/me", token=bob))["recovery_codes_left"] is None


def test_regenerating_recovery_codes_voids_every_earlier_one(
    api: Api, alice: tuple[str, list[str], str], clock: list[float]  # noqa: F811
) -> None:
    secret, old, token = alice
    path = "/me/totp/recovery-codes"
    assert api.call("POST", path, {"password": PASSWORD}, token=token).status_code == 400
    assert api.call("POST", path, {"password": "not the password!", "code": old[0]},
                    token=token).status_code == 403
    assert api.call("POST", path, {"password": PASSWORD, "code": WRONG},
                    token=token).status_code == 403
    answer = api.call("POST", path, {"password": PASSWORD, "code": code_at(secret, clock[0])},
                      token=token)
    assert answer.status_code == 200, answer.body
    new = body_of(answer)["recovery_codes"]
    assert len(set(new)) == 10 and not set(new) & set(old)
    assert submit(api, mfa_token(api), old[1]).status_code == 401
    assert submit(api, mfa_token(api), new[0]).status_code == 200
    assert body_of(api.call("GET", "/me", token=token))["recovery_codes_left"] == 9


def test_regenerating_without_two_factor_is_409(api: Api) -> None:
    token = api.session("alice")["access_token"]
    assert api.call("POST", "/me/totp/recovery-codes", {"password": PASSWORD, "code": WRONG},
                    token=token).status_code == 409


def test_regenerating_needs_a_bearer_token(api: Api) -> None:
    assert api.call("POST", "/me/totp/recovery-codes",
                    {"password": PASSWORD, "code": WRONG}).status_code == 401



# -- 2. passkeys racing account deletion (short; tests/reliability runs 20 rounds over HTTP)


@pytest.mark.parametrize("round_number", range(4))
def test_registrations_racing_deletion_never_outlive_the_account(
    api: Api, round_number: int
) -> None:
    """8 registrations spread over 0-40 ms around the account's deletion (the services,
    in threads); afterwards no passkey of it is stored or signs in, and a new account of
    the name lists none."""
    token = api.session("alice")["access_token"]
    context = deps.current_deps()
    claims = sessions.authenticate(context, token)
    ready = []
    for _ in range(8):
        device = SoftAuthenticator()
        options = passkeys.registration_options(context, claims, PASSWORD)
        ready.append((device, device.create({"publicKey": options})))
    barrier = threading.Barrier(9)
    outcomes: list[str] = []

    def register(index: int) -> None:
        barrier.wait()
        time.sleep(0.005 * index)
        try:
            passkeys.register(context, "alice", ready[index][1], None)
            outcomes.append("added")
        except (AccountGone, StateConflict):
            outcomes.append("refused")

    def delete() -> None:
        barrier.wait()
        time.sleep(0.02)
        accounts.delete_account(context, claims, PASSWORD)

    threads = [threading.Thread(target=register, args=(i,)) for i in range(8)]
    threads.append(threading.Thread(target=delete))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 8
    store = context.store
    assert [d for d, _ in ready if store.get_passkey(credential_id=b64(d.credential_id))] == []
    fresh = api.session("alice")["access_token"]
    assert body_of(api.call("GET", "/me/passkeys", token=fresh))["passkeys"] == []
    assert [sign_in(api, device).status_code for device, _ in ready] == [401] * 8
