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
    ui.account_link(page, section).click()
    expect(page.get_by_role("heading", name=section, level=1)).to_be_focused()


IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1")
WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


def this_device(page):
    return page.get_by_role("list", name="This device").get_by_role("listitem")


def others(page):
    return page.get_by_role("list", name="Other sessions").get_by_role("listitem")


def sessions(page):
    """Every session shown: this device's, then the others."""
    return page.locator("#page-sessions li.session")


def done(page):
    """The sessions page's live region (the board's own status line is also on the page)."""
    return page.get_by_role("status").filter(has_text="Signed out")


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def aged(page, changes):
    """Answer GET /me/sessions with some sessions moved into the past, as the API would
    date them: ``changes`` maps a User-Agent to (days since sign-in, hours since its
    last request[, method])."""
    def answer(route):
        response = route.fetch()
        body = response.json()
        for session in body["sessions"]:
            change = changes.get(session["user_agent"])
            if change is None:
                continue
            last = datetime.fromisoformat(session["last_used_at"].replace("Z", "+00:00"))
            session["created_at"] = iso(last - timedelta(days=change[0]))
            session["last_used_at"] = iso(last - timedelta(hours=change[1]))
            if len(change) > 2:
                session["method"] = change[2]
        route.fulfill(response=response, json=body)

    page.route(re.compile(r".*/me/sessions$"), answer)


def bounced_to_login(page):
    """The page's next request finds its session ended and shows the login page."""
    # The board's poll, asked now (a Refresh click would race the poll's own timer).
    page.evaluate("() => window.dispatchEvent(new Event('focus'))")
    expect(ui.login_heading(page)).to_be_visible()
    expect(page.locator("#auth-notice")).to_contain_text("Your session has ended")


def test_this_device_comes_first_then_the_others_by_their_last_activity(new_page, api):
    api.signup("alice")
    api.login("alice", user_agent=IPHONE)
    api.login("alice", user_agent=WINDOWS)  # signed in after the iPhone, active before it
    here = new_page()
    # The iPhone signed in 3 days ago with a passkey and was active 2 hours ago; the
    # Windows browser 20 days ago, active 26 hours ago.
    aged(here, {IPHONE: (3, 2, "passkey"), WINDOWS: (20, 26)})
    ui.log_in(here, "alice")
    open_account(here)
    expect(sessions(here)).to_have_count(3)

    # This device first, set apart: a chip and a tinted panel; named as people know it
    # ("HeadlessChrome 131" is Chrome, and nobody knows its version).
    expect(this_device(here)).to_have_count(1)
    this = this_device(here).first
    expect(this.locator(".session-name")).to_have_text("Chrome on Linux")
    expect(this.locator(".badge")).to_have_text("This device")
    assert this.evaluate("(row) => getComputedStyle(row).backgroundColor") != this.evaluate(
        "(row) => getComputedStyle(row.closest('.card')).backgroundColor")
    expect(this.locator(".session-active")).to_have_text("Active now · IP address 127.0.0.1")
    expect(this.locator(".session-signed-in")).to_have_text(
        re.compile(r"^Signed in (today|yesterday) at \d{1,2}:\d\d [AP]M · with a password$"))
    expect(this.get_by_role("button")).to_have_count(0)  # it is left with the header's sign-out

    # Then "Other sessions (2)", the most recently active first, each with its icon.
    expect(here.get_by_role("heading", name="Other sessions (2)", level=2)).to_be_visible()
    expect(others(here).locator(".session-name")).to_have_text(
        ["Safari on iPhone", "Firefox on Windows"])
    assert [icon.get_attribute("data-kind") for icon in sessions(here).locator("svg").all()] == [
        "desktop", "phone", "desktop"]
    expect(sessions(here).locator("svg[aria-hidden='true']")).to_have_count(3)

    # Last active and signed in, told apart; the end said last, smaller.
    iphone, windows = others(here).nth(0), others(here).nth(1)
    expect(iphone.locator(".session-active")).to_have_text(
        "Last active 2 hr. ago · IP address 127.0.0.1")
    expect(windows.locator(".session-active")).to_have_text(
        "Last active yesterday · IP address 127.0.0.1")
    signed_in = iphone.locator(".session-signed-in")
    expect(signed_in).to_have_text(
        re.compile(r"^Signed in [A-Z][a-z]{2} \d{1,2}(, \d{4})? at \d{1,2}:\d\d [AP]M"
                   r" · with a passkey$"))
    stamp = signed_in.locator("time")
    assert ISO.match(stamp.get_attribute("datetime") or "")
    expect(stamp).to_have_attribute("title", re.compile(r"\d{4}"))
    # No "Expires in 7 days" on the row's visible lines (reviewers read it as a warning):
    # it is the last of the technical details.
    expect(iphone.get_by_text(re.compile("Expires"))).to_be_hidden()

    # The version and the raw User-Agent on demand, under "Technical details": the
    # parsed browser and system first, then the raw User-Agent it was read from, then
    # when the session ends if left alone.
    details = iphone.locator("details")
    expect(details.locator("dd").first).to_be_hidden()
    details.get_by_text("Technical details", exact=True).click()
    # Named as the row names it ("Safari", not ua-parser's "Mobile Safari"), with the version.
    expect(details.locator("dt")).to_have_text(["Browser", "System", "User-Agent", "Expires"])
    expect(details.locator("dd")).to_have_text(
        ["Safari 17", "iOS", IPHONE, re.compile(r"^in \d+ days$")])
    expect(details.locator("dd time")).to_have_attribute("title", re.compile(r"\d{4}"))
    expect(details.locator("code")).to_have_text(IPHONE)
    parsed, raw = (details.locator("dd").nth(n).bounding_box() for n in (0, 2))
    assert parsed and raw and parsed["y"] < raw["y"], (parsed, raw)

    # Each Sign out names its session; one for all the others, when there are two or more.
    expect(iphone.get_by_role("button", name="Sign out Safari on iPhone…", exact=True)
           ).to_be_visible()
    expect(windows.get_by_role("button", name="Sign out Firefox on Windows…", exact=True)
           ).to_be_visible()
    expect(here.get_by_role("button", name="Sign out everywhere else")).to_be_visible()


