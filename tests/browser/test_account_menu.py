"""The header's account menu, one wording for signing in and out, and signing out
without losing an unsent message unasked."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser import ui
from tests.browser.conftest import Api, app_context, open_app
from tests.browser.test_axe import AXE, violations
from tests.helpers import require

pytestmark = pytest.mark.browser

# "Log in", "logged out", "Logging in…": the words the app no longer uses.
OTHER_WORDING = re.compile(r"\blog(ged|ging)?[ -]?(in|out)\b", re.IGNORECASE)
DISCARD = "Discard your unsent message?"


def shown_text(page: Any) -> str:
    return page.evaluate("() => document.body.innerText")


def ada(api: Api) -> None:
    reply = api.call("POST", "/signup", {"username": "ada", "password": ui.PASSWORD,
                                         "display_name": "Ada Lovelace"})
    assert reply.status == 201, reply.body


def test_signing_in_and_out_is_said_one_way_everywhere(page: Any, api: Api) -> None:
    api.signup("alice")
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Sign in with a passkey")).to_be_visible()
    assert not OTHER_WORDING.search(shown_text(page))
    ui.open_sign_up(page)
    expect(page.get_by_role("link", name="Sign in", exact=True)).to_be_visible()
    assert not OTHER_WORDING.search(shown_text(page))
    page.goto(page.url.split("#")[0] + "#/forgot")
    expect(page.get_by_role("link", name="Back to sign in")).to_be_visible()
    page.get_by_role("link", name="Back to sign in").click()

    ui.log_in(page, "alice")
    menu = ui.account_menu(page)
    expect(menu.get_by_role("button", name="Sign out", exact=True)).to_be_visible()
    assert not OTHER_WORDING.search(shown_text(page))
    ui.sign_out(page)
    expect(page.get_by_role("status").filter(has_text="You have signed out.")).to_be_visible()
    assert not OTHER_WORDING.search(shown_text(page))


def test_the_menu_names_a_person_whose_name_is_the_username_once(page: Any, api: Api) -> None:
    """As on the board's rows: "alice", not "alice @alice"."""
    api.user("alice")
    ui.log_in(page, "alice")
    panel = ui.account_menu(page)
    expect(panel.locator(".menu-names")).to_have_text("alice", use_inner_text=True)


def test_the_account_menu_is_a_disclosure_for_mouse_and_keyboard(page: Any, api: Api) -> None:
    ada(api)
    ui.log_in(page, "ada")
    button = ui.account_menu_button(page)
    # One button names the person (avatar and name), instead of a link and a button.
    expect(button).to_have_accessible_name("Account menu for Ada Lovelace")
    expect(button).to_have_attribute("aria-expanded", "false")
    panel = page.locator("#" + button.get_attribute("aria-controls"))
    expect(panel).to_be_hidden()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Board")
           ).to_have_attribute("aria-current", "page")

    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(panel.locator(".menu-who")).to_have_text(re.compile(r"Ada Lovelace\s*@ada"))
    items = panel.locator("a, button")
    expect(items).to_have_text(["Account", "Sign-in & security", "Sign out"])
    page.keyboard.press("Escape")  # closes, the focus back on the button
    expect(panel).to_be_hidden()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_be_focused()

    # ↓ opens at the first item; ↓ ↑ move (wrapping), Home and End go to the ends.
    page.keyboard.press("ArrowDown")
    expect(panel.get_by_role("link", name="Account", exact=True)).to_be_focused()
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focus is visible
    for name in ["Sign-in & security", "Sign out", "Account"]:
        page.keyboard.press("ArrowDown")
        expect(page.locator(":focus")).to_have_text(name)
    page.keyboard.press("ArrowUp")
    expect(page.locator(":focus")).to_have_text("Sign out")
    page.keyboard.press("Home")
    expect(page.locator(":focus")).to_have_text("Account")
    page.keyboard.press("End")
    expect(page.locator(":focus")).to_have_text("Sign out")
    page.keyboard.press("Escape")
    expect(button).to_be_focused()
    expect(panel).to_be_hidden()

    # Tab past the last item closes it; so does a click anywhere else.
    page.keyboard.press("ArrowUp")
    expect(page.locator(":focus")).to_have_text("Sign out")
    page.keyboard.press("Tab")
    expect(panel).to_be_hidden()
    button.click()
    expect(panel).to_be_visible()
    ui.board_heading(page).click()
    expect(panel).to_be_hidden()
    expect(button).to_have_attribute("aria-expanded", "false")

    # Choosing a page goes there and closes the menu, which then marks where one is.
    ui.open_account(page, "Sign-in & security")
    expect(panel).to_be_hidden()
    expect(ui.account_menu(page).get_by_role("link", name="Sign-in & security")
           ).to_have_attribute("aria-current", "page")
    expect(panel.get_by_role("link", name="Account", exact=True)).not_to_have_attribute(
        "aria-current", "page")
    page.keyboard.press("Escape")
    ui.open_account(page)
    expect(page.get_by_role("heading", name="Account", level=1)).to_be_visible()


