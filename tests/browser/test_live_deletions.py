"""A message deleted by its author leaves every other open board too, where the board
reads the newest page anyway (coming back to the tab, the check after something new,
Refresh), without one request more: the steady polling's cost is bench figure 7's."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from playwright.sync_api import expect

from tests.browser import ui

pytestmark = pytest.mark.browser

WRITTEN = ["before", "a secret, sent by mistake", "after"]  # one group, oldest first


def kinds(page, api_url: str) -> Counter:
    """Every request the page makes to the API from now on, counted by kind:
    "live" (GET /live), "ticket", "messages" (GET /messages) and the rest by method and path."""
    seen: Counter = Counter()

    def note(request) -> None:
        if not request.url.startswith(api_url):
            return
        path = request.url[len(api_url):].split("?")[0]
        if path == "/live":
            seen["live"] += 1
        elif path == "/live/ticket":
            seen["ticket"] += 1
        elif request.method == "GET" and path == "/messages":
            seen["messages"] += 1
        else:
            seen[f"{request.method} {path}"] += 1

    page.on("request", note)
    return seen


def reader_and_writer(new_page, api):
    """alice reads on Playwright's clock with bob's three messages shown; bob, in his own
    browser context, is signed in to delete one of them."""
    api.user("bob")
    api.signup("alice")
    for text in WRITTEN:
        api.post("bob", text)
    reader = ui.signed_in(new_page, "alice", clock=True)
    expect(ui.messages(reader)).to_have_count(3)
    ui.tick(reader, 3_500)  # the first check fetches the live ticket: from here on, only asks
    writer = ui.signed_in(new_page, "bob")
    return reader, writer


def delete(page, text: str) -> None:
    """The author deletes their message through the board."""
    item = ui.messages(page).filter(has_text=text)
    item.get_by_role("button", name=re.compile("^Delete")).click()
    page.get_by_role("dialog", name="Delete this message?").get_by_role(
        "button", name="Delete", exact=True).click()
    expect(item).to_have_count(0)


COUNT_FADES = """() => {
    window.fades = 0;
    const animate = Element.prototype.animate;
    Element.prototype.animate = function (...args) {
        window.fades += 1;
        return animate.apply(this, args);
    };
}"""


def test_a_deleted_message_leaves_a_tab_when_it_is_shown_again_for_one_ask(new_page, api):
    reader, writer = reader_and_writer(new_page, api)
    ui.hide_tab(reader)
    delete(writer, WRITTEN[1])
    seen = kinds(reader, api.url)
    reader.evaluate(COUNT_FADES)
    ui.show_tab(reader)
    expect(ui.messages(reader)).to_have_count(2)
    expect(reader.locator("#messages > li")).to_have_count(2)  # faded out and gone
    assert ui.message_texts(reader) == ["before", "after"]
    assert ui.group_headers(reader) == ["before"]  # still one group
    assert reader.evaluate("window.fades") == 1  # it faded out
    assert seen == {"live": 1}  # the catch-up is the one ask it was: the newest page now


def test_the_boards_newest_message_deleted_leaves_too(new_page, api):
    """The newest page no longer reaches up to a deleted newest message: still gone."""
    reader, writer = reader_and_writer(new_page, api)
    ui.hide_tab(reader)
    delete(writer, WRITTEN[-1])  # "after": the board's newest message
    ui.show_tab(reader)
    expect(reader.locator("#messages > li")).to_have_count(2)
    assert ui.message_texts(reader) == [WRITTEN[0], WRITTEN[1]]
    assert ui.group_headers(reader) == [WRITTEN[0]]  # still one group


def test_a_deleted_focused_row_gives_focus_to_the_next_and_its_header_to_the_group(
        new_page, api):
    reader, writer = reader_and_writer(new_page, api)
    reader.emulate_media(reduced_motion="reduce")
    reader.evaluate(COUNT_FADES)
    ui.messages(reader).filter(has_text="before").focus()  # the group's first row, its header
    ui.hide_tab(reader)
    delete(writer, "before")
    ui.show_tab(reader)
    expect(reader.locator("#messages > li")).to_have_count(2)
    assert reader.evaluate("window.fades") == 0  # reduced motion: gone without a fade
    expect(ui.messages(reader).filter(has_text=WRITTEN[1])).to_be_focused()
    assert ui.group_headers(reader) == [WRITTEN[1]]  # the next row heads the group now
    assert reader.locator("#messages li[tabindex='0']").count() == 1  # one tab stop
    expect(reader.locator("#status")).not_to_have_text(re.compile("removed"))  # one: no word


def test_a_deleted_message_leaves_on_the_check_after_something_new(new_page, api):
    reader, writer = reader_and_writer(new_page, api)
    delete(writer, WRITTEN[1])
    ui.post(writer, "news")
    seen = kinds(reader, api.url)
    ui.tick(reader, 3_000)  # something new: shown
    expect(ui.newest(reader).locator(".content")).to_have_text("news")
    ui.tick(reader, 3_000)  # the next check reads the newest page instead: the deletion
    expect(reader.locator("#messages > li")).to_have_count(3)
    assert ui.message_texts(reader) == ["before", "after", "news"]
    assert seen == {"live": 2}  # one ask a check, as ever


def test_refresh_takes_deleted_messages_away(new_page, api):
    reader, writer = reader_and_writer(new_page, api)
    delete(writer, WRITTEN[1])
    reader.get_by_role("button", name="Refresh").click()
    expect(reader.locator("#messages > li")).to_have_count(2)
    assert ui.message_texts(reader) == ["before", "after"]


def test_steady_polling_asks_once_a_check_and_nothing_more(new_page, api):
    """Nothing happening, nobody coming back: one GET /live every 3 s, no GET /messages."""
    api.user("bob")
    api.signup("alice")
    api.post("bob", "quiet board")
    reader = ui.signed_in(new_page, "alice", clock=True)
    ui.tick(reader, 3_500)  # the first check fetches the ticket
    seen = kinds(reader, api.url)
    for _ in range(10):
        ui.tick(reader, 3_000)
    assert seen == {"live": 10}
    asks: list[str] = []
    reader.on("request", lambda request: asks.append(request.url)
              if "/live?" in request.url else None)
    ui.tick(reader, 3_000)
    assert asks and all("since=" in url for url in asks)  # what is newer, not the page
