"""Passkeys over HTTP (chalice.test.Client) with a software authenticator, on both stores."""

from __future__ import annotations

import os

import pytest

from chalicelib.store.protocol import Store
from tests.authenticator import SoftAuthenticator, b64
from tests.helpers import Api, body_of

PASSWORD = "correct horse battery staple"
STEP_UP = {"password": PASSWORD}  # adding a passkey needs the password (issue 21)


def register(api: Api, token: str, device: SoftAuthenticator, name: str | None = None,
             **tamper: object):
    options = body_of(api.call("POST", "/me/passkeys/options", STEP_UP, token=token))
    body: dict[str, object] = {"credential": device.create(options, **tamper)}
    if name is not None:
        body["name"] = name
    return api.call("POST", "/me/passkeys", body, token=token)


def sign_in(api: Api, device: SoftAuthenticator, **tamper: object):
    options = body_of(api.call("POST", "/login/passkey/options", {}))
    return api.call("POST", "/login/passkey", {"credential": device.get(options, **tamper)})


@pytest.fixture
def token(api: Api) -> str:
    return str(api.session("alice")["access_token"])


@pytest.fixture
def device(api: Api, token: str) -> SoftAuthenticator:
    """alice's registered passkey."""
    device = SoftAuthenticator()
    response = register(api, token, device, name="Laptop")
    assert response.status_code == 201, response.body
    return device


# -- registration ---------------------------------------------------------------------


def test_registration_options_ask_for_a_discoverable_verified_credential_for_this_rp(
    api: Api, token: str
) -> None:
    response = api.call("POST", "/me/passkeys/options", STEP_UP, token=token)
    assert response.status_code == 200
    options = body_of(response)["publicKey"]
    assert options["rp"] == {"id": "localhost", "name": "chalkboard"}
    assert options["user"]["name"] == "alice" and "alice" not in options["user"]["id"]
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert len(options["challenge"]) >= 43  # 32 random bytes or more


def test_a_registered_passkey_is_listed_with_its_name_and_dates(
    api: Api, token: str, device: SoftAuthenticator
) -> None:
    listed = body_of(api.call("GET", "/me/passkeys", token=token))["passkeys"]
    assert len(listed) == 1
    assert listed[0]["id"] == b64(device.credential_id)
    assert listed[0]["name"] == "Laptop"
    assert listed[0]["transports"] == ["internal"]
    assert listed[0]["last_used_at"] is None and listed[0]["created_at"].endswith("Z")


def test_a_passkey_with_the_longest_credential_id_webauthn_allows_works(
    api: Api, token: str
) -> None:
    """1023 bytes (1364 base64url characters): longer than a DynamoDB sort key may be."""
    device = SoftAuthenticator(credential_id=os.urandom(1023))
    assert register(api, token, device, name="Long id").status_code == 201
    path = f"/me/passkeys/{b64(device.credential_id)}"
    assert body_of(api.call("PATCH", path, {"name": "Still long"}, token=token))["id"] == (
        b64(device.credential_id)
    )
    assert sign_in(api, device).status_code == 200
    assert api.call("DELETE", path, STEP_UP, token=token).status_code == 204
    assert sign_in(api, device).status_code == 401


def test_a_passkey_without_a_name_gets_a_default_one(api: Api, token: str) -> None:
    response = register(api, token, SoftAuthenticator())
    assert response.status_code == 201 and body_of(response)["name"] == "Passkey"


@pytest.mark.parametrize(
    ("tamper", "why"),
    [
        ({"origin": "https://evil.example"}, "another origin"),
        ({"rp_id": "evil.example"}, "another relying party"),
        ({"verified": False}, "no user verification"),
    ],
)
def test_registration_is_refused_for(api: Api, token: str, tamper: dict, why: str) -> None:
    response = register(api, token, SoftAuthenticator(), **tamper)
    assert response.status_code == 400, why
    assert body_of(api.call("GET", "/me/passkeys", token=token))["passkeys"] == []


