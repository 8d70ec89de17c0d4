"""Access tokens are renewed shortly before they expire, once per browser, unnoticed.

The API here issues 5-second access tokens, so the web app renews after about
4 seconds (a fifth of the lifetime before expiry; a minute for the usual 15 minutes).
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.browser import ui

pytestmark = pytest.mark.browser

TTL = 5


@pytest.fixture
def api_env() -> dict[str, str]:
    return {"CHALKBOARD_ACCESS_TOKEN_TTL": str(TTL)}


def is_refresh(response) -> bool:
    return response.url.endswith("/token/refresh") and response.request.method == "POST"


def test_access_token_is_renewed_shortly_before_it_expires(page, api):
    api.signup("alice")
    statuses = []
    page.on("response", lambda response: statuses.append(response.status))
    ui.log_in(page, "alice")
    first = ui.stored_session(page)
    with page.expect_response(is_refresh, timeout=(TTL + 3) * 1000) as renewal:
        pass
    assert renewal.value.status == 200
    # Measured on the browser's clock: when the refresh was sent, against the moment
    # the first access token expires (the login answer's arrival plus expires_in).
    sent_at = renewal.value.request.timing["startTime"]
    before_expiry = (first["expiresAt"] - sent_at) / 1000
    assert 0 < before_expiry < TTL / 2, f"renewed {before_expiry:.2f}s before expiry"
    page.wait_for_function(  # the new pair is stored in place of the old one
        "(old) => JSON.parse(localStorage.getItem('chalkboard.session')).accessToken !== old",
        arg=first["accessToken"],
    )
    # The person noticed nothing: still on the board, which still loads, and no 401 at all.
    api.user("bob")
    api.post("bob", "after the renewal")
    page.get_by_role("button", name="Refresh").click()
    expect(ui.messages(page)).to_have_count(1)
    assert 401 not in statuses


def test_tabs_of_one_browser_renew_once_between_them(new_page, api):
    api.signup("alice")
    first = ui.signed_in(new_page)
    second = ui.another_tab(new_page, first)
    renewals = []
    failures = []
    for tab in (first, second):
        tab.on("response", lambda r: renewals.append(r.status) if is_refresh(r) else None)
        tab.on("response", lambda r: failures.append(r.url) if r.status == 401 else None)
    # Two renewal rounds: each must spend the refresh token once, or the API would see
    # a reused refresh token and revoke the whole session.
    deadline = time.monotonic() + 2 * TTL + 2
    while len(renewals) < 2 and time.monotonic() < deadline:
        first.wait_for_timeout(200)
    first.wait_for_timeout(1000)  # room for a duplicate renewal to show itself
    assert renewals == [200, 200]
    assert failures == []
    for tab in (first, second):
        tab.get_by_role("button", name="Refresh").click()
        ui.board_loaded(tab)
        expect(tab.locator("#board-error")).to_have_text("")
