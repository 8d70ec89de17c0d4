"""Deleting a passkey ends every session that passkey signed in (API.md, Passkeys;
issue 21 finding 1), and a passkey sign-in is a sign-in like the others: it carries a
device token, records how it signed in, and is the owner's path back past the bound
on failures from unknown devices (known_devices.py)."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib import known_devices
from chalicelib.deps import current_deps
from tests.authenticator import SoftAuthenticator, b64
from tests.helpers import Api, body_of
from tests.test_passkeys import register, sign_in

pytestmark = pytest.mark.stores("sqlite")

PASSWORD = "correct horse battery staple"


@pytest.fixture
def token(api: Api) -> str:
    return str(api.session("alice")["access_token"])


def new_passkey(api: Api, token: str, name: str) -> SoftAuthenticator:
    device = SoftAuthenticator()
    assert register(api, token, device, name=name).status_code == 201
    return device


def me(api: Api, pair: dict[str, Any]) -> int:
    return int(api.call("GET", "/me", token=pair["access_token"]).status_code)


def test_deleting_a_passkey_ends_every_session_it_signed_in_and_only_those(
    api: Api, token: str
) -> None:
    laptop, phone = new_passkey(api, token, "Laptop"), new_passkey(api, token, "Phone")
    by_laptop = [body_of(sign_in(api, laptop)) for _ in range(2)]
    by_phone = body_of(sign_in(api, phone))
    assert all("device_token" in pair for pair in [*by_laptop, by_phone])
    methods = {s["method"] for s in
               body_of(api.call("GET", "/me/sessions", token=token))["sessions"]}
    assert methods == {"password", "passkey"}
    path = f"/me/passkeys/{b64(laptop.credential_id)}"
    assert api.call("DELETE", path, {"password": PASSWORD}, token=token).status_code == 204
    assert [me(api, pair) for pair in by_laptop] == [401, 401]
    assert [refreshed.status_code for refreshed in (
        api.call("POST", "/token/refresh", {"refresh_token": pair["refresh_token"]})
        for pair in by_laptop)] == [401, 401]
    assert me(api, by_phone) == 200
    assert api.call("GET", "/me", token=token).status_code == 200
    listed = body_of(api.call("GET", "/me/sessions", token=token))["sessions"]
    assert len(listed) == 2


def test_a_passkey_sign_in_written_after_the_deletion_swept_is_taken_back(
    api: Api, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race, taken apart: the assertion was verified, then the passkey was deleted
    (and its sessions swept) before this sign-in's session was written."""
    laptop = new_passkey(api, token, "Laptop")
    store = current_deps().store
    write_session = store.start_session

    def deleted_meanwhile(session: Any) -> None:
        store.delete_passkey(username="alice", credential_id=b64(laptop.credential_id))
        write_session(session)

    monkeypatch.setattr(store, "start_session", deleted_meanwhile)
    assert sign_in(api, laptop).status_code == 401
    monkeypatch.undo()
    listed = body_of(api.call("GET", "/me/sessions", token=token))["sessions"]
    assert [s["method"] for s in listed] == ["password"]


def test_a_passkey_sign_in_is_the_owners_path_back_past_the_unknown_bound(
    api: Api, token: str
) -> None:
    laptop = new_passkey(api, token, "Laptop")
    deps = current_deps()
    for _ in range(known_devices.UNKNOWN_BOUND):  # 100 failures from elsewhere, spread out
        deps.store.count_login_attempt(
            username="alice", now=deps.now(), limit=known_devices.UNKNOWN_BOUND,
            window_seconds=known_devices.RUN_WINDOW_SECONDS, scope=known_devices.RUN_SCOPE,
        )
    assert api.login("alice").status_code == 429
    assert sign_in(api, laptop).status_code == 200
    assert api.login("alice").status_code == 200
