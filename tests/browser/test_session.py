"""Sessions in the browser: logout, token refresh, and sessions that end elsewhere."""

from __future__ import annotations

import json
import re
import time
import uuid

import pytest
from playwright.sync_api import expect

from chalicelib import deps
from tests.browser import ui

pytestmark = pytest.mark.browser

ENDED = (
    "Your session has ended: it expired, was signed out, or the password was changed "
    "elsewhere. Please sign in again."
)


def watch_api(page, api):
    """Every API request and response of the page, as (method, path, status) triples."""
    seen = []
    page.on(
        "response",
        lambda response: seen.append(
            (response.request.method, response.url.removeprefix(api.url).split("?")[0],
             response.status)
        )
        if response.url.startswith(api.url) and response.request.method != "OPTIONS"
        else None,
    )
    return seen


def test_logout_revokes_both_tokens_and_clears_storage(page, api):
    api.signup("alice")
    ui.log_in(page, "alice")
    tokens = ui.stored_session(page)
    seen = watch_api(page, api)
    ui.sign_out(page)
    expect(ui.login_heading(page)).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="You have signed out.")).to_be_visible()
    assert ("POST", "/logout", 204) in seen
    # Only the known-device token stays (API.md, Known devices): no session, no draft.
    assert page.evaluate("() => Object.keys(localStorage)") == ["chalkboard.device"]
    assert page.evaluate("() => sessionStorage.length") == 0
    for token in (tokens["accessToken"], tokens["refreshToken"]):
        assert token not in ui.browser_storage(page)
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    # Both tokens stop working on the server.
    assert api.call("GET", "/messages", token=tokens["accessToken"]).status == 401
    refreshed = api.call("POST", "/token/refresh", {"refresh_token": tokens["refreshToken"]})
    assert refreshed.status == 401
    # The board is gone from the page too, and a reload stays signed out.
    expect(ui.messages(page)).to_have_count(0)
    page.reload()
    expect(ui.login_heading(page)).to_be_visible()


def refuse_access_token(page, session: dict) -> None:
    """Make the API refuse only the stored access token, as after a signing key was
    dropped: its signature no longer checks; the refresh token still works. (A logout
    can no longer do this: it ends the whole session, every token of it.)"""
    token = session["accessToken"]
    broken = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    page.evaluate("(s) => localStorage.setItem('chalkboard.session', JSON.stringify(s))",
                  {**session, "accessToken": broken})


def test_session_survives_a_reload(page, api):
    api.signup("alice")
    ui.log_in(page, "alice")
    page.reload()
    expect(ui.board_heading(page)).to_be_visible()
    page.goto(page.url.split("#")[0] + "#/account")
    expect(page.get_by_role("heading", name="Account", level=1)).to_be_visible()


def test_revoked_access_token_is_renewed_without_the_person_noticing(page, api):
    api.signup("alice")
    ui.log_in(page, "alice")
    before = ui.stored_session(page)
    refuse_access_token(page, before)
    api.user("bob")
    api.post("bob", "posted meanwhile")
    seen = watch_api(page, api)
    page.get_by_role("button", name="Refresh").click()
    expect(ui.messages(page)).to_have_text(
        [re.compile(r"^B\s+bob\s+now\s+posted meanwhile$")],  # avatar, name (no @bob)
        use_inner_text=True,
    )
    expect(ui.board_heading(page)).to_be_visible()
    assert seen == [
        ("GET", "/messages", 401),
        ("POST", "/token/refresh", 200),
        ("GET", "/messages", 200),
    ]
    after = ui.stored_session(page)
    assert after["accessToken"] != before["accessToken"]
    assert after["refreshToken"] != before["refreshToken"]
    expect(page.locator("#board-error")).to_have_text("")


def test_concurrent_requests_share_one_refresh(page, api):
    api.signup("alice")
    ui.log_in(page, "alice")
    before = ui.stored_session(page)
    refuse_access_token(page, before)
    seen = watch_api(page, api)
    results = page.evaluate(
        """async () => {
            const { authed } = await import("./js/lib/session.js");
            const answers = await Promise.all([
                authed("GET", "/me"), authed("GET", "/messages"), authed("GET", "/me"),
            ]);
            return answers.map((answer) => Object.keys(answer).sort().join(","));
        }"""
    )
    me_keys = ("created_at,display_name,email,email_verified,recovery_codes_left,"
               "totp_enabled,username")  # API.md
    assert results == [me_keys, "messages,next_cursor", me_keys]
    refreshes = [entry for entry in seen if entry[1] == "/token/refresh"]
    assert refreshes == [("POST", "/token/refresh", 200)]
    # One refresh, so the token family is intact: the page goes on working.
    api.user("bob")
    api.post("bob", "still here")
    page.get_by_role("button", name="Refresh").click()
    expect(ui.messages(page)).to_have_count(1)
    expect(ui.board_heading(page)).to_be_visible()
    assert ("POST", "/token/refresh", 401) not in seen


