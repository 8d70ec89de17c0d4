"""axe-core finds no accessibility violation in any view, in both colour schemes,
on a desktop and on a 360 px phone.

axe is injected from node_modules (npm axe-core); only these tests' contexts bypass
the CSP to add it, every other test runs under the app's own policy.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ops.stage import ROOT
from tests.browser import ui
from tests.browser.conftest import save_screenshot, serve_app
from tests.helpers import require

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SIZES = {"desktop": (1280, 800), "phone": (360, 740)}


@pytest.fixture
def axe_page(browser, web, api, problems):
    """A page factory like new_page's, for one colour scheme and size, able to run axe."""
    require(AXE.exists(), "axe-core", "npm ci")
    contexts = []

    def open_page(scheme: str, size: str):
        width, height = SIZES[size]
        context = browser.new_context(
            locale="en-US",
            timezone_id="UTC",
            viewport={"width": width, "height": height},
            color_scheme=scheme,
            bypass_csp=True,  # only to inject axe; the app's CSP is tested elsewhere
            service_workers="block",
        )
        context.grant_permissions(["local-network-access"])
        serve_app(context, web.url, api.url)
        contexts.append(context)
        page = context.new_page()
        problems.watch(page)
        page.goto(web.url + "/")
        return page

    yield open_page
    for context in contexts:
        context.close()


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
    page.wait_for_timeout(250)  # let transitions and focus settle before measuring contrast
    save_screenshot(page, f"{name}-{size}-{scheme}.png")
    found = violations(page)
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_view_has_no_axe_violations(axe_page, api, scheme, size):
    api.user("bob")
    api.user("alice")  # a second session, so the sessions list has a "Sign out"
    api.post("bob", "Welcome to chalkboard! Read more at https://example.org/guide.")
    api.post("bob", "שלום! Right-to-left text reads correctly.")
    api.post("bob", "\n".join(f"a long message, line {n}" for n in range(1, 12)))
    page = axe_page(scheme, size)
    expect(ui.login_heading(page)).to_be_visible()
    check(page, "login", scheme, size)

    ui.open_sign_up(page)
    ui.fill_credentials(page, "Bad Name!", "short")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator("#username-problem")).not_to_be_empty()
    check(page, "signup-errors", scheme, size)

    page.get_by_role("link", name="Log in").click()
    ui.fill_credentials(page, "alice", ui.PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    ui.board_loaded(page)
    ui.post(page, "my own message, with a quiet delete control")
    check(page, "board", scheme, size)

    ui.write_message(page, "a draft in the dialog")
    check(page, "post-dialog", scheme, size)
    page.keyboard.press("Escape")

    ui.messages(page).first.get_by_role("button", name=re.compile("^Delete")).click()
    expect(page.get_by_role("dialog", name="Delete this message?")).to_be_visible()
    check(page, "delete-confirm", scheme, size)
    page.keyboard.press("Escape")

    page.get_by_role("link", name="Account").click()
    expect(page.get_by_role("heading", name="Account", level=1)).to_be_visible()
    expect(page.locator("#account-since")).not_to_have_text("Loading…")
    expect(page.locator("#sessions-list li")).to_have_count(2)  # this page's and the API's
    check(page, "account", scheme, size)

    delete_form = page.get_by_role("form", name="Delete account")  # two-factor asks too
    delete_form.get_by_label("Your password").fill(ui.PASSWORD)
    page.get_by_role("button", name="Delete account…").click()
    expect(page.get_by_role("dialog", name="Delete your account?")).to_be_visible()
    check(page, "delete-account-confirm", scheme, size)
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


