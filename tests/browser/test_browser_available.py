"""The browser suite's own precondition, as a test: skipped locally, a failure under CI."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_chromium_runs_under_playwright(browser) -> None:
    page = browser.new_page()
    try:
        page.set_content("<p>ready</p>")
        assert page.text_content("p") == "ready"
    finally:
        page.close()