def test_revoked_session_returns_to_login_with_a_message(page, api):
    api.signup("alice")
    ui.log_in(page, "alice")
    stored = ui.stored_session(page)
    # Logged out elsewhere with these very tokens: both are revoked.
    reply = api.call("POST", "/logout", {"refresh_token": stored["refreshToken"]},
                     token=stored["accessToken"])
    assert reply.status == 204
    page.get_by_role("button", name="Refresh").click()
    expect(ui.login_heading(page)).to_be_visible()
    expect(page.locator("#auth-notice")).to_have_text(ENDED)
    expect(page.get_by_label("Username", exact=True)).to_have_value("alice")
    assert ui.stored_session(page) is None
    ui.log_in(page, "alice")
    expect(page.locator("#auth-notice")).to_have_text("")


def test_password_changed_elsewhere_returns_to_login_with_a_message(new_page, api):
    api.signup("alice")
    here = ui.signed_in(new_page)
    pair = api.login("alice")
    body = {"current_password": ui.PASSWORD, "new_password": "a brand new passphrase"}
    assert api.call("POST", "/me/password", body, token=pair["access_token"]).status == 204
    # The next request (the Account page's, or the board's next check if sooner) is refused.
    here.evaluate("() => { location.hash = '#/account'; }")
    expect(ui.login_heading(here)).to_be_visible()
    expect(here.locator("#auth-notice")).to_have_text(ENDED)
    ui.log_in(here, "alice", "a brand new passphrase")


def expired_session(api, username: str) -> dict:
    """A session as the browser would have stored it an hour ago: both tokens expired.

    Made with the API's own token code and store, on the test API's database and keys.
    """
    from chalicelib import signing_keys, tokens
    from chalicelib.config import get_settings
    from chalicelib.store.model import RefreshToken

    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**api.env, "CHALKBOARD_STAGE": "test"}.items():
            patch.setenv(name, value)
        deps.reset()
        try:
            now = time.time()
            settings = get_settings()
            access, _ = tokens.issue_access_token(
                username=username, session_id="s1", keyring=signing_keys.get_keyring(time.time()),
                settings=settings,
                now=now - 3600,
            )
            refresh, refresh_hash = tokens.new_refresh_token()
            deps.get_store().add_refresh_token(RefreshToken(
                token_hash=refresh_hash, username=username, family=uuid.uuid4().hex,
                issued_at_ms=int((now - 3600) * 1000), expires_at=int(now - 60),
            ))
        finally:
            deps.reset()
    expires_at = (now - 3600 + settings.access_token_ttl) * 1000
    return {"username": username, "accessToken": access, "refreshToken": refresh,
            "expiresAt": expires_at, "renewAt": expires_at - 60_000}


def test_expired_session_returns_to_login_with_a_message(new_page, api):
    api.signup("alice")
    stale = expired_session(api, "alice")
    # The API agrees that both tokens are dead.
    assert api.call("GET", "/me", token=stale["accessToken"]).status == 401
    refreshed = api.call("POST", "/token/refresh", {"refresh_token": stale["refreshToken"]})
    assert refreshed.status == 401
    page = new_page()
    app_url = page.url.split("#")[0]
    # Store the session from a same-origin page that does not run the app: the app
    # already running here could itself renew (and so clear) it before a reload.
    page.goto(app_url + "favicon.svg")
    page.evaluate("(value) => localStorage.setItem('chalkboard.session', value)",
                  json.dumps(stale))
    page.goto(app_url)
    expect(ui.login_heading(page)).to_be_visible()
    expect(page.locator("#auth-notice")).to_have_text(ENDED)
    assert ui.stored_session(page) is None


def test_logging_out_in_another_tab_logs_this_tab_out(new_page, api):
    api.signup("alice")
    first = ui.signed_in(new_page)
    second = new_page(context=first.context)
    expect(ui.board_heading(second)).to_be_visible()  # same browser, same session
    ui.sign_out(second)
    expect(ui.login_heading(second)).to_be_visible()
    expect(ui.login_heading(first)).to_be_visible()
    expect(first.locator("#auth-notice")).to_have_text(
        "You were signed out in another tab. Please sign in again."
    )


