"""Session lifetimes and the sessions list's details (API.md, sections Session lifetime
and the /me/sessions row; issue 21 finding 5), with the Deps clock: no sleeping.

A session ends ``CHALKBOARD_SESSION_MAX_SECONDS`` after its sign-in whatever its
refreshes (default 30 days), earlier when its refresh token goes unused for
``CHALKBOARD_REFRESH_TOKEN_TTL`` (default 7 days).
"""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.timestamps import iso_ms
from tests.conftest import FakeClock
from tests.helpers import Api, body_of

pytestmark = pytest.mark.stores("sqlite")

DAY = 86_400
CHROME = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")


def refresh(api: Api, pair: dict[str, Any]) -> Any:
    return api.call("POST", "/token/refresh", {"refresh_token": pair["refresh_token"]})


def sessions_of(api: Api, access_token: str) -> Any:
    """The list, asked with an access token. Tests use the sign-in's own: its ``exp`` is
    judged on the system clock (tokens.py), its session on the Deps clock they move."""
    return api.call("GET", "/me/sessions", token=access_token)


@pytest.fixture
def signed_in(api: Api, clock: FakeClock) -> tuple[dict[str, Any], float]:
    """alice's first token pair, and when she signed in."""
    return api.session("alice"), clock()


def test_a_session_refreshed_every_six_days_ends_30_days_after_sign_in(
    api: Api, signed_in: tuple[dict[str, Any], float], clock: FakeClock
) -> None:
    pair, started = signed_in
    access = pair["access_token"]
    for _ in range(4):  # days 6, 12, 18, 24: each within the idle limit
        clock.advance(6 * DAY)
        answer = refresh(api, pair)
        assert answer.status_code == 200, answer.body
        pair = body_of(answer)
    clock.advance(6 * DAY - 60)  # day 30, a minute early: still alive
    answer = refresh(api, pair)
    assert answer.status_code == 200
    pair = body_of(answer)
    listed = body_of(sessions_of(api, access))["sessions"]
    assert listed[0]["expires_at"] == iso_ms(started + 30 * DAY)  # absolute end is nearer
    clock.advance(120)  # past the absolute end
    assert sessions_of(api, access).status_code == 401  # the authorizer refuses
    assert refresh(api, pair).status_code == 401  # and the refresh token is over too


def test_a_session_ends_when_its_refresh_token_goes_unused_for_7_days(
    api: Api, signed_in: tuple[dict[str, Any], float], clock: FakeClock
) -> None:
    pair, started = signed_in
    listed = body_of(sessions_of(api, pair["access_token"]))["sessions"]
    assert listed[0]["expires_at"] == iso_ms(started + 7 * DAY)  # idle end is nearer
    clock.advance(7 * DAY + 1)
    assert refresh(api, pair).status_code == 401


def test_both_ends_are_configurable_per_stage(
    api: Api, env_override: Any, clock: FakeClock
) -> None:
    env_override(CHALKBOARD_SESSION_MAX_SECONDS="3600", CHALKBOARD_REFRESH_TOKEN_TTL="1800")
    pair = api.session("alice")
    started, access = clock(), pair["access_token"]
    clock.advance(1700)
    pair = body_of(refresh(api, pair))
    clock.advance(1700)
    pair = body_of(refresh(api, pair))
    listed = body_of(sessions_of(api, access))["sessions"]
    assert listed[0]["expires_at"] == iso_ms(started + 3600)
    clock.advance(201)
    assert refresh(api, pair).status_code == 401
    assert sessions_of(api, access).status_code == 401


def test_the_list_says_how_where_and_on_what_each_session_signed_in(
    api: Api, clock: FakeClock
) -> None:
    assert api.signup("alice").status_code == 201
    first = api.call("POST", "/login", {"username": "alice",
                                        "password": "correct horse battery staple"},
                     headers={"User-Agent": CHROME})
    clock.advance(5)
    second = api.login("alice")  # no User-Agent
    listed = body_of(sessions_of(api, body_of(second)["access_token"]))["sessions"]
    assert [s["current"] for s in listed] == [True, False]  # newest first
    newest, oldest = listed
    assert oldest["method"] == newest["method"] == "password"
    assert oldest["device"] == "Chrome 131 on Linux" and oldest["user_agent"] == CHROME
    assert newest["device"] == "Unknown device" and newest["user_agent"] == ""
    assert all(isinstance(s["ip"], str) for s in listed)
    assert first.status_code == 200


def test_a_long_user_agent_is_kept_to_256_characters(api: Api) -> None:
    assert api.signup("alice").status_code == 201
    signed = api.call("POST", "/login", {"username": "alice",
                                         "password": "correct horse battery staple"},
                      headers={"User-Agent": CHROME + "x" * 500})
    listed = body_of(sessions_of(api, body_of(signed)["access_token"]))["sessions"]
    assert listed[0]["user_agent"] == (CHROME + "x" * 500)[:256]
