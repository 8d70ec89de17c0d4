"""axe-core finds no accessibility violation in any view and state (dialogs, the
Account overview and its pages, two-factor setup, the offline state…), in both colour
schemes, on a desktop and on a 360 px phone.

axe is injected from node_modules (npm axe-core); only these tests' contexts bypass
the CSP to add it, every other test runs under the app's own policy.

The same walk writes the screenshots in docs/screenshots/ when CHALKBOARD_SCREENSHOTS
is set (scripts/screenshots does that): every state on a desktop in the light scheme
and on a phone in the dark one, and the board and the Account overview in all four
combinations; test-artifacts/ gets all four combinations of every state.
"""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, datetime

import pyotp
import pytest
from playwright.sync_api import expect

from ops.stage import ROOT
from tests.browser import board_story, ui
from tests.browser.conftest import app_context, open_app, save_screenshot
from tests.helpers import require

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SIZES = {"desktop": (1280, 800), "phone": (360, 740)}
PIXEL_CHROME = ("Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 "
                "(KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36")
DOCS = ROOT / "docs" / "screenshots"
FOR_DOCS = {("desktop", "light"), ("phone", "dark")}
# The states published in all four combinations too (desktop dark, phone light): the
# two a reader most wants to see in their own scheme on their own device.
EVERY_COMBO_IN_DOCS = {"board", "account"}
# The two the README shows, kept at their old names.
README_SHOTS = {("board", "desktop", "light"): "web-board-desktop-light.png",
                ("board", "phone", "dark"): "web-board-phone-dark.png"}


@pytest.fixture
def axe_page(browser, web, api, problems):
    """A page factory like new_page's, for one colour scheme and size, able to run axe."""
    require(AXE.exists(), "axe-core", "npm ci")
    contexts = []

    def open_page(scheme: str, size: str):
        width, height = SIZES[size]
        # The phone is a phone: a touch screen (the touch-first two-factor setup) and an
        # Android Chrome the sessions list names as one; the desktop is Chrome on a Mac.
        device = (dict(user_agent=PIXEL_CHROME, is_mobile=True, has_touch=True)
                  if size == "phone" else dict(user_agent=board_story.MAC_CHROME))
        context = app_context(
            browser, web.url, api.url, viewport={"width": width, "height": height},
            color_scheme=scheme,
            bypass_csp=True,  # only to inject axe; the app's CSP is tested elsewhere
            **device,
        )
        contexts.append(context)
        return open_app(context, web.url, problems)

    yield open_page
    for context in contexts:
        context.close()


def iso(moment: float) -> str:
    """A time as the API writes it: "2026-12-05T08:52:00.000Z"."""
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def below_header(page) -> None:
    """Scroll the app's header just out of view: the page's title at the top of the shot,
    and no sliver of the header above it."""
    page.evaluate("""() => window.scrollTo(0, Math.ceil(
        document.querySelector(".topbar").getBoundingClientRect().bottom + window.scrollY))""")


def violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async () => {
            const result = await axe.run(document, {
                runOnly: { type: "tag", values: [
                    "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice",
                ] },
            });
            return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — `
                + v.nodes.map((n) => n.target.join(" ")).join(", "));
        }"""
    )
    return found


def check(page, name: str, scheme: str, size: str) -> None:
    page.mouse.move(0, 0)  # the page's corner: no hover state in the screenshot
    page.wait_for_timeout(250)  # let transitions and focus settle before measuring contrast
    save_screenshot(page, f"{name}-{size}-{scheme}.png")
    published = (size, scheme) in FOR_DOCS or name in EVERY_COMBO_IN_DOCS
    if os.environ.get("CHALKBOARD_SCREENSHOTS") and published:
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / f"{name}-{size}-{scheme}.png"))
        if (name, size, scheme) in README_SHOTS:
            page.screenshot(path=str(ROOT / "docs" / README_SHOTS[(name, size, scheme)]))
    found = violations(page)
    assert found == [], f"{name}:\n" + "\n".join(found)


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_view_has_no_axe_violations(axe_page, api, scheme, size):
    # A board in use (board_story.py): five people's last three days, written at the
    # times they happened, links, emoji, Hebrew and a long message under "Show more";
    # alice's iPad and iPhone sessions (so the sessions list has a "Sign out" each and
    # "Sign out everywhere else") and sign-in history.
    board_story.seed(api.env)
    api.signup("carol", ui.PASSWORD)
    api.two_factor_on("carol")
    page = axe_page(scheme, size)
    expect(ui.login_heading(page)).to_be_visible()
    check(page, "login", scheme, size)

    ui.fill_credentials(page, "carol", ui.PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Two-factor code")).to_be_visible()
    ui.sign_in_code(page).fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#mfa-code-problem")).not_to_be_empty()
    check(page, "login-code-step", scheme, size)
    page.get_by_role("button", name="Use a recovery code").click()
    expect(page.get_by_role("heading", name="Enter a recovery code")).to_be_visible()
    check(page, "login-recovery-code-step", scheme, size)
    page.get_by_role("button", name="Start over").click()

    page.get_by_role("link", name="Forgot password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    check(page, "forgot-password", scheme, size)
    page.get_by_label("Username or email address").fill("carol")
    page.get_by_role("button", name="Send the link").click()
    expect(page.locator("#forgot-done")).to_contain_text("a link to choose a new password")
    check(page, "forgot-password-sent", scheme, size)
    page.goto(page.url.split("#")[0] + "#/reset?token=not-a-real-token")
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    expect(page).to_have_url(re.compile(r"#/reset$"))  # the token left the address bar
    page.get_by_role("textbox", name="New password", exact=True).fill("a fine new passphrase")
    check(page, "reset-password", scheme, size)
    # Done: the API's 204 for this made-up token (a real one comes only by email).
    cors = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "*",
            "Access-Control-Allow-Methods": "POST"}
    page.route(f"{api.url}/password/reset", lambda route: route.fulfill(
        status=204 if route.request.method == "POST" else 200, headers=cors))
    page.locator("#reset-repeat").fill("a fine new passphrase")
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_role("status").filter(has_text="Your password has been changed")
           ).to_be_visible()
    check(page, "reset-password-done", scheme, size)
    page.unroute(f"{api.url}/password/reset")
    page.goto(page.url.split("#")[0] + "#/verify-email?token=not-a-real-token")
    expect(page.locator("#verify-result")).to_contain_text("expired or was already used")
    check(page, "verify-email-refused", scheme, size)
    page.goto(page.url.split("#")[0] + "#/login")

    ui.sign_up_refused(page)
    check(page, "signup-errors", scheme, size)

    page.get_by_role("link", name="Sign in").click()
    ui.fill_credentials(page, "alice", ui.PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    ui.board_loaded(page)
    ui.post(page, "Sounds good, see you all there 👋")
    check(page, "board", scheme, size)

    ui.newest(page).focus()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowDown")  # back to alice's own row, by keyboard: its toolbar shows
    own = ui.newest(page)
    expect(own).to_be_focused()
    expect(own.locator(".row-tools")).to_have_css("opacity", "1")
    check(page, "board-focused-row", scheme, size)
    ui.write_message(page, "x" * 980)
    ui.composer(page).get_by_label("Message").focus()
    expect(page.locator("#post-count")).to_have_text("20 left")
    check(page, "board-composer-near-limit", scheme, size)
    ui.write_message(page, "x" * 1004)
    ui.composer(page).get_by_label("Message").focus()
    expect(page.locator("#post-count")).to_have_text(
        "Too long by 4 characters: shorten it to post (limit 1,000)")
    check(page, "board-composer-over-limit", scheme, size)
    ui.write_message(page, "Running ten minutes late, start without me")

    ui.account_menu(page)  # open, over the board
    check(page, "account-menu", scheme, size)
    page.keyboard.press("Escape")
    ui.account_menu(page).get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("dialog", name="Discard your unsent message?")).to_be_visible()
    # Playwright's click() scrolls its target "into view" first, and the header's items sit
    # in the page's scroll-padding: it scrolled the board from the newest up (a person's
    # click scrolls nothing). Back at the newest, as the person left it.
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    check(page, "sign-out-draft-dialog", scheme, size)
    page.get_by_role("button", name="Keep writing").click()
    ui.write_message(page, "")

    if size == "phone":  # a touch screen: "More actions" (⋯) opens a sheet with Delete
        ui.newest(page).get_by_role("button", name=re.compile("^More actions")).tap()
        sheet = page.get_by_role("dialog", name=re.compile("^Your message, "))
        expect(sheet).to_be_visible()
        check(page, "message-actions", scheme, size)
        sheet.get_by_role("button", name="Delete message…").tap()
    else:
        ui.newest(page).get_by_role("button", name=re.compile("^Delete")).click()
    expect(page.get_by_role("dialog", name="Delete this message?")).to_be_visible()
    check(page, "delete-confirm", scheme, size)
    page.keyboard.press("Escape")

    page.context.route(f"{api.url}/**", lambda route: route.abort())
    page.get_by_role("button", name="Refresh").click()
    expect(page.locator("#connection")).to_contain_text("Cannot reach the server")
    # Seen as a reader at the newest sees it (Refresh, at the top, took the view up there).
    page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
    check(page, "board-offline", scheme, size)
    page.context.unroute(f"{api.url}/**")
    page.get_by_role("button", name="Refresh").click()
    expect(page.locator("#connection")).to_have_text("Connected again.")
    check(page, "board-connection-restored", scheme, size)
    expect(page.locator("#connection")).to_be_empty()  # by itself, a few seconds later

    # The board with more to read: "Older messages" at the top (the story fits one
    # page, so its first page is answered as if more followed), scrolled into view.
    def more_follow(route):
        first = route.fetch()
        route.fulfill(response=first, json={**first.json(), "next_cursor": "more"})
    first_page = re.compile(re.escape(api.url) + r"/messages\?limit=20$")
    page.route(first_page, more_follow)
    page.get_by_role("button", name="Refresh").click()
    older = page.get_by_role("button", name="Older messages")
    older.scroll_into_view_if_needed()
    expect(older).to_be_in_viewport()
    check(page, "board-older-messages", scheme, size)
    page.unroute(first_page, more_follow)

    # An empty board: its first page and its live checks answered with no messages.
    nothing = {"messages": [], "next_cursor": None}
    empty_reads = re.compile(re.escape(api.url) + r"/(messages\?limit=20|live\?.*)$")
    page.route(empty_reads, lambda route: route.fulfill(
        status=200, headers={"Access-Control-Allow-Origin": "*"}, json=nothing))
    page.get_by_role("button", name="Refresh").click()
    expect(page.get_by_text("No messages yet.")).to_be_visible()
    check(page, "board-empty", scheme, size)
    page.unroute(empty_reads)
    page.get_by_role("button", name="Refresh").click()
    expect(ui.messages(page).first).to_be_visible()

    # A post the API refuses: the composer says why and keeps the message.
    page.route(f"{api.url}/messages", lambda route: route.fulfill(
        status=429, headers={"Access-Control-Allow-Origin": "*", "Retry-After": "42",
                             "Access-Control-Expose-Headers": "Retry-After"},
        json={"Code": "TooManyRequestsError", "Message": "Too many requests."})
        if route.request.method == "POST" else route.continue_())
    page.evaluate("() => window.scrollTo(0, 0)")
    ui.write_message(page, "Running ten minutes late, start without me")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.locator("#post-error")).to_contain_text("You can post again in")
    check(page, "board-post-failed", scheme, size)
    page.unroute(f"{api.url}/messages")
    ui.write_message(page, "")

    ui.open_account(page)
    expect(page.get_by_role("heading", name="Account", level=1)).to_be_visible()
    expect(page.locator("#ov-sessions")).to_have_text("This device + 2 others")
    expect(page.locator("#ov-passkeys")).not_to_be_empty()
    check(page, "account", scheme, size)

    ui.account_link(page, "Profile").click()
    expect(page.get_by_role("textbox", name="Name", exact=True)).to_have_value("alice")
    expect(page.locator("#email-state")).to_contain_text("No email address yet")
    check(page, "account-profile", scheme, size)
    page.get_by_role("button", name="Add an email address…").click()
    expect(page.get_by_role("dialog", name="Add an email address")).to_be_visible()
    check(page, "email-dialog", scheme, size)
    page.keyboard.press("Escape")

    ui.account_link(page, "Overview").click()
    ui.account_link(page, "Sign-in & security").click()
    expect(page.locator("#totp-badge")).to_have_text("Off")
    check(page, "account-security", scheme, size)
    ui.account_link(page, "Overview").click()  # a phone's way between pages; harmless wide
    ui.account_link(page, "Security activity").click()
    activity = page.locator("#activity-list")
    expect(activity.get_by_role("listitem").first).to_contain_text("Signed in with")
    expect(activity.get_by_text("This device", exact=True)).to_have_count(1)
    # New devices' sign-ins are tagged, not questioned: the page's one line has the two ways out.
    expect(activity.get_by_text("Wasn't you?")).to_have_count(0)
    unknown = page.locator("#page-activity").get_by_text("See something you don't recognise?")
    expect(unknown.get_by_role("link", name="Where you're signed in")).to_be_visible()
    check(page, "account-security-activity", scheme, size)
    ui.account_link(page, "Overview").click()
    ui.account_link(page, "Sign-in & security").click()
    expect(page.locator("#totp-badge")).to_have_text("Off")

    page.get_by_role("button", name="Change password…").click()
    dialog = page.get_by_role("dialog", name="Change password")
    dialog.get_by_label("New password", exact=True).fill("alice2024alice")
    expect(page.locator("#step-up-strength")).not_to_be_empty()
    check(page, "change-password-dialog", scheme, size)
    page.keyboard.press("Escape")

    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("dialog", name="Add a passkey")).to_be_visible()
    check(page, "passkey-add-dialog", scheme, size)
    page.keyboard.press("Escape")

    page.get_by_role("button", name="Set up two-factor authentication").click()
    # The setup dialog, one step at a time (the page behind at its top, header in view);
    # its step 1 asks the password.
    setup = page.get_by_role("dialog", name="Set up two-factor authentication")
    expect(ui.two_factor_step(setup, 1)).to_be_visible()
    page.evaluate("() => window.scrollTo(0, 0)")
    check(page, "two-factor-setup-password", scheme, size)
    setup.get_by_label("Your password").fill(ui.PASSWORD)
    setup.get_by_role("button", name="Continue").click()
    # The same four steps on both; on the phone (a touch screen) step 3 opens the app.
    expect(ui.two_factor_step(setup, 2)).to_be_focused()
    check(page, "two-factor-setup-app", scheme, size)
    setup.get_by_role("button", name="I have an app").click()
    expect(ui.two_factor_step(setup, 3)).to_be_focused()
    if size == "phone":
        expect(setup.get_by_role("link", name="Open in authenticator app")).to_be_visible()
    key = setup.locator("#totp-secret").inner_text().replace(" ", "")
    check(page, "two-factor-setup", scheme, size)
    setup.get_by_role("button", name="Next").click()
    setup.get_by_label("Authenticator code", exact=True).fill(pyotp.TOTP(key).now())
    check(page, "two-factor-setup-code", scheme, size)

    setup.get_by_role("button", name="Turn on").click()
    setup = page.get_by_role("dialog", name="Two-factor authentication is on")
    expect(setup.get_by_role("button", name="I have saved them")).to_be_visible()
    check(page, "two-factor-recovery-codes", scheme, size)
    # One of them steps up below (the setup's code is spent for its 30 s window).
    recovery_code = setup.get_by_role("list", name="Save your recovery codes").get_by_role(
        "listitem").first.inner_text()
    ui.keep_codes(setup)
    section = page.get_by_role("region", name="Two-factor authentication")
    expect(section.locator("#totp-badge")).to_have_text("On")
    page.evaluate("() => window.scrollTo(0, 0)")
    check(page, "two-factor-on", scheme, size)

    section.get_by_role("button", name="New recovery codes…").click()
    dialog = page.get_by_role("dialog", name="Make new recovery codes")
    dialog.get_by_label("Your password").fill(ui.PASSWORD)
    dialog.get_by_label("Authenticator or recovery code").fill(recovery_code)
    dialog.get_by_role("button", name="Make new codes").click()
    renewed = page.get_by_role("dialog", name="Your new recovery codes")
    expect(renewed.get_by_role("list", name="Save your recovery codes").get_by_role("listitem")
           ).to_have_count(10)
    page.evaluate("() => window.scrollTo(0, 0)")
    check(page, "two-factor-new-recovery-codes", scheme, size)
    ui.keep_codes(renewed)
    expect(renewed).to_be_hidden()

    section.get_by_role("button", name="Turn off").click()
    dialog = page.get_by_role("dialog", name="Turn off two-factor authentication?")
    expect(dialog.get_by_label("Your password")).to_be_focused()
    check(page, "two-factor-turn-off-dialog", scheme, size)
    page.keyboard.press("Escape")

    # The passkey list, renaming and removing one. Registering a real passkey needs a
    # virtual authenticator on the API's relying-party origin (test_strong_signin.py
    # does that); here the list is the API's answer, as the contract shapes it, dated by
    # the story (alice joined two days ago on her work PC, her iPhone came last night).
    now = time.time()
    listed = {"passkeys": [
        {"id": "pk-1", "name": "Work PC", "created_at": iso(board_story.on_day(now, 2, "08:52")),
         "last_used_at": iso(board_story.ago(now, hours=3))},
        {"id": "pk-2", "name": "iPhone", "created_at": iso(board_story.on_day(now, 1, "21:07")),
         "last_used_at": None},
    ]}
    page.route(f"{api.url}/me/passkeys", lambda route: route.fulfill(
        status=200, headers={"Access-Control-Allow-Origin": "*"}, json=listed)
        if route.request.method == "GET" else route.continue_())
    ui.account_link(page, "Overview").click()
    ui.account_link(page, "Sign-in & security").click()
    passkey_list = page.get_by_role("list", name="Your passkeys")
    expect(passkey_list.get_by_role("listitem")).to_have_count(2)
    # The page's title at the top, and the list in view below it (scrolled up only as far
    # as it needs: on a phone it is the list, not the title, that fits).
    below_header(page)
    page.locator("#passkeys").evaluate("(node) => node.scrollIntoView({ block: 'nearest' })")
    check(page, "account-passkeys", scheme, size)
    page.get_by_role("button", name="Rename passkey Work PC").click()
    dialog = page.get_by_role("dialog", name="Rename passkey")
    expect(dialog.get_by_role("textbox", name="Name")).to_have_value("Work PC")
    page.evaluate("() => window.scrollTo(0, 0)")  # the page behind at its top, header whole
    check(page, "passkey-rename-dialog", scheme, size)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Remove passkey Work PC").click()
    expect(page.get_by_role("dialog", name="Remove the passkey “Work PC”?")).to_be_visible()
    page.evaluate("() => window.scrollTo(0, 0)")
    check(page, "passkey-remove-dialog", scheme, size)
    page.keyboard.press("Escape")

    # The overview with nothing left to do: two-factor on (above), its codes all left,
    # and an email address verified. The story's alice has none (Profile says "No email
    # address yet" above), so GET /me answers as it will once she has verified one.
    def verified(route):
        me = route.fetch()
        route.fulfill(response=me, json={**me.json(), "email": "alice@example.com",
                                         "email_verified": True})
    page.route(f"{api.url}/me", lambda route: verified(route)
               if route.request.method == "GET" else route.continue_())
    ui.account_link(page, "Overview").click()
    expect(page.locator("#checkup-title")).to_have_text("Your account is protected")
    expect(page.locator("#ov-passkeys")).to_have_text("2")
    page.evaluate("() => window.scrollTo(0, 0)")
    check(page, "account-protected", scheme, size)
    page.unroute(f"{api.url}/me")
    # Two recovery codes left: the overview's check-up and the two-factor page warn.
    def few_codes(route):
        me = route.fetch()
        route.fulfill(response=me, json={**me.json(), "recovery_codes_left": 2})
    page.route(f"{api.url}/me", lambda route: few_codes(route)
               if route.request.method == "GET" else route.continue_())

    def code_used(route):  # what left 2: a sign-in with a recovery code, just now
        answer = route.fetch()
        events = answer.json()["events"]
        used = {**events[0], "id": "used-one", "type": "recovery_code_used",
                "created_at": datetime.now(UTC).isoformat(timespec="milliseconds")
                .replace("+00:00", "Z"), "details": {"left": 2}}
        route.fulfill(response=answer, json={**answer.json(), "events": [used, *events]})
    events_url = re.compile(re.escape(api.url) + r"/me/security-events(\?.*)?$")
    page.route(events_url, code_used)
    page.reload()
    expect(page.locator("#ov-codes")).to_have_text("2 left")
    page.evaluate("() => window.scrollTo(0, 0)")
    check(page, "account-few-recovery-codes", scheme, size)
    ui.account_link(page, "Sign-in & security").click()
    expect(page.locator("#totp-codes-left")).to_contain_text("Make new ones soon")
    check(page, "two-factor-few-recovery-codes", scheme, size)
    # The overview's stubbed answers all in before the stubs go: a handler still fetching
    # when unrouted failed with "Route is already handled".
    with page.expect_response(lambda r: events_url.match(r.url) is not None), \
            page.expect_response(f"{api.url}/me"), \
            page.expect_response(f"{api.url}/me/passkeys"):
        ui.account_link(page, "Overview").click()
    expect(page.locator("#ov-codes")).to_have_text("2 left")
    page.unroute(f"{api.url}/me")
    page.unroute(events_url)
    page.unroute(f"{api.url}/me/passkeys")

    ui.account_link(page, "Where you're signed in").click()  # from the overview
    expect(page.locator("#sessions-list li")).to_have_count(3)  # this page's, the story's two
    expect(page.locator("#sessions-current")).to_contain_text(
        "Chrome on an Android phone" if size == "phone" else "Chrome on macOS")
    page.evaluate("() => window.scrollTo(0, 0)")  # not the last page's scroll: no header sliver
    check(page, "account-sessions", scheme, size)
    details = page.locator("#sessions-others-list li").first.locator("details")
    details.get_by_text("Technical details", exact=True).click()
    expect(details.locator("code")).to_be_visible()
    below_header(page)  # room for the details below, the title still at the top
    check(page, "account-sessions-details", scheme, size)
    details.get_by_text("Technical details", exact=True).click()
    page.get_by_role("button", name="Sign out everywhere else…").click()
    expect(page.get_by_role("dialog", name="Sign out of 2 other sessions?")).to_be_visible()
    check(page, "sessions-sign-out-others-dialog", scheme, size)
    page.keyboard.press("Escape")

    ui.account_link(page, "Overview").click()
    ui.account_link(page, "Delete account").click()
    page.get_by_role("button", name="Delete account…").click()
    expect(page.get_by_role("dialog", name="Delete your account?")).to_be_visible()
    check(page, "delete-account-dialog", scheme, size)
    page.keyboard.press("Escape")


def test_axe_finds_a_violation_when_there_is_one(axe_page, api):
    """The check above can fail: an unlabelled field planted in the page is reported."""
    page = axe_page("light", "desktop")
    expect(ui.login_heading(page)).to_be_visible()
    page.evaluate(
        "() => document.getElementById('auth-form').append(document.createElement('input'))"
    )
    found = violations(page)
    assert any(line.startswith("label ") for line in found), found


