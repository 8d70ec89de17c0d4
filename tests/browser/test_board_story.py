"""The board the accessibility walk pictures (board_story.py): written at the times it
tells, it reads back in time order (ids and times agree, the walk's own posts come
after it), shows its days under dividers, and the viewer's devices by name."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser import board_story, ui

pytestmark = pytest.mark.browser


def parse(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def day_label(day: date, today: date) -> str:
    """What the feed's divider says for ``day`` (static/js/lib/time.js, en-US)."""
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    label = f"{day:%A}, {day:%B} {day.day}"
    return label if day.year == today.year else f"{label}, {day.year}"


def test_the_story_reads_back_newest_first_with_ids_in_time_order(api):
    told = board_story.seed(api.env)
    assert len(told) == len(board_story.messages(0.0))
    api.login("alice")
    posted = api.post("alice", "after the story")
    reply = api.call("GET", "/messages?limit=50", token=api.tokens["alice"]["access_token"])
    listed = reply.body["messages"]
    assert [m["id"] for m in listed] == [posted["id"]] + [m["id"] for m in reversed(told)]
    times = [parse(m["created_at"]) for m in listed]
    assert times == sorted(times, reverse=True)
    assert times[0] - times[-1] > 86_400  # it spans days, not seconds
    for message in listed:  # each id starts with its own time, as the API makes them
        assert board_story.id_millis(message["id"]) == round(parse(message["created_at"]) * 1000)

    sessions = api.call("GET", "/me/sessions", token=api.tokens["alice"]["access_token"])
    others = sorted((s for s in sessions.body["sessions"] if not s["current"]),
                    key=lambda s: s["last_used_at"], reverse=True)
    assert [(s["device"], s["device_kind"]) for s in others] == [
        ("Mobile Safari 26 on iOS", "phone"), ("Chrome Mobile iOS 156 on iOS", "tablet")]
    for session in others:  # each used after it signed in
        assert parse(session["created_at"]) < parse(session["last_used_at"])
    events = api.call("GET", "/me/security-events", token=api.tokens["alice"]["access_token"])
    assert [(e["type"], e["device"]) for e in events.body["events"][1:]] == [
        ("sign_in", "Mobile Safari 26 on iOS"),
        ("sign_in", "Chrome Mobile iOS 156 on iOS"),
        ("session_ended", "Firefox 158 on Windows"),
        ("sign_in", "Firefox 158 on Windows"),
    ]


def test_the_story_board_shows_its_days_and_runs_in_order(api, page):
    told = board_story.seed(api.env)
    ui.log_in(page, "alice")
    rows = page.locator("#messages > li.message")
    expect(rows).to_have_count(len(told))

    today = datetime.fromtimestamp(page.evaluate("Date.now()") / 1000, UTC).date()
    days = dict.fromkeys(datetime.fromtimestamp(m["created_at"], UTC).date() for m in told)
    assert len(days) >= 3
    expect(page.locator("#messages .day-label")).to_have_text(
        [day_label(day, today) for day in days])

    # Read group by group (a group: a row with a name, then its .continued rows), as a
    # chat: groups oldest first, each group oldest first: the story as it was told.
    shown = page.evaluate("""() => [...document.querySelectorAll('#messages > li.message')]
        .map((row) => ({ id: row.dataset.id, continued: row.classList.contains('continued') }))""")
    by_id = {m["id"]: m for m in told}
    groups: list[list[dict]] = []
    for row in shown:
        if not row["continued"]:
            groups.append([])
        groups[-1].append(by_id[row["id"]])
    assert [m for group in groups for m in group] == told
    for group in groups:
        assert len({m["username"] for m in group}) == 1
    assert ["Nice. The upgrade took forty seconds here.", "No downtime either."] in [
        [m["content"] for m in group] for group in groups]

    # Earlier days show clock times; the long message folds behind "Show more".
    expect(rows.filter(has_text="me, from 10").locator("time")).to_have_text("9:16 AM")
    retro = rows.filter(has_text="Notes from today's retro")
    expect(retro.get_by_role("button", name="Show more")).to_be_visible()
