"""Steps a person takes in the web app, by the names and roles they see on screen."""

from __future__ import annotations

import re
import time
from typing import Any

import pyotp
from playwright.sync_api import expect

PASSWORD = "correct horse battery staple"


def board_heading(page: Any) -> Any:
    return page.get_by_role("heading", name="Board", level=1)


def login_heading(page: Any) -> Any:
    return page.get_by_role("heading", name="Sign in", level=1)


def cut_busy_labels(page: Any) -> list[str]:
    """The busy buttons whose words show cut short ("P…"): none should, a button keeps
    its width while busy and shows its spinner alone when its words do not fit."""
    return page.evaluate("""() => [...document.querySelectorAll("button.is-busy .busy-label")]
        .filter((label) => label.getBoundingClientRect().width > 1
                           && label.scrollWidth > label.clientWidth)
        .map((label) => label.textContent)""")


# The board reads as a chat: the oldest message at the top, the newest at the bottom.
MESSAGES = "Messages, newest last"


def message_list(page: Any) -> Any:
    return page.get_by_role("list", name=MESSAGES)


def messages(page: Any) -> Any:
    """The board's rows, top to bottom: oldest first."""
    return message_list(page).get_by_role("listitem")


def message_texts(page: Any) -> list[str]:
    """Each row's text, top to bottom (oldest first)."""
    return page.locator("#messages .content").all_text_contents()


def newest(page: Any) -> Any:
    """The newest message: the bottom row, just above the composer."""
    return messages(page).last


def oldest(page: Any) -> Any:
    """The oldest message shown: the top row."""
    return messages(page).first


def group_headers(page: Any) -> list[str]:
    """The text of each group's first row, as shown: the rows that show a name."""
    return page.locator("#messages > li.message:not(.continued) .content").all_text_contents()


def fill_credentials(page: Any, username: str, password: str) -> None:
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(password)


def board_loaded(page: Any) -> None:
    """Wait until the board is shown and no page of messages is loading."""
    expect(board_heading(page)).to_be_visible()
    expect(page.get_by_role("button", name="Refresh", exact=True)).to_be_enabled()
    expect(message_list(page)).not_to_have_attribute(
        "aria-busy", "true"
    )


