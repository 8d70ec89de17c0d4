"""The board as people use Slack, Discord or Mastodon (issue 24): an always-open
composer, avatars, the time once per group, and the feed as one tab stop."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser import board_story, ui
from tests.browser.conftest import Api, app_context

pytestmark = pytest.mark.browser


def composer_field(page: Any) -> Any:
    return ui.composer(page).get_by_label("Message")


def test_the_composer_is_open_posts_with_ctrl_enter_and_grows(page: Any, api: Api) -> None:
    api.user("alice")
    ui.log_in(page, "alice")
    field = composer_field(page)
    expect(field).to_be_visible()
    one_line = field.bounding_box()["height"]
    field.fill("first line\nsecond\nthird\nfourth\nfifth")
    assert field.bounding_box()["height"] > one_line
    field.press("Control+Enter")
    expect(ui.messages(page).first.locator(".content")).to_have_text(
        "first line\nsecond\nthird\nfourth\nfifth")
    expect(field).to_have_value("")


def test_the_draft_survives_a_reload_and_leaves_with_sign_out(page: Any, api: Api) -> None:
    api.user("alice")
    ui.log_in(page, "alice")
    composer_field(page).fill("half a thought")
    page.reload()
    ui.board_loaded(page)
    expect(composer_field(page)).to_have_value("half a thought")
    assert ui.PASSWORD not in ui.browser_storage(page)
    ui.sign_out(page)
    page.get_by_role("dialog", name="Discard your unsent message?").get_by_role(
        "button", name="Sign out and discard").click()
    expect(ui.login_heading(page)).to_be_visible()
    assert "half a thought" not in ui.browser_storage(page)


def test_the_count_shows_near_the_limit(page: Any, api: Api) -> None:
    api.user("alice")
    ui.log_in(page, "alice")
    count = page.locator("#post-count")
    composer_field(page).fill("x" * 100)
    expect(count).to_be_hidden()
    composer_field(page).fill("x" * 950)
    expect(count).to_have_text("50 left")
    composer_field(page).fill("x" * 1003)
    expect(count).to_have_text("Too long by 3 characters: shorten it to post (limit 1,000)")
    expect(composer_field(page)).to_have_attribute("aria-invalid", "true")


def test_avatars_have_a_stable_colour_per_author_with_readable_initials(
    page: Any, api: Api
) -> None:
    for name in ["ann", "bob", "cyd", "dee"]:
        api.user(name)
        api.post(name, f"hello from {name}")
    api.post("ann", "ann again, later")
    ui.log_in(page, "ann")
    avatars = page.locator("#messages .avatar")
    expect(avatars).to_have_count(5)
    colours = avatars.evaluate_all(
        """(nodes) => nodes.map((n) => [n.closest('li').dataset.author,
                                         getComputedStyle(n).backgroundColor, n.textContent])"""
    )
    by_author: dict[str, set[str]] = {}
    for author, colour, initials in colours:
        by_author.setdefault(author, set()).add(colour)
        assert initials == author[0].upper()
    assert all(len(found) == 1 for found in by_author.values()), by_author
    # White initials on every colour of the palette: at least 4.5:1, in both schemes.
    ratios = page.evaluate(
        """async () => {
            const { COLOURS } = await import('./js/lib/avatar.js');
            const lum = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
              .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4))
              .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
            return COLOURS.map((hex) => 1.05 / (lum(hex) + 0.05));
        }"""
    )
    assert min(ratios) >= 4.5, ratios


def relative_luminance(rgb: str) -> float:
    """WCAG relative luminance of a computed colour, "rgb(r, g, b)"."""
    parts = [int(n) / 255 for n in re.findall(r"\d+", rgb)[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in parts]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    high, low = sorted([relative_luminance(one), relative_luminance(other)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def hex_to_rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def header_edges(page: Any) -> tuple[float, float]:
    """Where the header's brand starts and its last visible item ends."""
    return page.evaluate(
        """() => {
            const brand = document.querySelector('.brand').getBoundingClientRect();
            const items = Array.from(document.querySelectorAll('.topbar-inner > *'))
              .filter((n) => n.getClientRects().length);
            return [brand.left, Math.max(...items.map((n) => n.getBoundingClientRect().right))];
        }"""
    )


