"""The account page's "Where you're signed in" and "Delete account" sections, with
two browser contexts (two browsers, as far as the app can tell) signed in as one user."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser import ui
from tests.browser.conftest import PASSWORD
from tests.http_client import request

pytestmark = pytest.mark.browser

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def open_account(page, section="Where you're signed in"):
    ui.open_account(page)
    expect(page.get_by_role("heading", name="Account", level=1)).to_be_focused()
    page.get_by_role("link", name=section).click()
    expect(page.get_by_role("heading", name=section, level=1)).to_be_focused()


def sessions(page):
    return page.get_by_role("list", name="Where you're signed in").get_by_role("listitem")


def bounced_to_login(page):
    """The page's next request finds its session ended and shows the login page."""
    # The board's poll, asked now (a Refresh click would race the poll's own timer).
    page.evaluate("() => window.dispatchEvent(new Event('focus'))")
    expect(ui.login_heading(page)).to_be_visible()
    expect(page.locator("#auth-notice")).to_contain_text("Your session has ended")


def test_sessions_list_marks_this_device_with_relative_times(new_page, api):
    api.signup("alice")
    ui.signed_in(new_page)
    here = ui.signed_in(new_page)
    open_account(here)
    expect(sessions(here)).to_have_count(2)
    # Newest first: this device's session is the newest.
    this = sessions(here).first
    expect(this).to_contain_text("This device")
    # Signed in and active at the same moment: said once, not "Last active now · signed in now".
    expect(this.locator(".session-times")).to_have_text(
        re.compile(r"^Active now · expires in \d+ days$"))
    expect(this.get_by_role("button")).to_have_count(0)  # the header's Sign out ends it
    other = sessions(here).nth(1)
    # Told apart by device, how it signed in, IP address, last activity and its end.
    expect(other.locator(".session-device")).to_have_text(re.compile(r"Chrome \d+ on Linux"))
    expect(other).to_contain_text("Signed in with: Password · IP address 127.0.0.1")
    expect(other.locator(".session-times")).to_contain_text(re.compile(r"expires in \d+ days"))
    expect(other.get_by_role("button", name="Sign out")).to_be_visible()
    times = this.locator("time[data-relative]")  # last active (then its end)
    expect(times).to_have_count(1)
    for index in range(1):
        stamp = times.nth(index)
        assert ISO.match(stamp.get_attribute("datetime") or "")
        expect(stamp).to_have_text(re.compile(r"^(now|\d+ (sec|min)\. ago)$"))
        expect(stamp).to_have_attribute("title", re.compile(r"\d{4}"))
    expect(here.get_by_role("button", name="Sign out everywhere else")).to_be_visible()


def test_signing_out_another_session_sends_that_browser_to_login(new_page, api):
    api.user("alice")  # a session the test holds, to see it untouched
    elsewhere = ui.signed_in(new_page)
    here = ui.signed_in(new_page)
    open_account(here)
    expect(sessions(here)).to_have_count(3)
    # End the other browser's session: the newest one after this device's.
    sessions(here).nth(1).get_by_role("button", name="Sign out").click()
    expect(here.get_by_role("status").filter(has_text="Signed out.")).to_be_visible()
    expect(sessions(here)).to_have_count(2)
    expect(here.get_by_role("heading", name="Where you're signed in")).to_be_focused()
    bounced_to_login(elsewhere)
    # This browser and the API's session still work.
    here.get_by_role("link", name="Board", exact=True).click()
    ui.board_loaded(here)
    ui.post(here, "still here")
    assert api.call("GET", "/me", token=api.tokens["alice"]["access_token"]).status == 200


def test_sign_out_everywhere_else_leaves_only_this_device(new_page, api):
    api.user("alice")
    elsewhere = ui.signed_in(new_page)
    here = ui.signed_in(new_page)
    open_account(here)
    expect(sessions(here)).to_have_count(3)
    here.get_by_role("button", name="Sign out everywhere else").click()
    expect(here.get_by_role("status").filter(has_text="Signed out of")).to_have_text(
        "Signed out of 2 other sessions. Only this device is signed in now."
    )
    expect(sessions(here)).to_have_count(1)
    expect(sessions(here).first).to_contain_text("This device")
    expect(here.get_by_role("button", name="Sign out everywhere else")).to_be_hidden()
    bounced_to_login(elsewhere)
    assert api.call("GET", "/me", token=api.tokens["alice"]["access_token"]).status == 401
    # Reloading the page lists the one session that is left.
    here.reload()
    expect(sessions(here)).to_have_count(1)