def log_in(page: Any, username: str, password: str = PASSWORD) -> None:
    expect(login_heading(page)).to_be_visible()
    fill_credentials(page, username, password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    board_loaded(page)


def sign_in_code(page: Any) -> Any:
    """The sign-in's two-factor step's field (two-factor setup's has the same label; by
    id, as a hidden form has no role to find it by)."""
    return page.locator("#mfa-form").get_by_label(
        "Authenticator code", exact=True)


def sign_in_with_code(page: Any, username: str, authenticator: Any) -> None:
    """Sign in with the password and then the authenticator's code, up to the board. The
    code is the next step's: setup spent the one now (a code is taken once per step)."""
    fill_credentials(page, username, PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    sign_in_code(page).fill(authenticator.at(time.time() + 30))
    page.get_by_role("button", name="Verify").click()
    board_loaded(page)


# Two-factor setup's steps, the same four on a computer and on a touch screen.
TWO_FACTOR_STEPS = ("Confirm it's you", "Get an authenticator app", "Add chalkboard to the app",
                    "Enter the code")


def two_factor_step(setup: Any, number: int) -> Any:
    """The setup dialog's heading of step ``number`` (1 to 4): "Step 2 of 4", its title."""
    title = re.escape(TWO_FACTOR_STEPS[number - 1])
    return setup.get_by_role("heading", name=re.compile(rf"^Step {number} of 4\W+{title}$"))


def open_two_factor_setup(page: Any) -> Any:
    """From the security page with two-factor off: past step 1 (the password), at setup's
    step 2. Returns the setup dialog."""
    page.get_by_role("button", name="Set up two-factor authentication").click()
    setup = page.locator("#totp-dialog")  # by id: its name changes at the codes step
    expect(two_factor_step(setup, 1)).to_be_visible()
    setup.get_by_label("Your password").fill(PASSWORD)
    setup.get_by_role("button", name="Continue").click()
    expect(two_factor_step(setup, 2)).to_be_focused()
    return setup


def turn_on_two_factor(setup: Any) -> str:
    """From setup's step 2 (see ``open_two_factor_setup``): through the steps with a
    correct code, up to the recovery codes. Returns the key, for the authenticator."""
    setup.get_by_role("button", name="I have an app").click()
    key = setup.locator("#totp-secret").inner_text().replace(" ", "")
    setup.get_by_role("button", name="Next").click()
    setup.get_by_label("Authenticator code", exact=True).fill(pyotp.TOTP(key).now())
    setup.get_by_role("button", name="Turn on").click()
    expect(setup.locator("#totp-recovery-codes li")).to_have_count(10)
    return key


def signed_in(new_page: Any, username: str = "alice", *, clock: bool = False,
              **size: int) -> Any:
    """A new page (a fresh browser context, from the ``new_page`` fixture) with
    ``username``, already signed up over the API, signed in. With ``clock``, the page
    runs on Playwright's clock from its first script on, for ``tick`` to move."""
    page = new_page(**size)
    if clock:
        page.clock.install()
        page.reload()
    log_in(page, username)
    return page


def account_menu_button(page: Any) -> Any:
    """The header's one button for the person: their avatar and name."""
    return page.get_by_role("button", name=re.compile("^Account menu for "))


def account_menu(page: Any) -> Any:
    """The header's account menu, opened (its panel: name, links, Sign out)."""
    button = account_menu_button(page)
    if button.get_attribute("aria-expanded") != "true":
        # Clicked where it is, as a person does: the header stays in view, and Playwright's
        # click() first scrolls its target "into view", which for the header (inside the
        # page's scroll-padding) scrolled the board from the newest to its top.
        box = button.bounding_box()
        button.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(button).to_have_attribute("aria-expanded", "true")
    panel = page.locator("#account-menu-panel")
    expect(panel).to_be_visible()
    return panel


def open_account(page: Any, item: str = "Account") -> None:
    """Go to the Account page (or ``item``, e.g. "Sign-in & security") by the header's menu."""
    account_menu(page).get_by_role("link", name=item, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Account" if item == "Account" else item)


def sign_out(page: Any) -> None:
    """Choose "Sign out" in the header's account menu (no draft: nothing is asked)."""
    account_menu(page).get_by_role("button", name="Sign out", exact=True).click()


def another_tab(new_page: Any, page: Any) -> Any:
    """A second tab in ``page``'s browser (its context: the same stored session), with
    the board loaded."""
    tab = new_page(context=page.context)
    board_loaded(tab)
    return tab


ACCOUNT_NAV_WIDTH = 960  # static/security.css: from here the Account's pages are listed beside it


def account_link(page: Any, name: str) -> Any:
    """The link to one Account page as a person finds it: in the Account navigation beside
    the page on a wide screen; narrower, the overview's row, whose link names the page
    ("Manage sign-in & security"; "← Account" for "Overview")."""
    if page.viewport_size["width"] >= ACCOUNT_NAV_WIDTH:
        return page.get_by_role("navigation", name="Account").get_by_role(
            "link", name=name, exact=True)
    if name == "Overview":
        return page.get_by_role("link", name="Account", exact=True)
    return overview(page).get_by_role("link", name=re.compile(re.escape(name), re.IGNORECASE))


def overview(page: Any) -> Any:
    """The Account overview's list: a summary of each page, with its link."""
    return page.get_by_role("list", name="Your account at a glance")


def open_sign_up(page: Any) -> None:
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", name="Create an account", level=1)).to_be_visible()


def sign_up_refused(page: Any) -> None:
    """Sign-up refused as a person meets it: a bad username, a short password, then a
    longer one still too weak: every rule's message showing."""
    open_sign_up(page)
    fill_credentials(page, "Bad Name!", "short")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator("#username-problem")).not_to_be_empty()
    page.get_by_label("Password", exact=True).fill("chalkboard2024")
    expect(page.locator("#password-strength")).to_contain_text("Too weak — not accepted yet")


def sign_up(page: Any, username: str, password: str = PASSWORD) -> None:
    open_sign_up(page)
    fill_credentials(page, username, password)
    page.get_by_role("button", name="Sign up", exact=True).click()
    board_loaded(page)


def composer(page: Any) -> Any:
    """The always-open form docked below the board."""
    return page.get_by_role("form", name="New message")


def write_message(page: Any, text: str) -> None:
    composer(page).get_by_label("Message").fill(text)


def post(page: Any, text: str) -> None:
    write_message(page, text)
    composer(page).get_by_role("button", name="Post").click()
    expect(composer(page).get_by_label("Message")).to_have_value("")
    expect(newest(page).locator(".content")).to_have_text(text)


def stored_session(page: Any) -> dict | None:
    return page.evaluate("() => JSON.parse(localStorage.getItem('chalkboard.session'))")


def browser_storage(page: Any) -> str:
    """Everything the page could keep: local/session storage, cookies, IndexedDB names."""
    return page.evaluate(
        """async () => JSON.stringify({
            local: {...localStorage}, session: {...sessionStorage}, cookies: document.cookie,
            indexedDB: (await indexedDB.databases()).map((db) => db.name),
        })"""
    )


def tick(page: Any, ms: int) -> None:
    """Move the page's clock on (``signed_in(..., clock=True)``), then let the requests
    it started come and go."""
    page.clock.run_for(ms)
    page.wait_for_timeout(300)


def _set_visibility(page: Any, state: str) -> None:
    page.evaluate(
        """(state) => {
            const define = (name, value) =>
                Object.defineProperty(document, name, { configurable: true, get: () => value });
            define("visibilityState", state);
            define("hidden", state === "hidden");
            document.dispatchEvent(new Event("visibilitychange"));
        }""",
        state,
    )


def hide_tab(page: Any) -> None:
    """What the browser tells the page when its tab goes to the background (headless
    Chromium never hides a tab itself); then waits out what the page had started."""
    _set_visibility(page, "hidden")
    page.wait_for_timeout(300)


def show_tab(page: Any) -> None:
    """What the browser tells the page when its tab comes back to the foreground."""
    _set_visibility(page, "visible")


def keep_codes(dialog: Any) -> None:
    """Copy the recovery codes, then "I have saved them" (which waits until they were kept)."""
    dialog.get_by_role("button", name="Copy", exact=True).click()
    dialog.get_by_role("button", name="I have saved them").click()


# Where the newest row is against the docked composer and the window.
NEWEST_ON_COMPOSER = """() => {
    const rows = document.querySelectorAll("#messages > li.message");
    const row = rows[rows.length - 1].getBoundingClientRect();
    const composer = document.querySelector("#composer").getBoundingClientRect();
    return { top: row.top, bottom: row.bottom, composer: composer.top,
             composerBottom: composer.bottom, window: innerHeight };
}"""


def at_the_newest(page: Any) -> None:
    """The view is at the bottom: the newest row whole in view, just above the composer,
    which is in view too."""
    spot = page.evaluate(NEWEST_ON_COMPOSER)
    assert spot["top"] >= 0 and spot["bottom"] <= spot["composer"] + 1, spot
    assert spot["composer"] - spot["bottom"] <= 40, spot
    assert spot["composerBottom"] <= spot["window"], spot


def long_board(new_page: Any, api: Any, *, count: int = 30, **size: int) -> Any:
    """alice, signed in (at ``size``), reading a board of ``count`` of bob's two-line
    messages, "message 00" on: its newest page of 20 shown, at the newest."""
    api.user("bob")
    api.signup("alice")
    for n in range(count):
        api.post("bob", f"message {n:02d}\nwith a second line")
    page = signed_in(new_page, **size)
    expect(messages(page)).to_have_count(min(count, 20))
    return page
