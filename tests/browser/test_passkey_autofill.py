"""Passkeys offered in the sign-in form's username field (WebAuthn conditional
mediation), with Chromium's virtual authenticator, as test_strong_signin.py uses it.

Headless Chromium shows no autofill list. Its virtual authenticator answers a
conditional request itself as soon as it is "touched" (automatic presence), which
stands for the person picking the passkey from the list; untouched, the request waits,
as it does for a person who types a password instead. What the page asks the browser
is recorded by wrapping navigator.credentials.get (it still calls the real one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser import test_strong_signin as strong
from tests.browser import ui
from tests.browser.conftest import Api
from tests.browser.test_strong_signin import log_out, on_account_page, touching

pytestmark = pytest.mark.browser

# The web app on http://localhost:<port> (WebAuthn refuses IP addresses), as there.
api_env = strong.api_env
app_page = strong.app_page
AUTOFILL = True  # this module's pages keep the sign-in page's passkey autofill on

RECORD_GETS = """
(() => {
  const calls = [];
  window.webauthnCalls = calls;
  const container = navigator.credentials;
  if (!container) return;
  const real = container.get.bind(container);
  container.get = (options) => {
    const call = {
      mediation: options.mediation ?? null,
      allowCredentials: options.publicKey?.allowCredentials?.length ?? 0,
      rpId: options.publicKey?.rpId ?? null,
      challengeBytes: options.publicKey?.challenge?.byteLength ?? 0,
      signal: Boolean(options.signal),
      aborted: false,
      settled: null,
    };
    options.signal?.addEventListener("abort", () => { call.aborted = true; });
    calls.push(call);
    const answer = real(options);
    answer.then(() => { call.settled = "resolved"; }, (e) => { call.settled = e.name; });
    return answer;
  };
})();
"""


def calls(page: Any) -> list[dict]:
    return page.evaluate("() => window.webauthnCalls")


def with_a_passkey(app_page: Callable[[], Any]) -> Any:
    """alice with a passkey on this page's virtual authenticator, signed out, the
    authenticator untouched; every credentials.get from now on recorded."""
    page = on_account_page(app_page, passkeys=True)
    page.context.add_init_script(RECORD_GETS)
    page.get_by_role("button", name="Add a passkey").click()
    dialog = page.get_by_role("dialog", name="Add a passkey")
    dialog.get_by_label("Your password").fill(ui.PASSWORD)
    dialog.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("list", name="Your passkeys").get_by_role("listitem")
           ).to_have_count(1)
    log_out(page)
    page.reload()  # the recorder in place from the page's first script
    expect(ui.login_heading(page)).to_be_visible()
    return page


def waiting_conditional(page: Any) -> dict:
    page.wait_for_function(
        "() => window.webauthnCalls.some((c) => c.mediation === 'conditional')")
    return next(c for c in calls(page) if c["mediation"] == "conditional")


def test_the_username_field_asks_for_passkeys_and_only_when_signing_in(
    app_page: Callable[[], Any], api: Api
) -> None:
    api.signup("alice")
    page = app_page()
    username = page.get_by_label("Username", exact=True)
    expect(username).to_have_attribute("autocomplete", "username webauthn")
    ui.open_sign_up(page)
    expect(username).to_have_attribute("autocomplete", "username")  # a new name, no passkey


def test_a_passkey_picked_from_the_autofill_signs_in(
    app_page: Callable[[], Any], api: Api
) -> None:
    api.signup("alice")
    page = with_a_passkey(app_page)
    # The request waits for a pick with the API's usernameless options (no allow-list).
    call = waiting_conditional(page)
    assert call["signal"] and not call["aborted"] and call["settled"] is None, call
    assert call["allowCredentials"] == 0 and call["challengeBytes"] >= 16, call
    assert call["rpId"] == "localhost", call
    expect(ui.login_heading(page)).to_be_visible()  # nothing happens until one is picked

    touching(page, True)  # the passkey is picked from the list
    page.reload()
    ui.board_loaded(page)  # signed in with no username or password typed
    expect(page.locator("#whoami")).to_have_text("alice")
    ui.open_account(page, "Sign-in & security")
    expect(page.get_by_role("list", name="Your passkeys").get_by_role("listitem").first
           ).to_contain_text("Last used")
    ui.open_account(page)
    ui.account_link(page, "Where you're signed in").click()
    expect(page.locator("li.session.current")).to_contain_text("with a passkey")


def test_the_passkey_button_replaces_the_autofill_request(
    app_page: Callable[[], Any], api: Api
) -> None:
    api.signup("alice")
    page = with_a_passkey(app_page)
    waiting_conditional(page)

    # The person touches the key once the button's request is on its way: its options
    # are asked for only after the autofill request was withdrawn, so the touch cannot
    # go to that one (touched earlier, the authenticator would answer it at once).
    def touch_then_ask(route: Any) -> None:
        touching(page, True)
        route.continue_()

    page.route("**/login/passkey/options", touch_then_ask)
    page.get_by_role("button", name="Sign in with a passkey").click()
    ui.board_loaded(page)
    made = calls(page)
    assert [c["mediation"] for c in made] == ["conditional", None], made
    assert made[0]["aborted"] and made[0]["settled"] == "AbortError", made  # withdrawn first
    assert made[1]["settled"] == "resolved", made


def test_sending_the_password_or_leaving_the_form_withdraws_the_request(
    app_page: Callable[[], Any], api: Api
) -> None:
    api.signup("alice")
    page = with_a_passkey(app_page)
    waiting_conditional(page)
    ui.open_sign_up(page)  # leaving the sign-in form
    page.wait_for_function("() => window.webauthnCalls[0].settled === 'AbortError'")
    assert len(calls(page)) == 1  # none while signing up

    page.get_by_role("link", name="Sign in", exact=True).click()
    page.wait_for_function("() => window.webauthnCalls.length === 2")
    assert calls(page)[1]["mediation"] == "conditional"  # offered again on the form
    ui.fill_credentials(page, "alice", "not the right password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#auth-error")).to_contain_text("do not match")
    page.wait_for_function("() => window.webauthnCalls[1].settled === 'AbortError'")
    # A refused password leaves the form up: passkeys are offered again.
    page.wait_for_function("() => window.webauthnCalls.length === 3")
    ui.fill_credentials(page, "alice", ui.PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    ui.board_loaded(page)
    page.wait_for_function("() => window.webauthnCalls[2].settled === 'AbortError'")
    assert len(calls(page)) == 3
