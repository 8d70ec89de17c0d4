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
    page.get_by_role("link", name="Sign in").click()
    expect(ui.login_heading(page)).to_be_visible()
    expect(page.get_by_label("Password", exact=True)).to_have_attribute(
        "autocomplete", "current-password"
    )
    expect(page.get_by_role("button", name="Sign up")).to_have_count(0)


def field_error(page, field):
    return page.locator(f"#{field}-problem")


def test_sign_up_checks_the_rules_as_the_person_types_and_sends_nothing_invalid(page, api):
    ui.open_sign_up(page)
    username = page.get_by_label("Username", exact=True)
    password = page.get_by_label("Password", exact=True)
    username_hint = page.locator("#username-hint")
    password_hint = page.locator("#password-hint")
    expect(username).to_have_accessible_description(re.compile("3 to 32 characters"))
    sent = []
    page.on("request", lambda request: "/signup" in request.url and sent.append(request.url))
    username.fill("bad name!")
    expect(username_hint).to_have_class(re.compile(r"\bwarn\b"))  # at once, while typing
    password.focus()  # leaving the field shows the sentence beside it
    # Short, naming what is wrong in what was typed, in the sentence's normal weight.
    expect(field_error(page, "username")).to_have_text(
        "Usernames cannot contain “!” or spaces. Use letters, digits and _ . -"
    )
    expect(field_error(page, "username")).to_have_css("font-weight", "400")
    expect(username).to_have_attribute("aria-invalid", "true")
    expect(username).to_have_accessible_description(re.compile("^Usernames cannot contain “!”"))
    expect(username_hint).to_be_hidden()  # the red sentence, not the grey rule again beside it
    password.fill("short")
    expect(password_hint).to_have_class(re.compile(r"\bwarn\b"))
    page.get_by_role("button", name="Sign up").click()
    expect(username).to_be_focused()  # the first field at fault
    expect(field_error(page, "password")).to_have_text(
        "Use at least 12 characters for your password; this one has 5."
    )
    expect(password).to_have_attribute("aria-invalid", "true")
    assert sent == []  # nothing the server would refuse was sent
    username.fill("good.name.here")
    expect(field_error(page, "username")).to_have_text("")  # fixed: the error goes as they type
    expect(username).to_have_attribute("aria-invalid", "false")
    expect(username_hint).not_to_have_class(re.compile(r"\bwarn\b"))
    expect(username_hint).to_be_visible()
    password.fill("Good.Name.Here")
    expect(field_error(page, "password")).to_have_text(
        "Choose a password that is not your username."
    )
    password.fill(ui.PASSWORD)
    expect(password_hint).not_to_have_class(re.compile(r"\bwarn\b"))
    expect(field_error(page, "password")).to_have_text("")
    page.get_by_role("button", name="Sign up").click()
    ui.board_loaded(page)