@pytest.mark.parametrize("width", [1280, 360])
def test_the_header_stays_put_on_every_view(new_page: Any, api: Api, width: int) -> None:
    api.user("bob")
    api.post("bob", "hello")  # so "Recently active" widens the board's column
    api.signup("alice")
    page = ui.signed_in(new_page, width=width, height=740)
    if width == 1280:
        expect(page.get_by_role("region", name="Recently active")).to_be_visible()
    padding = 16 if width == 1280 else 12
    brand, end = header_edges(page)
    # Full width, as GitHub's: the brand at the left edge, the menu at the right.
    assert abs(brand - padding) <= 1, brand
    assert abs(end - (width - padding)) <= 1, end
    ui.open_account(page)
    assert header_edges(page) == [brand, end]
    ui.open_account(page, "Sign-in & security")  # with the list of pages beside it
    assert header_edges(page) == [brand, end]
    ui.sign_out(page)
    expect(ui.login_heading(page)).to_be_visible()
    assert header_edges(page)[0] == brand  # signed out: the brand alone, in its place


def test_the_avatar_palette_has_one_source_many_hues_and_readable_initials(
    page: Any, api: Api
) -> None:
    api.user("alice")
    ui.log_in(page, "alice")
    # One avatar per palette entry (usernames found for each), drawn by the page's CSS.
    drawn = page.evaluate(
        """async () => {
            const { COLOURS, avatar, colourFor } = await import('./js/lib/avatar.js');
            const byIndex = new Map();
            for (let n = 0; byIndex.size < COLOURS.length && n < 5000; n += 1) {
              const username = `user${n}`;
              const index = COLOURS.indexOf(colourFor(username));
              if (!byIndex.has(index)) byIndex.set(index, username);
            }
            const shelf = document.createElement('div');
            shelf.id = 'palette-shelf';
            document.querySelector('#board-view').append(shelf);
            return Array.from(byIndex, ([index, username]) => {
              shelf.append(avatar('Some One', username));
              return COLOURS[index];
            });
        }"""
    )
    assert len(drawn) >= 12, drawn  # 12 to 16 hues
    assert len(drawn) <= 16, drawn
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        painted = page.locator("#palette-shelf .avatar").evaluate_all(
            """(nodes) => nodes.map((n) => [getComputedStyle(n).backgroundColor,
                                              getComputedStyle(n).color])"""
        )
        # The CSS paints exactly the colour the script's palette names: one source.
        assert [background for background, _ in painted] == [
            hex_to_rgb(colour) for colour in drawn], (scheme, painted)
        # White initials at 4.5:1 or more on every one, in both schemes.
        ratios = [contrast(background, text) for background, text in painted]
        assert min(ratios) >= 4.5, (scheme, ratios)
    # Clearly distinct: no two hues closer than 12 degrees round the wheel.
    hues = sorted(page.evaluate(
        """async () => {
            const { COLOURS } = await import('./js/lib/avatar.js');
            return COLOURS.map((hex) => {
              const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
              const max = Math.max(r, g, b), min = Math.min(r, g, b), d = max - min;
              const h = max === r ? ((g - b) / d) % 6
                : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
              return (h * 60 + 360) % 360;
            });
        }"""
    ))
    gaps = [b - a for a, b in itertools.pairwise(hues)] + [hues[0] + 360 - hues[-1]]
    assert min(gaps) >= 12, hues
    # No stylesheet names an avatar colour of its own (the old per-index rules disagreed).
    literal = page.evaluate(
        """() => Array.from(document.styleSheets).flatMap((sheet) => Array.from(sheet.cssRules))
            .flatMap((rule) => rule.cssRules ? Array.from(rule.cssRules) : [rule])
            .filter((rule) => rule.selectorText && rule.selectorText.includes('.avatar')
                    && rule.style.background && !rule.style.background.includes('var('))
            .map((rule) => rule.cssText)"""
    )
    assert literal == [], literal


def test_the_story_boards_six_people_look_different(page: Any, api: Api) -> None:
    api.user("alice")
    ui.log_in(page, "alice")
    usernames = [board_story.VIEWER, *board_story.PEOPLE]
    assert len(set(usernames)) == 6
    colours = page.evaluate(
        """async (names) => {
            const { colourFor } = await import('./js/lib/avatar.js');
            return names.map((name) => colourFor(name));
        }""",
        usernames,
    )
    assert len(set(colours)) >= 5, dict(zip(usernames, colours, strict=True))