def test_signing_out_another_session_sends_that_browser_to_login(new_page, api):
    api.user("alice")  # a session the test holds, to see it untouched
    elsewhere = ui.signed_in(new_page)
    here = ui.signed_in(new_page)
    open_account(here)
    expect(sessions(here)).to_have_count(3)
    everywhere = here.get_by_role("button", name="Sign out everywhere else")
    expect(everywhere).to_be_visible()
    # End the other browser's session: the most recently active of the others.
    expect(others(here).locator(".session-name")).to_have_text(
        ["Chrome on Linux", "Unknown device"])
    others(here).first.get_by_role("button", name="Sign out Chrome on Linux").click()
    # Asked first, naming the session, as "Sign out everywhere else…" asks; Cancel keeps it.
    confirm = here.get_by_role("dialog", name="Sign out Chrome on Linux?")
    expect(confirm).to_contain_text("Chrome on Linux will have to sign in again.")
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()
    expect(sessions(here)).to_have_count(3)
    others(here).first.get_by_role("button", name="Sign out Chrome on Linux").click()
    confirm.get_by_role("button", name="Sign out", exact=True).click()
    expect(done(here)).to_have_text("Signed out Chrome on Linux.")
    expect(sessions(here)).to_have_count(2)
    expect(here.get_by_role("heading", name="Other sessions (1)")).to_be_visible()
    # One other session left: its own Sign out is the only one, no twin beside it.
    expect(everywhere).to_be_hidden()
    # The keyboard stays in the list: on the next session's Sign out.
    expect(others(here).first.get_by_role("button", name="Sign out Unknown device")
           ).to_be_focused()
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
    everywhere = here.get_by_role("button", name="Sign out everywhere else")
    dialog = here.get_by_role("dialog", name="Sign out of 2 other sessions?")
    # It asks first, saying which sessions end; Cancel ends none.
    everywhere.click()
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(
        "Chrome on Linux and Unknown device will each have to sign in again.")
    expect(dialog).to_contain_text("This device stays signed in.")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(everywhere).to_be_focused()
    expect(sessions(here)).to_have_count(3)

    everywhere.click()
    dialog.get_by_role("button", name="Sign out 2 sessions").click()
    expect(dialog).to_be_hidden()
    expect(here.get_by_role("status").filter(has_text="Signed out of")).to_have_text(
        "Signed out of 2 other sessions. Only this device is signed in now."
    )
    expect(sessions(here)).to_have_count(1)
    expect(this_device(here).first).to_contain_text("This device")
    expect(everywhere).to_be_hidden()
    heading = here.get_by_role("heading", name="Other sessions", exact=True)
    expect(heading).to_be_focused()
    expect(here.get_by_text("You're only signed in here.")).to_be_visible()
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
    agent = "chalkboard-sync/2.1 (nightly <b>export</b> job; contact ops@example.test)"
    reply = request("POST", api.url + "/login", {"username": "alice", "password": PASSWORD},
                    headers={"User-Agent": agent})
    assert reply.status == 200, reply.body
    here = ui.signed_in(new_page)
    open_account(here)
    expect(sessions(here)).to_have_count(2)
    script = others(here).first
    # The API's "Unknown device", as the security activity says it, and the start of what it sent.
    expect(script.locator(".session-name")).to_have_text(f"Unknown device ({agent[:40]}…)")
    expect(script.locator("svg")).to_have_attribute("data-kind", "unknown")
    # All of it under "Technical details", as text: markup in a User-Agent stays text.
    script.get_by_text("Technical details", exact=True).click()
    expect(script.locator("code")).to_have_text(agent)
    expect(script.locator("details b")).to_have_count(0)
    expect(script.locator("details dt")).to_have_text(["User-Agent", "Expires"])  # no label
    # Its Sign out sits at the row's right edge, beside the description: a word, as a
    # passkey's Remove, so its letters (not its padding) end at the edge.
    row = script.bounding_box()
    sign_out = script.get_by_role("button", name="Sign out")
    button = sign_out.bounding_box()
    padding = float(sign_out.evaluate("(node) => getComputedStyle(node).paddingRight")[:-2])
    assert row and button
    assert abs((button["x"] + button["width"] - padding) - (row["x"] + row["width"])) < 2
    assert button["y"] < row["y"] + row["height"] / 2