def test_deleting_the_account_removes_its_messages_and_returns_to_login(new_page, api):
    api.user("bob")
    api.post("bob", "bob was here")
    api.signup("alice")
    bobs = ui.signed_in(new_page, "bob")
    page = ui.signed_in(new_page)
    ui.post(page, "alice's message")
    bobs.get_by_role("button", name="Refresh").click()
    expect(bobs.locator("#messages .content", has_text="alice's message")).to_be_visible()
    open_account(page, "Delete account")
    delete = page.get_by_role("button", name="Delete account…")
    dialog = page.get_by_role("dialog", name="Delete your account?")
    password = dialog.get_by_label("Your password")

    # The confirmation says what will be lost and asks the password once; Cancel keeps it.
    delete.click()
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("your account, alice")
    expect(dialog).to_contain_text("all your messages")
    expect(dialog).to_contain_text("all your sessions")
    expect(dialog).to_contain_text("two-factor authentication and your passkeys")
    expect(dialog).to_contain_text("Your username becomes free")
    expect(password).to_be_focused()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(delete).to_be_focused()

    # No password: said beside the field, nothing sent.
    delete.click()
    dialog.get_by_role("button", name="Delete my account").click()
    expect(page.locator("#step-up-password-problem")).to_have_text("Enter your password.")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_be_focused()

    # A wrong password is refused beside the field, in the dialog.
    password.fill("not my password at all")
    dialog.get_by_role("button", name="Delete my account").click()
    expect(page.locator("#step-up-password-problem")).to_have_text(
        "That password is not right. Check it and try again.")
    expect(dialog).to_be_visible()
    assert api.call("POST", "/login", {"username": "alice", "password": ui.PASSWORD}
                    ).status == 200

    # The right one deletes it: back to the login page, with a notice and no tokens.
    password.fill(ui.PASSWORD)
    dialog.get_by_role("button", name="Delete my account").click()
    expect(ui.login_heading(page)).to_be_visible()
    expect(page.locator("#auth-notice")).to_have_text(
        "Your account has been deleted, with all its messages and sessions. "
        "Its username is free again.")
    assert ui.stored_session(page) is None
    assert ui.PASSWORD not in ui.browser_storage(page)

    # Its messages are gone from the other user's board; it cannot log in; the name is free.
    bobs.get_by_role("button", name="Refresh").click()
    ui.board_loaded(bobs)
    expect(bobs.locator("#messages .content", has_text="bob was here")).to_be_visible()
    expect(bobs.locator("#messages .content", has_text="alice's message")).to_have_count(0)
    assert api.call("POST", "/login", {"username": "alice", "password": ui.PASSWORD}
                    ).status == 401
    api.signup("alice")


def test_a_session_without_a_browser_is_named_by_its_user_agent(new_page, api):
    api.signup("alice")
    agent = "chalkboard-sync/2.1 (nightly export job; contact ops@example.test)"
    reply = request("POST", api.url + "/login", {"username": "alice", "password": PASSWORD},
                    headers={"User-Agent": agent})
    assert reply.status == 200, reply.body
    here = ui.signed_in(new_page)
    open_account(here)
    expect(sessions(here)).to_have_count(2)
    script = sessions(here).nth(1)
    # The API's "Unknown device", as the security activity says it, and the start of what it sent.
    expect(script.locator(".session-device")).to_have_text(f"Unknown device ({agent[:40]}…)")
    expect(script.locator(".session-what")).to_have_attribute("title", agent)
    # Its Sign out button sits at the row's right edge, beside the description.
    row = script.bounding_box()
    button = script.get_by_role("button", name="Sign out").bounding_box()
    assert row and button
    assert abs((button["x"] + button["width"]) - (row["x"] + row["width"])) < 2
    assert button["y"] < row["y"] + row["height"] / 2


def test_the_sign_in_time_shows_only_when_it_differs_from_the_last_activity(new_page, api):
    api.signup("alice")
    here = new_page()

    def signed_in_earlier(route):
        answer = route.fetch()
        body = answer.json()
        for session in body["sessions"]:  # two days before its last request, as the API dates it
            last = datetime.fromisoformat(session["last_used_at"].replace("Z", "+00:00"))
            earlier = last - timedelta(days=2)
            session["created_at"] = earlier.isoformat(timespec="milliseconds").replace(
                "+00:00", "Z")
        route.fulfill(response=answer, json=body)

    ui.log_in(here, "alice")
    here.route(re.compile(r".*/me/sessions$"), signed_in_earlier)
    open_account(here)
    expect(sessions(here).first.locator(".session-times")).to_have_text(
        re.compile(r"^Active now · signed in 2 days ago · expires in \d+ days$"))
