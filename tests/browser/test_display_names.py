"""Display names in the web app: asked for at sign-up, changed on the Account page.

(How the board shows them is the board's own tests' business.)
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import ui

pytestmark = pytest.mark.browser


def name_field(page):
    return page.get_by_label("Name (optional)")


def me(api, username: str) -> dict:
    token = api.login(username)["access_token"]
    reply = api.call("GET", "/me", token=token)
    assert reply.status == 200
    return reply.body


def open_account(page):
    """The Account page's Profile, where the name is changed."""
    ui.open_account(page)
    expect(page.get_by_role("heading", name="Account", level=1)).to_be_focused()
    ui.account_link(page, "Profile").click()
    expect(page.get_by_role("heading", name="Profile", level=1)).to_be_focused()


def name_form(page):
    return page.get_by_role("form", name="Name")


def test_name_is_asked_for_at_sign_up_only(page, api):
    expect(ui.login_heading(page)).to_be_visible()
    expect(name_field(page)).to_be_hidden()
    ui.open_sign_up(page)
    expect(name_field(page)).to_be_visible()
    expect(name_field(page)).to_have_attribute("autocomplete", "name")
    expect(name_field(page)).to_have_accessible_description(
        "Shown beside your username on your messages; you can change it later."
        " Leave it empty to show your username."
    )
    page.get_by_role("link", name="Sign in").click()
    expect(name_field(page)).to_be_hidden()


def test_sign_up_with_a_name_stores_it(page, api):
    ui.open_sign_up(page)
    ui.fill_credentials(page, "alice", ui.PASSWORD)
    name_field(page).fill("  Alice Liddell ")
    page.get_by_role("button", name="Sign up", exact=True).click()
    ui.board_loaded(page)
    assert me(api, "alice")["display_name"] == "Alice Liddell"


def test_sign_up_without_a_name_shows_the_username(page, api):
    ui.sign_up(page, "bob")
    assert me(api, "bob")["display_name"] == "bob"


def test_rename_on_the_account_page_reaches_old_messages(page, api):
    api.user("alice")
    api.post("alice", "written before the rename")
    ui.log_in(page, "alice")
    open_account(page)
    form = name_form(page)
    field = form.get_by_label("Name", exact=True)
    expect(field).to_have_value("alice")
    field.fill("Queen Alice")
    form.get_by_role("button", name="Save name").click()
    expect(form.get_by_role("status")).to_have_text("Name saved. Your messages show it now.")
    expect(field).to_have_value("Queen Alice")
    # The header names the person by their new name at once.
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("Queen Alice")
    token = api.login("alice")["access_token"]
    board = api.call("GET", "/messages", token=token).body["messages"]
    assert [(m["content"], m["display_name"]) for m in board] == [
        ("written before the rename", "Queen Alice")
    ]
    # The page shows the stored name when it is opened again.
    page.get_by_role("link", name="Board", exact=True).click()
    ui.board_loaded(page)
    open_account(page)
    expect(field).to_have_value("Queen Alice")


def test_save_name_waits_for_a_change(page, api):
    """"Save name" is marked unavailable (still focusable, its reason read with it) until
    the name differs from the saved one, and again once the new one is saved."""
    api.signup("alice")
    ui.log_in(page, "alice")
    open_account(page)
    form = name_form(page)
    field = form.get_by_label("Name", exact=True)
    save = form.get_by_role("button", name="Save name")
    expect(field).to_have_value("alice")
    expect(save).to_have_attribute("aria-disabled", "true")
    expect(save).to_have_accessible_description("Change the name to save it.")
    save.click(force=True)  # aria-disabled: a press reaches it, and does nothing
    field.press("Enter")
    page.wait_for_timeout(300)
    expect(form.get_by_role("status")).to_have_text("")
    field.fill("Alice")
    expect(save).to_have_attribute("aria-disabled", "false")
    field.fill(" alice ")  # the same name once trimmed, as it would be saved
    expect(save).to_have_attribute("aria-disabled", "true")
    field.fill("Alice")
    save.click()
    expect(form.get_by_role("status")).to_have_text("Name saved. Your messages show it now.")
    expect(save).to_have_attribute("aria-disabled", "true")
    assert me(api, "alice")["display_name"] == "Alice"


def test_rename_refused_by_the_server_shows_its_message(page, api):
    api.signup("alice")
    ui.log_in(page, "alice")
    open_account(page)
    form = name_form(page)
    field = form.get_by_label("Name", exact=True)
    expect(field).to_have_value("alice")
    field.fill("right\u202eto left")
    form.get_by_role("button", name="Save name").click()
    expect(field).to_have_accessible_description(re.compile(
        r"^Your name must be one line of visible characters"
        r" \(no line breaks, tabs, control characters or invisible format characters"
    ))
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_be_focused()
    assert me(api, "alice")["display_name"] == "alice"


def test_empty_name_is_caught_before_sending(page, api):
    api.signup("alice")
    ui.log_in(page, "alice")
    open_account(page)
    form = name_form(page)
    expect(form.get_by_label("Name", exact=True)).to_have_value("alice")
    field = form.get_by_label("Name", exact=True)
    field.fill("   ")
    form.get_by_role("button", name="Save name").click()
    expect(field).to_have_accessible_description(
        re.compile(r"^Enter a name, or your username to show only that\.")
    )
    expect(field).to_be_focused()
    assert me(api, "alice")["display_name"] == "alice"


def test_sign_up_name_over_50_characters_is_caught_beside_the_field(page, api):
    ui.open_sign_up(page)
    ui.fill_credentials(page, "alice", ui.PASSWORD)
    name_field(page).fill("🦊" * 51)  # 51 characters, 102 UTF-16 units
    page.get_by_role("button", name="Sign up", exact=True).click()
    expect(name_field(page)).to_have_accessible_description(
        re.compile(r"^A name has at most 50 characters; this one has 51\.")
    )
    expect(name_field(page)).to_be_focused()
    assert api.call("POST", "/login", {"username": "alice", "password": ui.PASSWORD}).status == 401
    name_field(page).fill("🦊" * 50)
    page.get_by_role("button", name="Sign up", exact=True).click()
    ui.board_loaded(page)
    assert me(api, "alice")["display_name"] == "🦊" * 50