def test_a_registration_challenge_works_once(api: Api, token: str) -> None:
    options = body_of(api.call("POST", "/me/passkeys/options", STEP_UP, token=token))
    credential = SoftAuthenticator().create(options)
    assert api.call("POST", "/me/passkeys", {"credential": credential}, token=token
                    ).status_code == 201
    again = SoftAuthenticator().create(options)
    assert api.call("POST", "/me/passkeys", {"credential": again}, token=token
                    ).status_code == 409


def test_another_users_registration_challenge_is_refused(api: Api, token: str) -> None:
    bob = api.session("bob")["access_token"]
    options = body_of(api.call("POST", "/me/passkeys/options", STEP_UP, token=bob))
    credential = SoftAuthenticator().create(options)
    assert api.call("POST", "/me/passkeys", {"credential": credential}, token=token
                    ).status_code == 409


def test_the_same_credential_cannot_be_registered_twice(
    api: Api, token: str, device: SoftAuthenticator
) -> None:
    assert register(api, token, device).status_code == 409


@pytest.mark.parametrize(
    "credential",
    [{}, {"response": {}}, {"response": {"clientDataJSON": "%%%"}}, {"id": "x", "rawId": 5}],
)
def test_malformed_credentials_are_400(api: Api, token: str, credential: dict) -> None:
    api.call("POST", "/me/passkeys/options", STEP_UP, token=token)
    assert api.call("POST", "/me/passkeys", {"credential": credential}, token=token
                    ).status_code == 400


# -- managing -------------------------------------------------------------------------


def test_a_passkey_can_be_renamed(api: Api, token: str, device: SoftAuthenticator) -> None:
    path = f"/me/passkeys/{b64(device.credential_id)}"
    response = api.call("PATCH", path, {"name": "  Work   phone "}, token=token)
    assert response.status_code == 200 and body_of(response)["name"] == "Work phone"
    assert body_of(api.call("GET", "/me/passkeys", token=token))["passkeys"][0]["name"] == (
        "Work phone"
    )


@pytest.mark.parametrize("name", ["", "   ", "x" * 51, "bad\nname"])
def test_an_invalid_name_is_400(api: Api, token: str, device: SoftAuthenticator,
                                name: str) -> None:
    path = f"/me/passkeys/{b64(device.credential_id)}"
    assert api.call("PATCH", path, {"name": name}, token=token).status_code == 400


def test_someone_elses_passkey_is_404_to_rename_and_delete(
    api: Api, device: SoftAuthenticator
) -> None:
    bob = api.session("bob")["access_token"]
    path = f"/me/passkeys/{b64(device.credential_id)}"
    assert api.call("PATCH", path, {"name": "mine"}, token=bob).status_code == 404
    assert api.call("DELETE", path, STEP_UP, token=bob).status_code == 404
    assert sign_in(api, device).status_code == 200


def test_a_deleted_passkey_no_longer_signs_in(
    api: Api, token: str, device: SoftAuthenticator
) -> None:
    path = f"/me/passkeys/{b64(device.credential_id)}"
    assert api.call("DELETE", path, STEP_UP, token=token).status_code == 204
    assert api.call("DELETE", path, STEP_UP, token=token).status_code == 404
    assert body_of(api.call("GET", "/me/passkeys", token=token))["passkeys"] == []
    assert sign_in(api, device).status_code == 401


def test_passkey_management_needs_a_bearer_token(api: Api) -> None:
    assert api.call("GET", "/me/passkeys").status_code == 401
    assert api.call("POST", "/me/passkeys/options", {}).status_code == 401


def test_an_account_holds_at_most_ten_passkeys(api: Api, token: str,
                                               direct_store: Store) -> None:
    for _ in range(10):
        assert register(api, token, SoftAuthenticator()).status_code == 201
    assert api.call("POST", "/me/passkeys/options", STEP_UP, token=token).status_code == 409
    assert len(direct_store.list_passkeys(username="alice")) == 10


