"""Signing up and logging in, in the browser against the real API."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import ui
from tests.browser.conftest import save_screenshot

pytestmark = pytest.mark.browser


def auth_error(page):
    return page.get_by_role("alert").filter(has_text=re.compile(r"\S"))


def test_sign_up_logs_the_person_in(page, api):
    ui.sign_up(page, "Alice")
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("alice")
    expect(page).to_have_title("Board · chalkboard")
    assert ui.stored_session(page)["username"] == "alice"
    # The account really exists: the same credentials log in over the API.
    assert api.login("alice")["username"] == "alice"


def test_switch_between_log_in_and_sign_up(page, api):
    expect(ui.login_heading(page)).to_be_visible()
    expect(page.locator("#username-hint")).to_be_hidden()
    ui.open_sign_up(page)
    expect(page.get_by_text("3 to 32 characters")).to_be_visible()
    expect(page.get_by_label("Password", exact=True)).to_have_attribute(
        "autocomplete", "new-password"
    )
    page.get_by_role("link", name="Log in").click()
    expect(ui.login_heading(page)).to_be_visible()
    expect(page.get_by_label("Password", exact=True)).to_have_attribute(
        "autocomplete", "current-password"
    )
    expect(page.get_by_role("button", name="Sign up")).to_have_count(0)


def test_sign_up_hints_mirror_the_rules_and_the_server_message_is_shown(page, api):
    ui.open_sign_up(page)
    username_hint = page.locator("#username-hint")
    password_hint = page.locator("#password-hint")
    expect(page.get_by_label("Username", exact=True)).to_have_accessible_description(
        re.compile("3 to 32 characters")
    )
    page.get_by_label("Username", exact=True).fill("bad name!")
    expect(username_hint).to_have_class(re.compile(r"\bwarn\b"))
    page.get_by_label("Password", exact=True).fill("short")
    expect(password_hint).to_have_class(re.compile(r"\bwarn\b"))
    page.get_by_role("button", name="Sign up").click()
    # The hint did not stop the request: the server refused it, in its own words.
    expect(auth_error(page)).to_have_text(
        "Username may contain only letters a-z, digits 0-9 and the characters _ . -"
    )
    page.get_by_label("Username", exact=True).fill("good.name")
    expect(username_hint).not_to_have_class(re.compile(r"\bwarn\b"))
    page.get_by_role("button", name="Sign up").click()
    expect(auth_error(page)).to_have_text("Password must be at least 12 characters")
    page.get_by_label("Password", exact=True).fill("good.name")
    expect(password_hint).to_have_class(re.compile(r"\bwarn\b"))
    page.get_by_label("Password", exact=True).fill(ui.PASSWORD)
    expect(password_hint).not_to_have_class(re.compile(r"\bwarn\b"))


def test_common_password_is_refused_with_the_server_message(page, api):
    ui.open_sign_up(page)
    ui.fill_credentials(page, "carol", "password1234")
    page.get_by_role("button", name="Sign up").click()
    expect(auth_error(page)).to_have_text(
        "Password is too common; choose one that is harder to guess"
    )
    expect(ui.board_heading(page)).to_be_hidden()


def test_taken_username_shows_the_server_message(page, api):
    api.signup("alice")
    ui.open_sign_up(page)
    ui.fill_credentials(page, "ALICE", "another long passphrase")
    page.get_by_role("button", name="Sign up").click()
    expect(auth_error(page)).to_have_text("Username is already taken")
    expect(page.get_by_role("button", name="Sign up")).to_be_enabled()


def test_wrong_password_shows_invalid_credentials(page, api):
    api.signup("alice")
    ui.fill_credentials(page, "alice", "not the right password")
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(auth_error(page)).to_have_text("Invalid credentials")
    expect(ui.login_heading(page)).to_be_visible()
    assert ui.stored_session(page) is None


def test_log_in_button_shows_progress_while_waiting(page, api):
    api.signup("alice")
    release = []
    page.route(f"{api.url}/login", lambda route: release.append(route))
    ui.fill_credentials(page, "alice", ui.PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    busy = page.get_by_role("button", name="Logging in…")
    expect(busy).to_be_disabled()
    for _ in range(100):  # until the held request reaches the route handler
        if release:
            break
        page.wait_for_timeout(20)
    expect(busy).to_be_disabled()  # still waiting for the answer
    release[0].continue_()
    expect(ui.board_heading(page)).to_be_visible()


def test_repeated_failed_logins_show_the_throttle_message(page, api):
    api.signup("alice")
    ui.fill_credentials(page, "alice", "not the right password")
    button = page.get_by_role("button", name="Log in", exact=True)
    for _ in range(6):
        button.click()
        expect(auth_error(page)).to_be_visible()
        expect(button).to_be_enabled()
    expect(auth_error(page)).to_have_text(
        re.compile(
            r"^Too many failed logins; try again later \(in about \d+ (seconds|minutes)\)\.$"
        )
    )


def test_unreachable_server_on_log_in_says_so(page, api):
    api.signup("alice")
    api.stop()
    ui.fill_credentials(page, "alice", ui.PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(auth_error(page)).to_have_text(
        "Cannot reach the server. Check your connection and try again."
    )
    expect(page.get_by_label("Username", exact=True)).to_have_value("alice")


def test_password_is_never_stored_in_the_browser(page, api):
    secret = "a secret that must stay secret"
    ui.sign_up(page, "alice", secret)
    ui.post(page, "hello")
    page.reload()
    expect(ui.board_heading(page)).to_be_visible()
    storage = ui.browser_storage(page)
    assert "alice" in storage  # the session is there…
    assert secret not in storage  # …but never the password
    page.get_by_role("button", name="Log out").click()
    ui.log_in(page, "alice", secret)
    assert secret not in ui.browser_storage(page)
    # Nor does it linger in the form after logging in.
    assert page.evaluate("() => document.getElementById('password').value") == ""


def test_login_page_screenshot(new_page, api):
    page = new_page()
    expect(ui.login_heading(page)).to_be_visible()
    expect(page.get_by_label("Username", exact=True)).to_be_focused()
    save_screenshot(page, "login-desktop.png")
    phone = new_page(width=360, height=740)
    ui.open_sign_up(phone)
    ui.fill_credentials(phone, "Bad Name", "short")
    phone.get_by_role("button", name="Sign up").click()
    expect(auth_error(phone)).to_be_visible()
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 360
    save_screenshot(phone, "signup-phone.png")