def test_unreachable_server_during_logout_still_clears_the_browser(page, api):
    api.signup("alice")
    ui.log_in(page, "alice")
    api.stop()
    ui.sign_out(page)
    expect(ui.login_heading(page)).to_be_visible()
    expect(page.locator("#auth-notice")).to_have_text(
        "You are signed out on this device, but the server could not be reached "
        "to end the session there."
    )
    assert page.evaluate("() => Object.keys(localStorage)") == ["chalkboard.device"]


RENEW_AT_THE_SAME_MOMENT = """(at) => {
    window.answer = null;
    setTimeout(async () => {
        const { authed } = await import("./js/lib/session.js");
        window.answer = await authed("GET", "/me").then((me) => me.username, String);
    }, at - Date.now());
}"""


def test_tabs_renewing_at_the_same_moment_spend_the_refresh_token_once(new_page, api):
    api.signup("alice")
    first = ui.signed_in(new_page)
    second = ui.another_tab(new_page, first)
    refreshes = []
    for tab in (first, second):
        tab.on("response", lambda r: refreshes.append(r.status)
               if r.url.endswith("/token/refresh") else None)
    for round_ in range(1, 7):  # the race is timing-dependent: several rounds to catch it
        # Both tabs find the access token due for renewal and ask for /me at one instant.
        first.evaluate("""() => {
            const session = JSON.parse(localStorage.getItem("chalkboard.session"));
            localStorage.setItem("chalkboard.session", JSON.stringify({...session, renewAt: 0}));
        }""")
        second.wait_for_function(
            "() => JSON.parse(localStorage.getItem('chalkboard.session')).renewAt === 0"
        )
        at = first.evaluate("() => Date.now() + 200")
        for tab in (first, second):
            tab.evaluate(RENEW_AT_THE_SAME_MOMENT, at)
        for tab in (first, second):
            tab.wait_for_function("() => window.answer !== null")
            assert tab.evaluate("() => window.answer") == "alice"
        # One renewal per round; a second would reuse the refresh token and end the session.
        assert refreshes == [200] * round_


def test_logging_in_in_another_tab_signs_this_tab_in(new_page, api):
    api.signup("alice")
    first = new_page()
    second = new_page(context=first.context)
    expect(ui.login_heading(second)).to_be_visible()
    ui.log_in(first, "alice")
    ui.board_loaded(second)
    expect(second.get_by_role("navigation", name="Main")).to_contain_text("alice")


@pytest.mark.parametrize(("who", "draft"), [
    ("alice", "half-written when the session ended"),  # its writer gets it back
    ("bob", ""),  # someone else on this browser does not see it
])
def test_unsent_text_survives_a_session_that_ended_for_its_writer_only(page, api, who, draft):
    api.signup("alice")
    api.signup("bob")
    ui.log_in(page, "alice")
    ui.write_message(page, "half-written when the session ended")
    stored = ui.stored_session(page)
    assert api.call("POST", "/logout", {"refresh_token": stored["refreshToken"]},
                    token=stored["accessToken"]).status == 204
    ui.composer(page).get_by_role("button", name="Post").click()
    expect(ui.login_heading(page)).to_be_visible()
    expect(page.locator("#auth-notice")).to_have_text(ENDED)
    expect(ui.composer(page)).to_be_hidden()
    ui.log_in(page, who)
    expect(ui.composer(page).get_by_label("Message")).to_have_value(draft)


def test_the_device_token_of_a_sign_in_is_sent_with_the_next_password_sign_in(page, api):
    """API.md, Known devices: kept per account across logout, sent back with POST /login."""
    api.signup("alice")
    api.signup("bob")
    sent, answered = [], []

    def login(route):
        sent.append(json.loads(route.request.post_data or "{}"))
        answer = route.fetch()
        answered.append(answer.json())
        route.fulfill(response=answer)

    page.route(f"{api.url}/login", login)
    ui.log_in(page, "alice")
    assert "device_token" not in sent[0]
    token = answered[0]["device_token"]
    assert token
    ui.sign_out(page)
    expect(ui.login_heading(page)).to_be_visible()
    assert token in ui.browser_storage(page)  # outlives logout
    assert ui.PASSWORD not in ui.browser_storage(page)
    ui.log_in(page, "alice")
    assert sent[1]["device_token"] == token
    assert answered[1]["device_token"] == token  # the server knew this device
    # Another account on this browser does not get alice's token.
    ui.sign_out(page)
    ui.log_in(page, "bob")
    assert "device_token" not in sent[2]