# -- signing in -------------------------------------------------------------------------


def test_a_passkey_signs_in_without_a_username(
    api: Api, token: str, device: SoftAuthenticator
) -> None:
    options = body_of(api.call("POST", "/login/passkey/options", {}))["publicKey"]
    assert options["rpId"] == "localhost" and options["userVerification"] == "required"
    assert options.get("allowCredentials", []) == []
    response = sign_in(api, device)
    assert response.status_code == 200
    pair = body_of(response)
    assert pair["username"] == "alice" and pair["token_type"] == "Bearer"
    assert api.call("GET", "/me", token=pair["access_token"]).status_code == 200
    listed = body_of(api.call("GET", "/me/passkeys", token=token))["passkeys"]
    assert listed[0]["last_used_at"] is not None


@pytest.mark.parametrize(
    ("tamper", "why"),
    [
        ({"origin": "https://evil.example"}, "another origin"),
        ({"rp_id": "evil.example"}, "another relying party"),
        ({"verified": False}, "no user verification"),
        ({"count_step": 0}, "a sign count that did not move"),
    ],
)
def test_sign_in_is_refused_for(api: Api, device: SoftAuthenticator, tamper: dict,
                                why: str) -> None:
    assert sign_in(api, device).status_code == 200  # the counter is above 0 now
    assert sign_in(api, device, **tamper).status_code == 401, why


def test_a_cloned_authenticator_with_an_older_count_is_refused(
    api: Api, device: SoftAuthenticator
) -> None:
    assert sign_in(api, device, count_step=5).status_code == 200
    device.sign_count -= 3
    assert sign_in(api, device).status_code == 401


def test_an_assertion_cannot_be_replayed(api: Api, device: SoftAuthenticator) -> None:
    options = body_of(api.call("POST", "/login/passkey/options", {}))
    assertion = device.get(options)
    assert api.call("POST", "/login/passkey", {"credential": assertion}).status_code == 200
    assert api.call("POST", "/login/passkey", {"credential": assertion}).status_code == 401


def test_an_unknown_passkey_is_401(api: Api, device: SoftAuthenticator) -> None:
    stranger = SoftAuthenticator(user_handle=device.user_handle)
    assert sign_in(api, stranger).status_code == 401


def test_a_registration_challenge_cannot_sign_in(
    api: Api, token: str, device: SoftAuthenticator
) -> None:
    options = body_of(api.call("POST", "/me/passkeys/options", STEP_UP, token=token))
    assertion = device.get(options)
    assert api.call("POST", "/login/passkey", {"credential": assertion}).status_code == 401


def test_a_passkey_sign_in_needs_no_two_factor_code_and_passes_a_locked_throttle(
    api: Api, token: str, device: SoftAuthenticator
) -> None:
    assert [api.login("alice", "not the password!").status_code for _ in range(5)] == [401] * 5
    assert api.login("alice").status_code == 429
    assert sign_in(api, device).status_code == 200


def test_a_passkey_of_a_deleted_account_does_not_sign_in(
    api: Api, device: SoftAuthenticator, direct_store: Store
) -> None:
    direct_store.delete_passkey(username="alice", credential_id=b64(device.credential_id))
    assert sign_in(api, device).status_code == 401


def test_deleting_the_account_deletes_its_passkeys_and_they_never_open_a_new_one(
    api: Api, token: str, device: SoftAuthenticator, direct_store: Store
) -> None:
    deleted = api.call("DELETE", "/me", {"password": PASSWORD}, token=token)
    assert deleted.status_code == 204, deleted.body
    assert direct_store.list_passkeys(username="alice") == []
    assert direct_store.get_passkey(credential_id=b64(device.credential_id)) is None
    assert sign_in(api, device).status_code == 401
    api.session("alice")  # the name signed up again
    assert sign_in(api, device).status_code == 401