# The accent line under a header item that marks where one is: "Board"'s bottom border,
# or a ::after line on the account menu button (which must not have one). Its colour and
# bottom edge, or None when unmarked.
UNDERLINE = """(node) => {
    const box = node.getBoundingClientRect();
    if (node.tagName === "A") {
        const style = getComputedStyle(node);
        const color = style.borderBottomColor;
        return color === "rgba(0, 0, 0, 0)" || parseFloat(style.borderBottomWidth) === 0
            ? null : { color, bottom: box.bottom };
    }
    const line = getComputedStyle(node, "::after");
    if (line.content === "none" || line.display === "none") return null;
    return { color: line.backgroundColor, bottom: box.bottom - parseFloat(line.bottom),
             height: parseFloat(line.height) };
}"""


@pytest.mark.parametrize(("width", "scheme"), [(1280, "light"), (360, "dark")])
def test_on_account_pages_the_page_is_marked_in_the_menu_not_on_its_button(
    browser: Any, web: Any, api: Api, problems: Any, width: int, scheme: str
) -> None:
    # The button opens a menu; it is not a page. Underlining it as "Board" is on the
    # board read as a link to a page (reviewers): where one is, is the menu's item.
    api.signup("alice")
    context = app_context(browser, web.url, api.url, color_scheme=scheme,
                          viewport={"width": width, "height": 740})
    try:
        page = open_app(context, web.url, problems)
        ui.log_in(page, "alice")
        board_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Board")
        button = ui.account_menu_button(page)
        assert board_link.evaluate(UNDERLINE), "Board is underlined on the board"
        assert button.evaluate(UNDERLINE) is None
        weight = button.evaluate("(node) => getComputedStyle(node).fontWeight")
        for item in ("Sign-in & security", "Account"):
            ui.open_account(page, item)
            page.keyboard.press("Escape")
            assert board_link.evaluate(UNDERLINE) is None
            assert button.evaluate(UNDERLINE) is None, item
            assert button.evaluate("(node) => getComputedStyle(node).fontWeight") == weight
            panel = ui.account_menu(page)
            here = panel.locator("[aria-current='page']")
            expect(here).to_have_count(1)
            expect(here).to_have_text(item)
            # The mark beside it: the accent bar, seen in either scheme.
            assert "inset" in here.evaluate("(node) => getComputedStyle(node).boxShadow")
            page.keyboard.press("Escape")
        ui.account_link(page, "Where you're signed in").click()  # every Account page
        assert button.evaluate(UNDERLINE) is None
    finally:
        context.close()
    assert problems.errors == []


def test_the_account_menu_fits_a_phone_and_keeps_its_name(new_page: Any, api: Api) -> None:
    ada(api)
    page = new_page(width=360, height=740)
    ui.log_in(page, "ada")
    button = ui.account_menu_button(page)
    expect(button).to_have_accessible_name("Account menu for Ada Lovelace")
    expect(button.locator(".avatar")).to_have_text("AL")
    expect(page.locator("#whoami")).to_be_visible()  # the name beside the avatar, as on a desktop
    panel = ui.account_menu(page)
    box = panel.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360, box
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    for item in panel.locator("a, button").all():
        expect(item).to_be_in_viewport()
        assert item.bounding_box()["height"] >= 40  # a finger's target


def test_on_a_phone_the_header_shows_a_long_name_cut_short_beside_the_brands_mark(
    new_page: Any, api: Api
) -> None:
    reply = api.call("POST", "/signup", {"username": "grace", "password": ui.PASSWORD,
                                         "display_name": "Grace Brewster Murray Hopper"})
    assert reply.status == 201, reply.body
    page = new_page(width=360, height=740)
    brand = page.get_by_role("link", name="chalkboard", exact=True)
    # Signed out the header has room: the brand says its name.
    expect(brand).to_have_text("chalkboard")
    expect(brand.locator(".brand-name")).to_be_visible()
    ui.log_in(page, "grace")
    # Signed in, the brand is its mark (still named "chalkboard") and the account menu
    # shows the name, cut short with an ellipsis, all on one row inside the screen.
    expect(brand).to_be_visible()
    assert brand.locator(".brand-name").bounding_box()["width"] <= 1
    name = page.locator("#whoami")
    expect(name).to_have_text("Grace Brewster Murray Hopper")
    expect(name).to_be_visible()
    assert name.evaluate("(n) => n.scrollWidth > n.clientWidth")  # cut short…
    expect(name).to_have_css("text-overflow", "ellipsis")  # …with "…"
    assert name.bounding_box()["width"] >= 120, name.bounding_box()  # enough to recognise
    button = ui.account_menu_button(page)
    expect(button).to_have_accessible_name("Account menu for Grace Brewster Murray Hopper")
    expect(button).to_be_in_viewport(ratio=1)
    tops = [box["y"] for box in (brand.bounding_box(), button.bounding_box(),
                                 page.get_by_role("link", name="Board", exact=True).bounding_box())]
    assert max(tops) - min(tops) <= 12, tops  # one row
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360


