"""The account page: who you are (the overview), and changing your password (a dialog)."""

from __future__ import annotations

import itertools
import re
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser import board_story, ui
from tests.browser.conftest import app_context, open_app

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a brand new passphrase"


def open_account(page):
    ui.open_account(page)
    expect(page.get_by_role("heading", name="Account", level=1)).to_be_focused()
    expect(page).to_have_title("Account · chalkboard")


def dialog(page):
    return page.get_by_role("dialog", name="Change password")


def change_password(page, current, new, repeat=None):
    ui.account_link(page, "Sign-in & security").click()
    page.get_by_role("button", name="Change password…").click()
    dialog(page).get_by_label("Current password").fill(current)
    dialog(page).get_by_label("New password", exact=True).fill(new)
    again = new if repeat is None else repeat
    dialog(page).get_by_label("New password again", exact=True).fill(again)
    dialog(page).get_by_role("button", name="Change password").click()


IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1")


KEEP_FIRST = "Download, copy or print them, or write them down, before you close this."


def activity_items(page):
    """Every entry on the Security activity page, whatever day it is listed under."""
    return page.locator("#activity-list").get_by_role("listitem")


def test_account_page_shows_username_and_join_date(page, api):
    api.signup("alice")
    ui.log_in(page, "alice")
    open_account(page)
    expect(page.locator("#account-username")).to_have_text("alice")
    expect(page.locator("#account-since")).to_have_text(
        re.compile(r"^[A-Z][a-z]+ \d{1,2}, \d{4}$")
    )
    # The name is the username: said once, as on the board ("alice", not "@alice" under it).
    expect(page.locator(".identity-handle")).to_have_text(
        re.compile(r"^Member since "), use_inner_text=True)
    expect(ui.account_menu(page).get_by_role("link", name="Account", exact=True)).to_have_attribute(
        "aria-current", "page")
    page.keyboard.press("Escape")
    # The overview sums up the protection, from /me, /me/passkeys and /me/sessions.
    expect(page.locator("#ov-totp")).to_have_text("Off")
    expect(page.locator("#ov-passkeys")).to_have_text("None")
    expect(page.locator("#ov-sessions")).to_have_text("This device only")
    # Each summary has one link to its page, which its facts describe.
    rows = ui.overview(page)
    security = rows.get_by_role("link", name="Manage sign-in & security")
    expect(security).to_have_attribute("href", "#/account/security")
    expect(security).to_have_accessible_description(
        re.compile("Two-factor authentication: Off"))
    expect(rows.get_by_role("link", name="See where you're signed in")
           ).to_have_accessible_description("This device only")
    expect(rows.locator("a[href='#/account/security']")).to_have_count(1)
    # Delete account is the side list's (set apart, in red), not repeated in the summary.
    expect(rows.get_by_role("link", name="Delete account")).to_have_count(0)
    expect(ui.account_link(page, "Delete account")).to_be_visible()


def test_change_password_keeps_this_tab_signed_in_and_ends_other_sessions(new_page, api):
    api.signup("alice")
    elsewhere = ui.signed_in(new_page)
    here = ui.signed_in(new_page)
    before = ui.stored_session(here)
    open_account(here)
    change_password(here, ui.PASSWORD, NEW_PASSWORD)
    expect(here.get_by_role("status").filter(has_text="Password changed.")).to_have_text(
        "Password changed. Your other sessions have been signed out."
    )
    expect(dialog(here)).to_be_hidden()
    # No password is left on the page or in storage.
    for field in ["#step-up-password", "#step-up-new-password", "#step-up-repeat"]:
        expect(here.locator(field)).to_have_value("")
    assert NEW_PASSWORD not in ui.browser_storage(here)
    assert ui.PASSWORD not in ui.browser_storage(here)
    # This tab logged in again with the new password: new tokens, and they work.
    after = ui.stored_session(here)
    assert after["refreshToken"] != before["refreshToken"]
    here.get_by_role("link", name="Board", exact=True).click()
    ui.board_loaded(here)
    ui.post(here, "still signed in")
    # The old tokens, and the other browser's session, are over.
    assert api.call("GET", "/me", token=before["accessToken"]).status == 401
    # Its next request (the board's poll, asked now rather than racing its timer) is refused.
    elsewhere.evaluate("() => window.dispatchEvent(new Event('focus'))")
    expect(ui.login_heading(elsewhere)).to_be_visible()
    expect(elsewhere.locator("#auth-notice")).to_contain_text("Your session has ended")
    # Only the new password logs in now.
    assert api.call("POST", "/login", {"username": "alice", "password": ui.PASSWORD}).status == 401
    assert api.login("alice", NEW_PASSWORD)["username"] == "alice"


def test_wrong_current_password_shows_the_server_message(page, api):
    api.signup("alice")
    ui.log_in(page, "alice")
    open_account(page)
    change_password(page, "not my password at all", NEW_PASSWORD)
    expect(page.locator("#step-up-password-problem")).to_have_text(
        "That password is not right. Check it and try again.")
    expect(dialog(page).get_by_label("Current password")).to_be_focused()
    # Still signed in, with the old password still the one that works.
    expect(page.get_by_role("heading", name="Sign-in & security", level=1)).to_be_visible()
    assert api.login("alice")["username"] == "alice"


def test_new_password_is_checked_by_the_server(page, api):
    api.signup("alice")
    ui.log_in(page, "alice")
    open_account(page)
    change_password(page, ui.PASSWORD, "qwerty123456")
    expect(page.locator("#step-up-new-password-problem")).to_have_text(
        "Password is too common; choose one that is harder to guess"
    )
    expect(dialog(page).get_by_label("New password", exact=True)).to_be_focused()


def test_mismatched_new_passwords_are_caught_before_sending(page, api):
    api.signup("alice")
    ui.log_in(page, "alice")
    open_account(page)
    sent = []
    page.on("request", lambda r: sent.append(r.url) if r.url.endswith("/me/password") else None)
    change_password(page, ui.PASSWORD, NEW_PASSWORD, repeat=NEW_PASSWORD + "!")
    expect(page.locator("#step-up-repeat-problem")).to_have_text(
        "The two new passwords differ. Type the same new password twice."
    )
    expect(dialog(page).get_by_label("New password again", exact=True)).to_be_focused()
    assert sent == []


def test_the_strength_meter_judges_as_the_server_does(page, api):
    api.signup("alice")
    ui.log_in(page, "alice")
    open_account(page)
    ui.account_link(page, "Sign-in & security").click()
    page.get_by_role("button", name="Change password…").click()
    meter = page.locator("#step-up-strength")
    new = dialog(page).get_by_label("New password", exact=True)
    new.fill("alicealice12")  # leans on the username: zxcvbn with the same user inputs
    expect(meter).to_have_attribute("data-score", re.compile("^[0-2]$"))
    enough = re.compile(r"^(Good — accepted|Strong)\.$")  # the verdict alone: nothing to do
    expect(meter.locator(".strength-text")).not_to_have_text(enough)
    # Refused, said neutrally while typing (as on sign-up), in red once the field is left.
    word = meter.locator(".strength-word")
    muted, danger = word.evaluate("""(word) => {
        const colour = (value) => {
            word.style.color = value;
            return getComputedStyle(word).color;
        };
        const out = [colour("var(--muted)"), colour("var(--danger)")];
        word.style.color = "";
        return out;
    }""")
    expect(word).to_have_css("color", muted)
    dialog(page).get_by_label("New password again", exact=True).focus()
    expect(word).to_have_css("color", danger)
    new.fill(NEW_PASSWORD)
    expect(meter.locator(".strength-text")).to_have_text(enough)
    # The 800 kB estimator was fetched only once a new password was typed.
    assert page.evaluate("() => typeof window.zxcvbn") == "function"


EMPTY_BARS_CONTRAST = """(meter) => {
    // Each bar not yet filled: its outline's colour and the colour behind the meter.
    const behind = (node) => {
        for (; node; node = node.parentElement) {
            const colour = getComputedStyle(node).backgroundColor;
            if (colour !== "rgba(0, 0, 0, 0)" && colour !== "transparent") return colour;
        }
        return "rgb(255, 255, 255)";
    };
    return [...meter.querySelectorAll(".strength-bar span:not(.on)")].map((bar) => ({
        edge: getComputedStyle(bar).borderTopColor,
        width: parseFloat(getComputedStyle(bar).borderTopWidth),
        behind: behind(meter),
    }));
}"""


@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_the_strength_meters_empty_bars_stand_out_from_what_is_behind_them(page, api, scheme):
    """On the sign-up page and in the change-password dialog, a bar not yet earned is an
    outline at 3:1 or more against the page or dialog behind it (it was near invisible
    in the dark scheme)."""
    from tests.browser.test_board_features import contrast

    page.emulate_media(color_scheme=scheme)
    ui.open_sign_up(page)
    page.get_by_label("Password", exact=True).fill("chalkboard2024")  # one bar of four
    places = {"sign-up": page.locator("#password-strength")}
    expect(places["sign-up"].locator(".strength-bar .on")).to_have_count(1)
    signed_up = page.evaluate(EMPTY_BARS_CONTRAST, places["sign-up"].element_handle())
    ui.fill_credentials(page, "alice", ui.PASSWORD)
    page.get_by_role("button", name="Sign up", exact=True).click()
    ui.board_loaded(page)
    open_account(page)
    ui.account_link(page, "Sign-in & security").click()
    page.get_by_role("button", name="Change password…").click()
    dialog(page).get_by_label("New password", exact=True).fill("chalkboard2024")
    meter = page.locator("#step-up-strength")
    expect(meter.locator(".strength-bar .on")).to_have_count(1)
    in_dialog = meter.evaluate(EMPTY_BARS_CONTRAST)
    for where, bars in (("sign-up", signed_up), ("dialog", in_dialog)):
        assert len(bars) == 3, (where, bars)
        for bar in bars:
            assert bar["width"] >= 1, (where, bar)
            assert contrast(bar["edge"], bar["behind"]) >= 3, (where, bar)


