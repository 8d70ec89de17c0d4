"""Two-factor codes and passkeys in the web app, as a person uses them, in Chromium.

Passkeys use Chromium's virtual authenticator (CDP ``WebAuthn.*``): a platform
authenticator with resident keys and user verification that approves at once.
WebAuthn refuses IP addresses as relying-party ids, so this module serves the
web app as http://localhost:<port> and configures the API for that origin.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pyotp
import pytest
from playwright.sync_api import expect

from tests import servers
from tests.browser import board_story, ui
from tests.browser.conftest import Api, Problems, app_context, open_app

pytestmark = pytest.mark.browser


def localhost(url: str) -> str:
    return url.replace("://127.0.0.1:", "://localhost:")


@pytest.fixture
def api_env(web: servers.Server) -> dict[str, str]:
    return {"CHALKBOARD_WEB_ORIGIN": localhost(web.url)}


# The sign-in page's passkey autofill (a conditional WebAuthn request) is answered by the
# virtual authenticator whenever it is touched, so it races the passkey buttons these
# tests press; a module that tests the autofill itself says AUTOFILL = True.
NO_AUTOFILL = """if (window.PublicKeyCredential) {
    PublicKeyCredential.isConditionalMediationAvailable = async () => false;
}"""


@pytest.fixture
def app_page(
    request: pytest.FixtureRequest, browser: Any, web: servers.Server, api: Api,
    problems: Problems,
) -> Iterator[Callable[[], Any]]:
    """Open the web app on http://localhost:<port> in a fresh context (``options`` go to
    ``new_context``, e.g. a ``user_agent``)."""
    contexts = []
    autofill = getattr(request.module, "AUTOFILL", False)

    def open_page(**options: Any) -> Any:
        context = app_context(browser, localhost(web.url), api.url, **options)
        if not autofill:
            context.add_init_script(NO_AUTOFILL)
        contexts.append(context)
        return open_app(context, localhost(web.url), problems)

    yield open_page
    for context in contexts:
        context.close()
    assert problems.errors == []


# The virtual authenticator of each page that has one: (CDP session, authenticator id).
AUTHENTICATORS: dict[Any, tuple[Any, str]] = {}


def add_virtual_authenticator(page: Any) -> Any:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }})
    AUTHENTICATORS[page] = (cdp, added["authenticatorId"])
    return cdp


def touching(page: Any, touched: bool) -> None:
    """Whether the person touches the authenticator when asked. Chromium's virtual
    authenticator answers the sign-in page's passkey autofill (conditional mediation)
    at once when touched, as if its passkey were picked; a person picks it, or not."""
    if page in AUTHENTICATORS:
        cdp, authenticator = AUTHENTICATORS[page]
        cdp.send("WebAuthn.setAutomaticPresenceSimulation",
                 {"authenticatorId": authenticator, "enabled": touched})


def use_passkey(page: Any, button: str = "Sign in with a passkey") -> None:
    """Touch the authenticator and press a passkey button (the authenticator refuses a
    request made while it is not touched, as a person's cancel)."""
    touching(page, True)
    page.get_by_role("button", name=button).click()


def open_account(page: Any, section: str = "Sign-in & security") -> None:
    ui.open_account(page)
    expect(page.get_by_role("heading", name="Account", level=1)).to_be_visible()
    if section:
        ui.account_link(page, section).click()
        expect(page.get_by_role("heading", name=section, level=1)).to_be_visible()


def on_account_page(app_page: Callable[[], Any], *, passkeys: bool = False) -> Any:
    """A fresh page with alice (signed up over the API) logged in, on Sign-in & security;
    with ``passkeys``, Chromium's virtual authenticator is attached first."""
    page = app_page()
    if passkeys:
        add_virtual_authenticator(page)
    ui.log_in(page, "alice")
    open_account(page)
    return page


def step_up(page: Any) -> Any:
    return page.locator("#step-up-dialog")


def log_out(page: Any) -> None:
    """Sign out; the passkey the sign-in page then offers in the username field's
    autofill is not picked (``use_passkey`` touches the authenticator)."""
    touching(page, False)
    ui.sign_out(page)
    expect(ui.login_heading(page)).to_be_visible()


def passkeys(page: Any) -> Any:
    return page.get_by_role("list", name="Your passkeys").get_by_role("listitem")


def test_passkey_named_at_creation_sign_in_without_username_removal_confirmed(
    app_page: Callable[[], Any], api: Api
) -> None:
    api.signup("alice")
    page = on_account_page(app_page, passkeys=True)
    expect(page.get_by_text("You have no passkeys yet.")).to_be_visible()

    page.get_by_role("button", name="Add a passkey").click()
    dialog = page.get_by_role("dialog", name="Add a passkey")
    name = dialog.get_by_label("Name for this passkey")
    expect(name).to_have_value("Chrome on Linux")  # as "Where you're signed in" names it
    expect(name).to_be_focused()
    name.fill("Work laptop")
    # Step-up: the password, asked once here (a wrong one is said beside its field).
    dialog.get_by_label("Your password").fill("not my password at all")
    dialog.get_by_role("button", name="Continue").click()
    expect(dialog.locator("#step-up-password-problem")).to_contain_text("password is not right")
    dialog.get_by_label("Your password").fill(ui.PASSWORD)
    dialog.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("status").filter(has_text="added")).to_contain_text(
        "You can now sign in with it."
    )
    expect(passkeys(page)).to_have_count(1)
    expect(passkeys(page).first.locator(".passkey-name")).to_have_text("Work laptop")
    expect(passkeys(page).first).to_contain_text("Never used")

    # A second one is suggested a name that differs from the first's.
    page.get_by_role("button", name="Rename passkey Work laptop").click()
    dialog = page.get_by_role("dialog", name="Rename passkey")
    dialog.get_by_label("Name").fill("Chrome on Linux")
    dialog.get_by_role("button", name="Save").click()
    expect(passkeys(page).first.locator(".passkey-name")).to_have_text("Chrome on Linux")
    page.get_by_role("button", name="Add a passkey").click()
    dialog = page.get_by_role("dialog", name="Add a passkey")
    expect(dialog.get_by_label("Name for this passkey")).to_have_value("Chrome on Linux (2)")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(passkeys(page)).to_have_count(1)

    log_out(page)
    use_passkey(page)  # no username typed
    ui.board_loaded(page)
    expect(page.locator("#whoami")).to_have_text("alice")

    open_account(page)
    expect(passkeys(page).first).to_contain_text("Last used")
    # "Added … · Last used …" on one line on a desktop.
    # (counted once the list is laid out: it is drawn again when its load answers)
    lines = page.wait_for_function("""() => {
        const facts = document.querySelector("#passkey-list .passkey-facts");
        if (!facts) return 0;
        const range = document.createRange();
        range.selectNodeContents(facts);
        return new Set([...range.getClientRects()].map((r) => Math.round(r.bottom))).size;
    }""").json_value()
    assert lines == 1, lines
    # Removing it ends the sessions it signed in (this one): sign in with the password.
    log_out(page)
    ui.log_in(page, "alice")
    open_account(page)
    # Removing a way to sign in is confirmed, with the password; Cancel keeps it.
    page.get_by_role("button", name="Remove passkey Chrome on Linux").click()
    dialog = page.get_by_role("dialog", name="Remove the passkey “Chrome on Linux”?")
    # The passkey itself stays where it was made: say so, as Google and GitHub do.
    expect(dialog).to_contain_text(
        "The passkey stays in your device or password manager: delete it there too.")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(passkeys(page)).to_have_count(1)
    page.get_by_role("button", name="Remove passkey Chrome on Linux").click()
    dialog.get_by_label("Your password").fill(ui.PASSWORD)
    dialog.get_by_role("button", name="Remove passkey").click()
    expect(page.get_by_text("You have no passkeys yet.")).to_be_visible()
    expect(passkeys(page)).to_have_count(0)

    log_out(page)
    use_passkey(page)
    expect(page.locator("#passkey-login-error")).to_have_text("Passkey sign-in failed")
    expect(ui.login_heading(page)).to_be_visible()