def test_signing_out_the_last_other_session_says_so_and_keeps_the_focus_near(new_page, api):
    api.user("alice")  # a session without a browser
    here = ui.signed_in(new_page)
    open_account(here)
    expect(here.get_by_role("heading", name="Other sessions (1)")).to_be_visible()
    # With one other session, "Sign out everywhere else" would only repeat its Sign out.
    expect(others(here).first.get_by_role("button", name="Sign out Unknown device")
           ).to_be_visible()
    expect(here.get_by_role("button", name="Sign out everywhere else")).to_be_hidden()
    others(here).first.get_by_role("button", name="Sign out Unknown device").press("Enter")
    here.get_by_role("dialog", name="Sign out Unknown device?").get_by_role(
        "button", name="Sign out", exact=True).press("Enter")
    expect(done(here)).to_have_text("Signed out Unknown device.")
    # Nothing left to sign out: the heading takes the focus, over the empty state.
    heading = here.get_by_role("heading", name="Other sessions", exact=True)
    expect(heading).to_be_focused()
    expect(others(here)).to_have_count(0)
    expect(here.get_by_text("You're only signed in here.")).to_be_visible()
    expect(here.get_by_role("button", name="Sign out everywhere else")).to_be_hidden()
    assert api.call("GET", "/me", token=api.tokens["alice"]["access_token"]).status == 401


# The API's label (ua-parser's names, with versions) and kind → the name people know.
NAMES = [
    ("HeadlessChrome 131 on Linux", "desktop", "Chrome on Linux"),
    ("Chrome 131 on Mac OS X", "desktop", "Chrome on macOS"),
    ("Firefox 133 on Windows", "desktop", "Firefox on Windows"),
    ("Edge 131 on Windows", "desktop", "Edge on Windows"),
    ("Chrome 131 on Chrome OS", "desktop", "Chrome on ChromeOS"),
    ("Mobile Safari 17 on iOS", "phone", "Safari on iPhone"),
    ("Mobile Safari 17 on iOS", "tablet", "Safari on iPad"),
    ("Chrome Mobile iOS 131 on iOS", "phone", "Chrome on iPhone"),
    ("Firefox iOS 133 on iOS", "phone", "Firefox on iPhone"),
    ("Chrome Mobile 131 on Android", "phone", "Chrome on an Android phone"),
    ("Chrome 131 on Android", "tablet", "Chrome on an Android tablet"),
    ("Samsung Internet 26 on Android", "phone", "Samsung Internet on an Android phone"),
    ("curl 8", "unknown", "curl"),
    ("Unknown device", "unknown", "Unknown device"),
]


def test_devices_are_named_by_browser_and_system_without_versions(page):
    names = page.evaluate(
        """async (cases) => {
            const { deviceName } = await import("./js/lib/devices.js");
            return cases.map(([label, kind]) => deviceName(label, kind));
        }""",
        [[label, kind] for label, kind, _ in NAMES],
    )
    assert names == [name for _, _, name in NAMES]