def test_the_meter_and_the_server_agree_on_which_passwords_are_strong_enough(page, api):
    """The browser's zxcvbn (JS 4.4.2) and the server's (the Python port) pass the same."""
    from chalicelib.passwords import weakness

    username, name = "alice", "Alice Liddell"
    candidates = [
        "correct horse battery staple", "alicealice123", "Alice Liddell 1865",
        "chalkboard chalkboard", "qwertyuiop123", "Tr0ub4dor&3xyz", "password1234",
        "liddell rabbit hole tea", "zebra quantum mustard", "1234567890123",
        "aaaaaaaaaaaaaaaa", "alice's chalkboard!", "mY dOg Is NaMeD rEx", "Ünïcødé pässwörd",
    ]
    expect(ui.login_heading(page)).to_be_visible()
    browser = page.evaluate(
        """async ([candidates, inputs]) => {
            const { estimate, MIN_SCORE } = await import('./js/lib/strength.js');
            const out = [];
            for (const c of candidates) out.push((await estimate(c, inputs)).score >= MIN_SCORE);
            return out;
        }""",
        [candidates, [username, name]],
    )
    server = [
        weakness(c, user_inputs=[username, name, *name.split(), "chalkboard"]) is None
        for c in candidates
    ]
    assert browser == server, list(zip(candidates, browser, server, strict=True))
    assert any(server) and not all(server)  # the list has both kinds


def test_recent_security_activity_lists_sign_ins_and_failures(page, api):
    api.signup("alice")
    assert api.call("POST", "/login", {"username": "alice", "password": "not it at all"}
                    ).status == 401
    api.login("alice", user_agent=IPHONE)
    ui.log_in(page, "alice")
    open_account(page)
    ui.account_link(page, "Security activity").click()
    events = activity_items(page)
    expect(events.first).to_contain_text("Signed in with a password")
    # This browser's first sign-in is marked "This device" only: it was the person.
    expect(events.first.locator(".event-here")).to_have_text("This device")
    expect(events.first.locator(".event-tag")).to_have_count(0)
    # The iPhone's first sign-in: "new device" is a quiet tag, not part of the sentence.
    iphone = events.filter(has_text="Safari on iPhone")
    expect(iphone.locator(".event-what")).not_to_contain_text("on a new device")
    expect(iphone.locator(".event-tag")).to_have_text("New device")
    expect(events.locator(".event-tag")).to_have_count(1)
    expect(events.first).to_contain_text("127.0.0.1")
    expect(events.filter(has_text="A wrong password was entered")).to_have_count(1)
    expect(events.filter(has_text="A wrong password was entered")).to_have_class(
        re.compile(r"\battention\b"))


def test_overview_names_the_person_and_says_two_factor_off_calmly(new_page, api):
    reply = api.call("POST", "/signup", {"username": "ada", "password": ui.PASSWORD,
                                         "display_name": "Ada Lovelace"})
    assert reply.status == 201
    page = new_page(width=360, height=740)
    ui.log_in(page, "ada")
    open_account(page)
    expect(page.locator("#ov-name")).to_have_text("Ada Lovelace")
    expect(page.locator("#ov-password")).to_have_text("Created today")
    expect(page.locator("#ov-totp")).to_have_text("Off")
    # Off is a fact with a small warning mark, not an error; what to do is the check-up's.
    expect(page.locator("#ov-totp-mark [data-icon='warning']")).to_be_visible()
    looks = page.evaluate(
        """() => {
            const probe = document.createElement("span");
            probe.style.color = "var(--danger)";
            document.body.append(probe);
            const danger = getComputedStyle(probe).color;
            probe.remove();
            const off = document.getElementById("ov-totp");
            const mark = document.getElementById("ov-totp-mark");
            return { danger, off: getComputedStyle(off).color,
                     beside: Math.abs(mark.getBoundingClientRect().top
                                      - off.getBoundingClientRect().top) < 8,
                     wide: document.documentElement.scrollWidth };
        }"""
    )
    assert looks["off"] != looks["danger"], looks
    assert looks["beside"], looks  # the mark on the same line as "Off", even on a 360 px phone
    assert looks["wide"] <= 360, looks  # nothing runs off the side of the phone