def test_the_feed_is_one_tab_stop_with_arrow_keys_and_its_actions(page: Any, api: Api) -> None:
    api.user("bob")
    for n in range(5):
        api.post("bob", f"bob {n} https://example.org/{n}")
    ui.log_in(page, "bob")
    rows = ui.messages(page)
    expect(rows).to_have_count(5)
    stops = page.evaluate(
        """() => Array.from(document.querySelectorAll('#messages *'))
            .filter((n) => n.tabIndex >= 0).length"""
    )
    # The newest (bottom) row and its own link and delete button; nothing else in the list.
    assert stops == 3, stops
    expect(rows.nth(4)).to_have_attribute("tabindex", "0")
    rows.first.focus()  # one group by bob: "bob 0" first, as written
    page.keyboard.press("ArrowDown")
    expect(rows.nth(1)).to_be_focused()
    expect(rows.nth(1).locator(".content")).to_have_text("bob 1 https://example.org/1")
    page.keyboard.press("j")
    expect(rows.nth(2)).to_be_focused()
    page.keyboard.press("k")
    expect(rows.nth(1)).to_be_focused()
    page.keyboard.press("End")
    expect(rows.nth(4)).to_be_focused()
    # Tab from the focused message reaches its link, then its delete button, then leaves.
    page.keyboard.press("Tab")
    expect(rows.nth(4).get_by_role("link")).to_be_focused()
    page.keyboard.press("Tab")
    expect(rows.nth(4).get_by_role("button", name="Delete your message: bob 4")).to_be_focused()
    page.keyboard.press("Tab")
    focused_in_list = page.evaluate(
        "() => document.getElementById('messages').contains(document.activeElement)")
    assert focused_in_list is False
    # Shift+Tab comes back to the same message's controls, not the first row.
    page.keyboard.press("Shift+Tab")
    expect(rows.nth(4).get_by_role("button", name="Delete your message: bob 4")).to_be_focused()
    # Delete on a focused message opens the confirmation.
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    expect(rows.nth(4)).to_be_focused()
    page.keyboard.press("Delete")
    expect(page.get_by_role("dialog", name="Delete this message?")).to_be_visible()


def test_recently_active_lists_who_else_wrote_the_board_latest_first_beside_a_wide_feed(
        new_page: Any, api: Api) -> None:
    api.user("bob")
    api.user("carol")
    api.signup("alice")
    api.post("bob", "first")
    api.post("carol", "second")
    api.post("bob", "third")
    page = ui.signed_in(new_page, width=1280)
    panel = page.get_by_role("region", name="Recently active")
    people = panel.get_by_role("list", name="Recently active").get_by_role("listitem")
    # bob wrote last; a name that is the username shows once, as on the feed's rows.
    expect(people.locator(".who")).to_have_text(["bob", "carol"])
    expect(people.first).to_contain_text("bob, last wrote ")  # as read out
    assert panel.bounding_box()["x"] > page.locator("#messages").bounding_box()["x"] + 600
    # Feed and panel are centred together.
    feed, side = page.locator("#messages").bounding_box(), panel.bounding_box()
    left, right = feed["x"], 1280 - (side["x"] + side["width"])
    assert abs(left - right) <= 2, (left, right)

    ui.post(page, "me too")  # the newest, but alice knows she is active: not listed
    expect(ui.newest(page).locator(".content")).to_have_text("me too")
    expect(people.locator(".who")).to_have_text(["bob", "carol"])
    expect(panel).not_to_contain_text("alice")
    ui.newest(page).get_by_role("button", name=re.compile("^Delete")).click()
    page.get_by_role("dialog", name="Delete this message?").get_by_role(
        "button", name="Delete", exact=True).click()
    expect(people.locator(".who")).to_have_text(["bob", "carol"])

    phone = ui.signed_in(new_page, "bob", width=360, height=740)
    expect(ui.messages(phone)).to_have_count(3)
    expect(phone.get_by_role("region", name="Recently active")).to_be_hidden()

    # An empty board keeps the panel (saying so), so the first message moves nothing.
    for row in ui.messages(page).all():
        api.call("DELETE", f"/messages/{row.get_attribute('data-id')}",
                 token=api.tokens[row.get_attribute("data-author")]["access_token"])
    page.get_by_role("button", name="Refresh").click()
    expect(page.get_by_text("No messages yet. Write the first one below.")).to_be_visible()
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Nobody has written yet.")
    feed = page.locator("#composer").bounding_box()
    ui.post(page, "a fresh start")
    expect(people).to_have_count(0)  # only alice has written: she is told so, not listed
    expect(panel.get_by_text("Only you so far.")).to_be_visible()
    expect(panel.get_by_text("Nobody has written yet.")).to_be_hidden()
    assert page.locator("#composer").bounding_box()["x"] == feed["x"]  # nothing moved aside