def test_common_password_is_refused_beside_the_password_in_a_sentence(page, api):
    ui.open_sign_up(page)
    ui.fill_credentials(page, "carol", "password1234")
    page.get_by_role("button", name="Sign up").click()
    expect(field_error(page, "password")).to_have_text(
        "Password is too common; choose one that is harder to guess."
    )
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    expect(page.get_by_label("Password", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(ui.board_heading(page)).to_be_hidden()


def test_taken_username_is_said_beside_the_username_which_gets_the_focus(page, api):
    api.signup("alice")
    ui.open_sign_up(page)
    ui.fill_credentials(page, "ALICE", "another long passphrase")
    page.get_by_role("button", name="Sign up").click()
    username = page.get_by_label("Username", exact=True)
    expect(field_error(page, "username")).to_have_text(
        "That username is taken. Choose another one."
    )
    expect(username).to_be_focused()
    expect(username).to_have_accessible_description(re.compile("^That username is taken"))
    expect(page.get_by_role("button", name="Sign up")).to_be_enabled()
    username.fill("alice2")
    expect(field_error(page, "username")).to_have_text("")


def test_wrong_password_is_said_in_a_sentence(page, api):
    api.signup("alice")
    ui.fill_credentials(page, "alice", "not the right password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(auth_error(page)).to_have_text(
        "That username and password do not match an account. Check both and try again."
    )
    expect(ui.login_heading(page)).to_be_visible()
    assert ui.stored_session(page) is None


def test_log_in_with_an_empty_field_says_which(page, api):
    page.get_by_label("Username", exact=True).fill("alice")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(field_error(page, "password")).to_have_text("Enter a password.")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()


def test_log_in_button_shows_progress_while_waiting(page, api):
    api.signup("alice")
    release = []
    page.route(f"{api.url}/login", lambda route: release.append(route))
    ui.fill_credentials(page, "alice", ui.PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    busy = page.get_by_role("button", name="Signing in…")
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
    button = page.get_by_role("button", name="Sign in", exact=True)
    for _ in range(6):
        button.click()
        expect(auth_error(page)).to_be_visible()
        expect(button).to_be_enabled()
    expect(auth_error(page)).to_have_text(
        re.compile(
            r"^Too many failed attempts for this account; try again later "
            r"\(in about \d+ (seconds|minutes)\)\.$"
        )
    )


def test_unreachable_server_on_log_in_says_so(page, api):
    api.signup("alice")
    api.stop()
    ui.fill_credentials(page, "alice", ui.PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
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
    ui.sign_out(page)
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
    expect(field_error(phone, "username")).to_be_visible()
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 360
    save_screenshot(phone, "signup-phone.png")


def test_passkey_sign_in_is_offered_on_the_login_form_only(page):
    passkey = page.get_by_role("button", name="Sign in with a passkey")
    expect(ui.login_heading(page)).to_be_visible()
    expect(passkey).to_be_visible()
    ui.open_sign_up(page)
    expect(passkey).to_be_hidden()
    page.get_by_role("link", name="Sign in").click()
    expect(ui.login_heading(page)).to_be_visible()
    expect(passkey).to_be_visible()


def test_a_refused_two_factor_code_is_one_short_sentence_tied_to_the_field(page, api):
    api.signup("alice")
    api.two_factor_on("alice")
    ui.fill_credentials(page, "alice", ui.PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    code = ui.sign_in_code(page)
    expect(code).to_be_focused()
    code.fill("000000")
    page.get_by_role("button", name="Verify").click()
    problem = page.locator("#mfa-code-problem")
    # A mistyped code is the usual cause: the sentence says to check it, not just to wait.
    expect(problem).to_have_text(
        "Wrong code: check it, or try the next one.")
    expect(code).to_have_attribute("aria-invalid", "true")
    described = (code.get_attribute("aria-describedby") or "").split()
    assert "mfa-code-problem" in described, described
    expect(code).to_be_focused()
    expect(page.locator("#mfa-error")).to_be_empty()  # said once, next to the field
    lines = problem.evaluate(
        "(node) => node.getBoundingClientRect().height"
        " / parseFloat(getComputedStyle(node).lineHeight)")
    assert lines < 1.5, lines  # one line on a desktop
    # Starting over clears the mark.
    page.get_by_role("button", name="Start over").click()
    expect(code).to_be_hidden()
    expect(code).to_have_attribute("aria-invalid", "false")
    expect(problem).to_be_empty()


def test_the_forgot_password_label_has_room_above_it(page, api):
    page.get_by_role("link", name="Forgot password?").click()
    label = page.get_by_text("Username or email address", exact=True)
    expect(label).to_be_visible()
    gap = page.evaluate(
        """() => {
            const hint = document.querySelector("#forgot-form > .hint");
            const label = document.querySelector("label[for='forgot-name']");
            return label.getBoundingClientRect().top - hint.getBoundingClientRect().bottom;
        }""")
    assert gap >= 12, gap


def test_the_reset_page_has_a_show_toggle_for_its_new_passwords(page, api):
    """The same as changing it (test_account.py): a Show/Hide button at the end of each
    field, both fields the same width, each button showing its own field."""
    page.goto(page.url.split("#")[0] + "#/reset?token=not-a-real-one")
    expect(page.get_by_role("heading", name="Choose a new password", level=1)).to_be_visible()
    form = page.locator("#reset-form")
    new = form.get_by_label("New password", exact=True)
    again = form.get_by_label("New password again", exact=True)
    expect(form.get_by_role("checkbox")).to_have_count(0)
    assert abs(new.bounding_box()["width"] - again.bounding_box()["width"]) < 1
    for what, field, other in (("new password", new, again), ("new password again", again, new)):
        field.fill("a brand new passphrase")
        show = form.get_by_role("button", name=f"Show {what}", exact=True)
        expect(show).to_have_attribute("aria-controls", field.get_attribute("id"))
        box, button = field.bounding_box(), show.bounding_box()
        assert button["x"] > box["x"] + box["width"] - 1
        assert abs(button["y"] - box["y"]) < box["height"]
        show.click()
        expect(field).to_have_attribute("type", "text")
        expect(other).to_have_attribute("type", "password")
        form.get_by_role("button", name=f"Hide {what}", exact=True).click()
        expect(field).to_have_attribute("type", "password")


def test_the_reset_page_says_under_its_heading_that_saving_signs_out_everywhere(page, api):
    page.goto(page.url.split("#")[0] + "#/reset?token=not-a-real-one")
    heading = page.get_by_role("heading", name="Choose a new password", level=1)
    expect(heading).to_be_visible()
    lead = page.get_by_text("Saving it signs you out everywhere, this browser included.")
    expect(lead).to_be_visible()
    # A line under the heading, as every sign-in page has, before the first field.
    label = page.locator("label[for='reset-password']")
    assert heading.bounding_box()["y"] < lead.bounding_box()["y"] < label.bounding_box()["y"]
    expect(lead).to_have_css("font-size", page.locator("#auth-lead").evaluate(
        "(node) => getComputedStyle(node).fontSize"))


@pytest.mark.parametrize("route", ["login", "signup"])
def test_the_switch_link_wraps_whole_on_a_phone(new_page, route):
    page = new_page(width=360, height=740)
    page.goto(page.url.split("#")[0] + f"#/{route}")
    link = page.locator("#auth-switch")
    expect(link).to_be_visible()
    assert link.evaluate("(node) => node.getClientRects().length") == 1


def test_the_code_step_can_ask_for_a_recovery_code_instead(page, api):
    api.signup("alice")
    api.two_factor_on("alice")
    ui.fill_credentials(page, "alice", ui.PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    code = ui.sign_in_code(page)
    expect(code).to_have_attribute("inputmode", "numeric")
    page.get_by_role("button", name="Use a recovery code").click()
    # The same field (POST /login/totp takes either), asked for as a recovery code.
    recovery = page.get_by_label("Recovery code", exact=True)
    expect(recovery).to_be_focused()
    expect(recovery).to_have_attribute("inputmode", "text")
    expect(recovery).to_have_accessible_description(re.compile(
        r"recovery codes you saved .* Each looks like [a-z2-9]{5}\u2011[a-z2-9]{5}"
        r" and works once\."))
    recovery.fill("aaaa-bbbb-cccc")
    page.get_by_role("button", name="Verify").click()
    expect(recovery).to_have_accessible_description(
        re.compile("^That recovery code didn't work. Check it: each one works only once."))
    expect(recovery).to_have_attribute("aria-invalid", "true")
    page.get_by_role("button", name="Use a code from your app").click()
    expect(ui.sign_in_code(page)).to_have_attribute("aria-invalid", "false")
    expect(page.get_by_role("button", name="Use a recovery code")).to_be_visible()


def test_switching_to_a_recovery_code_starts_with_an_empty_field(page, api):
    api.signup("alice")
    api.two_factor_on("alice")
    ui.fill_credentials(page, "alice", ui.PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    ui.sign_in_code(page).fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(ui.sign_in_code(page)).to_have_attribute("aria-invalid", "true")
    page.get_by_role("button", name="Use a recovery code").click()
    recovery = page.get_by_label("Recovery code", exact=True)
    expect(recovery).to_be_focused()
    expect(recovery).to_have_value("")
    expect(recovery).to_have_attribute("aria-invalid", "false")


def test_the_code_step_has_one_heading_its_own_title(page, api):
    """As GitHub's two-factor page: the step's title is the page's one heading and the
    tab's title, not "Sign in" over a second heading; Start over brings "Sign in" back."""
    api.signup("alice")
    authenticator = api.two_factor_on("alice")
    view = page.locator("#auth-view")
    ui.fill_credentials(page, "alice", ui.PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(ui.sign_in_code(page)).to_be_focused()
    expect(view.get_by_role("heading")).to_have_count(1)
    expect(page.get_by_role("heading", name="Two-factor code", level=1)).to_be_visible()
    expect(page.get_by_role("form", name="Two-factor code")).to_be_visible()
    expect(page).to_have_title("Two-factor code · chalkboard")
    page.get_by_role("button", name="Use a recovery code").click()
    expect(page.get_by_label("Recovery code", exact=True)).to_be_focused()
    expect(view.get_by_role("heading")).to_have_count(1)
    expect(page.get_by_role("heading", name="Enter a recovery code", level=1)).to_be_visible()
    expect(page).to_have_title("Enter a recovery code · chalkboard")
    page.get_by_role("button", name="Use a code from your app").click()
    expect(page.get_by_role("heading", name="Two-factor code", level=1)).to_be_visible()
    expect(page).to_have_title("Two-factor code · chalkboard")
    page.get_by_role("button", name="Start over").click()
    expect(page.get_by_label("Username", exact=True)).to_be_focused()
    expect(ui.login_heading(page)).to_be_visible()
    expect(view.get_by_role("heading")).to_have_count(1)
    expect(page).to_have_title("Sign in · chalkboard")
    # Signed in with a code (the step after the one setup used), then out: "Sign in" again.
    ui.sign_in_with_code(page, "alice", authenticator)
    ui.sign_out(page)
    expect(ui.login_heading(page)).to_be_visible()
    expect(view.get_by_role("heading")).to_have_count(1)
    expect(page).to_have_title("Sign in · chalkboard")


def test_the_strength_meter_says_whether_the_server_will_accept_the_password(page, api):
    ui.open_sign_up(page)
    page.get_by_label("Username", exact=True).fill("carol")
    password = page.get_by_label("Password", exact=True)
    # The rule under the field names the strength the server asks for.
    expect(password).to_have_accessible_description(
        re.compile("12 to 128 characters, not your username, and rated at least Good"))
    meter = page.locator("#password-strength")
    word = meter.locator(".strength-word")
    bars = meter.locator(".strength-bar .on")
    colours = page.evaluate("""() => {
        const probe = document.createElement("span");
        document.body.append(probe);
        const colour = (value) => {
            probe.style.color = value;
            return getComputedStyle(probe).color;
        };
        const out = { danger: colour("var(--danger)"), success: colour("var(--success)"),
                      good: colour("var(--strength-good)"), muted: colour("var(--muted)"),
                      danger_fill: colour("var(--danger-fill)") };
        probe.remove();
        return out;
    }""")
    assert len({colours["danger"], colours["good"], colours["success"], colours["muted"]}) == 4
    cases = [  # (password, zxcvbn's score, what is said, filled bars, the word's colour)
        ("chalkboard2024", "1", "Too weak — not accepted yet.", 1, "danger"),
        ("Xq7$kP2m!z", "3", "Too short — not accepted yet.", 2, "danger"),  # strong but short
        ("kettle orbit", "3", "Good — accepted.", 3, "good"),
        (ui.PASSWORD, "4", "Strong.", 4, "success"),
    ]
    for typed, score, said, filled, colour in cases:
        password.fill(typed)
        expect(password).to_be_focused()
        expect(meter).to_have_attribute("data-score", score)
        expect(word).to_have_text(said)
        expect(bars).to_have_count(filled)
        if filled < 3:  # refused: it says how to do better, in red only once the field is left
            expect(meter.locator(".strength-text")).not_to_have_text(said)
            expect(word).to_have_css("color", colours["muted"])  # still typing: no error yet
            expect(bars.first).to_have_css("background-color", colours["muted"])
            password.blur()
            expect(word).to_have_css("color", colours[colour])
            expect(bars.first).to_have_css("background-color", colours["danger_fill"])
            expect(word).to_have_text(said)  # the same words, only the colour changed
        else:  # accepted: the verdict alone, every filled bar in the word's colour
            expect(word).to_have_css("color", colours[colour])
            expect(meter.locator(".strength-text")).to_have_text(said)
            for bar in (bars.first, bars.last):
                expect(bar).to_have_css("background-color", colours[colour])
    expect(meter.locator(".strength-bar span")).to_have_count(4)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_refused_password_turns_red_when_submitted_and_neutral_again_when_typed_in(
        page, api, scheme):
    """Sign-up: the meter says "Too weak" neutrally while typing; pressing Enter (the
    field keeps the focus, the server refuses) turns it red; typing again, neutral."""
    page.emulate_media(color_scheme=scheme)
    ui.open_sign_up(page)
    ui.fill_credentials(page, "carol", "chalkboard2024")  # long enough, but weak
    password = page.get_by_label("Password", exact=True)
    password.focus()
    password.press("End")
    password.press("4")  # typed, not pasted: the field has the focus
    meter = page.locator("#password-strength")
    word = meter.locator(".strength-word")
    expect(word).to_have_text("Too weak — not accepted yet.")
    muted, danger = page.evaluate("""() => {
        const probe = document.createElement("span");
        document.body.append(probe);
        const colour = (value) => {
            probe.style.color = value;
            return getComputedStyle(probe).color;
        };
        const out = [colour("var(--muted)"), colour("var(--danger)")];
        probe.remove();
        return out;
    }""")
    expect(word).to_have_css("color", muted)
    password.press("Enter")
    expect(page.locator("#password-problem")).not_to_be_empty()  # the server said no
    expect(password).to_be_focused()
    expect(word).to_have_css("color", danger)
    password.press("Backspace")  # typing again: still weak, but not an error yet
    expect(word).to_have_text("Too weak — not accepted yet.")
    expect(word).to_have_css("color", muted)


def test_sign_up_asks_the_name_before_the_password(page, api):
    ui.open_sign_up(page)
    labels = page.locator("#auth-form label:visible").all_inner_texts()
    assert labels == ["Username", "Name (optional)", "Password"], labels
    ui.fill_credentials(page, "zoe", ui.PASSWORD)
    page.get_by_label("Name (optional)").fill("x" * 51)
    page.get_by_role("button", name="Sign up").click()
    # The first field at fault in that order takes the focus.
    expect(page.get_by_label("Name (optional)")).to_be_focused()


def test_the_username_characters_never_wrap_apart_on_a_phone(new_page, api):
    phone = new_page(width=360, height=740)
    ui.open_sign_up(phone)
    username = phone.get_by_label("Username", exact=True)
    username.fill("Bad Name!")
    phone.get_by_label("Password", exact=True).focus()
    error = field_error(phone, "username")
    expect(error).to_have_text(
        "Usernames cannot contain “!” or spaces. Use letters, digits and _ . -")
    set_apart(error)
    username.fill("fine")  # the rule shows again once the error goes
    expect(phone.locator("#username-hint")).to_be_visible()
    set_apart(phone.locator("#username-hint"))


def test_the_username_error_names_each_refused_character_once(page, api):
    ui.open_sign_up(page)
    username = page.get_by_label("Username", exact=True)
    username.fill("Ann@home#1@")  # capitals are fine: the server stores them lowercase
    page.get_by_label("Password", exact=True).focus()
    expect(field_error(page, "username")).to_have_text(
        "Usernames cannot contain “@” or “#”. Use letters, digits and _ . -")
    username.fill("a@b#c$d%e")
    expect(field_error(page, "username")).to_have_text(
        "Usernames cannot contain “@”, “#”, “$” or other characters. Use letters, digits and _ . -")


def set_apart(where):
    """The username's other characters in ``where``: plain text, together on one line,
    on the line's baseline (no chip: no border, no padding, the sentence's own font)."""
    chars = where.locator(".chars")
    expect(chars).to_have_text("_ . -")
    expect(chars).to_have_css("white-space", "nowrap")
    assert chars.evaluate("(node) => node.getClientRects().length") == 1
    plain = chars.evaluate("""(node) => {
        const own = getComputedStyle(node), around = getComputedStyle(node.parentElement);
        return { border: own.borderTopWidth, padding: own.paddingLeft,
                 font: own.fontFamily === around.fontFamily && own.fontSize === around.fontSize,
                 align: own.verticalAlign };
    }""")
    assert plain == {"border": "0px", "padding": "0px", "font": True, "align": "baseline"}, plain


def test_the_code_step_says_whose_sign_in_it_is_and_not_you_starts_over(page, api):
    api.signup("alice")
    api.two_factor_on("alice")
    ui.fill_credentials(page, "Alice", ui.PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    code = ui.sign_in_code(page)
    expect(code).to_be_focused()
    # The same label as the setup's code field: one name for one thing.
    assert page.locator("label[for='totp-confirm-code']").text_content() == (
        "Authenticator code")
    who = page.locator("#mfa-who")
    expect(who).to_have_text("Signing in as alice. Not you? Start over")  # as the server knows it
    expect(page.locator("#auth-lead")).to_be_hidden()  # it says whose, instead of a welcome
    start_over = who.get_by_role("button", name="Start over")
    # A quiet link in the sentence, not a second full-width button under Verify.
    verify = page.get_by_role("button", name="Verify").bounding_box()
    assert start_over.bounding_box()["width"] < verify["width"] / 3
    expect(start_over).to_have_css("border-top-style", "none")
    expect(start_over).to_have_css("text-decoration-line", "underline")
    assert start_over.bounding_box()["height"] >= 24  # still a target a finger can hit
    start_over.click()
    expect(code).to_be_hidden()
    username = page.get_by_label("Username", exact=True)
    expect(username).to_be_focused()
    expect(username).to_have_value("")  # someone else signs in from the start
    expect(page.locator("#mfa-username")).to_be_empty()


def test_sign_up_with_its_errors_fits_a_laptop_screen_without_scrolling(page, api):
    """At 1280 x 800, sign-up refused (a bad username, a weak password) still fits: the
    page's air under the card had pushed it past the window, scrolled flush against the
    header."""
    ui.sign_up_refused(page)
    sizes = page.evaluate("""() => ({
        scroll: scrollY, height: document.documentElement.scrollHeight, window: innerHeight,
        header: document.querySelector("header").getBoundingClientRect().bottom,
        card: document.querySelector("#auth-view").getBoundingClientRect().top })""")
    assert sizes["scroll"] == 0 and sizes["height"] <= sizes["window"], sizes
    assert sizes["card"] - sizes["header"] >= 16, sizes