def test_overview_counts_recovery_codes_and_links_to_the_security_activity(page, api):
    api.signup("alice")
    token = api.login("alice")["access_token"]
    setup = api.call("POST", "/me/totp", {"password": ui.PASSWORD}, token=token)
    authenticator = pyotp.TOTP(setup.body["secret"])
    confirmed = api.call("POST", "/me/totp/confirm", {"code": authenticator.now()}, token=token)
    api.call("POST", "/login", {"username": "alice", "password": "not it at all"})
    page.get_by_label("Username", exact=True).fill("alice")
    page.get_by_label("Password", exact=True).fill(ui.PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    ui.sign_in_code(page).fill(confirmed.body["recovery_codes"][0])
    page.get_by_role("button", name="Verify").click()
    ui.board_loaded(page)
    open_account(page)
    expect(page.locator("#ov-totp")).to_have_text("On")
    expect(page.locator("#ov-totp-mark [data-icon='check']")).to_be_visible()
    expect(page.locator("#ov-codes")).to_have_text("9 left")
    expect(page.locator("#ov-codes-mark [data-icon='check']")).to_be_visible()
    # The wrong password tried elsewhere is no longer hidden behind "protected": the
    # check-up asks to review it, and the card counts it (this browser's own are not).
    review = page.get_by_role("region", name=re.compile("things? to do")).get_by_role(
        "link", name="Review 1 failed sign-in attempt")
    expect(review).to_have_attribute("href", "#/account/activity")
    expect(page.locator("#ov-failed")).to_have_text("1 in 7 days")
    expect(page.locator("#ov-failed-mark [data-icon='warning']")).to_be_visible()
    link = ui.overview(page).get_by_role("link", name="Review security activity")
    expect(link).to_have_accessible_description(re.compile(
        r"^Failed sign-ins: 1 in 7 days Latest: Signed in with a recovery code · \S.* · now$"))
    link.click()
    expect(page).to_have_url(re.compile(r"#/account/activity$"))
    heading = page.get_by_role("heading", name="Security activity", level=1)
    expect(heading).to_be_focused()
    expect(heading).to_be_in_viewport()
    expect(activity_items(page).filter(has_text="A wrong password was entered")).to_have_count(1)


NOW = "2026-03-10T12:00:00.000Z"  # the page's clock in the password-age cases


@pytest.mark.parametrize(("events", "created", "says"), [
    ([("sign_in", "2026-03-10T11:00:00.000Z"), ("password_changed", "2026-03-07T09:00:00.000Z")],
     "2026-01-01T00:00:00.000Z", "Changed 3 days ago"),
    ([("password_reset", "2026-03-09T08:00:00.000Z")], "2026-01-01T00:00:00.000Z",
     "Changed yesterday"),
    ([("sign_in", "2026-03-10T11:00:00.000Z")], "2026-02-28T12:00:00.000Z", "Created 10 days ago"),
    ([], "2025-01-01T00:00:00.000Z", "Not changed in the last 90 days"),
    # Calendar days, as the activity's day headings count: two evenings ago is not
    # "yesterday" for being under 48 hours old.
    ([("password_changed", "2026-03-08T22:00:00.000Z")], "2026-01-01T00:00:00.000Z",
     "Changed 2 days ago"),
])
def test_the_password_age_comes_from_the_security_events(page, api, events, created, says):
    api.signup("alice")
    page.clock.set_fixed_time(NOW)
    cors = {"Access-Control-Allow-Origin": "*"}

    def me(route):
        if route.request.method != "GET":
            route.continue_()
            return
        answer = route.fetch()
        body = answer.json()
        body["created_at"] = created
        route.fulfill(response=answer, json=body)

    listed = [{"id": f"e{n}", "type": kind, "created_at": at, "ip": "127.0.0.1",
               "device": "Chrome 131 on Linux", "device_kind": "desktop", "details": {},
               "current": False}
              for n, (kind, at) in enumerate(events)]
    page.route(re.compile(r".*/me$"), me)
    page.route(re.compile(r".*/me/security-events\?.*"), lambda route: route.fulfill(
        status=200, headers=cors, json={"events": listed, "next_cursor": None}))
    ui.log_in(page, "alice")
    open_account(page)
    expect(page.locator("#ov-password")).to_have_text(says)
    ui.account_link(page, "Sign-in & security").click()  # said by the password too
    expect(page.get_by_role("region", name="Your password")).to_contain_text(f"{says}.")
    page.unroute_all(behavior="ignoreErrors")  # a poll still in flight at the end: let it be


def in_view_unscrolled(page, locator):
    """Wholly inside the 360 x 740 viewport, with neither the page nor the dialog scrolled."""
    expect(locator).to_be_in_viewport(ratio=1)
    box = locator.bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= 740, box
    scrolled = page.evaluate(
        "() => [window.scrollY, document.getElementById('totp-dialog').scrollTop]")
    assert scrolled == [0, 0], scrolled


def test_two_factor_sheet_on_a_phone_has_a_top_bar_with_close_and_buttons_at_its_foot(
        new_page, api):
    """A full-height sheet: a sticky bar with the title and ✕ (which is its Cancel: no
    Cancel button under the step, where it only repeated the ✕ as a third full-width
    button mid-screen), the step's buttons pinned at the sheet's bottom, no ✕ beside the
    recovery codes."""
    api.signup("alice")
    page = new_page(width=360, height=740)
    ui.log_in(page, "alice")
    page.goto(page.url.split("#")[0] + "#/account/security")
    start = page.get_by_role("button", name="Set up two-factor authentication")
    start.click()
    setup = page.get_by_role("dialog", name="Set up two-factor authentication")
    bar = setup.locator(".dialog-bar")
    # Its first step, the password, is already the sheet, with the bar and ✕.
    expect(ui.two_factor_step(setup, 1)).to_be_visible()
    expect(bar.get_by_role("button", name="Close", exact=True)).to_be_visible()
    setup.get_by_label("Your password").fill(ui.PASSWORD)
    setup.get_by_role("button", name="Continue").click()
    expect(ui.two_factor_step(setup, 2)).to_be_focused()
    close = bar.get_by_role("button", name="Close", exact=True)
    expect(bar.get_by_role("heading", name="Set up two-factor authentication")).to_be_visible()
    expect(close).to_be_visible()
    expect(bar).to_have_css("position", "sticky")
    top = bar.bounding_box()
    assert top and top["y"] == 0 and top["width"] == 360, top
    actions = setup.locator("#totp-step-app .dialog-actions").bounding_box()
    assert actions and abs(actions["y"] + actions["height"] - 740) < 1, actions
    expect(setup.locator("#totp-step-app").get_by_role("button")).to_have_text(["I have an app"])
    # The bar stays on top as a long step scrolls.
    setup.get_by_role("button", name="I have an app").click()
    expect(setup.locator("#totp-step-scan .dialog-actions").get_by_role("button")
           ).to_have_text(["Back", "Next"])
    page.locator("#totp-dialog").evaluate("(node) => { node.scrollTop = node.scrollHeight; }")
    assert bar.bounding_box()["y"] == 0
    close.click()  # as Cancel: the setup is dropped, the focus back on its start
    expect(setup).to_be_hidden()
    expect(start).to_be_focused()
    # With the codes on screen only "I have saved them" closes: no ✕.
    sheet = ui.open_two_factor_setup(page)
    ui.turn_on_two_factor(sheet)
    expect(sheet.get_by_role("button", name="Close", exact=True)).to_be_hidden()
    expect(sheet.locator(".dialog-bar").get_by_role("heading")).to_have_text(
        "Two-factor authentication is on")
    ui.keep_codes(sheet)
    expect(sheet).to_be_hidden()


def test_two_factor_setup_on_a_wide_screen_keeps_its_top_edge_from_step_to_step(page, api):
    """Centred, the dialog's top edge jumped with each step's height (266, 234, 104, 242 px)
    and Next/Cancel with it; pinned at a fixed distance from the top, it stays put."""
    api.signup("alice")
    ui.log_in(page, "alice")
    page.goto(page.url.split("#")[0] + "#/account/security")
    page.get_by_role("button", name="Set up two-factor authentication").click()
    setup = page.locator("#totp-dialog")
    expect(ui.two_factor_step(setup, 1)).to_be_visible()
    tops = [setup.bounding_box()["y"]]
    setup.get_by_label("Your password").fill(ui.PASSWORD)
    setup.get_by_role("button", name="Continue").click()
    expect(ui.two_factor_step(setup, 2)).to_be_focused()
    tops.append(setup.bounding_box()["y"])
    setup.get_by_role("button", name="I have an app").click()
    expect(ui.two_factor_step(setup, 3)).to_be_focused()
    tops.append(setup.bounding_box()["y"])
    setup.get_by_role("button", name="Next").click()
    expect(ui.two_factor_step(setup, 4)).to_be_visible()
    tops.append(setup.bounding_box()["y"])
    assert len(set(tops)) == 1, tops
    assert 40 <= tops[0] <= 120, tops  # near the top, not flush against it
    # Each step still has its Cancel on a wide screen.
    expect(setup.get_by_role("button", name="Cancel")).to_be_visible()


def test_two_factor_setup_on_a_phone_fills_the_screen_with_its_buttons_pinned(new_page, api):
    api.signup("alice")
    page = new_page(width=360, height=740)
    ui.log_in(page, "alice")
    page.goto(page.url.split("#")[0] + "#/account/security")
    setup = ui.open_two_factor_setup(page)
    box = setup.bounding_box()
    assert box and box["x"] == 0 and box["y"] == 0 and box["width"] == 360, box  # full screen
    assert box["height"] == 740, box
    in_view_unscrolled(page, setup.get_by_role("button", name="I have an app"))
    setup.get_by_role("button", name="I have an app").click()
    in_view_unscrolled(page, setup.get_by_role("button", name="Next"))
    key = setup.locator("#totp-secret").inner_text().replace(" ", "")
    setup.get_by_role("button", name="Next").click()
    setup.get_by_label("Authenticator code", exact=True).fill(pyotp.TOTP(key).now())
    in_view_unscrolled(page, setup.get_by_role("button", name="Turn on"))
    setup.get_by_role("button", name="Turn on").click()
    codes = setup.get_by_role("list", name="Save your recovery codes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    for name in ["I have saved them", "Print", "Download .txt", "Copy"]:
        in_view_unscrolled(page, setup.get_by_role("button", name=name, exact=True))
    first, sixth = codes.nth(0).bounding_box(), codes.nth(5).bounding_box()
    assert first and sixth and sixth["x"] > first["x"] + 50, (first, sixth)  # two columns
    assert abs(sixth["y"] - first["y"]) < 4, (first, sixth)
    # The last code scrolls up from under the pinned buttons: nothing is hidden for good.
    codes.nth(9).scroll_into_view_if_needed()
    expect(codes.nth(9)).to_be_in_viewport(ratio=1)
    # As on GitHub: "I have saved them" waits until the codes were downloaded, copied or
    # printed, saying so beside it and in its description; a click before does nothing.
    saved = setup.get_by_role("button", name="I have saved them")
    expect(saved).to_have_attribute("aria-disabled", "true")
    expect(saved).to_have_accessible_description(KEEP_FIRST)
    expect(setup.get_by_text(KEEP_FIRST)).to_be_visible()
    # The hint above the codes, away from the button (it sat against it on a phone), and
    # one way to keep them is enough: no box to tick as well as a button to press.
    hint = setup.get_by_text(KEEP_FIRST).bounding_box()
    box = setup.locator(".codes-box").bounding_box()
    assert hint["y"] + hint["height"] <= box["y"], (hint, box)
    saved.focus()  # still focusable, so its reason is heard
    page.keyboard.press("Enter")
    saved.click(force=True)
    expect(setup).to_be_visible()
    # Written by hand counts too (a reviewer: someone copying onto paper was stuck);
    # unticked again, it no longer does.
    written = setup.get_by_role("checkbox", name="I wrote them down")
    written.check()
    expect(saved).to_have_attribute("aria-disabled", "false")
    written.uncheck()
    expect(saved).to_have_attribute("aria-disabled", "true")
    setup.get_by_role("button", name="Copy", exact=True).click()
    expect(saved).to_have_attribute("aria-disabled", "false")
    written.check()
    written.uncheck()  # the copy still counts
    expect(saved).to_have_attribute("aria-disabled", "false")
    expect(saved).to_have_accessible_description("")
    saved.click()
    expect(setup).to_be_hidden()


def test_the_overview_sums_up_in_cards_and_leaves_the_to_do_to_the_check_up(page, api):
    api.signup("alice")
    ui.log_in(page, "alice")
    open_account(page)
    expect(page.locator("#ov-email")).to_have_text("None")
    expect(page.locator("#ov-totp")).to_have_text("Off")
    rows = ui.overview(page)
    # No "Add"/"Turn on" chips: one link for each page summed up, nothing else to press
    # (four here: the side list has Delete account).
    expect(rows.get_by_role("button")).to_have_count(0)
    expect(rows.get_by_role("link")).to_have_text(
        ["Edit profile", "Manage sign-in & security", "Review security activity",
         "See where you're signed in"])
    assert page.evaluate("() => document.querySelectorAll('.overview a a, .overview a button')"
                         ".length") == 0
    for mark in ("#ov-email-mark", "#ov-totp-mark"):
        expect(page.locator(f"{mark} [data-icon='warning']")).to_be_visible()
    # Each thing to do is said once, in the check-up above the rows.
    for action in ("Add an email address", "Turn on two-factor authentication"):
        expect(page.get_by_role("main").get_by_text(action, exact=True)).to_have_count(1)
    # Wide, where the side list navigates, a summary: cards in two columns, each with
    # its facts one to a line and its link at its foot.
    cards = rows.get_by_role("listitem")
    boxes = [cards.nth(n).bounding_box() for n in range(4)]
    assert abs(boxes[0]["y"] - boxes[1]["y"]) < 1 < boxes[1]["x"] - boxes[0]["x"], boxes
    assert boxes[2]["y"] >= boxes[0]["y"] + boxes[0]["height"], boxes
    security = cards.nth(1)
    facts = security.locator(".overview-fact:visible")
    assert facts.nth(1).bounding_box()["y"] > facts.nth(0).bounding_box()["y"] + 5
    action = security.get_by_role("link", name="Manage sign-in & security")
    expect(action).to_be_visible()
    link_box, card_box = action.bounding_box(), security.bounding_box()
    assert link_box["y"] > facts.last.bounding_box()["y"], (link_box, card_box)
    # Each card's content aligned to its top: the link right under its last fact, no
    # empty band above it in a card with fewer facts (Profile's two beside three).
    for n in range(4):
        last = cards.nth(n).locator(".overview-fact:visible, .overview-other:visible").last
        link = cards.nth(n).get_by_role("link")
        gap = link.bounding_box()["y"] - (last.bounding_box()["y"] + last.bounding_box()["height"])
        assert gap < 12, (n, gap)
    action.click()
    expect(page).to_have_url(re.compile(r"#/account/security$"))


def test_on_a_desktop_every_overview_card_and_its_link_fit_the_first_screen(
        browser, web, api, new_page):
    # The walk's account (board_story.py): three sessions, sign-in history, two things
    # to do in the check-up; Chrome on a Mac in a 1280 x 800 window.
    board_story.seed(api.env)
    context = app_context(browser, web.url, api.url, viewport={"width": 1280, "height": 800},
                          user_agent=board_story.MAC_CHROME)
    try:
        page = new_page(context=context)
        ui.log_in(page, "alice")
        open_account(page)
        expect(page.get_by_role("region", name="2 things to do")).to_be_visible()
        expect(page.locator("#ov-sessions")).to_have_text("This device + 2 others")
        # …and which: the most recently used first, as Google's "Your devices" lists them.
        expect(page.locator("#ov-sessions-facts .overview-other")).to_have_text([
            re.compile(r"^Safari on iPhone · \S"), re.compile(r"^Chrome on iPad · \S")])
        expect(page.locator("#ov-passkeys")).not_to_be_empty()
        expect(page.locator("#ov-activity")).to_contain_text("Latest:")
        links = ui.overview(page).get_by_role("link")
        expect(links).to_have_count(4)
        for n in range(4):
            expect(links.nth(n)).to_be_in_viewport(ratio=1)
            box = links.nth(n).bounding_box()
            assert box and box["y"] + box["height"] <= 800, box
        assert page.evaluate("() => window.scrollY") == 0
    finally:
        context.close()


def test_security_checkup_recommends_what_is_left_to_do(page, api):
    api.signup("alice")
    ui.log_in(page, "alice")
    open_account(page)
    checkup = page.get_by_role("region", name="2 things to do")
    expect(checkup).to_be_visible()
    expect(checkup.locator("[data-icon='warning']")).to_be_visible()
    expect(checkup).to_contain_text("Add an email address so you can reset a forgotten password")
    to_email = checkup.get_by_role("link", name="Add an email address")
    expect(to_email).to_have_attribute("href", "#/account/email")
    to_email.click()  # to the exact place: the Profile's email section, with its button
    heading = page.get_by_role("heading", name="Email address")
    expect(heading).to_be_focused()
    expect(page.get_by_role("button", name="Add an email address…")).to_be_in_viewport()
    expect(page.get_by_role("heading", name="Profile", level=1)).to_be_visible()
    page.go_back()
    to_two_factor = checkup.get_by_role("link", name="Turn on two-factor authentication")
    expect(to_two_factor).to_have_attribute("href", "#/account/two-factor")
    to_two_factor.click()
    expect(page.get_by_role("heading", name=re.compile("^Two-factor authentication"))
           ).to_be_focused()
    expect(page.get_by_role("region", name="Two-factor authentication").get_by_role(
        "button", name="Set up two-factor authentication")).to_be_in_viewport()


@pytest.mark.parametrize(("changes", "says"), [
    ({"email": "alice@example.com", "email_verified": True, "totp_enabled": True,
      "recovery_codes_left": 10}, "Your account is protected"),
    ({"email": "alice@example.com", "email_verified": True, "totp_enabled": True,
      "recovery_codes_left": 2}, "1 thing to do"),
])
def test_security_checkup_says_protected_when_all_is_done(page, api, changes, says):
    api.signup("alice")

    def me(route):
        if route.request.method != "GET":
            route.continue_()
            return
        answer = route.fetch()
        route.fulfill(response=answer, json={**answer.json(), **changes})

    page.route(re.compile(r".*/me$"), me)
    ui.log_in(page, "alice")
    open_account(page)
    expect(page.locator("#ov-totp")).to_have_text("On")
    checkup = page.get_by_role("region", name=says)
    expect(checkup).to_be_visible()
    if says == "Your account is protected":
        expect(checkup.locator("[data-icon='check']")).to_be_visible()
        expect(checkup).to_contain_text(
            "Two-factor authentication is on and your email address is verified.")
        expect(checkup.get_by_role("link")).to_have_count(0)
        expect(page.locator("#ov-failed")).to_have_text("None in 7 days")
        expect(page.locator("#ov-failed-mark [data-icon='check']")).to_be_visible()
    else:
        expect(checkup.get_by_role("link", name="Make new recovery codes")).to_have_attribute(
            "href", "#/account/two-factor")
        expect(checkup).to_contain_text("only 2 left")
    page.unroute_all(behavior="ignoreErrors")


@pytest.mark.parametrize("left", [2, 10])
def test_few_recovery_codes_left_are_flagged_on_the_two_factor_page_as_on_the_overview(
        page, api, left):
    """At 3 or fewer the section warns in the overview's amber, and "New recovery codes…"
    is its primary button; with plenty left, a plain line and a plain button."""
    api.signup("alice")

    def me(route):
        if route.request.method != "GET":
            route.continue_()
            return
        answer = route.fetch()
        route.fulfill(response=answer, json={
            **answer.json(), "totp_enabled": True, "recovery_codes_left": left})

    page.route(re.compile(r".*/me$"), me)
    ui.log_in(page, "alice")
    page.goto(page.url.split("#")[0] + "#/account/two-factor")
    section = page.get_by_role("region", name="Two-factor authentication")
    line = section.get_by_text(f"{left} of 10 recovery codes left.")
    expect(line).to_be_visible()
    renew = section.get_by_role("button", name="New recovery codes…")
    turn_off = section.get_by_role("button", name="Turn off…")
    look = "(n) => [getComputedStyle(n).backgroundColor, getComputedStyle(n).borderTopWidth]"
    plain = section.locator("#two-factor-state").evaluate(look)
    if left == 2:
        expect(line).to_contain_text("Make new ones soon")
        expect(renew).to_have_class(re.compile(r"\bprimary\b"))
        assert line.evaluate(look) != plain  # a box of its own, as the overview's warning
        # The overview's own warning icon (not a text glyph that fonts draw differently).
        overview_warning = page.evaluate("""async () => {
            const { icon } = await import("./js/views/account/icons.js");
            return icon("warning").innerHTML;
        }""")
        expect(line.locator("svg.glyph[aria-hidden='true']")).to_have_count(1)
        assert line.locator("svg.glyph").inner_html() == overview_warning
    else:
        expect(line).not_to_contain_text("soon")
        expect(line.locator("svg")).to_have_count(0)
        expect(renew).not_to_have_class(re.compile(r"\bprimary\b"))
        assert line.evaluate(look) == plain
    expect(turn_off).to_be_visible()
    page.unroute_all(behavior="ignoreErrors")


def event(n, kind, at, **details):
    return {"id": f"e{n}", "type": kind, "created_at": at, "ip": "192.0.2.7",
            "device": "Chrome 131 on Linux", "device_kind": "desktop", "details": details,
            "current": False}


FIRST_PAGE = [event(n, "sign_in", f"2026-03-10T11:{59 - n:02d}:00.000Z", method="password")
              for n in range(8)] + [
    event(8, "sign_in_failed", "2026-03-10T10:00:00.000Z", reason="password"),
    event(9, "sign_in", "2026-03-10T09:00:00.000Z", method="password", new_device=True),
]
OLDER_PAGE = [
    event(10, "locked", "2026-03-09T09:00:00.000Z", retry_after=60),
    event(11, "password_changed", "2026-03-08T09:00:00.000Z"),
    event(12, "passkey_added", "2026-03-07T09:00:00.000Z"),
]


def serve_events(page, asked):
    cors = {"Access-Control-Allow-Origin": "*"}

    def events(route):
        query = parse_qs(urlsplit(route.request.url).query)
        asked.append(query.get("cursor", [None])[0])
        older = query.get("cursor") == ["page-2"]
        route.fulfill(status=200, headers=cors, json={
            "events": OLDER_PAGE if older else FIRST_PAGE,
            "next_cursor": None if older else "page-2"})

    page.route(re.compile(r".*/me/security-events\?.*"), events)


def served_activity(page, api, asked=None):
    """alice's Security activity, its events the two served pages; its listed entries."""
    api.signup("alice")
    serve_events(page, [] if asked is None else asked)
    ui.log_in(page, "alice")
    page.goto(page.url.split("#")[0] + "#/account/activity")
    events = activity_items(page)
    expect(events).to_have_count(10)
    return events


def test_security_activity_shows_older_entries_with_the_api_cursor(page, api):
    asked = []
    events = served_activity(page, api, asked)
    older = page.get_by_role("button", name="Show older")
    older.click()
    expect(events).to_have_count(13)
    expect(events.nth(10)).to_contain_text("Sign-in paused after too many wrong attempts")
    assert "page-2" in asked
    expect(older).to_be_hidden()
    end = page.get_by_text("That is all from the last 90 days.")
    expect(end).to_be_focused()
    page.unroute_all(behavior="ignoreErrors")


def test_failures_stand_out_and_suspicious_entries_ask_wasnt_you(page, api):
    events = served_activity(page, api)
    page.get_by_role("button", name="Show older").click()
    expect(events).to_have_count(13)
    looks = page.evaluate(
        """() => [...document.querySelectorAll("#activity-list li.event")].map((li) => {
            const style = getComputedStyle(li);
            return { background: style.backgroundColor, edge: parseFloat(style.borderLeftWidth) };
        })""")
    plain, failed, locked = looks[0], looks[8], looks[10]
    for emphasised in (failed, locked):
        assert emphasised["background"] != plain["background"], looks
        assert emphasised["edge"] >= 3 > plain["edge"], looks
    # "Wasn't you?" on what someone else could have done, not on the ordinary entries nor
    # on a new device's sign-in (the 10th), which is tagged instead.
    asks = [events.nth(n).get_by_text("Wasn't you?").count() for n in range(13)]
    assert asks == [0] * 8 + [1, 0, 1, 1, 0], asks
    failed_item = events.nth(8)
    failed_item.get_by_text("Wasn't you?").click()
    # One step, said once: changing the password already signs out every other session.
    expect(failed_item.locator(".event-help p")).to_contain_text(
        "Someone may know your password. Changing it signs out every other session.")
    expect(failed_item.get_by_role("link", name="Where you're signed in")).to_have_attribute(
        "href", "#/account/sessions")
    failed_item.get_by_role("button", name="Change password…", exact=True).click()
    expect(dialog(page)).to_be_visible()
    expect(dialog(page).get_by_label("Current password")).to_be_focused()
    dialog(page).get_by_role("button", name="Cancel").click()
    failed_item.get_by_role("link", name="Where you're signed in").click()
    expect(page.get_by_role("heading", name="Where you're signed in", level=1)).to_be_visible()
    page.unroute_all(behavior="ignoreErrors")


def test_new_device_sign_ins_are_tagged_and_the_page_asks_once_at_the_top(page, api):
    """A sign-in from a new device is most often the person on a new phone: its row says
    "New device" with no "Wasn't you?" of its own, and one quiet line under the page's
    heading offers the same two ways out for anything not recognised."""
    events = served_activity(page, api)
    new_device = events.nth(9)
    expect(new_device.get_by_text("New device", exact=True)).to_be_visible()
    expect(new_device.locator("details")).to_have_count(0)
    expect(new_device.get_by_text("Wasn't you?")).to_have_count(0)
    # One line, above the list and under the heading, the same two ways out as a row's.
    activity = page.locator("#page-activity")
    line = activity.locator("p", has_text="See something you don't recognise?")
    expect(line).to_have_count(1)
    expect(line).to_be_visible()
    expect(line).to_have_text(re.compile(
        r"^See something you don't recognise\? ?Change password… ?Where you're signed in$"))
    heading = page.get_by_role("heading", name="Security activity", level=1)
    tops = [box["y"] for box in (heading.bounding_box(), line.bounding_box(),
                                 page.locator("#activity-list").bounding_box())]
    assert tops == sorted(tops), tops
    expect(line.get_by_role("link", name="Where you're signed in")).to_have_attribute(
        "href", "#/account/sessions")
    line.get_by_role("button", name="Change password…", exact=True).click()
    expect(dialog(page)).to_be_visible()
    expect(dialog(page).get_by_label("Current password")).to_be_focused()
    dialog(page).get_by_role("button", name="Cancel").click()
    # The page says it once: the intro no longer repeats the advice.
    expect(activity.get_by_text("Change your password", exact=False)).to_have_count(0)
    page.unroute_all(behavior="ignoreErrors")


def test_empty_account_lists_are_a_plain_muted_sentence_not_a_dashed_box(page, api):
    """No passkeys, no activity: a quiet sentence where the list would be, in the hint's
    colour and aligned with the section's text, not a dashed box that looks like a drop zone."""
    api.signup("alice")
    page.route(re.compile(r".*/me/security-events\?.*"), lambda route: route.fulfill(
        status=200, headers={"Access-Control-Allow-Origin": "*"},
        json={"events": [], "next_cursor": None}))
    ui.log_in(page, "alice")
    look = """(n) => { const s = getComputedStyle(n); return {
        border: s.borderTopStyle, padding: parseFloat(s.paddingTop) + parseFloat(s.paddingLeft),
        color: s.color, left: n.getBoundingClientRect().left,
        textLeft: (() => { const r = document.createRange(); r.selectNodeContents(n);
                           return r.getBoundingClientRect().left; })() }; }"""
    page.goto(page.url.split("#")[0] + "#/account/security")
    empty = page.get_by_text("You have no passkeys yet.")
    expect(empty).to_be_visible()
    hint = page.locator("#passkeys .hint").first
    plain, sentence = hint.evaluate(look), empty.evaluate(look)
    assert sentence["border"] == "none" and sentence["padding"] == 0, sentence
    assert sentence["color"] == plain["color"], (sentence, plain)
    assert abs(sentence["textLeft"] - plain["textLeft"]) < 1, (sentence, plain)
    page.goto(page.url.split("#")[0] + "#/account/activity")
    nothing = page.locator("#activity-empty")
    expect(nothing).to_have_text("Nothing yet.")
    intro = page.locator("#page-activity .page-intro")
    plain, sentence = intro.evaluate(look), nothing.evaluate(look)
    assert sentence["border"] == "none" and sentence["padding"] == 0, sentence
    assert sentence["color"] == plain["color"], (sentence, plain)
    assert abs(sentence["textLeft"] - plain["textLeft"]) < 1, (sentence, plain)
    page.unroute_all(behavior="ignoreErrors")


def test_the_change_password_dialog_has_show_toggles_and_hides_again_on_close(page, api):
    """One way to show a password, everywhere: a Show/Hide button at the end of every
    password field (current, new, new again), each field the same width, and Cancel hides
    them all again."""
    api.signup("alice")
    ui.log_in(page, "alice")
    open_account(page)
    ui.account_link(page, "Sign-in & security").click()
    page.get_by_role("button", name="Change password…").click()
    current = dialog(page).get_by_label("Current password")
    new = dialog(page).get_by_label("New password", exact=True)
    again = dialog(page).get_by_label("New password again", exact=True)
    fields = {"password": current, "new password": new, "new password again": again}
    expect(dialog(page).get_by_role("checkbox")).to_have_count(0)
    for what, field in fields.items():
        field.fill("typed")
        show = dialog(page).get_by_role("button", name=f"Show {what}", exact=True)
        show.click()
        expect(field).to_have_attribute("type", "text")
        expect(dialog(page).get_by_role("button", name=f"Hide {what}", exact=True)).to_be_visible()
    # All three the same width, the button at each one's end, stacked one under another.
    for width in (1280, 360):
        page.set_viewport_size({"width": width, "height": 800})
        boxes = [field.bounding_box() for field in fields.values()]
        for what, box in zip(fields, boxes, strict=True):
            assert abs(box["width"] - boxes[0]["width"]) < 1, (width, boxes)
            button = dialog(page).get_by_role("button", name=f"Hide {what}", exact=True)
            button_box = button.bounding_box()
            assert button_box["x"] > box["x"] + box["width"] - 1, (width, what)
            assert abs(button_box["y"] - box["y"]) < box["height"], (width, what)
        assert boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"], (width, boxes)
    page.keyboard.press("Escape")  # the keyboard works it too, and Cancel hides it again
    page.get_by_role("button", name="Change password…").click()
    show_new = dialog(page).get_by_role("button", name="Show new password", exact=True)
    show_new.focus()
    page.keyboard.press("Space")
    expect(new).to_have_attribute("type", "text")
    expect(again).to_have_attribute("type", "password")  # each button shows its own field
    page.keyboard.press("Space")
    expect(new).to_have_attribute("type", "password")
    dialog(page).get_by_role("button", name="Show new password again").click()
    dialog(page).get_by_role("button", name="Cancel").click()
    page.get_by_role("button", name="Change password…").click()
    for what, field in fields.items():  # shown again hidden, and empty
        expect(field).to_have_attribute("type", "password")
        expect(field).to_have_value("")
        expect(dialog(page).get_by_role("button", name=f"Show {what}", exact=True)).to_be_visible()


def pinned_buttons_top(page) -> float:
    """Where the setup step's pinned buttons start (the top of its sticky foot)."""
    return page.evaluate("""() => document.querySelector(
        '#totp-dialog .totp-step:not([hidden]) > .dialog-actions').getBoundingClientRect().top""")


def test_two_factor_setup_on_a_touch_screen_has_the_same_steps_with_the_app_link_first(
        browser, web, api, new_page):
    api.signup("alice")
    # A small Android phone: the step's content runs under its pinned buttons.
    context = app_context(browser, web.url, api.url, viewport={"width": 360, "height": 640},
                          has_touch=True, is_mobile=True)
    try:
        page = new_page(context=context)
        assert page.evaluate("() => matchMedia('(pointer: coarse)').matches")
        ui.log_in(page, "alice")
        page.goto(page.url.split("#")[0] + "#/account/security")
        # The four steps a computer shows, titled the same.
        setup = ui.open_two_factor_setup(page)
        expect(setup).to_contain_text("Google Authenticator")
        setup.get_by_role("button", name="I have an app").click()
        expect(ui.two_factor_step(setup, 3)).to_be_focused()
        # The app's link first, then the key with Copy; the QR code (for another device)
        # only on asking, behind a disclosure after them.
        open_app = setup.get_by_role("link", name="Open in authenticator app")
        expect(open_app).to_have_attribute("href", re.compile(r"^otpauth://totp/"))
        # One filled button in the step, "Next": the app's link is outlined, as "Back" is.
        fill = "(n) => getComputedStyle(n).backgroundColor"
        next_step = setup.get_by_role("button", name="Next")
        back = setup.get_by_role("button", name="Back")
        assert open_app.evaluate(fill) == back.evaluate(fill) != next_step.evaluate(fill)
        qr = setup.get_by_role("img", name=re.compile("^QR code for your authenticator app"))
        expect(qr).to_be_hidden()
        order = page.evaluate("""() => ['totp-open-app', 'totp-secret', 'totp-copy-key']
            .map((id) => document.getElementById(id).getBoundingClientRect().top)""")
        assert order == sorted(order), order
        show_qr = setup.get_by_text("Setting up on another device? Show QR code")
        # Reached by the keyboard, the disclosure is moved clear of the pinned buttons.
        open_app.focus()
        page.keyboard.press("Tab")
        expect(setup.get_by_role("button", name="Copy key")).to_be_focused()
        page.keyboard.press("Tab")
        expect(setup.locator("summary")).to_be_focused()
        assert show_qr.bounding_box()["y"] + show_qr.bounding_box()["height"] <= (
            pinned_buttons_top(page))
        page.keyboard.press("Enter")
        # Opened, the whole QR code shows above the buttons, not cut off under them.
        expect(qr).to_be_visible()
        page.wait_for_timeout(300)  # a smooth scroll, if any, has ended
        box = qr.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= pinned_buttons_top(page), (
            box, pinned_buttons_top(page))
        setup.get_by_role("button", name="Next").click()
        expect(ui.two_factor_step(setup, 4)).to_be_visible()
        expect(setup.get_by_label("Authenticator code", exact=True)).to_be_focused()
        setup.get_by_role("button", name="Back").click()
        expect(ui.two_factor_step(setup, 3)).to_be_focused()
        setup.get_by_role("button", name="Back").click()
        expect(ui.two_factor_step(setup, 2)).to_be_focused()
        setup.get_by_role("button", name="Close", exact=True).click()  # the phone's Cancel
        expect(setup).to_be_hidden()
        expect(page.locator("#totp-open-app")).not_to_have_attribute("href", re.compile("."))
    finally:
        context.close()


ACCOUNT_PAGES = ["Overview", "Profile", "Sign-in & security", "Security activity",
                 "Where you're signed in", "Delete account"]


def test_wide_screens_list_the_account_pages_beside_the_page(page, api):
    api.signup("alice")
    ui.log_in(page, "alice")
    board_width = page.locator("#board-view").bounding_box()["width"]  # the feed's column
    open_account(page)
    nav = page.get_by_role("navigation", name="Account")
    links = nav.get_by_role("link")
    expect(links).to_have_text(ACCOUNT_PAGES)
    expect(nav.get_by_role("link", name="Overview")).to_have_attribute("aria-current", "page")
    expect(page.locator("#account-back")).to_be_hidden()  # the list says where you are
    # Beside the content, on its left; the column widens for it on Account pages only.
    nav_box = nav.bounding_box()
    title_box = page.get_by_role("heading", name="Account", level=1).bounding_box()
    assert nav_box["x"] + nav_box["width"] <= title_box["x"], (nav_box, title_box)
    assert page.locator("main").bounding_box()["width"] > board_width + 150
    # Delete account is set apart (a rule above it) and red.
    looks = page.evaluate("""() => {
        const item = document.querySelector("#account-nav li:last-child");
        const link = item.querySelector("a");
        const probe = document.createElement("span");
        probe.style.color = "var(--danger)";
        document.body.append(probe);
        const danger = getComputedStyle(probe).color;
        probe.remove();
        return { rule: parseFloat(getComputedStyle(item).borderTopWidth),
                 color: getComputedStyle(link).color, danger };
    }""")
    assert looks["rule"] >= 1 and looks["color"] == looks["danger"], looks
    for name, heading in [("Profile", "Profile"), ("Security activity", "Security activity"),
                          ("Where you're signed in", "Where you're signed in"),
                          ("Delete account", "Delete account"),
                          ("Sign-in & security", "Sign-in & security")]:
        nav.get_by_role("link", name=name, exact=True).click()
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_focused()
        expect(nav.locator("[aria-current='page']")).to_have_text(name)
        expect(page.locator("#account-back")).to_be_hidden()
    # A section's address marks its page.
    page.goto(page.url.split("#")[0] + "#/account/two-factor")
    expect(nav.locator("[aria-current='page']")).to_have_text("Sign-in & security")
    # The board keeps its column.
    page.get_by_role("link", name="Board", exact=True).click()
    ui.board_loaded(page)
    assert page.locator("#board-view").bounding_box()["width"] == board_width


def test_the_overviews_links_are_normal_weight_and_underlined(page, api):
    """The check-up's links and the cards' links read as links, as GitHub's and Google's
    do: the link colour, underlined, at the text's own weight (bold ones looked heavy)."""
    api.signup("alice")
    page.set_viewport_size({"width": 1280, "height": 800})
    ui.log_in(page, "alice")
    open_account(page)
    checkup_links = page.locator("#checkup-list a")
    expect(checkup_links.first).to_be_visible()
    card_links = page.locator("#page-overview .overview-link:visible")
    expect(card_links.first).to_be_visible()
    body_weight = page.evaluate("getComputedStyle(document.body).fontWeight")
    looks = page.evaluate("""() => [...document.querySelectorAll(
            "#checkup-list a, #page-overview .overview-link")]
        .filter((a) => a.checkVisibility())
        .map((a) => { const s = getComputedStyle(a);
            return [a.textContent.trim(), s.fontWeight, s.textDecorationLine]; })""")
    assert len(looks) >= checkup_links.count() + 2, looks
    for _text, weight, line in looks:
        assert weight == body_weight and line == "underline", looks


def test_hovering_an_account_page_link_does_not_make_it_look_chosen(page, api):
    """Only the current page looks selected: hover is a fainter, neutral tint, no bar."""
    api.signup("alice")
    ui.log_in(page, "alice")
    open_account(page)
    nav = page.get_by_role("navigation", name="Account")
    ui.account_link(page, "Sign-in & security").click()
    current = nav.get_by_role("link", name="Sign-in & security")
    hovered = nav.get_by_role("link", name="Profile")
    hovered.hover()
    look = """(link) => { const style = getComputedStyle(link);
        return { background: style.backgroundColor, weight: style.fontWeight,
                 bar: getComputedStyle(link, "::before").content }; }"""
    chosen, hover = current.evaluate(look), hovered.evaluate(look)
    assert hover["background"] not in ("rgba(0, 0, 0, 0)", chosen["background"]), (hover, chosen)
    assert hover["bar"] == "none" and chosen["bar"] != "none", (hover, chosen)
    assert int(hover["weight"]) < int(chosen["weight"]), (hover, chosen)
    # The hover tint is fainter than the current page's (nearer the page behind it).
    page_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    def distance(colour):
        from_page = [float(n) for n in re.findall(r"[\d.]+", page_bg)[:3]]
        parts = [float(n) for n in re.findall(r"[\d.]+", colour)]
        if colour.startswith("color(srgb"):
            parts = [255 * n for n in parts[:3]] + parts[3:]
        alpha = parts[3] if len(parts) > 3 else 1
        return sum(abs(alpha * c + (1 - alpha) * b - b)
                   for c, b in zip(parts[:3], from_page, strict=True))
    assert distance(hover["background"]) < distance(chosen["background"]), (hover, chosen)


def test_phones_keep_the_back_link_instead_of_the_side_list(new_page, api):
    api.signup("alice")
    page = ui.signed_in(new_page, width=360, height=740)
    open_account(page)
    expect(page.get_by_role("navigation", name="Account")).to_be_hidden()
    # Narrow, the overview is the navigation: a list of rows, Delete account last, and
    # each whole row opens its page (its link is named for what it does there).
    rows = ui.overview(page)
    expect(rows.get_by_role("link")).to_have_count(5)
    expect(rows.get_by_role("link").last).to_have_accessible_name("Delete account")
    expect(rows.get_by_role("link").last).to_be_visible()
    first, second = (rows.get_by_role("listitem").nth(n).bounding_box() for n in (0, 1))
    assert second["y"] >= first["y"] + first["height"] - 1 and abs(second["x"] - first["x"]) < 1
    row = rows.get_by_role("listitem").filter(has_text="Security activity").bounding_box()
    assert row
    page.mouse.click(row["x"] + row["width"] - 10, row["y"] + row["height"] / 2)
    expect(page.get_by_role("heading", name="Security activity", level=1)).to_be_focused()
    expect(page.get_by_role("navigation", name="Account")).to_be_hidden()
    back = page.get_by_role("link", name="Account", exact=True)
    expect(back).to_be_visible()
    back.click()
    expect(page.get_by_role("heading", name="Account", level=1)).to_be_focused()


DAYS_NOW = "2026-03-10T12:00:00.000Z"  # a Tuesday; the browser runs in UTC
DAYS = [
    event(20, "sign_in", "2026-03-10T11:00:00.000Z", method="passkey"),
    event(21, "sign_in_failed", "2026-03-10T09:00:00.000Z", reason="code"),
    event(22, "password_changed", "2026-03-09T18:00:00.000Z"),
    event(23, "totp_enabled", "2026-03-09T17:00:00.000Z"),
    event(24, "locked", "2026-03-03T08:00:00.000Z", retry_after=60),
    event(25, "passkey_added", "2026-03-03T07:00:00.000Z"),
    event(26, "email_changed", "2026-03-03T06:00:00.000Z"),
    event(27, "session_ended", "2026-03-03T05:00:00.000Z"),
]
ICONS = ["signIn", "failed", "password", "twoFactor", "lock", "passkey", "email", "signOut"]


def test_security_activity_is_its_own_page_grouped_by_day_with_an_icon_per_kind(page, api):
    api.signup("alice")
    page.clock.set_fixed_time(DAYS_NOW)
    cors = {"Access-Control-Allow-Origin": "*"}
    page.route(re.compile(r".*/me/security-events\?.*"), lambda route: route.fulfill(
        status=200, headers=cors, json={"events": DAYS, "next_cursor": None}))
    ui.log_in(page, "alice")
    open_account(page)
    ui.account_link(page, "Security activity").click()
    expect(page).to_have_url(re.compile(r"#/account/activity$"))
    expect(page.get_by_role("heading", name="Security activity", level=1)).to_be_focused()
    days = page.locator("#activity-list").get_by_role("heading", level=2)
    expect(days).to_have_text(["Today", "Yesterday", "Tuesday, March 3"])
    # Shown in sentence case, as the board's day labels ("Today", not "TODAY").
    expect(days.first).to_have_css("text-transform", "none")
    assert days.first.inner_text() == "Today"
    # Each day is a list named by its heading, its entries in order, newest first.
    yesterday = page.get_by_role("list", name="Yesterday").get_by_role("listitem")
    expect(yesterday).to_have_count(2)
    expect(yesterday.first).to_contain_text("Password changed")
    items = activity_items(page)
    expect(items).to_have_count(len(DAYS))
    # Not "A session": the one reading this is signed in, so it was another (the API does
    # not say which browser it was; the row's device is the one that signed it out).
    expect(items.last.locator(".event-what")).to_have_text("Signed out another session")
    icons = page.evaluate("""() => [...document.querySelectorAll("#activity-list li.event")]
        .map((li) => li.querySelector("svg.event-icon")?.dataset.icon)""")
    assert icons == ICONS, icons
    # Device · address · time on one line: a clock time under an earlier day's heading. The
    # device is named as on Where you're signed in, its versions in the tooltip.
    where = items.nth(2).locator(".event-where")
    expect(where).to_have_text(re.compile(r"^Chrome on Linux · 192\.0\.2\.7 · 6:00\s?PM$"))
    expect(where.get_by_title("Chrome 131 on Linux")).to_have_text("Chrome on Linux")
    expect(items.first.locator(".event-where")).to_have_text(re.compile(r"\d:\d\d\s?[AP]M$"))
    # Sign-in & security keeps password, two-factor and passkeys, and no activity list.
    ui.account_link(page, "Sign-in & security").click()
    expect(page.get_by_role("heading", name="Sign-in & security", level=1)).to_be_visible()
    for region in ("Your password", "Two-factor authentication", "Passkeys"):
        expect(page.get_by_role("region", name=region)).to_be_visible()
    expect(page.locator("#page-security #activity-list, #page-security .event")).to_have_count(0)
    page.unroute_all(behavior="ignoreErrors")


def test_this_device_marks_this_browsers_sign_in_even_beside_an_identical_browser(new_page, api):
    """Two browsers alike in label and address: each marks only its own sign-in."""
    api.signup("alice")
    first = ui.signed_in(new_page)
    second = ui.signed_in(new_page)
    for page, mine in ((first, 1), (second, 0)):
        page.goto(page.url.split("#")[0] + "#/account/activity")
        items = activity_items(page)
        expect(items).to_have_count(2)
        expect(items.nth(0).locator(".event-where")).to_have_text(
            items.nth(1).locator(".event-where").inner_text())
        expect(items.get_by_text("This device", exact=True)).to_have_count(1)
        expect(items.nth(mine).get_by_text("This device", exact=True)).to_be_visible()
        # A sign-in is tagged, not questioned: "Wasn't you?" on neither (the page's one line
        # at the top covers a sign-in not recognised).
        expect(items.get_by_text("Wasn't you?")).to_have_count(0)
        # "New device" only where the API says so (the first sign-in of each browser), and
        # not beside "This device": this browser's own sign-in was the person.
        expect(items.get_by_text("New device", exact=True)).to_have_count(1)
        expect(items.nth(1 - mine).get_by_text("New device", exact=True)).to_be_visible()
        expect(items.nth(mine).get_by_text("New device", exact=True)).to_have_count(0)


def phone_dialog_buttons(dialog_node):
    """The open dialog's visible action buttons, top to bottom: words, kind and box."""
    return dialog_node.evaluate("""(dialog) => {
        const rows = [...dialog.querySelectorAll(".dialog-actions")]
            .filter((row) => row.offsetParent);
        return rows.flatMap((row) => {
            const inner = row.getBoundingClientRect();
            const style = getComputedStyle(row);
            const left = inner.left + parseFloat(style.paddingLeft);
            const width = inner.width - parseFloat(style.paddingLeft)
                - parseFloat(style.paddingRight);
            return [...row.querySelectorAll("button")].filter((b) => b.offsetParent).map((b) => {
                const box = b.getBoundingClientRect();
                return { text: b.textContent.trim(), main: /primary|danger/.test(b.className),
                         left: box.left - left, width: box.width / width, top: box.top,
                         bottom: box.bottom, height: box.height };
            });
        }).sort((a, b) => a.top - b.top);
    }""")


def stacked_main_first(buttons, expected):
    """Full width, one under another, the main action on top, 0.5rem (8 px) apart."""
    assert [b["text"] for b in buttons] == expected, buttons
    assert buttons[0]["main"] and not any(b["main"] for b in buttons[1:]), buttons
    for button in buttons:
        assert abs(button["left"]) < 1 and abs(button["width"] - 1) < 0.01, button
    gaps = [below["top"] - above["bottom"] for above, below in itertools.pairwise(buttons)]
    assert all(abs(gap - 8) < 1 for gap in gaps), (gaps, buttons)
    return [round(b["height"]) for b in buttons]


def test_on_a_phone_every_dialog_stacks_full_width_buttons_main_action_on_top(new_page, api):
    """One rule below 30rem for every dialog: the board's delete question, the step-up
    dialog (Change password…) and two-factor setup's steps lay their buttons out alike."""
    api.user("alice")
    api.post("alice", "delete me")
    page = ui.signed_in(new_page, width=360, height=740)
    heights = set()
    # The board's "Delete this message?"
    ui.messages(page).filter(has_text="delete me").get_by_role(
        "button", name=re.compile("^Delete")).click()
    confirm = page.get_by_role("dialog", name="Delete this message?")
    expect(confirm).to_be_visible()
    heights.update(stacked_main_first(phone_dialog_buttons(confirm), ["Delete", "Cancel"]))
    confirm.get_by_role("button", name="Cancel").click()
    # The step-up dialog, as Change password… opens it.
    page.goto(page.url.split("#")[0] + "#/account/security")
    page.get_by_role("button", name="Change password…").click()
    expect(dialog(page)).to_be_visible()
    heights.update(stacked_main_first(phone_dialog_buttons(dialog(page)),
                                      ["Change password", "Cancel"]))
    dialog(page).get_by_role("button", name="Cancel").click()
    # Two-factor setup, each step.
    setup = ui.open_two_factor_setup(page)
    # (its ✕ is its Cancel on a phone: no Cancel button repeating it)
    heights.update(stacked_main_first(phone_dialog_buttons(setup), ["I have an app"]))
    setup.get_by_role("button", name="I have an app").click()
    heights.update(stacked_main_first(phone_dialog_buttons(setup), ["Next", "Back"]))
    assert len(heights) == 1, heights  # one button height throughout
    setup.get_by_role("button", name="Close", exact=True).click()
    expect(setup).to_be_hidden()


def test_two_factor_on_a_phone_keeps_its_badge_buttons_and_label_tidy(new_page, api):
    """At 360 px: the On/Off badge stays on its heading's line, "Set up…" is one line (its
    name still says what it sets up), and "Turn off…" is a red-outlined button under the other."""
    api.signup("alice")
    page = ui.signed_in(new_page, width=360, height=740)
    page.goto(page.url.split("#")[0] + "#/account/security")
    section = page.get_by_role("region", name="Two-factor authentication")
    title = section.get_by_role("heading", level=2).first
    start = section.get_by_role("button", name="Set up two-factor authentication…", exact=True)
    expect(start).to_be_visible()

    def badge_on_the_last_line():
        return title.evaluate("""(heading) => {
            const badge = heading.querySelector(".badge").getBoundingClientRect();
            const words = document.createRange();
            words.selectNodeContents(heading);
            words.setEndBefore(heading.querySelector(".badge"));
            const lines = [...words.getClientRects()].filter((r) => r.width > 1);
            const last = lines.reduce((a, b) => (b.top > a.top ? b : a));
            const middle = (badge.top + badge.bottom) / 2;
            return middle > last.top && middle < last.bottom;
        }""")

    assert badge_on_the_last_line()
    box = start.bounding_box()
    assert box and box["height"] < 48, box  # "Set up…" on one line
    setup = ui.open_two_factor_setup(page)
    ui.turn_on_two_factor(setup)
    ui.keep_codes(setup)
    expect(section.locator("#totp-badge")).to_have_text("On")
    assert badge_on_the_last_line()
    renew = section.get_by_role("button", name="New recovery codes…")
    off = section.get_by_role("button", name="Turn off…")
    renew_box, off_box = renew.bounding_box(), off.bounding_box()
    assert renew_box and off_box and off_box["y"] > renew_box["y"] + renew_box["height"] - 1
    def words_left(button):
        return button.evaluate("""(button) => {
            const words = document.createRange();
            words.selectNodeContents(button);
            return words.getClientRects()[0].left;
        }""")
    # A button like the one above it (same edge, same inset of its words), outlined in red.
    assert abs(off_box["x"] - renew_box["x"]) < 0.5, (off_box, renew_box)
    assert abs((words_left(off) - off_box["x"]) - (words_left(renew) - renew_box["x"])) < 1
    assert off.evaluate("(b) => getComputedStyle(b).borderTopColor") == off.evaluate(
        "(b) => getComputedStyle(b).color")


def test_on_a_phone_an_activity_entrys_device_address_and_time_wrap_whole(new_page, api):
    """At 360 px "device · address · time" breaks between its facts, never leaving a "·"
    at a line's start or end."""
    api.signup("alice")
    page = new_page(width=360, height=740)
    page.clock.set_fixed_time(DAYS_NOW)
    wide = [dict(event(30 + n, "sign_in", f"2026-03-09T1{n}:00:00.000Z", method="password"),
                 ip=ip, device="Firefox 133 on Windows")
            for n, ip in enumerate(["2001:db8:85a3::8a2e:370:7334", "198.51.100.123"])]
    cors = {"Access-Control-Allow-Origin": "*"}
    page.route(re.compile(r".*/me/security-events\?.*"), lambda route: route.fulfill(
        status=200, headers=cors, json={"events": wide, "next_cursor": None}))
    ui.log_in(page, "alice")
    page.goto(page.url.split("#")[0] + "#/account/activity")
    expect(activity_items(page)).to_have_count(2)
    expect(activity_items(page).first.locator(".event-where")).to_have_text(
        re.compile(r"^Firefox on Windows · 2001:db8:85a3::8a2e:370:7334 · \d"))
    lines = page.locator("#activity-list .event-where").evaluate_all("""(lines) => lines.map(
        (line) => {
            const visible = line.getBoundingClientRect().left
                - parseFloat(getComputedStyle(line).marginLeft);
            return [...line.children].map((fact) => {
                const sep = fact.querySelector(".event-sep");
                const words = document.createRange();
                words.selectNodeContents(fact);
                if (sep) words.setStartAfter(sep);
                const rects = [...words.getClientRects()];
                return { top: fact.getBoundingClientRect().top, lines: new Set(
                             rects.map((r) => Math.round(r.top))).size,
                         words: Math.min(...rects.map((r) => r.left)), visible,
                         sep: sep ? sep.getBoundingClientRect().toJSON() : null };
            });
        })""")
    wrapped = 0
    for facts in lines:
        # Three facts, each "·" with the fact after it (no loose text between them).
        assert len(facts) == 3 and all(fact["sep"] for fact in facts[1:]), facts
        for index, fact in enumerate(facts):
            starts_line = index == 0 or fact["top"] > facts[index - 1]["top"] + 1
            wrapped += index > 0 and starts_line
            assert fact["lines"] == 1, facts  # breaks between facts, not inside one
            if starts_line:
                assert abs(fact["words"] - fact["visible"]) < 1, facts
                assert fact["sep"] is None or fact["sep"]["right"] <= fact["visible"] + 0.5, facts
            else:
                assert fact["sep"]["left"] >= fact["visible"] - 0.5, facts
    assert wrapped >= 1, lines


def test_the_overview_counts_sessions_from_this_device(new_page, api):
    """"This device + 1 other", as Google's account page counts: where one is, then the rest."""
    api.signup("alice")
    api.login("alice")  # a second session, elsewhere
    page = ui.signed_in(new_page)
    open_account(page)
    expect(page.locator("#ov-sessions")).to_have_text("This device + 1 other")


def list_passkeys(page, last_used: dict) -> None:
    """Answer GET /me/passkeys with these passkeys (name: last used, or None), added on
    March 7 and 9 in turn; other methods go through."""
    keys = [{"id": f"k{index + 1}", "name": name, "last_used_at": used,
             "created_at": f"2026-03-0{7 + 2 * index}T09:00:00.000Z"}
            for index, (name, used) in enumerate(last_used.items())]
    page.route(re.compile(r".*/me/passkeys$"), lambda route: route.fulfill(
        status=200, headers={"Access-Control-Allow-Origin": "*"}, json={"passkeys": keys})
        if route.request.method == "GET" else route.continue_())


def test_passkey_dates_are_relative_with_the_full_date_in_a_tooltip(page, api):
    """"Added 3 days ago · Last used today", as every other time in the app; the date in a title."""
    api.signup("alice")
    page.clock.set_fixed_time(DAYS_NOW)
    list_passkeys(page, {"Work laptop": "2026-03-10T08:00:00.000Z", "Phone": None})
    ui.log_in(page, "alice")
    ui.open_account(page, "Sign-in & security")
    facts = page.locator("#passkey-list .passkey-facts")
    expect(facts).to_have_text(
        ["Added 3 days ago · Last used today", "Added yesterday · Never used"])
    added = facts.first.locator("time").first
    expect(added).to_have_attribute("datetime", "2026-03-07T09:00:00.000Z")
    expect(added).to_have_attribute("title", re.compile(r"March 7, 2026"))
    page.unroute_all(behavior="ignoreErrors")


def test_destructive_triggers_share_one_quiet_style_and_their_confirms_one_solid_style(
        new_page, api):
    """Sign out everywhere else, Turn off two-factor and Delete account: one quiet red
    outline each; a row's own action (a passkey's Remove, a session's Sign out…) the same
    red as a word, one style for both (see test_passkey_rows_have_quiet_word_buttons), so
    a list of sessions is not a column of red boxes; each dialog's confirm one solid red."""
    api.signup("alice")
    page = new_page()
    list_passkeys(page, {"Work laptop": None})
    ui.log_in(page, "alice")
    api.login("alice")
    api.two_factor_on("alice")  # its own sign-in too: two other sessions, so "everywhere"
    page.reload()
    look = """(node) => { const s = getComputedStyle(node);
        return [s.color, s.backgroundColor, s.borderTopColor, s.borderTopWidth, s.fontWeight]; }"""
    triggers, confirms = {}, {}

    def confirm_of(trigger, name):
        trigger.click()
        dialog = page.get_by_role("dialog")
        confirms[name] = dialog.get_by_role("button", name=name, exact=True).evaluate(look)
        page.keyboard.press("Escape")
        expect(dialog).to_have_count(0)

    ui.open_account(page, "Sign-in & security")
    remove = page.get_by_role("button", name="Remove passkey Work laptop")
    off = page.get_by_role("button", name="Turn off…")
    row_remove, triggers["off"] = remove.evaluate(look), off.evaluate(look)
    confirm_of(remove, "Remove passkey")
    confirm_of(off, "Turn off")
    page.goto(page.url.split("#")[0] + "#/account/sessions")
    one = page.get_by_role("list", name="Other sessions").get_by_role("button").first
    everywhere = page.get_by_role("button", name="Sign out everywhere else…")
    row_sign_out, triggers["everywhere"] = one.evaluate(look), everywhere.evaluate(look)
    confirm_of(everywhere, "Sign out 2 sessions")
    page.goto(page.url.split("#")[0] + "#/account/danger")
    delete = page.get_by_role("button", name="Delete account…")
    triggers["delete"] = delete.evaluate(look)
    confirm_of(delete, "Delete my account")
    assert len({tuple(style) for style in triggers.values()}) == 1, triggers
    color, background, border, width, _ = triggers["off"]
    assert background == "rgba(0, 0, 0, 0)" and border == color and width == "1px", triggers
    assert row_remove[0] == color and row_remove[1] == row_remove[2] == background, row_remove
    assert row_sign_out == row_remove, (row_sign_out, row_remove)
    assert len({tuple(style) for style in confirms.values()}) == 1, confirms
    assert confirms["Turn off"][1] == confirms["Turn off"][2] != "rgba(0, 0, 0, 0)", confirms
    page.unroute_all(behavior="ignoreErrors")


@pytest.mark.parametrize(("width", "touch"), [(1280, False), (360, True)])
def test_passkey_rows_have_quiet_word_buttons(browser, web, api, problems, width, touch):
    """Rename and Remove on each passkey are words (link blue, danger red), not two boxes
    per row as reviewers found heavy (GitHub's list is quiet); still named after the
    passkey, at least 24 px tall (44 px on a touch screen), Remove still asking first."""
    api.signup("alice")
    device = dict(is_mobile=True, has_touch=True) if touch else {}
    context = app_context(browser, web.url, api.url,
                          viewport={"width": width, "height": 740}, **device)
    try:
        page = open_app(context, web.url, problems)
        list_passkeys(page, {"Work laptop": None, "Phone": None})
        ui.log_in(page, "alice")
        ui.open_account(page, "Sign-in & security")
        colours = page.evaluate("""() => {
            const probe = document.createElement("span");
            document.body.append(probe);
            const of = (value) => {
                probe.style.color = value;
                return getComputedStyle(probe).color;
            };
            const found = { link: of("var(--link)"), danger: of("var(--danger)") };
            probe.remove();
            return found;
        }""")
        look = """(node) => { const s = getComputedStyle(node);
            return { color: s.color, background: s.backgroundColor, border: s.borderTopColor,
                     height: node.getBoundingClientRect().height }; }"""
        for name in ("Work laptop", "Phone"):
            rename = page.get_by_role("button", name=f"Rename passkey {name}", exact=True)
            remove = page.get_by_role("button", name=f"Remove passkey {name}", exact=True)
            expect(rename).to_have_text("Rename")
            expect(remove).to_have_text("Remove")
            for button, colour in ((rename, colours["link"]), (remove, colours["danger"])):
                seen = button.evaluate(look)
                assert seen["color"] == colour, (name, seen, colours)
                assert seen["background"] == seen["border"] == "rgba(0, 0, 0, 0)", seen
                assert seen["height"] >= (44 if touch else 24), seen
        page.get_by_role("button", name="Remove passkey Phone").click()
        confirm = page.get_by_role("dialog", name="Remove the passkey “Phone”?")
        expect(confirm.get_by_role("button", name="Remove passkey")).to_be_visible()
        page.keyboard.press("Escape")
        expect(confirm).to_be_hidden()
        page.unroute_all(behavior="ignoreErrors")
    finally:
        context.close()
    assert problems.errors == []


@pytest.mark.parametrize(("width", "overview_words", "phone_words"),
                         [(1280, True, True), (800, False, True), (360, False, False)])
def test_words_give_way_only_where_there_is_no_room(new_page, api, width, overview_words,
                                                   phone_words):
    """The overview's link words hide below 60rem, a long label's extra words and the
    brand's name on a phone; read out everywhere (one visually-hidden block does it)."""
    api.signup("alice")
    page = ui.signed_in(new_page, width=width, height=740)
    open_account(page)
    shown = """(node) => { const s = getComputedStyle(node);
        return s.position !== "absolute" && node.getBoundingClientRect().width > 1; }"""
    action = page.locator(".overview-action").first
    expect(action).to_have_text("Edit profile")
    assert action.evaluate(shown) is overview_words
    extra = page.locator("#ov-security-facts .phone-hidden")
    assert extra.evaluate(shown) is phone_words
    assert page.locator(".brand-name").evaluate(shown) is phone_words
    expect(page.get_by_role("link", name="chalkboard")).to_be_visible()
    expect(page.get_by_role("link", name="Edit profile")).to_have_count(1)


def test_every_dialog_has_a_close_button_in_its_title_bar_that_cancels(page, api):
    """One pattern for every dialog, as GitHub's: a ✕ at the title's end that does what
    Cancel does: the board's delete, the account's step-up dialog, two-factor setup."""
    api.user("alice")
    api.post("alice", "a message to keep")
    ui.log_in(page, "alice")

    def close_of(dialog):
        close = dialog.get_by_role("button", name="Close", exact=True)
        title = dialog.get_by_role("heading", level=2).first.bounding_box()
        box = close.bounding_box()
        frame = dialog.bounding_box()
        assert title and box and frame
        assert box["x"] > title["x"] and box["y"] < title["y"] + title["height"], (title, box)
        assert frame["x"] + frame["width"] - (box["x"] + box["width"]) < 24, (frame, box)
        return close

    ui.messages(page).first.get_by_role("button", name=re.compile("^Delete")).click()
    confirm = page.get_by_role("dialog", name="Delete this message?")
    close_of(confirm).click()
    expect(confirm).to_be_hidden()
    expect(ui.messages(page)).to_have_count(1)

    ui.open_account(page, "Sign-in & security")
    change = page.get_by_role("button", name="Change password…")
    change.click()
    step_up = page.get_by_role("dialog", name="Change password")
    step_up.get_by_label("Current password").fill("typed")
    close_of(step_up).click()
    expect(step_up).to_be_hidden()
    expect(change).to_be_focused()
    change.click()
    expect(step_up.get_by_label("Current password")).to_have_value("")  # nothing kept

    page.keyboard.press("Escape")
    setup = ui.open_two_factor_setup(page)
    close_of(setup).click()
    expect(setup).to_be_hidden()
    expect(page.get_by_role("region", name="Two-factor authentication").locator(
        "#totp-badge")).to_have_text("Off")