def test_a_new_passkey_is_named_as_the_sessions_list_names_this_browser(
    app_page: Callable[..., Any], api: Api
) -> None:
    # An Android phone's Chrome: "Chrome on an Android phone" in the sessions list and
    # the security activity, so the passkey made on it is suggested that name too.
    api.signup("alice")
    page = app_page(user_agent=board_story.ANDROID_CHROME)
    ui.log_in(page, "alice")
    open_account(page, "Where you're signed in")
    this_device = page.locator("#sessions-current .session-name")
    expect(this_device).to_have_text("Chrome on an Android phone")
    shown = this_device.inner_text()
    ui.account_link(page, "Sign-in & security").click()
    page.get_by_role("button", name="Add a passkey").click()
    dialog = page.get_by_role("dialog", name="Add a passkey")
    expect(dialog.get_by_label("Name for this passkey")).to_have_value(shown)
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()


def recovery_codes_laid_out(shown: Any) -> None:
    """The codes' screen, top to bottom: the success line (with the usual 1rem of air
    under it), the step's heading when it has one, the codes in a bordered box with
    Download .txt, Copy and Print along its top edge, then "I have saved them"."""
    look = shown.evaluate("""(dialog) => {
        const box = (node) => node.getBoundingClientRect();
        const codes = dialog.querySelector("#totp-recovery-codes");
        const frame = codes.parentElement;
        const buttons = ["Download .txt", "Copy", "Print"].map((words) =>
            [...dialog.querySelectorAll("button")].find((b) => b.textContent.trim() === words));
        const done = dialog.querySelector("#totp-codes-done");
        let next = done.nextElementSibling;
        while (next && !next.getClientRects().length) next = next.nextElementSibling;
        const heading = dialog.querySelector("#totp-recovery-title");
        return {
            done: box(done).bottom,
            next: box(next).top,
            heading: heading.getClientRects().length ? box(heading).top : box(next).top,
            frame: { ...box(frame).toJSON(),
                     border: parseFloat(getComputedStyle(frame).borderTopWidth),
                     holdsButtons: buttons.every((b) => frame.contains(b)) },
            codes: box(codes).top,
            buttons: buttons.map((b) => box(b).toJSON()),
            saved: box([...dialog.querySelectorAll("button")].find(
                (b) => b.textContent.trim() === "I have saved them")).top,
        };
    }""")
    frame, buttons = look["frame"], look["buttons"]
    assert look["done"] <= look["heading"], look  # what happened, first
    assert look["next"] - look["done"] >= 15, look  # not pressed against what follows
    assert frame["border"] >= 1 and frame["holdsButtons"], look
    assert look["heading"] < frame["top"], look
    for button in buttons:  # one row along the box's top edge, above the codes
        assert abs(button["top"] - buttons[0]["top"]) < 1, look
        assert frame["top"] < button["top"] < frame["top"] + 16, look
        assert button["bottom"] <= look["codes"], look
    assert buttons[0]["right"] <= buttons[1]["left"] <= buttons[2]["left"], look
    assert look["saved"] >= frame["bottom"], look  # then "I have saved them"