@pytest.mark.parametrize(("scheme", "width", "height"), [("light", 1280, 800), ("dark", 360, 740)])
def test_the_open_menu_and_the_sign_out_question_pass_axe(
    browser: Any, web: Any, api: Api, problems: Any, scheme: str, width: int, height: int
) -> None:
    require(AXE.exists(), "axe-core", "npm ci")
    ada(api)
    context = app_context(browser, web.url, api.url, viewport={"width": width, "height": height},
                          color_scheme=scheme, bypass_csp=True)  # only to inject axe
    try:
        page = open_app(context, web.url, problems)
        ui.log_in(page, "ada")
        ui.account_menu(page)
        page.wait_for_timeout(250)
        assert violations(page) == []
        page.keyboard.press("Escape")
        ui.write_message(page, "half a thought")
        ui.sign_out(page)
        expect(page.get_by_role("dialog", name=DISCARD)).to_be_visible()
        page.wait_for_timeout(250)
        assert violations(page) == []
    finally:
        context.close()
    assert problems.errors == []


def test_sign_out_asks_before_discarding_an_unsent_message(page: Any, api: Api) -> None:
    api.signup("alice")
    ui.log_in(page, "alice")
    ui.write_message(page, "half a thought, not posted yet")
    ui.open_account(page)  # the draft is kept while elsewhere in the app

    ui.sign_out(page)
    dialog = page.get_by_role("dialog", name=DISCARD)
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Signing out deletes it from this browser")
    expect(dialog).to_contain_text("half a thought, not posted yet")
    keep = dialog.get_by_role("button", name="Keep writing")
    expect(keep).to_be_focused()  # the safe choice is the default
    page.keyboard.press("Enter")
    # Back on the board, in the composer, with the message as it was.
    expect(dialog).to_be_hidden()
    ui.board_loaded(page)
    field = ui.composer(page).get_by_label("Message")
    expect(field).to_have_value("half a thought, not posted yet")
    expect(field).to_be_focused()
    assert "half a thought" in ui.browser_storage(page)

    ui.sign_out(page)
    page.keyboard.press("Escape")  # the same as Keep writing
    expect(dialog).to_be_hidden()
    expect(field).to_have_value("half a thought, not posted yet")
    assert ui.stored_session(page) is not None

    ui.sign_out(page)
    dialog.get_by_role("button", name="Sign out and discard").click()
    expect(page.get_by_role("status").filter(has_text="You have signed out.")).to_be_visible()
    assert "half a thought" not in ui.browser_storage(page)
    ui.log_in(page, "alice")
    expect(field).to_have_value("")


def test_sign_out_asks_nothing_without_an_unsent_message(page: Any, api: Api) -> None:
    api.signup("alice")
    ui.log_in(page, "alice")
    ui.write_message(page, "   ")  # blank: nothing to lose
    ui.sign_out(page)
    expect(ui.login_heading(page)).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)


def test_a_session_ended_elsewhere_keeps_the_message_without_asking(page: Any, api: Api) -> None:
    api.signup("alice")
    ui.log_in(page, "alice")
    ui.write_message(page, "written before the session ended")
    stored = ui.stored_session(page)
    reply = api.call("POST", "/logout", {"refresh_token": stored["refreshToken"]},
                     token=stored["accessToken"])
    assert reply.status == 204
    page.get_by_role("button", name="Refresh").click()
    expect(ui.login_heading(page)).to_be_visible()
    expect(page.locator("#auth-notice")).to_contain_text("Please sign in again.")
    expect(page.get_by_role("dialog")).to_have_count(0)  # it cannot be refused: not asked
    ui.log_in(page, "alice")
    expect(ui.composer(page).get_by_label("Message")).to_have_value(
        "written before the session ended")


def test_each_session_s_sign_out_names_its_device(new_page: Any, api: Api) -> None:
    api.signup("alice")
    ui.signed_in(new_page)
    page = ui.signed_in(new_page)
    ui.open_account(page)
    ui.account_link(page, "Where you're signed in").click()
    other = page.locator("li.session:not(.current)")
    device = other.locator(".session-device strong").inner_text()
    expect(other.get_by_role("button")).to_have_accessible_name(f"Sign out {device}…")
    # With the header's menu open too, each "Sign out" is told apart by its name.
    menu = ui.account_menu(page)
    expect(page.get_by_role("button", name="Sign out", exact=True)).to_have_count(1)
    expect(menu.get_by_role("button", name="Sign out", exact=True)).to_be_visible()