def test_on_a_phone_the_session_facts_wrap_whole_with_no_dangling_dot(new_page, api):
    """At 360 px a session's facts ("Signed in Dec 4 at 3:05 PM", "with a password and a
    two-factor code") go to the next line whole: no line starts or ends with a "·"."""
    api.signup("alice")
    api.login("alice", user_agent=IPHONE)
    api.login("alice", user_agent=WINDOWS)
    here = new_page(width=360, height=740)
    aged(here, {IPHONE: (3, 2, "passkey"), WINDOWS: (20, 26, "totp")})
    ui.log_in(here, "alice")
    open_account(here)
    expect(sessions(here)).to_have_count(3)
    expect(others(here).nth(1).locator(".session-signed-in")).to_have_text(
        re.compile(r"^Signed in .* · with a password and a two-factor code$"))
    lines = here.evaluate("""() => [...document.querySelectorAll(
            "#page-sessions .session-active, #page-sessions .session-signed-in")].map((line) => {
        const style = getComputedStyle(line);
        const sep = parseFloat(style.marginLeft);  // the clipped strip left of the column
        const visible = line.getBoundingClientRect().left - sep;
        const lineHeight = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.5;
        return [...line.querySelectorAll(".session-fact")].map((fact) => {
            const box = fact.getBoundingClientRect();
            const dot = fact.querySelector(".session-sep")?.getBoundingClientRect() ?? null;
            const words = document.createRange();  // the fact less its "·"
            words.selectNodeContents(fact);
            const sep = fact.querySelector(".session-sep");
            if (sep) words.setStartAfter(sep);
            return { text: fact.textContent, top: box.top, height: box.height, lineHeight,
                     visible, textLeft: Math.min(...[...words.getClientRects()].map((r) => r.left)),
                     dotLeft: dot ? dot.left : null, dotRight: dot ? dot.right : null };
        });
    })""")
    assert len(lines) == 6, lines
    wrapped = 0
    for facts in lines:
        assert facts, lines
        for index, fact in enumerate(facts):
            starts_line = index == 0 or fact["top"] > facts[index - 1]["top"] + 1
            # Each fact is one line: the line breaks between facts, not inside one (unless
            # the fact alone is longer than a line: then it has its lines to itself).
            ends_line = index == len(facts) - 1 or facts[index + 1]["top"] > fact["top"] + 1
            if fact["height"] >= 1.5 * fact["lineHeight"]:
                assert starts_line and ends_line, fact
            wrapped += index > 0 and starts_line
            if starts_line:
                # Its words (every line of them) start at the column's edge; its "·" (if
                # any) is out of sight.
                assert abs(fact["textLeft"] - fact["visible"]) < 1, fact
                if fact["dotRight"] is not None:
                    assert fact["dotRight"] <= fact["visible"] + 0.5, fact
            else:
                # Mid-line: the "·" is seen, between this fact and the one before it.
                assert fact["dotLeft"] >= fact["visible"] - 0.5, fact
    assert wrapped >= 1, lines  # at 360 px at least one line does break


def test_security_activity_names_the_session_signed_out_and_a_plain_sign_out(new_page, api):
    api.user("alice")
    api.login("alice", user_agent=IPHONE)
    gone = api.login("alice", user_agent=WINDOWS)
    assert request("POST", api.url + "/logout", {}, token=gone["access_token"],
                   headers={"User-Agent": WINDOWS}).status == 204
    here = ui.signed_in(new_page)
    open_account(here)
    others(here).filter(has_text="Safari on iPhone").get_by_role(
        "button", name="Sign out Safari on iPhone…").click()
    here.get_by_role("dialog", name="Sign out Safari on iPhone?").get_by_role(
        "button", name="Sign out", exact=True).click()
    expect(done(here)).to_have_text("Signed out Safari on iPhone.")
    ui.account_link(here, "Security activity").click()
    events = here.locator("#page-activity li.event")
    # This browser ended the iPhone's session: the row names the one that ended.
    expect(events.first.locator(".event-what")).to_have_text("Signed out Safari on iPhone")
    # Firefox signed itself out: not "another session", just "Signed out", on its row.
    plain = events.filter(has_text="Firefox on Windows").filter(
        has=here.locator(".event-what", has_text=re.compile(r"^Signed out$")))
    expect(plain).to_have_count(1)
    expect(events.filter(has_text="another session")).to_have_count(0)


def test_the_sessions_intro_says_in_plain_words_what_signing_out_does(page, api):
    """No developer language ("its next request is refused"): what a person does, and what
    happens to the session."""
    api.signup("alice")
    ui.log_in(page, "alice")
    open_account(page)
    intro = page.locator("#page-sessions > .hint")
    expect(intro).to_have_text("Each sign-in is a session on one browser or device. "
                               "Don't recognise one? Sign it out — it will have to sign in again.")