def set_up_two_factor(page: Any) -> tuple[pyotp.TOTP, list[str]]:
    """From the security page with two-factor off: the app's authenticator and codes."""
    section = page.get_by_role("region", name="Two-factor authentication")
    expect(section).to_contain_text("Off")
    setup = ui.open_two_factor_setup(page)  # one step at a time, in a dialog of its own
    expect(setup).to_contain_text("Google Authenticator")  # what such an app is
    # Air between the step's last line and its buttons.
    hint = setup.get_by_text("Install one now if you have none, then continue.").bounding_box()
    buttons = setup.get_by_role("button", name="I have an app").bounding_box()
    assert buttons["y"] - (hint["y"] + hint["height"]) >= 12, (hint, buttons)
    expect(setup).to_contain_text("Aegis")
    setup.get_by_role("button", name="I have an app").click()
    expect(ui.two_factor_step(setup, 3)).to_be_focused()
    expect(setup.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    key = setup.locator("#totp-secret").inner_text()
    assert all(len(group) == 4 for group in key.split(" ")[:-1]), key  # in fours
    expect(setup.get_by_role("button", name="Copy key")).to_be_visible()
    authenticator = pyotp.TOTP(key.replace(" ", ""))
    setup.get_by_role("button", name="Next").click()
    expect(ui.two_factor_step(setup, 4)).to_be_visible()
    expect(setup.get_by_label("Authenticator code", exact=True)).to_be_focused()
    setup.get_by_label("Authenticator code", exact=True).fill(authenticator.now())
    setup.get_by_role("button", name="Turn on").click()
    # The dialog now says what happened: its title, then the success line at its top.
    setup = page.get_by_role("dialog", name="Two-factor authentication is on")
    codes = setup.get_by_role("list", name="Save your recovery codes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    expect(setup.get_by_role("heading")).to_have_text(
        ["Two-factor authentication is on", "Save your recovery codes"])
    done = setup.locator("#totp-codes-done")
    expect(done).to_have_text(re.compile("^Signing in now asks for your password and a code"))
    recovery_codes_laid_out(setup)
    recovery = codes.all_inner_texts()
    # Each column's codes start at one x, "10." included (numbers in a column of their own).
    starts = codes.evaluate_all("""(items) => items.map((item) => {
        const range = document.createRange();
        range.selectNodeContents(item);
        return Math.round(range.getClientRects()[0].left);
    })""")
    assert len(set(starts[:5])) == 1 and len(set(starts[5:])) == 1, starts
    with page.expect_download() as download:
        setup.get_by_role("button", name="Download .txt").click()
    saved = download.value.path().read_text()
    assert all(code in saved for code in recovery)
    setup.get_by_role("button", name="I have saved them").click()
    expect(setup).to_be_hidden()
    expect(codes).to_have_count(0)
    expect(page.locator("#totp-secret")).to_have_text("")
    expect(section.locator("#totp-badge")).to_have_text("On")
    return authenticator, recovery


def test_two_factor_setup_can_be_cancelled_at_each_step(
    app_page: Callable[[], Any], api: Api
) -> None:
    api.signup("alice")
    page = on_account_page(app_page)
    section = page.get_by_role("region", name="Two-factor authentication")
    start = section.get_by_role("button", name="Set up two-factor authentication")
    setup = page.get_by_role("dialog", name="Set up two-factor authentication")
    # The password is the setup's own step 1 of 4, in the setup dialog (reviewers: asked
    # before "Step 1 of 3", in another dialog, it felt outside the flow), ✕ and Cancel.
    start.click()
    password_step = ui.two_factor_step(setup, 1)
    expect(password_step).to_be_visible()
    expect(page.locator("#totp-dialog")).to_be_visible()
    expect(page.locator("#step-up-dialog")).to_be_hidden()
    expect(setup.get_by_label("Your password")).to_be_focused()
    setup.get_by_role("button", name="Close", exact=True).click()
    expect(setup).to_be_hidden()
    expect(start).to_be_focused()
    start.click()
    setup.get_by_role("button", name="Continue").click()
    expect(setup.locator("#totp-password-problem")).to_have_text("Enter your password.")
    setup.get_by_label("Your password").fill("not my password at all")
    setup.get_by_role("button", name="Continue").click()
    expect(setup.locator("#totp-password-problem")).to_contain_text("password is not right")
    expect(setup.get_by_label("Your password")).to_be_focused()
    setup.get_by_role("button", name="Cancel").click()
    expect(setup).to_be_hidden()
    start.click()
    expect(setup.get_by_label("Your password")).to_have_value("")  # nothing kept
    expect(setup.locator("#totp-password-problem")).to_have_text("")
    page.keyboard.press("Escape")
    expect(setup).to_be_hidden()
    # Cancel at each of the next three steps drops the setup and comes back to its button.
    for forward in (0, 1, 2):
        start.click()
        setup.get_by_label("Your password").fill(ui.PASSWORD)
        setup.get_by_role("button", name="Continue").click()
        expect(ui.two_factor_step(setup, 2)).to_be_focused()
        expect(password_step).to_be_hidden()
        if forward >= 1:
            setup.get_by_role("button", name="I have an app").click()
            expect(setup.get_by_role("img", name="QR code for your authenticator app")
                   ).to_be_visible()
        if forward >= 2:
            setup.get_by_role("button", name="Next").click()
            expect(setup.get_by_label("Authenticator code", exact=True)
                   ).to_be_visible()
        setup.get_by_role("button", name="Cancel").click()
        expect(setup).to_be_hidden()
        expect(page.locator("#totp-secret")).to_have_text("")
        expect(start).to_be_focused()
        expect(section.locator("#totp-badge")).to_have_text("Off")


def test_two_factor_enable_then_log_in_with_a_code_and_with_a_recovery_code(
    app_page: Callable[[], Any], api: Api
) -> None:
    api.signup("alice")
    page = on_account_page(app_page)
    authenticator, recovery = set_up_two_factor(page)
    ui.account_link(page, "Overview").click()
    expect(page.locator("#ov-totp")).to_contain_text("On")

    log_out(page)
    ui.fill_credentials(page, "alice", ui.PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Two-factor code", level=1)).to_be_visible()
    expect(ui.sign_in_code(page)).to_be_focused()
    ui.sign_in_code(page).fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(ui.sign_in_code(page)).to_have_accessible_description(
        re.compile("^Wrong code: check it"))
    # The step after the one that confirmed setup (codes are accepted once per step).
    ui.sign_in_code(page).fill(authenticator.at(time.time() + 30))
    page.get_by_role("button", name="Verify").click()
    ui.board_loaded(page)

    log_out(page)
    ui.fill_credentials(page, "alice", ui.PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    ui.sign_in_code(page).fill(recovery[0])
    page.get_by_role("button", name="Verify").click()
    ui.board_loaded(page)
    assert authenticator.secret not in ui.browser_storage(page)


def test_two_factor_on_has_one_turn_off_that_asks_password_and_code(
    app_page: Callable[[], Any], api: Api
) -> None:
    api.signup("alice")
    page = on_account_page(app_page)
    _, recovery = set_up_two_factor(page)
    section = page.get_by_role("region", name="Two-factor authentication")
    expect(section.get_by_role("textbox")).to_have_count(0)  # no standing fields when on
    # What to do on a new phone, said where a person looks for it (a reviewer found nothing),
    # on asking: a paragraph always open read long beside the state (later reviewers).
    question = section.locator("summary", has_text="Got a new phone?")
    answer = section.get_by_text(re.compile(r"^Move chalkboard with your authenticator app"))
    expect(question).to_be_visible()
    expect(answer).to_be_hidden()
    question.focus()
    page.keyboard.press("Enter")
    expect(answer).to_be_visible()
    expect(answer).to_contain_text("set it up again on the new phone")
    page.keyboard.press("Space")
    expect(answer).to_be_hidden()
    # Turning off is the secondary, red action beside "New recovery codes…".
    looks = section.evaluate("""(section) => {
        const probe = document.createElement("span");
        probe.style.color = "var(--danger)";
        section.append(probe);
        const danger = getComputedStyle(probe).color;
        probe.remove();
        const off = getComputedStyle(section.querySelector("#totp-disable"));
        const renew = getComputedStyle(section.querySelector("#totp-regenerate"));
        return { danger, off: off.color, offBorder: off.borderTopColor,
                 renewBorder: renew.borderTopColor };
    }""")
    assert looks["off"] == looks["danger"], looks
    assert looks["offBorder"] != looks["renewBorder"], looks
    section.get_by_role("button", name="Turn off").click()
    dialog = page.get_by_role("dialog", name="Turn off two-factor authentication?")
    dialog.get_by_label("Your password").fill(ui.PASSWORD)
    dialog.get_by_label("Authenticator or recovery code").fill(recovery[0])
    dialog.get_by_role("button", name="Turn off").click()
    expect(dialog).to_be_hidden()
    expect(section.locator("#totp-badge")).to_have_text("Off")
    expect(page.get_by_role("status").filter(has_text="is off")).to_be_visible()


def test_recovery_codes_left_regenerate_and_a_passkey_step_up_with_a_code(
    app_page: Callable[[], Any], api: Api
) -> None:
    api.signup("alice")
    page = on_account_page(app_page, passkeys=True)
    _, recovery = set_up_two_factor(page)
    section = page.get_by_role("region", name="Two-factor authentication")
    expect(section.locator("#totp-codes-left")).to_have_text("10 of 10 recovery codes left.")
    ui.account_link(page, "Overview").click()
    expect(page.locator("#ov-totp")).to_have_text("On")
    expect(page.locator("#ov-codes")).to_have_text("10 left")

    # New codes: password and a code, asked once; the old codes stop working.
    ui.account_link(page, "Sign-in & security").click()
    section.get_by_role("button", name="New recovery codes").click()
    dialog = page.get_by_role("dialog", name="Make new recovery codes")
    dialog.get_by_label("Your password").fill(ui.PASSWORD)
    dialog.get_by_label("Authenticator or recovery code").fill(recovery[0])
    dialog.get_by_role("button", name="Make new codes").click()
    shown = page.get_by_role("dialog", name="Your new recovery codes")
    codes = shown.get_by_role("list", name="Save your recovery codes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    # One heading, the dialog's, where the focus lands (not a second "Save your …").
    expect(shown.get_by_role("heading")).to_have_text(["Your new recovery codes"])
    expect(shown.get_by_role("heading", name="Your new recovery codes")).to_be_focused()
    expect(shown.locator("#totp-codes-done")).to_have_text(
        "New recovery codes made. The old ones no longer work.")
    recovery_codes_laid_out(shown)
    fresh = codes.all_inner_texts()
    assert not set(fresh) & set(recovery)
    # New codes too wait to be kept before "I have saved them" closes them away.
    saved = shown.get_by_role("button", name="I have saved them")
    expect(saved).to_have_attribute("aria-disabled", "true")
    expect(saved).to_have_accessible_description(
        "Download, copy or print them, or write them down, before you close this.")
    shown.get_by_role("button", name="Print").click()
    expect(saved).to_have_attribute("aria-disabled", "false")
    saved.click()
    expect(section.locator("#totp-codes-left")).to_have_text("10 of 10 recovery codes left.")

    # Adding a passkey with two-factor on asks the password and a code.
    page.get_by_role("button", name="Add a passkey").click()
    dialog = page.get_by_role("dialog", name="Add a passkey")
    dialog.get_by_label("Your password").fill(ui.PASSWORD)
    dialog.get_by_label("Authenticator or recovery code").fill(recovery[1])  # an old one: refused
    dialog.get_by_role("button", name="Continue").click()
    expect(dialog.locator("#step-up-code-problem")).to_have_text(
        "That code didn't work. Check it, or enter the next code your app shows"
        " or a recovery code.")
    dialog.get_by_label("Authenticator or recovery code").fill(fresh[0])
    dialog.get_by_role("button", name="Continue").click()
    expect(passkeys(page)).to_have_count(1)
    expect(section.locator("#totp-codes-left")).to_have_text("9 of 10 recovery codes left.")


def test_the_code_step_offers_the_passkey_instead(
    app_page: Callable[[], Any], api: Api
) -> None:
    api.signup("alice")
    page = on_account_page(app_page, passkeys=True)
    page.get_by_role("button", name="Add a passkey").click()
    dialog = page.get_by_role("dialog", name="Add a passkey")
    dialog.get_by_label("Your password").fill(ui.PASSWORD)
    dialog.get_by_role("button", name="Continue").click()
    expect(passkeys(page)).to_have_count(1)
    api.two_factor_on("alice")
    log_out(page)
    ui.fill_credentials(page, "alice", ui.PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Two-factor code", level=1)).to_be_visible()
    use_passkey(page, "Use a passkey instead")
    expect(ui.board_heading(page)).to_be_visible()
    # The code step's title left with it: the next sign-in page is "Sign in" again.
    log_out(page)
    expect(page.get_by_role("heading", name="Two-factor code")).to_have_count(0)
    expect(page).to_have_title("Sign in · chalkboard")


def test_a_wrong_code_at_setup_says_the_next_one_may_be_needed(
    app_page: Callable[[], Any], api: Api
) -> None:
    api.signup("alice")
    page = on_account_page(app_page)
    setup = ui.open_two_factor_setup(page)
    setup.get_by_role("button", name="I have an app").click()
    setup.get_by_role("button", name="Next").click()
    setup.get_by_label("Authenticator code", exact=True).fill("000000")
    setup.get_by_role("button", name="Turn on").click()
    expect(setup.locator("#totp-confirm-error")).to_have_text(
        "That code didn't work. Enter the code your app shows now, or wait for its next one.")