def test_the_composer_stays_in_view_while_the_feed_scrolls(new_page: Any, api: Api) -> None:
    """Slack, Discord and Mastodon keep the composer on screen; so does the board, docked
    at the window's foot, and a row reached by the keyboard stops above it rather than
    under it."""
    api.user("bob")
    api.signup("alice")
    for n in range(40):
        api.post("bob", f"message {n}\nwith a second line\nand a third")
    page = ui.signed_in(new_page, width=1280, height=800)
    expect(ui.messages(page)).to_have_count(20)
    composer = ui.composer(page)
    page.mouse.move(640, 300)
    page.mouse.wheel(0, -3000)
    page.wait_for_function(
        "() => document.documentElement.scrollHeight - innerHeight - scrollY > 600")
    box = composer.bounding_box()
    bottom = box["y"] + box["height"]
    assert box is not None and 800 - 40 < bottom <= 800, box  # still at the window's foot
    ui.write_message(page, "typed from far up the feed")
    expect(composer.get_by_label("Message")).to_be_in_viewport()
    # Arrow keys down the feed: each focused row is above the composer, never behind it.
    page.evaluate("() => window.scrollTo(0, 0)")
    ui.messages(page).nth(2).focus()
    for _ in range(8):
        page.keyboard.press("ArrowDown")
        row = page.evaluate_handle("() => document.activeElement").as_element()
        row_box = row.bounding_box()
        top = composer.bounding_box()["y"]
        assert row_box["y"] >= 0 and row_box["y"] + row_box["height"] <= top + 1, (row_box, top)


# What is drawn at each point of the strip between the composer and the window's foot.
BELOW_THE_COMPOSER = """(composer) => {
    const box = composer.getBoundingClientRect(), hits = [];
    for (let y = Math.ceil(box.bottom); y < innerHeight; y += 2) {
        for (let x = box.left + 2; x < box.right - 2; x += 16) {
            hits.push(document.elementFromPoint(x, y)?.closest("li.message") ? "row" : "ok");
        }
    }
    return hits;
}"""


@pytest.mark.parametrize("width", [1280, 360])
def test_no_row_shows_below_the_docked_composer(new_page, api, width):
    api.user("bob")
    api.user("alice")
    for n in range(30):
        api.post("bob" if n % 2 else "alice", f"message {n}\nwith a second line")
    page = ui.signed_in(new_page, width=width, height=740)
    expect(ui.messages(page)).to_have_count(20)
    composer = page.locator(".composer")
    page.mouse.move(width // 2, 300)
    page.mouse.wheel(0, -1500)
    page.wait_for_function(
        "() => document.documentElement.scrollHeight - innerHeight - scrollY > 600")
    for step in range(8):  # wherever the rows passing behind it are
        page.mouse.wheel(0, -37)
        page.wait_for_timeout(50)
        hits = composer.evaluate(BELOW_THE_COMPOSER)
        assert hits and "row" not in hits, (step, hits.count("row"))


MAC = """(() => {
    Object.defineProperty(Navigator.prototype, "platform", { get: () => "MacIntel" });
    Object.defineProperty(Navigator.prototype, "userAgentData", {
        get: () => ({ platform: "macOS", mobile: false, brands: [] }) });
})()"""


@pytest.mark.parametrize(("platform", "keys"), [(MAC, "⌘+Enter posts"), (None, "Ctrl+Enter posts")])
def test_the_composer_names_the_shortcut_of_this_platform(browser, web, api, new_page,
                                                          platform, keys) -> None:
    """A Mac's people press ⌘, not Ctrl: the field's description and placeholder say so."""
    api.user("alice")
    context = app_context(browser, web.url, api.url, viewport={"width": 1280, "height": 800})
    if platform:
        context.add_init_script(platform)
    try:
        page = new_page(context=context)
        ui.log_in(page, "alice")
        field = composer_field(page)
        expect(page.locator("#post-keys")).to_have_text(f"{keys}.")
        expect(field).to_have_accessible_description(re.compile(re.escape(f"{keys}.")))
        expect(field).to_have_attribute("placeholder", f"Write a message… ({keys})")
    finally:
        context.close()


def test_groups_are_set_apart_by_space_not_rules(new_page: Any, api: Api) -> None:
    """As Slack's and Discord's feeds: no line between one author's group and the next (a
    rule above each read as a stack of cards), but a gap; a group's rows stay together."""
    api.user("bob")
    api.user("carol")
    api.signup("alice")
    api.post("bob", "one")
    api.post("bob", "two")  # bob's group: two rows
    api.post("carol", "three")
    page = ui.signed_in(new_page, width=1280)
    expect(ui.messages(page)).to_have_count(3)
    looks = page.evaluate("""() => [...document.querySelectorAll("#messages > li.message")]
        .map((row) => ({ rule: getComputedStyle(row).borderTopWidth === "0px"
                             ? "none" : getComputedStyle(row).borderTopColor,
                         top: row.getBoundingClientRect().top,
                         bottom: row.getBoundingClientRect().bottom }))""")
    assert all(row["rule"] in ("none", "rgba(0, 0, 0, 0)") for row in looks), looks
    inside = looks[1]["top"] - looks[0]["bottom"]  # bob's two rows
    between = looks[2]["top"] - looks[1]["bottom"]  # bob's group, then carol's
    assert inside < 1 and between >= 4, looks
