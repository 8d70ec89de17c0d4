"""Issue 23 in the browser: adding and verifying an email address, and resetting a
forgotten password from the mailed link (with the two-factor step when it is on),
against the API's local mailbox (<data dir>/mail/*.eml)."""

from __future__ import annotations

import email
import re
import time
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser import ui
from tests.browser.conftest import Api

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a brand new passphrase"


# A status box's look: text colour, background, border colour and width.
LOOK = """(node) => { const s = getComputedStyle(node);
    return [s.color, s.backgroundColor, s.borderTopColor, s.borderTopWidth]; }"""

def mailbox(api: Api) -> Path:
    return Path(api.env["CHALKBOARD_DATA_DIR"]) / "mail"


def wait_for_link(api: Api, kind: str, seen: int = 0) -> str:
    """The link in the newest mail that carries one to #/``kind``."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        mails = sorted(mailbox(api).glob("*.eml")) if mailbox(api).exists() else []
        for path in reversed(mails[seen:]):
            text = email.message_from_bytes(path.read_bytes()).get_payload(decode=True).decode()
            found = re.search(rf"^(\S+/#/{kind}\?token=\S+)$", text, re.MULTILINE)
            if found:
                return found[1]
        time.sleep(0.1)
    raise AssertionError(f"no mail with a {kind} link")


def add_verified_email(page: Any, api: Api, address: str) -> None:
    ui.open_account(page)
    ui.account_link(page, "Profile").click()
    section = page.get_by_role("region", name="Email address")
    expect(section).to_contain_text("No email address yet")
    section.get_by_role("button", name="Add an email address…").click()
    dialog = page.get_by_role("dialog", name="Add an email address")
    dialog.get_by_label("Email address").fill(address)
    dialog.get_by_label("Your password").fill(ui.PASSWORD)
    dialog.get_by_role("button", name="Send the link").click()
    expect(section.get_by_role("status")).to_contain_text(f"We sent a link to {address}")
    expect(section).to_contain_text("not verified yet")
    ui.account_link(page, "Overview").click()
    checkup = page.get_by_role("region", name=re.compile(r"^\d things? to do$"))
    expect(checkup).to_contain_text(
        f"Verify your email address: open the link we sent to {address}.")
    page.goto(wait_for_link(api, "verify-email"))
    expect(page.get_by_role("heading", name="Verify your email address")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="verified")).to_have_text(
        "Your email address is verified. It can now be used to reset your password.")
    expect(page).to_have_url(re.compile(r"#/verify-email$"))  # the token left the address bar


def test_add_verify_then_reset_a_forgotten_password(page: Any, api: Api) -> None:
    api.signup("alice")
    ui.log_in(page, "alice")
    add_verified_email(page, api, "alice@example.org")
    ui.open_account(page)
    expect(page.locator("#ov-email")).to_have_text("alice@example.org · verified")
    expect(page.locator("#checkup")).not_to_contain_text("Verify your email address")

    ui.sign_out(page)
    page.get_by_role("link", name="Forgot password?").click()
    expect(page.get_by_label("Username or email address")).to_be_focused()
    sent = len(list(mailbox(api).glob("*.eml")))
    page.get_by_label("Username or email address").fill("alice@example.org")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("status").filter(has_text="on its way")).to_be_visible()
    # Sent: the page is about the inbox now, and offers to try again (a typo, say).
    expect(page.get_by_role("heading", name="Check your email", level=1)).to_be_focused()
    expect(page).to_have_title("Check your email · chalkboard")
    page.get_by_role("button", name="Try again").click()
    expect(page.get_by_label("Username or email address")).to_be_focused()
    expect(page.get_by_label("Username or email address")).to_have_value("alice@example.org")
    expect(page.get_by_role("heading", name="Forgot your password?", level=1)).to_be_visible()
    expect(page).to_have_title("Forgot your password? · chalkboard")
    expect(page.get_by_role("status").filter(has_text="on its way")).to_have_count(0)
    sent = len(list(mailbox(api).glob("*.eml")))  # the link of this second ask is used
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("status").filter(has_text="on its way")).to_be_visible()
    sent_look = page.get_by_role("status").filter(has_text="on its way").evaluate(LOOK)

    page.goto(wait_for_link(api, "reset", seen=sent))
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    expect(page).to_have_url(re.compile(r"#/reset$"))
    page.get_by_role("textbox", name="New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("textbox", name="New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the new password").click()
    expect(ui.login_heading(page)).to_be_visible()
    expect(page.locator("#auth-notice")).to_contain_text("Sign in with your new password.")
    # Good news, said as success is (green), not as a neutral notice.
    expect(page.locator("#auth-notice")).to_have_class(re.compile(r"\bsuccess\b"))
    # One success style: the link sent and the password saved look alike (one was
    # outlined, the other tinted), tinted with a green edge.
    done_look = page.locator("#auth-notice").evaluate(LOOK)
    assert done_look == sent_look, (done_look, sent_look)
    assert done_look[1] != "rgba(0, 0, 0, 0)" and done_look[2] == done_look[0], done_look
    ui.log_in(page, "alice", NEW_PASSWORD)


def test_a_reset_with_two_factor_on_asks_for_a_code(page: Any, api: Api) -> None:
    api.signup("alice")
    ui.log_in(page, "alice")
    add_verified_email(page, api, "alice@example.org")
    token = api.login("alice")["access_token"]
    setup = api.call("POST", "/me/totp", {"password": ui.PASSWORD}, token=token)
    authenticator = pyotp.TOTP(setup.body["secret"])
    assert api.call("POST", "/me/totp/confirm", {"code": authenticator.now()},
                    token=token).status == 200
    sent = len(list(mailbox(api).glob("*.eml")))
    assert api.call("POST", "/password/forgot", {"username": "alice"}).status == 202
    page.goto(wait_for_link(api, "reset", seen=sent))
    page.get_by_role("textbox", name="New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("textbox", name="New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the new password").click()
    code = page.get_by_role("textbox", name="Authenticator or recovery code")
    expect(code).to_be_focused()
    expect(page.locator("#reset-code-problem")).to_contain_text("two-factor authentication on")
    code.fill(authenticator.at(time.time() + 30))
    page.get_by_role("button", name="Save the new password").click()
    expect(ui.login_heading(page)).to_be_visible()
    expect(page.locator("#auth-notice")).to_contain_text("Sign in with your new password.")


def test_a_used_reset_link_says_so_and_offers_a_new_one(page: Any, api: Api) -> None:
    page.goto(page.url.split("#")[0] + "#/reset?token=not-a-real-token")
    page.get_by_role("textbox", name="New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("textbox", name="New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the new password").click()
    expect(page.locator("#reset-error")).to_have_text(
        "This link has expired or was already used. Ask for a new one below.")
    expect(page.get_by_role("link", name="Ask for a new link")).to_be_focused()


def test_an_expired_verification_link_offers_a_new_one_when_signed_in(
    page: Any, api: Api
) -> None:
    reply = api.call("POST", "/signup", {"username": "alice", "password": ui.PASSWORD,
                                         "email": "alice@example.org"})
    assert reply.status == 201, reply.body
    wait_for_link(api, "verify-email")  # the first link, left unused
    ui.log_in(page, "alice")
    page.goto(page.url.split("#")[0] + "#/verify-email?token=an-expired-token")
    expect(page.locator("#verify-result")).to_contain_text("expired or was already used")
    page.get_by_role("button", name="Send a new link").click()
    # Account → Profile's email dialog, with the address waiting to be verified.
    expect(page.get_by_role("heading", name="Profile", level=1)).to_be_visible()
    dialog = page.get_by_role("dialog", name="Send a new verification link")
    expect(dialog.get_by_label("Email address")).to_have_value("alice@example.org")
    expect(dialog.get_by_label("Email address")).to_be_focused()
    dialog.get_by_label("Your password").fill(ui.PASSWORD)
    before = len(list(mailbox(api).glob("*.eml")))
    dialog.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("status").filter(has_text="We sent a link")).to_contain_text(
        "alice@example.org")
    page.goto(wait_for_link(api, "verify-email", seen=before))
    expect(page.get_by_role("status").filter(has_text="verified")).to_have_text(
        "Your email address is verified. It can now be used to reset your password.")


def test_an_expired_verification_link_leads_to_profile_after_signing_in(
    page: Any, api: Api
) -> None:
    api.signup("alice")
    page.goto(page.url.split("#")[0] + "#/verify-email?token=an-expired-token")
    expect(page.locator("#verify-result")).to_contain_text("expired or was already used")
    expect(page.get_by_role("button", name="Send a new link")).to_be_hidden()
    page.get_by_role("link", name="Sign in to send a new link").click()
    expect(ui.login_heading(page)).to_be_visible()
    expect(page.locator("#auth-notice")).to_have_text(
        "Sign in to send a new link: your Profile opens next.")
    ui.fill_credentials(page, "alice", ui.PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Profile", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Add an email address…")).to_be_visible()
