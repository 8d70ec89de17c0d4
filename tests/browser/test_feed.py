"""The board as a lively feed: new messages by themselves, links, bidi text, long
messages collapsed, a dense list, and focus that stays where the person is."""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest
from playwright.sync_api import expect

from tests.browser import ui
from tests.browser.conftest import app_context

pytestmark = pytest.mark.browser

ARRIVAL_MS = 15_000  # the bound for a new message to show without a click


# ---- live updates -------------------------------------------------------------


def test_a_message_posted_in_one_browser_appears_in_another_without_a_click(new_page, api):
    api.signup("alice")
    api.signup("bob")
    reader = ui.signed_in(new_page, "alice")
    writer = ui.signed_in(new_page, "bob")  # its own context: its own session
    ui.post(writer, "hello from bob's browser")
    expect(ui.messages(reader).first.locator(".content")).to_have_text(
        "hello from bob's browser", timeout=ARRIVAL_MS
    )
    expect(ui.messages(reader)).to_have_count(1)


def scroll_up(page, pixels: int = 900) -> None:
    """The reader scrolls up the feed, away from the newest."""
    page.mouse.move(640, 300)
    page.mouse.wheel(0, -pixels)
    page.wait_for_function(
        "(away) => document.documentElement.scrollHeight - innerHeight - scrollY > away",
        arg=pixels // 2)


def test_a_new_message_shows_at_once_while_the_reader_is_at_the_bottom(new_page, api):
    api.user("carol")
    page = ui.long_board(new_page, api, width=1280, height=600)
    ui.at_the_newest(page)
    api.post("carol", "news at the bottom")
    expect(ui.newest(page).locator(".content")).to_have_text(
        "news at the bottom", timeout=ARRIVAL_MS)
    expect(page.locator("#new-pill")).to_be_hidden()  # nothing held
    ui.at_the_newest(page)  # the view stayed at the bottom, on the new one


def test_new_messages_wait_behind_a_pill_while_the_reader_is_scrolled_up(new_page, api):
    page = ui.long_board(new_page, api, width=1280, height=600)
    scroll_up(page)
    texts_before = ui.message_texts(page)
    newest_before = ui.newest(page).bounding_box()
    api.post("bob", "news while you read")
    api.post("bob", "and more news")
    pill = page.get_by_role("button", name="2 new messages")
    expect(pill).to_be_visible(timeout=ARRIVAL_MS)
    expect(pill).to_be_in_viewport()
    expect(pill).to_have_text(re.compile(r"^↓\s*2 new messages$"))
    # Floating just above the composer, centred on it.
    spot, composer = pill.bounding_box(), ui.composer(page).bounding_box()
    assert 0 <= composer["y"] - (spot["y"] + spot["height"]) <= 24, (spot, composer)
    middle = composer["x"] + composer["width"] / 2
    assert abs(spot["x"] + spot["width"] / 2 - middle) <= 2, (spot, composer)
    # Held: nothing was added or moved under the reader.
    assert ui.message_texts(page) == texts_before
    assert ui.newest(page).bounding_box() == newest_before
    pill.click()
    expect(pill).to_be_hidden()
    # bob's newest messages end his group, oldest first: the pill leads to the first new.
    expect(ui.newest(page).locator(".content")).to_have_text("and more news")
    first_new = ui.messages(page).filter(has_text="news while you read")
    expect(first_new).to_be_focused()
    expect(first_new).to_be_in_viewport()
    assert ui.message_texts(page)[-2:] == ["news while you read", "and more news"]


def test_scrolling_down_to_the_bottom_shows_the_held_messages(new_page, api):
    api.user("carol")
    page = ui.long_board(new_page, api, width=1280, height=600)
    scroll_up(page)
    api.post("carol", "held for a moment")
    pill = page.get_by_role("button", name="1 new message")
    expect(pill).to_be_visible(timeout=ARRIVAL_MS)
    page.mouse.wheel(0, 2000)  # back down to the newest
    expect(pill).to_be_hidden()
    expect(ui.newest(page).locator(".content")).to_have_text("held for a moment")
    page.wait_for_timeout(100)
    ui.at_the_newest(page)


def test_a_hidden_tab_asks_for_nothing_and_catches_up_when_shown(new_page, api):
    api.user("bob")
    api.signup("alice")
    page = ui.signed_in(new_page, clock=True)
    polls = []
    page.on(
        "request",
        lambda request: polls.append(request.url)
        if request.method == "GET" and "/live?" in request.url
        else None,
    )
    for _ in range(2):  # visible and just signed in (active): a check every three seconds
        ui.tick(page, 3_500)
    assert len(polls) == 2
    ui.hide_tab(page)
    polls.clear()
    for _ in range(12):
        ui.tick(page, 10_000)
    assert polls == []  # two minutes hidden: not one request
    api.post("bob", "while you were away")
    ui.show_tab(page)
    expect(ui.messages(page).first.locator(".content")).to_have_text("while you were away")
    assert len(polls) == 1  # at once on return, without waiting for the next tick


def test_polling_backs_off_after_a_429_for_its_retry_after(new_page, api):
    api.signup("alice")
    page = ui.signed_in(new_page, clock=True)
    polls = []

    def refuse(route):
        polls.append(route.request.url)
        route.fulfill(
            status=429,
            content_type="application/json",
            headers={
                "Access-Control-Allow-Origin": "*",
                "Access-Control-Expose-Headers": "Retry-After",
                "Retry-After": "60",
            },
            body='{"Code": "TooManyRequestsError", "Message": "slow down"}',
        )

    page.route(re.compile(r".*/live\?.*"), refuse)  # the poll (live.js), not /live/ticket
    ui.tick(page, 5_500)
    assert len(polls) == 1
    for _ in range(5):
        ui.tick(page, 10_000)  # inside the minute the server asked for
    assert len(polls) == 1
    page.evaluate("() => window.dispatchEvent(new Event('focus'))")  # focus does not jump it
    page.wait_for_timeout(300)
    assert len(polls) == 1
    ui.tick(page, 10_000)
    assert len(polls) == 2


# ---- content --------------------------------------------------------------------


def test_web_addresses_become_safe_links_and_other_schemes_stay_text(new_page, api):
    api.user("bob")
    api.signup("alice")
    api.post(
        "bob",
        "see https://example.org/a_(b)?q=1, or http://example.com. "
        'not javascript:alert(1) nor <a href="https://evil.example">x</a> nor data:text/html,hi',
    )
    page = ui.signed_in(new_page)
    links = ui.messages(page).first.get_by_role("link")
    expect(links).to_have_count(3)
    hrefs = [links.nth(i).get_attribute("href") for i in range(3)]
    assert hrefs == [
        "https://example.org/a_(b)?q=1",
        "http://example.com/",
        "https://evil.example/",  # the address typed inside the text, as text would show it
    ]
    for i in range(3):
        expect(links.nth(i)).to_have_attribute("rel", "noopener noreferrer nofollow")
        expect(links.nth(i)).to_have_attribute("target", "_blank")
    content = ui.messages(page).first.locator(".content")
    expect(content).to_contain_text('javascript:alert(1) nor <a href="https://evil.example">x</a>')
    assert page.locator("#messages a[href^='javascript'], #messages a[href^='data']").count() == 0


def test_right_to_left_text_and_names_are_isolated(new_page, api):
    api.user("bob")
    api.signup("alice")
    api.post("bob", "שלום עולם! 123")
    page = ui.signed_in(new_page)
    item = ui.messages(page).first
    expect(item.locator(".content")).to_have_attribute("dir", "auto")
    expect(item.locator(".author")).to_have_attribute("dir", "auto")
    assert item.locator(".author").evaluate("(node) => node.tagName") == "BDI"
    direction = item.locator(".content").evaluate("(node) => getComputedStyle(node).direction")
    assert direction == "rtl"


def test_a_long_message_collapses_and_expands(new_page, api):
    api.user("bob")
    api.signup("alice")
    api.post("bob", "\n".join(f"line {n}" for n in range(1, 21)))
    api.post("bob", "short")
    page = ui.signed_in(new_page)
    long_item = ui.messages(page).first  # its group's first row: written first
    content = long_item.locator(".content")
    collapsed = content.bounding_box()["height"]
    more = long_item.get_by_role("button", name="Show more")
    expect(more).to_have_attribute("aria-expanded", "false")
    assert collapsed < 24 * 7
    more.click()
    less = long_item.get_by_role("button", name="Show less")
    expect(less).to_have_attribute("aria-expanded", "true")
    assert content.bounding_box()["height"] > collapsed * 2
    less.click()
    expect(long_item.get_by_role("button", name="Show more")).to_be_visible()
    expect(ui.messages(page).nth(1).get_by_role("button")).to_have_count(0)  # short: no toggle


def test_the_exact_time_shows_on_hover_and_is_no_tab_stop(new_page, api):
    api.user("alice")
    api.post("alice", "when was this?")
    page = ui.signed_in(new_page)
    time = ui.messages(page).first.locator("time")
    expect(time).to_have_attribute("title", re.compile(r"^\w+day, \w+ \d+, \d{4} at .* UTC$"))
    assert time.evaluate("(t) => t.tabIndex") == -1  # the row is the stop, not its time


def test_display_name_shows_with_the_username_beside_it(new_page, api):
    api.signup("alice")
    page = new_page()
    page.route(
        re.compile(r".*/messages\?limit=20$"),
        lambda route: route.fulfill(
            status=200,
            content_type="application/json",
            headers={"Access-Control-Allow-Origin": "*"},
            body='{"messages": [{"id": "01", "username": "dana", "display_name": "دانا",'
            ' "content": "hi", "created_at": "2026-01-01T00:00:00.000Z"}], "next_cursor": null}',
        ),
    )
    ui.log_in(page, "alice")
    item = ui.messages(page).first
    expect(item.locator(".author")).to_have_text("دانا")
    expect(item.locator(".handle")).to_have_text("@dana")


def count_fully_visible(page) -> int:
    return page.evaluate(
        """() => [...document.querySelectorAll('#messages > li')].filter((item) => {
            const box = item.getBoundingClientRect();
            return box.top >= 0 && box.bottom <= window.innerHeight;
        }).length"""
    )


@pytest.mark.parametrize(("width", "height", "at_least"), [(1280, 800, 12), (360, 740, 8)])
def test_the_feed_shows_many_one_line_messages_at_once(new_page, api, width, height, at_least):
    api.user("bob")
    api.user("carol")
    api.signup("alice")
    for n in range(20):  # alternating authors: no grouping helps the count
        api.post("bob" if n % 2 else "carol", f"a one-line message, number {n}")
    page = ui.signed_in(new_page, width=width, height=height)
    expect(ui.messages(page)).to_have_count(20)
    visible = count_fully_visible(page)
    assert visible >= at_least, f"{visible} messages visible at {width}x{height}"


def test_consecutive_posts_by_one_author_group_under_one_name(new_page, api):
    api.user("bob")
    api.signup("alice")
    for text in ["first", "second", "third"]:
        api.post("bob", text)
    page = ui.signed_in(new_page)
    expect(ui.messages(page)).to_have_count(3)
    widths = page.locator("#messages .author").evaluate_all(
        "(names) => names.map((name) => name.getBoundingClientRect().width)"
    )
    assert widths[0] > 10 and widths[1] <= 1 and widths[2] <= 1
    expect(ui.messages(page).nth(1)).to_contain_text("bob")  # still read out with each


# ---- keyboard -------------------------------------------------------------------


def test_focus_stays_on_refresh_while_busy_and_after(new_page, api):
    api.user("alice")
    api.post("alice", "one")
    page = ui.signed_in(new_page)
    held = []
    page.route(re.compile(r".*/messages\?limit=20$"), lambda route: held.append(route))
    refresh = page.get_by_role("button", name="Refresh")
    refresh.focus()
    page.keyboard.press("Enter")
    busy = page.get_by_role("button", name="Refreshing…")
    expect(busy).to_be_focused()
    expect(busy).to_be_disabled()
    page.wait_for_function("() => true")
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(20)
    held[0].continue_()
    expect(refresh).to_be_focused()
    expect(refresh).to_be_enabled()


def test_older_keeps_focus_shows_its_error_beside_it_and_lands_on_new_rows(new_page, api):
    api.user("bob")
    api.signup("alice")
    for n in range(25):
        api.post("bob", f"message {n:02d}")
    page = ui.signed_in(new_page)
    older = page.get_by_role("button", name="Older messages")
    fail = {"on": True}

    def maybe_fail(route):
        if fail["on"]:
            route.abort()
        else:
            route.continue_()

    page.route(re.compile(r".*/messages\?limit=20&cursor=.*"), maybe_fail)
    older.focus()
    page.keyboard.press("Enter")
    near = page.locator(".more").get_by_role("alert")
    expect(near).to_have_text("Cannot reach the server. Check your connection and try again.")
    expect(older).to_be_focused()
    fail["on"] = False
    page.keyboard.press("Enter")
    expect(ui.messages(page)).to_have_count(25)
    expect(near).to_have_text("")
    # No more pages: the button is gone, so focus moves to the first (oldest) row it
    # loaded, at the top, just below the board's start (bob's older messages head his
    # one group, oldest first).
    expect(older).to_be_hidden()
    focused = page.locator("#messages > li.message:focus")
    expect(focused.locator(".content")).to_have_text("message 00")
    expect(focused).to_be_in_viewport()
    start = page.get_by_text("This is the start of the board.")
    assert start.bounding_box()["y"] < focused.bounding_box()["y"]


def test_older_messages_load_above_without_moving_the_view(new_page, api):
    """The older page goes in above what was read, right below "Older messages", which
    stays where it was (and keeps focus): the view does not jump."""
    api.user("bob")
    api.user("carol")
    api.signup("alice")
    for n in range(65):  # by two people: one may post only so fast
        api.post("carol" if n < 20 else "bob", f"message {n:02d}")
    page = ui.signed_in(new_page, width=1280, height=800)
    expect(ui.messages(page)).to_have_count(20)
    older = page.get_by_role("button", name="Older messages")
    page.evaluate("() => window.scrollTo(0, 0)")
    before = older.bounding_box()
    older.click()
    expect(ui.messages(page)).to_have_count(40)
    expect(older).to_be_focused()
    after = older.bounding_box()
    assert abs(after["y"] - before["y"]) <= 2, (before, after)
    first = ui.oldest(page)
    expect(first.locator(".content")).to_have_text("message 25")  # the page just loaded
    gap = first.bounding_box()["y"] - (after["y"] + after["height"])
    assert 0 <= gap <= 40, gap  # right below the button
    # Again with the button half scrolled off the top (pressed by the keyboard there):
    # it stays put all the same, rather than the rows below it holding still.
    page.evaluate("""() => {
        const button = document.querySelector("#older");
        window.scrollBy(0, button.getBoundingClientRect().top + 10);
        button.focus({ preventScroll: true });
    }""")
    before = older.bounding_box()
    assert -20 < before["y"] < 0, before
    page.keyboard.press("Enter")
    expect(ui.messages(page)).to_have_count(60)
    expect(older).to_be_focused()
    assert abs(older.bounding_box()["y"] - before["y"]) <= 2, (before, older.bounding_box())
    expect(ui.oldest(page).locator(".content")).to_have_text("message 05")


def test_ctrl_enter_posts_from_the_composer(new_page, api):
    api.signup("alice")
    page = ui.signed_in(new_page)
    ui.write_message(page, "sent with the keyboard")
    ui.composer(page).get_by_label("Message").press("Control+Enter")
    expect(ui.messages(page).first.locator(".content")).to_have_text("sent with the keyboard")
    expect(ui.composer(page).get_by_label("Message")).to_have_value("")


def test_skip_link_moves_focus_to_the_newest_message(new_page, api):
    api.user("alice")
    api.post("alice", "an older one")
    api.post("alice", "skip to me")
    page = ui.signed_in(new_page)
    page.get_by_role("link", name="chalkboard").focus()
    page.keyboard.press("Shift+Tab")  # the first stop on the page
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(ui.newest(page)).to_be_focused()  # the bottom row, where a chat is read from
    expect(ui.newest(page).locator(".content")).to_have_text("skip to me")
    expect(page).to_have_url(re.compile(r"#/board$"))


def test_empty_board_invites_the_first_post(new_page, api):
    api.signup("alice")
    page = ui.signed_in(new_page)
    invite = page.get_by_text("No messages yet. Write the first one below.")
    expect(invite).to_be_visible()
    page.get_by_role("link", name="chalkboard").focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")  # skip to content: the composer, on an empty board
    expect(ui.composer(page).get_by_label("Message")).to_be_focused()
    page.keyboard.type("first!")
    page.keyboard.press("Control+Enter")
    expect(invite).to_be_hidden()
    expect(ui.messages(page).first.locator(".content")).to_have_text("first!")


# ---- one time per group, aligned rows, a quiet header ----------------------------


def test_a_group_shows_its_time_once_and_each_row_its_own_on_hover(new_page, api):
    api.user("bob")
    api.signup("alice")
    for text in ["first", "second", "third"]:
        api.post("bob", text)
    page = ui.signed_in(new_page)
    expect(ui.messages(page)).to_have_count(3)
    times = page.locator("#messages .when")  # what shows of each row's <time>
    widths = times.evaluate_all("(all) => all.map((t) => t.getBoundingClientRect().width)")
    assert widths[0] > 10 and widths[1] <= 1 and widths[2] <= 1, widths
    expect(ui.messages(page).nth(1)).to_contain_text("now")  # still read out with the row
    ui.messages(page).nth(1).hover()
    assert times.nth(1).evaluate("(t) => t.getBoundingClientRect().width") > 10
    ui.messages(page).nth(2).focus()
    assert times.nth(2).evaluate("(t) => t.getBoundingClientRect().width") > 10


def test_a_right_to_left_row_in_a_group_lines_up_with_the_others(new_page, api):
    api.user("bob")
    api.signup("alice")
    for text in ["left to right, one", "שלום עולם", "left to right, three"]:
        api.post("bob", text)
    page = ui.signed_in(new_page)
    expect(ui.messages(page)).to_have_count(3)
    boxes = page.locator("#messages .content").evaluate_all(
        "(all) => all.map((c) => {"
        " const b = c.getBoundingClientRect(); return [b.left, b.right]; })"
    )
    lefts = {round(left) for left, _ in boxes}
    rights = {round(right) for _, right in boxes}
    assert len(lefts) == 1 and len(rights) == 1, boxes
    text = page.locator("#messages .content").nth(1)
    text_right = text.evaluate(
        "(c) => { const r = document.createRange(); r.selectNodeContents(c);"
        " return r.getBoundingClientRect().right; }"
    )
    assert abs(text_right - boxes[1][1]) <= 1  # right-aligned to the same edge as the rest


def test_a_name_that_is_the_username_shows_once_without_its_handle(new_page, api):
    api.user("bob")  # no display name: the username is the name
    reply = api.call("POST", "/signup", {"username": "carol", "password": ui.PASSWORD,
                                         "display_name": "Carol"})  # the same but for case
    assert reply.status == 201, reply.body
    api.login("carol")
    api.user("alice")
    api.post("bob", "hi")
    api.post("carol", "hello")
    api.post("alice", "mine")
    page = ui.signed_in(new_page)
    bob, carol, mine = ui.messages(page).nth(0), ui.messages(page).nth(1), ui.messages(page).nth(2)
    expect(bob.locator(".author")).to_have_text("bob")
    expect(bob.locator(".handle")).to_have_count(0)  # not "bob @bob"
    expect(carol.locator(".head")).to_have_text("Carol")  # not "Carol @carol"
    expect(mine.locator(".head")).to_have_text(re.compile(r"^alice\s*\(you\)$"))
    for row in (bob, carol, mine):  # shown whole, none cut short for a handle not there
        assert row.locator(".author").evaluate("(n) => n.scrollWidth <= n.clientWidth")


def test_the_keyboard_hint_hides_behind_a_question_mark_and_describes_the_list(new_page, api):
    api.user("bob")
    api.signup("alice")
    api.post("bob", "hi")
    page = ui.signed_in(new_page)
    hint = page.locator("#feed-keys")
    expect(hint).to_be_hidden()
    expect(ui.message_list(page)).to_have_accessible_description(
        re.compile(r"↑ ↓ or j k move between messages")
    )
    page.get_by_title("Keyboard shortcuts").click()
    expect(hint).to_be_visible()
    page.keyboard.press("Escape")  # closes as a popup does, back on its "?"
    expect(hint).to_be_hidden()
    expect(page.locator("#keys-help summary")).to_be_focused()
    page.get_by_title("Keyboard shortcuts").click()
    expect(hint).to_be_visible()
    ui.board_heading(page).click()  # a click elsewhere closes it too
    expect(hint).to_be_hidden()


def test_refresh_is_a_quiet_icon_button(new_page, api):
    api.signup("alice")
    page = ui.signed_in(new_page)
    refresh = page.get_by_role("button", name="Refresh", exact=True)
    box = refresh.bounding_box()
    assert box["width"] <= 40 and box["height"] <= 40, box
    expect(refresh).to_have_attribute("title", "Refresh")


# ---- the composer over its limit -----------------------------------------------------


def test_an_over_long_message_scrolls_inside_a_capped_composer_ringed_once(new_page, api):
    api.signup("alice")
    page = ui.signed_in(new_page)
    field = ui.composer(page).get_by_label("Message")
    ui.write_message(page, "word " * 240)  # 1,200 characters: over the limit, many lines
    field.focus()
    expect(field).to_have_attribute("aria-invalid", "true")
    size = field.evaluate(
        "(f) => ({ height: f.getBoundingClientRect().height, inner: f.scrollHeight,"
        " outline: getComputedStyle(f).outlineColor, border: getComputedStyle(f).borderTopColor,"
        " danger: getComputedStyle(document.querySelector('#post-count')).color })"
    )
    assert size["height"] <= 210, size  # about eight lines, not thirteen
    assert size["inner"] > size["height"]  # the rest scrolls inside
    # One ring, in the error colour (the count's), and no second line of another colour
    # inside it (the field's spacing is a transparent border).
    assert size["outline"] == size["danger"] and size["border"] == "rgba(0, 0, 0, 0)", size
    post = ui.composer(page).get_by_role("button", name="Post")
    expect(post).to_be_disabled()
    expect(post).to_have_accessible_description(re.compile(r"^Too long by \d+ characters"))
    ui.write_message(page, "fits")
    expect(post).to_be_enabled()
    expect(post).not_to_have_attribute("aria-describedby", re.compile("."))


@pytest.mark.parametrize(("width", "height", "lines"), [(1280, 440, None), (360, 740, 5)])
def test_a_long_draft_scrolls_inside_a_capped_composer_that_keeps_its_inner_spacing(
        new_page, api, width, height, lines):
    """Capped at about 40% of the window (eight lines at most) on a desktop, five lines on
    a phone, so the feed stays in sight; scrolled, the text still stops short of the
    field's edge rather than running against it."""
    api.signup("alice")
    page = ui.signed_in(new_page, width=width, height=height)
    field = ui.composer(page).get_by_label("Message")
    ui.write_message(page, "a line of the draft\n" * 30)
    field.focus()
    box = field.evaluate("""(f) => {
        const style = getComputedStyle(f), rect = f.getBoundingClientRect();
        const drawnByOutline = style.borderTopColor === "rgba(0, 0, 0, 0)";
        const edge = drawnByOutline
            ? rect.top - parseFloat(style.outlineOffset) - parseFloat(style.outlineWidth)
            : rect.top;
        f.scrollTop = 0;
        const first = rect.top + f.clientTop + parseFloat(style.paddingTop);  // scrollTop 0
        f.scrollTop = f.scrollHeight / 2;  // midway: lines pass under the clip edge
        return { height: rect.height, inner: f.scrollHeight, client: f.clientHeight,
                 window: innerHeight, line: parseFloat(style.lineHeight),
                 edge, first, clip: rect.top + f.clientTop, scrolled: f.scrollTop };
    }""")
    assert box["inner"] > box["client"] and box["scrolled"] > 0, box  # it scrolls inside
    cap = box["window"] * 0.4 if lines is None else lines * box["line"] + 16
    assert box["height"] <= cap + 1, box
    assert box["first"] - box["edge"] >= 6, box  # the first line keeps its spacing…
    assert box["clip"] - box["edge"] >= 6, box  # …and scrolled text stops short of the edge


# ---- a group reads in the order it was written -----------------------------------


def shown_authors(page) -> list[str]:
    """Each row's author's username, top to bottom; the group headers are the rows whose
    name shows (group_headers)."""
    return page.locator("#messages > li.message").evaluate_all(
        "(rows) => rows.map((row) => row.dataset.author)")


def test_on_first_load_groups_and_their_rows_run_oldest_first(new_page, api):
    api.user("bob")
    api.user("carol")
    api.signup("alice")
    api.post("carol", "c1")
    api.post("bob", "Lunch at noon?")
    api.post("bob", "And bring the slides, please.")
    api.post("carol", "c2")
    api.post("carol", "c3")
    page = ui.signed_in(new_page)
    expect(ui.messages(page)).to_have_count(5)
    # As a chat: groups oldest first, and inside each the order it was written in.
    assert ui.message_texts(page) == ["c1", "Lunch at noon?",
                                      "And bring the slides, please.", "c2", "c3"]
    assert ui.group_headers(page) == ["c1", "Lunch at noon?", "c2"]
    widths = page.locator("#messages .author").evaluate_all(
        "(names) => names.map((name) => name.getBoundingClientRect().width)")
    assert [width > 10 for width in widths] == [True, True, False, True, False], widths
    # The keyboard goes the way the eye does.
    ui.messages(page).first.focus()
    for text in ["Lunch at noon?", "And bring the slides, please.", "c2"]:
        page.keyboard.press("ArrowDown")
        expect(page.locator("#messages > li.message:focus .content")).to_have_text(text)
    page.keyboard.press("k")
    expect(page.locator("#messages > li.message:focus .content")).to_have_text(
        "And bring the slides, please.")


def test_older_messages_by_the_top_groups_author_join_it_at_its_top(new_page, api):
    api.user("bob")
    api.user("carol")
    api.signup("alice")
    for n in range(5):
        api.post("bob", f"b{n}")
    for n in range(17):
        api.post("carol", f"c{n:02d}")
    page = ui.signed_in(new_page)
    expect(ui.messages(page)).to_have_count(20)  # bob's newest 3, then carol's 17
    assert ui.message_texts(page)[:3] == ["b2", "b3", "b4"]
    page.get_by_role("button", name="Older messages").click()
    expect(ui.messages(page)).to_have_count(22)
    assert ui.message_texts(page) == ["b0", "b1", "b2", "b3", "b4"] + [
        f"c{n:02d}" for n in range(17)]
    assert ui.group_headers(page) == ["b0", "c00"]  # b2 heads nothing any more


def test_a_live_message_by_the_bottom_groups_author_joins_it_at_its_bottom(new_page, api):
    api.user("bob")
    api.user("carol")
    api.signup("alice")
    api.post("bob", "one")
    page = ui.signed_in(new_page)
    api.post("bob", "two")
    expect(ui.messages(page)).to_have_count(2, timeout=ARRIVAL_MS)
    assert ui.message_texts(page) == ["one", "two"]
    assert ui.group_headers(page) == ["one"]
    expect(ui.newest(page).locator(".content")).to_have_text("two")
    api.post("carol", "three")  # someone else: a new group, below
    expect(ui.messages(page)).to_have_count(3, timeout=ARRIVAL_MS)
    assert ui.message_texts(page) == ["one", "two", "three"]
    assert ui.group_headers(page) == ["one", "three"]
    ui.post(page, "four")  # posting here arrives the same way
    ui.post(page, "five")
    assert ui.message_texts(page)[-2:] == ["four", "five"]
    assert ui.group_headers(page)[-1] == "four"
    assert shown_authors(page)[-3:] == ["carol", "alice", "alice"]


def test_deleting_a_groups_first_row_gives_its_header_to_the_next(new_page, api):
    api.user("alice")
    for text in ["one", "two", "three"]:
        api.post("alice", text)
    page = ui.signed_in(new_page)
    expect(ui.messages(page)).to_have_count(3)
    assert ui.message_texts(page) == ["one", "two", "three"]
    first = ui.messages(page).first
    first.get_by_role("button", name="Delete your message: one").click()
    page.get_by_role("dialog", name="Delete this message?").get_by_role(
        "button", name="Delete", exact=True).click()
    expect(ui.messages(page)).to_have_count(2)
    assert ui.message_texts(page) == ["two", "three"]
    assert ui.group_headers(page) == ["two"]
    head = ui.messages(page).first
    expect(head).to_be_focused()  # the next row, now the group's first
    assert head.locator(".author").evaluate("(n) => n.getBoundingClientRect().width") > 10
    assert head.locator(".when").evaluate("(n) => n.getBoundingClientRect().width") > 10


def test_show_more_opens_a_long_row_in_its_place_in_the_group(new_page, api):
    api.user("bob")
    api.signup("alice")
    api.post("bob", "before the long one")
    api.post("bob", "\n".join(f"line {n}" for n in range(1, 21)))
    api.post("bob", "after the long one")
    page = ui.signed_in(new_page)
    expect(ui.messages(page)).to_have_count(3)
    long_item = ui.messages(page).nth(1)
    expect(long_item.locator(".content")).to_contain_text("line 1\nline 2")
    more = long_item.get_by_role("button", name="Show more")
    more.click()
    expect(long_item.get_by_role("button", name="Show less")).to_have_attribute(
        "aria-expanded", "true")
    texts = ui.message_texts(page)
    assert texts[0] == "before the long one" and texts[2] == "after the long one", texts
    assert ui.group_headers(page) == ["before the long one"]
    boxes = page.locator("#messages > li.message").evaluate_all(
        "(rows) => rows.map((r) => r.getBoundingClientRect().top)")
    assert boxes == sorted(boxes)  # shown top to bottom in that order too


# ---- days: a divider above each, clock times before today ---------------------------


def stub(username: str, content: str, at: str) -> dict:
    """A message as the API shows it, written at ``at`` (the API cannot backdate)."""
    millis = int(datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp() * 1000)
    return {"id": f"{millis:013d}{len(content):013d}", "username": username,
            "display_name": username, "content": content, "created_at": at}


def board_on(new_page, now: str, first_page: list[dict], newer: list[dict] | None = None):
    """Alice's board at ``now`` on the page's clock, its first page ``first_page``
    (newest first, as the API gives it) and its live checks answered with ``newer``
    (empty unless given)."""
    page = new_page()
    page.clock.install(time=now)
    answer = {"Access-Control-Allow-Origin": "*"}
    page.route(re.compile(r".*/messages\?limit=20$"), lambda route: route.fulfill(
        status=200, content_type="application/json", headers=answer,
        body=json.dumps({"messages": first_page, "next_cursor": None})))
    page.route(re.compile(r".*/live\?.*"), lambda route: route.fulfill(
        status=200, content_type="application/json", headers=answer,
        body=json.dumps({"messages": newer or [], "next_cursor": None})))
    page.reload()
    ui.log_in(page, "alice")
    return page


def feed_lines(page) -> list[str]:
    """The feed top to bottom: each day's heading as "# day", each row's text."""
    return page.locator("#messages > li").evaluate_all(
        """(rows) => rows.flatMap((row) => {
            const day = row.querySelector("h2")?.textContent;
            const text = row.querySelector(".content").textContent;
            return day ? [`# ${day}`, text] : [text];
        })""")


def test_days_are_divided_and_earlier_days_show_clock_times(new_page, api):
    api.signup("alice")
    page = board_on(new_page, "2026-12-07T10:00:00Z", [
        stub("carol", "morning coffee", "2026-12-07T09:57:45.000Z"),
        stub("bob", "just after midnight", "2026-12-07T00:01:00.000Z"),
        stub("bob", "just before midnight", "2026-12-06T23:58:00.000Z"),
        stub("ada", "a week ago", "2026-11-30T14:05:00.000Z"),
    ])
    expect(ui.messages(page)).to_have_count(4)  # the dividers are no items of the list
    assert feed_lines(page) == [
        "# Monday, November 30", "a week ago",
        "# Yesterday", "just before midnight",  # bob's two, 3 minutes apart: two groups
        "# Today", "just after midnight", "morning coffee",
    ]
    days = ui.message_list(page).get_by_role("heading", level=2)
    expect(days).to_have_text(["Monday, November 30", "Yesterday", "Today"])
    assert ui.group_headers(page) == [
        "a week ago", "just before midnight", "just after midnight", "morning coffee"]
    times = page.locator("#messages time")
    expect(times).to_have_text(["2:05 PM", "11:58 PM", "12:01 AM", "9:57 AM"])
    expect(times.nth(1)).to_have_attribute(
        "title", re.compile(r"^Sunday, December 6, 2026 at 11:58:00 PM UTC$"))
    ui.messages(page).first.focus()  # the keyboard steps over the dividers
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(ui.messages(page).nth(2)).to_be_focused()


# Where a row's focus ring and tint are drawn: the row itself, or its ::before (its used
# height up from its bottom, as inset 0 in a grid area puts it). Returns the box's top
# edge, its outline's outer edge, and whether the row itself is tinted.
FOCUS_BOX = """(row) => {
    const drawn = (s) => s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0;
    const own = getComputedStyle(row), bar = getComputedStyle(row, "::before");
    const box = row.getBoundingClientRect();
    const label = row.querySelector(".day-label").getBoundingClientRect();
    let top = null;
    if (drawn(own)) {
        top = box.top - parseFloat(own.outlineOffset) - parseFloat(own.outlineWidth);
    } else if (drawn(bar)) {
        const bottom = box.bottom - parseFloat(own.borderBottomWidth) - parseFloat(bar.bottom);
        top = bottom - parseFloat(bar.height)
            - parseFloat(bar.outlineOffset) - parseFloat(bar.outlineWidth);
    }
    return { label: label.bottom, top, rowTinted: own.backgroundColor !== "rgba(0, 0, 0, 0)",
             tint: bar.backgroundColor };
}"""


@pytest.mark.parametrize("width", [1280, 360])
def test_a_focused_first_row_of_a_day_rings_its_message_not_the_days_divider(
        new_page, api, width):
    api.signup("alice")
    page = board_on(new_page, "2026-12-07T10:00:00Z", [
        stub("carol", "morning coffee", "2026-12-07T09:57:45.000Z"),
        stub("bob", "just before midnight", "2026-12-06T23:58:00.000Z"),
    ])
    page.set_viewport_size({"width": width, "height": 740})
    expect(ui.messages(page)).to_have_count(2)
    page.mouse.move(0, 0)
    ui.messages(page).first.focus()
    for index, key in ((1, "ArrowDown"), (0, "ArrowUp")):  # Today's row, then Yesterday's
        page.keyboard.press(key)  # by keyboard, as a ring is shown for
        row = ui.messages(page).nth(index)
        expect(row).to_be_focused()
        box = row.evaluate(FOCUS_BOX)
        assert box["top"] is not None, box  # a ring is drawn…
        assert box["top"] >= box["label"], box  # …below the day's name and rule, not round it
        assert not box["rowTinted"] and box["tint"] != "rgba(0, 0, 0, 0)", box


def test_at_midnight_today_becomes_yesterday_and_its_times_clock_times(new_page, api):
    api.signup("alice")
    page = board_on(new_page, "2026-12-06T23:59:00Z", [
        stub("bob", "late", "2026-12-06T23:58:00.000Z")])
    expect(page.locator("#messages time")).to_have_text("11:58 PM")
    expect(page.locator("#messages h2")).to_have_count(0)  # only today: nothing to divide
    page.clock.fast_forward("02:00")
    expect(page.locator("#messages h2")).to_have_text("Yesterday")
    expect(page.locator("#messages time")).to_have_text("11:58 PM")


def test_a_new_day_starts_a_new_group_even_for_the_same_author(new_page, api):
    api.signup("alice")
    page = board_on(new_page, "2026-12-07T00:02:00Z",
                    [stub("bob", "late", "2026-12-06T23:59:00.000Z")],
                    newer=[stub("bob", "early", "2026-12-07T00:01:30.000Z")])
    ui.tick(page, 3_500)
    expect(ui.messages(page)).to_have_count(2)
    assert feed_lines(page) == ["# Yesterday", "late", "# Today", "early"]
    assert ui.group_headers(page) == ["late", "early"]


# ---- the composer's placeholder --------------------------------------------------------


@pytest.mark.parametrize(("width", "hint"), [(360, False), (1280, True)])
def test_the_placeholder_keeps_to_one_line_and_names_ctrl_enter_only_with_room(
        new_page, api, width, hint):
    api.signup("alice")
    page = ui.signed_in(new_page, width=width, height=740)
    field = ui.composer(page).get_by_label("Message")
    assert ("Ctrl+Enter" in field.get_attribute("placeholder")) is hint
    empty = field.bounding_box()["height"]
    ui.write_message(page, "x")
    assert field.bounding_box()["height"] == empty  # the placeholder took one line too


def test_a_touch_screen_placeholder_names_no_ctrl_enter(browser, web, api, new_page):
    api.signup("alice")
    context = app_context(browser, web.url, api.url, viewport={"width": 900, "height": 700},
                          has_touch=True, is_mobile=True)
    try:
        page = new_page(context=context)
        ui.log_in(page, "alice")
        expect(ui.composer(page).get_by_label("Message")).to_have_attribute(
            "placeholder", "Write a message…")
    finally:
        context.close()


# Where a row's head line ends (its last part: "(you)" or the @handle), where its time
# is, where its delete is (or null), and the row's content box's right edge.
HEAD_LINE = """(row) => {
    const box = (node) => node && node.getBoundingClientRect();
    const head = box(row.querySelector(".head").lastElementChild);
    const time = box(row.querySelector("time"));
    const del = box(row.querySelector("button.delete"));
    const rowBox = box(row);
    return {
        end: head.right, middle: (head.top + head.bottom) / 2,
        left: time.left, right: time.right, timeMiddle: (time.top + time.bottom) / 2,
        delete: del && { left: del.left, right: del.right, top: del.top, bottom: del.bottom },
        edge: rowBox.right - parseFloat(getComputedStyle(row).paddingRight),
    };
}"""


@pytest.mark.parametrize("width", [1280, 360])
def test_a_headers_time_sits_just_after_the_handle_and_ones_own_delete_keeps_no_column(
        new_page, api, width):
    """As in Slack and Discord: "bob @bob  9:41 PM" on one line, not the time far off at
    the row's end; one's own delete floats over the row's top right corner when shown,
    keeping no blank column on any row, and clear of the head line's name and time."""
    api.user("bob")
    api.user("alice")
    api.post("bob", "bob's first")
    api.post("bob", "bob's second")
    api.post("alice", "mine")
    api.post("alice", "mine too")
    api.post("bob", "bob again")
    page = ui.signed_in(new_page, width=width)
    rows = ui.messages(page)
    expect(rows).to_have_count(5)
    expect(page.locator("#messages button.delete")).to_have_count(2)  # alice's own rows
    assert ui.group_headers(page) == ["bob's first", "mine", "bob again"]
    for index in (0, 2, 4):  # each group's header: bob's, alice's own, bob's
        rows.nth(index).hover()  # one's own delete shows
        line = rows.nth(index).evaluate(HEAD_LINE)
        assert 2 <= line["left"] - line["end"] <= 16, line  # just after the handle…
        assert abs(line["timeMiddle"] - line["middle"]) <= 4, line  # …on its line
        if line["delete"]:
            assert line["delete"]["left"] >= line["right"] + 4, line  # clear of the time
            text = rows.nth(index).locator(".content").bounding_box()
            assert line["delete"]["bottom"] <= text["y"] + 1, (line, text)  # and the text
            row_box = rows.nth(index).bounding_box()
            assert line["delete"]["top"] >= row_box["y"], (line, row_box)  # in its row
            assert line["edge"] - 4 <= line["delete"]["right"] <= line["edge"] + 12, line
    # A grouped row's time shows on hover, clear of one's own delete.
    rows.nth(3).hover()  # alice's "mine too"
    line = rows.nth(3).evaluate(HEAD_LINE)
    assert line["delete"] and line["right"] <= line["delete"]["left"], line
    # One's own rows are as tall as others' with the same (one-line) text: the delete
    # grows no row, a group's top row (the header) nor a row below it.
    heights = [rows.nth(index).bounding_box()["height"] for index in range(5)]
    assert heights[2] == heights[4], heights  # alice's "mine" and bob's "bob again"
    assert heights[3] == heights[1], heights  # alice's "mine too" and bob's "bob's second"
    # No column is kept for the delete: one's own text runs as wide as everyone else's.
    own = page.locator("#messages li.mine .content").first.bounding_box()
    other = page.locator("#messages li:not(.mine) .content").first.bounding_box()
    assert abs((own["x"] + own["width"]) - (other["x"] + other["width"])) <= 1, (own, other)


def test_on_a_phone_the_handle_gives_way_before_the_name(new_page, api):
    reply = api.call("POST", "/signup", {"username": "gracebrewsterhopper",
                                         "password": ui.PASSWORD, "display_name": "Grace Hopper"})
    assert reply.status == 201, reply.body
    api.login("gracebrewsterhopper")
    api.post("gracebrewsterhopper", "Does anyone know why the staging deploy is slow?")
    api.signup("alice")
    page = ui.signed_in(new_page, width=360, height=740)
    row = ui.messages(page).first
    expect(row.locator(".author")).to_have_text("Grace Hopper")

    def cut(part: str) -> bool:
        return row.locator(part).evaluate("(node) => node.scrollWidth > node.clientWidth")

    assert not cut(".author")  # the name shows whole…
    assert cut(".handle")  # …and the @handle is the one shortened


def test_on_a_phone_name_handle_and_time_show_whole_and_clear_of_ones_own_delete(
        new_page, api):
    reply = api.call("POST", "/signup", {"username": "gracehopper", "password": ui.PASSWORD,
                                         "display_name": "Grace Hopper"})
    assert reply.status == 201, reply.body
    api.login("gracehopper")
    api.post("gracehopper", "Does anyone know why the staging deploy is slow?")
    reply = api.call("POST", "/signup", {"username": "alicewellington", "password": ui.PASSWORD,
                                         "display_name": "Alice Wellington"})
    assert reply.status == 201, reply.body
    api.login("alicewellington")
    api.post("alicewellington", "No idea, sorry")
    page = ui.signed_in(new_page, "alicewellington", width=360, height=740)
    theirs, mine = ui.messages(page).first, ui.messages(page).nth(1)
    expect(theirs.locator(".handle")).to_have_text("@gracehopper")
    # Nothing to do on someone else's row: name, @handle and time all show whole, the
    # time just after the handle, inside the row.
    line = theirs.evaluate(HEAD_LINE)
    assert 2 <= line["left"] - line["end"] <= 16 and line["right"] <= line["edge"] + 1, line
    for part in (".author", ".handle"):
        assert theirs.locator(part).evaluate("(n) => n.scrollWidth <= n.clientWidth"), part
    # One's own row, tapped or focused: its delete shows over the corner, never over the
    # name, the @handle (shortened first if need be) or the time.
    mine.focus()
    delete = mine.get_by_role("button", name=re.compile("^Delete"))
    expect(delete).to_have_css("opacity", "1")
    line = mine.evaluate(HEAD_LINE)
    assert line["delete"]["left"] >= line["right"] + 4, line
    assert line["delete"]["left"] >= line["end"], line
    assert mine.locator(".author").evaluate("(n) => n.scrollWidth <= n.clientWidth")


def test_ones_own_rows_look_like_everyone_elses_but_for_you(new_page, api):
    """No bar or tint marks one's own rows (as in Slack and Discord): an own row at rest
    is drawn as another's, but for "(you)"."""
    api.user("bob")
    api.user("alice")
    api.post("bob", "bob's")
    api.post("alice", "mine")
    page = ui.signed_in(new_page, width=1280)
    theirs, mine = ui.messages(page).first, ui.messages(page).nth(1)
    expect(mine).to_have_class(re.compile(r"\bmine\b"))
    expect(mine.locator(".you")).to_have_text("(you)")
    page.mouse.move(0, 0)
    look = """(row) => {
        const style = getComputedStyle(row), bar = getComputedStyle(row, "::before");
        return [style.backgroundColor, style.borderLeftWidth, style.boxShadow,
                bar.content, bar.backgroundColor];
    }"""
    assert mine.evaluate(look) == theirs.evaluate(look)


def inside(inner: dict, outer: dict) -> bool:
    """Whether one bounding box lies within another (a pixel's rounding allowed)."""
    return (inner["x"] >= outer["x"] - 1 and inner["y"] >= outer["y"] - 1
            and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 1
            and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 1)


def test_ones_own_actions_toolbar_shows_on_hover_and_focus_and_delete_stays_a_tab_stop(
        new_page, api):
    """As Slack's message actions: a small toolbar inside the row's top right corner (not
    across its edge), shown on hover and while the row or its button has focus; Delete an
    icon, named for screen readers, with its name in a visible tooltip."""
    api.user("bob")
    api.user("alice")
    api.post("alice", "mine")
    api.post("bob", "bob's")
    page = ui.signed_in(new_page, width=1280)
    mine, theirs = ui.messages(page).first, ui.messages(page).nth(1)
    tools = mine.locator(".row-tools")
    delete = tools.get_by_role("button", name="Delete your message: mine", exact=True)
    tip = delete.get_by_text("Delete", exact=True)
    page.mouse.move(0, 0)
    expect(tools).to_have_css("opacity", "0")  # at rest: the row is like the others
    mine.hover()
    expect(tools).to_have_css("opacity", "1")
    assert inside(tools.bounding_box(), mine.bounding_box())  # in its corner, not across
    expect(tip).to_be_hidden()
    delete.hover()
    expect(tip).to_be_visible()  # the icon's name, as a tooltip
    assert tip.bounding_box()["x"] + tip.bounding_box()["width"] <= delete.bounding_box()["x"]
    theirs.hover()
    expect(tools).to_have_css("opacity", "0")
    expect(theirs.get_by_role("button")).to_have_count(0)  # nothing to do on others' rows
    page.mouse.move(0, 0)
    # By keyboard: the row with focus shows it, Tab reaches Delete (named as before), and
    # it shows while it has focus, its tooltip too; off the row, it goes again.
    theirs.focus()
    page.keyboard.press("ArrowUp")
    expect(mine).to_be_focused()
    expect(tools).to_have_css("opacity", "1")
    page.keyboard.press("Tab")
    expect(delete).to_be_focused()
    expect(tools).to_have_css("opacity", "1")
    expect(tip).to_be_visible()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("ArrowDown")
    expect(theirs).to_be_focused()
    expect(tools).to_have_css("opacity", "0")
    # Never taken out of the focus order or the accessibility tree while hidden.
    assert delete.evaluate(
        "(b) => [getComputedStyle(b).display, getComputedStyle(b).visibility]"
    ) == ["flex", "visible"]
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Delete")
    expect(page.get_by_role("dialog", name="Delete this message?")).to_be_visible()


# What a row shows of its full date: the toolbar's label text (drawn from data-stamp)
# and whether it is on screen.
STAMP = """(row) => {
    const tools = row.querySelector(".row-tools");
    const tip = getComputedStyle(tools, "::before");
    return { shown: tip.display !== "none" && getComputedStyle(tools).opacity === "1",
             text: tools.dataset.stamp };
}"""

# Where the label is drawn, against its row's box. A pseudo-element has no box to ask
# for: it is worked out from the toolbar's box and the label's used size and offsets
# (placed by top/left when absolutely positioned, else the toolbar's first box, centred).
STAMP_BOX = """(row) => {
    const tools = row.querySelector(".row-tools");
    const box = tools.getBoundingClientRect();
    const tip = getComputedStyle(tools, "::before");
    const width = parseFloat(tip.width), height = parseFloat(tip.height);
    let left = box.left, top = box.top + (box.height - height) / 2;
    if (tip.position === "absolute" || tip.position === "fixed") {
        left = box.left + parseFloat(tip.left);
        top = box.top + parseFloat(tip.top);
    }
    const r = row.getBoundingClientRect();
    return { label: { left, right: left + width, top, bottom: top + height, width },
             row: { left: r.left, right: r.right, top: r.top, bottom: r.bottom } };
}"""


def assert_stamp_inside(row) -> None:
    """The full date is drawn inside its own row's box, over no other row."""
    spot = row.evaluate(STAMP_BOX)
    label, box = spot["label"], spot["row"]
    assert label["width"] > 100, spot  # the date itself, not an empty box
    assert box["left"] <= label["left"] and label["right"] <= box["right"], spot
    assert box["top"] <= label["top"] and label["bottom"] <= box["bottom"], spot


def words_for(created_at: str) -> str:
    """A message's date and time in words, as en-US in UTC writes them."""
    when = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    hour = when.hour % 12 or 12
    return (f"{when:%A}, {when:%B} {when.day}, {when.year} at "
            f"{hour}:{when:%M} {'AM' if when.hour < 12 else 'PM'}")


def test_a_rows_full_date_shows_while_it_has_keyboard_focus(new_page, api):
    """The full date was only in the time's title, a mouse's tooltip: a keyboard shows it
    too, on anyone's row, while the row has focus."""
    api.user("bob")
    api.user("alice")
    first = api.post("bob", "bob's")
    second = api.post("alice", "mine")
    page = ui.signed_in(new_page, width=1280)
    theirs, mine = ui.messages(page).first, ui.messages(page).nth(1)
    assert theirs.evaluate(STAMP) == {"shown": False, "text": words_for(first["created_at"])}
    mine.focus()
    page.keyboard.press("ArrowUp")
    expect(theirs).to_be_focused()
    assert theirs.evaluate(STAMP)["shown"]
    assert_stamp_inside(theirs)  # the first row's: not over the board's start above it
    assert not mine.evaluate(STAMP)["shown"]
    page.keyboard.press("ArrowDown")
    assert mine.evaluate(STAMP) == {"shown": True, "text": words_for(second["created_at"])}
    assert_stamp_inside(mine)  # drawn above the row, it covered the row before's text
    assert not theirs.evaluate(STAMP)["shown"]
    mine.get_by_role("button", name="Delete your message: mine").focus()  # Tab's place
    assert mine.evaluate(STAMP)["shown"]
    page.mouse.click(5, 400)  # off the list: focus gone, nothing shown
    assert not mine.evaluate(STAMP)["shown"]


def test_on_a_touch_screen_ones_own_rows_show_more_actions_that_delete_after_asking(
        browser, web, api, new_page):
    """A touch screen has no hover: one's own rows show "More actions" (⋯) at all times,
    a finger's size, which opens a sheet with the message's full date and Delete; Delete
    asks as ever, and the message goes once confirmed."""
    api.user("bob")
    api.signup("alice")
    api.login("alice")
    api.post("bob", "bob's")
    mine = api.post("alice", "mine")
    api.post("alice", "mine too")
    context = app_context(browser, web.url, api.url, viewport={"width": 360, "height": 740},
                          has_touch=True, is_mobile=True)
    try:
        page = new_page(context=context)
        ui.log_in(page, "alice")
        rows = ui.messages(page)
        expect(rows).to_have_count(3)
        expect(rows.first.get_by_role("button")).to_have_count(0)  # bob's: none
        more = rows.nth(1).get_by_role("button", name="More actions for your message: mine")
        expect(more).to_be_visible()  # seen without a tap, unlike a hover toolbar
        expect(more).to_be_in_viewport()
        assert inside(more.bounding_box(), rows.nth(1).bounding_box())
        expect(rows.nth(2).get_by_role("button", name=re.compile("^More actions"))).to_be_visible()
        expect(rows.nth(1).get_by_role("button", name=re.compile("^Delete"))).to_have_count(0)
        # The text keeps clear of it.
        text = rows.nth(2).locator(".content").bounding_box()
        button = rows.nth(2).get_by_role("button").bounding_box()
        assert text["x"] + text["width"] <= button["x"], (text, button)
        # It takes taps over 44 × 44 px around it.
        box = more.bounding_box()
        middle_x, middle_y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        for x, y in ((middle_x - 21, middle_y), (middle_x + 21, middle_y),
                     (middle_x, middle_y - 21), (middle_x, middle_y + 21)):
            assert page.evaluate("([x, y]) => document.elementFromPoint(x, y)"
                                 "?.closest('button.more-actions') !== null", [x, y]), (x, y)
        more.tap()
        sheet = page.get_by_role("dialog", name=f"Your message, {words_for(mine['created_at'])}")
        expect(sheet).to_be_visible()
        expect(sheet.get_by_role("heading")).to_have_text(
            f"Your message, {words_for(mine['created_at'])}")
        expect(sheet).to_contain_text("mine")
        # Cancel: back to the row's ⋯, nothing deleted.
        sheet.get_by_role("button", name="Cancel").tap()
        expect(sheet).to_be_hidden()
        expect(more).to_be_focused()
        expect(rows).to_have_count(3)
        more.tap()
        sheet.get_by_role("button", name="Delete message…").tap()
        expect(sheet).to_be_hidden()
        confirm = page.get_by_role("dialog", name="Delete this message?")
        expect(confirm).to_be_visible()  # it asks, as ever
        expect(confirm).to_contain_text("mine")
        confirm.get_by_role("button", name="Cancel").tap()
        expect(more).to_be_focused()  # back where the person was
        expect(rows).to_have_count(3)
        more.tap()
        sheet.get_by_role("button", name="Delete message…").tap()
        confirm.get_by_role("button", name="Delete", exact=True).tap()
        expect(rows).to_have_count(2)
        assert ui.message_texts(page) == ["bob's", "mine too"]
        expect(page.get_by_role("dialog")).to_have_count(0)
    finally:
        context.close()



def test_on_a_touch_screen_more_actions_copies_the_messages_text(browser, web, api, new_page):
    """A touch screen has no text selection worth the name in a feed, and the sheet offered
    only Delete: "Copy text", above it, puts the whole message on the clipboard and says
    so ("Copied.", as the recovery codes' Copy does); when copying fails it says that."""
    api.signup("alice")
    api.login("alice")
    text = "Notes: https://example.com/plan\nsecond line, kept"
    api.post("alice", text)
    context = app_context(browser, web.url, api.url, viewport={"width": 360, "height": 740},
                          has_touch=True, is_mobile=True)
    context.grant_permissions(["local-network-access", "clipboard-read", "clipboard-write"])
    try:
        page = new_page(context=context)
        ui.log_in(page, "alice")
        more = ui.messages(page).first.get_by_role("button", name=re.compile("^More actions"))
        more.tap()
        sheet = page.get_by_role("dialog", name=re.compile("^Your message, "))
        items = sheet.get_by_role("button")
        expect(items).to_have_text(["Copy text", "Delete message…", "Cancel"])
        items.first.tap()
        expect(sheet).to_be_hidden()
        expect(more).to_be_focused()  # back where the person was
        expect(page.locator("#status")).to_have_text("Copied.")
        assert page.evaluate("navigator.clipboard.readText()") == text
        # Refused (no permission, say): it says it could not copy.
        page.evaluate("""() => { navigator.clipboard.writeText = () =>
            Promise.reject(new DOMException("denied", "NotAllowedError")); }""")
        more.tap()
        sheet.get_by_role("button", name="Copy text").tap()
        expect(page.locator("#status")).to_contain_text("Could not copy")
        expect(ui.messages(page)).to_have_count(1)  # nothing else happened
    finally:
        context.close()


# What covers the feed at the window's top and foot: the header (and the board's heading
# row where it stays), and the docked composer.
FRAME = """() => {
    const top = Math.max(document.querySelector(".topbar").getBoundingClientRect().bottom,
                         document.querySelector(".board-head").getBoundingClientRect().bottom);
    const dock = innerHeight - document.getElementById("dock").getBoundingClientRect().top;
    return { top, dock };
}"""


def test_on_a_phone_the_boards_frame_keeps_to_the_header_and_the_composer(new_page, api):
    """At 360x740 the header and the heading row under it took about 195px with the
    composer: on a phone the heading row scrolls away; on a wide screen it stays, as
    before. The row keeps its "Board" on a phone too (design review: an empty board's
    Refresh and "?" floated untitled): scrolling away, it costs no room kept."""
    phone = ui.long_board(new_page, api, width=360, height=740)
    ui.at_the_newest(phone)
    frame = phone.evaluate(FRAME)
    assert frame["top"] + frame["dock"] <= 122, frame  # about 120px of 740
    title = phone.get_by_role("heading", name="Board", level=1)
    phone.evaluate("window.scrollTo(0, 0)")
    expect(phone.get_by_role("button", name="Refresh")).to_be_in_viewport()  # at the top
    expect(title).to_be_in_viewport()  # …titled, in the same row
    assert title.bounding_box()["width"] > 20
    refresh = phone.get_by_role("button", name="Refresh").bounding_box()
    box = title.bounding_box()
    assert abs((box["y"] + box["height"] / 2) - (refresh["y"] + refresh["height"] / 2)) < 8

    wide = ui.signed_in(new_page, width=1280, height=800)
    expect(ui.messages(wide)).to_have_count(20)
    title = wide.get_by_role("heading", name="Board", level=1)
    expect(title).to_be_visible()
    assert title.bounding_box()["width"] > 20
    head = wide.locator(".board-head")
    assert head.bounding_box()["y"] == wide.locator(".topbar").bounding_box()["height"]


def test_the_heading_row_has_an_edge_only_while_the_feed_scrolls_under_it(new_page, api):
    """The feed's card passing under the heading row kept under the header was cut off
    with no edge: a rule and a shadow show at the row's foot while something is under it."""
    page = ui.long_board(new_page, api, width=1280, height=800)
    head = page.locator(".board-head")
    ui.at_the_newest(page)  # the feed's start is far above: scrolled under the row
    expect(head).not_to_have_css("box-shadow", "none")
    page.evaluate("window.scrollTo(0, 0)")  # nothing under it
    expect(head).to_have_css("box-shadow", "none")
    page.mouse.move(640, 400)
    page.mouse.wheel(0, 300)
    expect(head).not_to_have_css("box-shadow", "none")


def test_on_a_phone_a_focused_rows_name_line_stays_readable(new_page, api):
    """At 360 px the full date drawn at the head line's end covered the author's name:
    nothing may be drawn over the name, the handle or the time of a focused row."""
    assert api.call("POST", "/signup", {"username": "grace", "password": ui.PASSWORD,
                                        "display_name": "Grace Brewster Hopper"}).status == 201
    api.login("grace")
    api.user("alice")
    api.post("grace", "Reminder: the planning meeting moved to 10:30.")
    api.post("alice", "See you there")
    page = ui.signed_in(new_page, width=360, height=740)
    row = ui.messages(page).first
    ui.messages(page).nth(1).focus()
    page.keyboard.press("ArrowUp")  # as a keyboard moves: the focus is seen
    expect(row).to_be_focused()
    spot = row.evaluate(STAMP_BOX)
    if row.evaluate(STAMP)["shown"]:
        label = spot["label"]
        for part in row.locator(".author, .handle, .when").all():
            box = part.bounding_box()
            assert (label["right"] <= box["x"] or box["x"] + box["width"] <= label["left"]
                    or label["bottom"] <= box["y"] or box["y"] + box["height"] <= label["top"]
                    ), (spot, box)


# What is seen just below the heading row's foot, across the feed card, at a few depths.
UNDER_THE_BAND = """() => {
    const head = document.querySelector(".board-head").getBoundingClientRect();
    const card = document.getElementById("messages").getBoundingClientRect();
    const seen = [];
    for (const x of [card.left + 40, card.left + 60, card.left + card.width / 2, card.right - 40]) {
        for (const dy of [1, 3, 6, 9]) {
            const hit = document.elementFromPoint(x, head.bottom + dy);
            const row = hit?.closest("#messages li");
            if (row) seen.push([x, dy, hit.className, row.textContent.slice(0, 20)]);
        }
    }
    return seen;
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_nothing_of_the_feed_peeks_out_just_below_the_heading_row(new_page, api, scheme):
    """Under the heading row kept under the header, a strip of the row below showed between
    the band and its fade ("Show more"'s underline, letters' feet): while the feed is
    scrolled under it, the band's solid foot reaches the card's visible top edge."""
    page = ui.long_board(new_page, api, width=1280, height=800)
    page.emulate_media(color_scheme=scheme)
    ui.at_the_newest(page)
    for step in range(0, 48, 4):  # whatever line happens to sit just under the band
        page.evaluate("(y) => window.scrollBy(0, -y)", 4 if step else 200)
        expect(page.locator(".board-head.stuck")).to_have_count(1)
        assert page.evaluate(UNDER_THE_BAND) == [], step
