"""A board in use, for the accessibility walk (and so the screenshots): a few people
talking over three days, and the viewer's sign-ins on recognisable devices.

Everything is written by the app's own service functions (``accounts.signup``,
``signin.password``, ``board.add_message``, ``sessions.refresh``, ``sessions.logout``)
into the test API's SQLite file, each at the moment it happened: the story runs in
a process of its own (``python -m tests.browser.board_story``) whose ``Deps`` clock
(``deps.use_clock``, the tests' hook) is set to each step's time, steps in time
order. So message and event ids are made from the time they carry, as they would
have been then (ids sort by time, and every story time lies before the walk's own
posts), and nothing in the API lets a client choose a time. Its own process keeps
the test process's id generator (which never goes back in time), settings and
keyring caches out of it.

The walk's viewer is ``alice``: signed up two days ago on a Windows PC (signed out
there that evening), signed in on an iPad yesterday morning (a live session, last used
yesterday evening) and on an iPhone last night (last used 35 minutes ago), so with the
browser's own sign-in she has three sessions.

``seed(env)`` runs the story against the API started with ``env`` and returns the
messages it wrote, oldest first.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ops.stage import ROOT, load_config, stage_environment

PASSWORD = "correct horse battery staple"  # tests/browser/conftest.py's PASSWORD
VIEWER = "alice"

# The walk's browser (axe_page's context) says it is this: Chrome on a Mac.
MAC_CHROME = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
              "(KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36")
IPAD_CHROME = ("Mozilla/5.0 (iPad; CPU OS 18_6 like Mac OS X) AppleWebKit/605.1.15 "
               "(KHTML, like Gecko) CriOS/156.0.0.0 Mobile/15E148 Safari/604.1")
IPHONE_SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1")
WINDOWS_FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:158.0) Gecko/20100101 Firefox/158.0"
WINDOWS_EDGE = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/156.0.0.0 Safari/537.36 Edg/156.0.0.0")
MAC_SAFARI = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
              "(KHTML, like Gecko) Version/26.1 Safari/605.1.15")
LINUX_FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:158.0) Gecko/20100101 Firefox/158.0"
ANDROID_CHROME = ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 "
                  "(KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36")


@dataclass(frozen=True)
class Person:
    display_name: str  # "" keeps the username
    user_agent: str
    ip: str  # documentation ranges (RFC 5737): nobody's real address


PEOPLE = {
    "ada": Person("Ada Lovelace", MAC_SAFARI, "198.51.100.23"),
    "grace": Person("Grace Hopper", WINDOWS_EDGE, "198.51.100.41"),
    "linus": Person("Linus", LINUX_FIREFOX, "203.0.113.77"),
    "bob": Person("", ANDROID_CHROME, "192.0.2.130"),
    "noa": Person("Noa Levi", MAC_CHROME, "203.0.113.12"),
}
ALICE_WORK_PC = ("203.0.113.5", WINDOWS_FIREFOX)
ALICE_PHONE = ("192.0.2.58", IPHONE_SAFARI)
ALICE_TABLET = ("192.0.2.58", IPAD_CHROME)  # at home, as the phone

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # the ids' alphabet

RETRO_NOTES = "\n\n".join([
    "Notes from today's retro, for anyone who missed it:",
    "Went well: 2.4 shipped without a hitch, and sign-in support tickets are down by a "
    "third since the new sign-in page.",
    "To improve: pull requests wait too long for a review. We agreed to look at the open "
    "ones every morning before stand-up.",
    "Next: Grace leads the search work, Linus takes the flaky browser tests, Bob sorts out "
    "the staging costs.",
    "Shout if I forgot anything!",
])


def on_day(now: float, days_back: int, clock: str) -> float:
    """``clock`` (UTC, "HH:MM") on the day ``days_back`` days before ``now``'s."""
    hours, minutes = (int(part) for part in clock.split(":"))
    day = datetime.fromtimestamp(now, UTC).replace(hour=hours, minute=minutes, second=0,
                                                   microsecond=0)
    return (day - timedelta(days=days_back)).timestamp()


def ago(now: float, *, hours: int = 0, minutes: int = 0) -> float:
    return now - hours * 3600 - minutes * 60


def messages(now: float) -> list[tuple[float, str, str]]:
    """(when, who, what), oldest first: the day before yesterday, yesterday (at fixed
    times of day) and the last few hours (relative to ``now``, so "today" whenever
    the walk runs after 03:00 UTC; earlier, they fall late yesterday, still in order)."""
    return [
        (on_day(now, 2, "16:02"), "grace",
         "Release 2.4 is out 🎉 Notes: https://example.org/releases/2.4 — thanks to everyone "
         "who tested the beta."),
        (on_day(now, 2, "16:05"), "linus", "Nice. The upgrade took forty seconds here."),
        (on_day(now, 2, "16:06"), "linus", "No downtime either."),
        (on_day(now, 1, "09:14"), "ada",
         "Morning! Who's in the office today? I'm bringing the good coffee ☕"),
        (on_day(now, 1, "09:16"), "bob", "me, from 10"),
        (on_day(now, 1, "11:52"), "grace",
         "Does anyone know why the staging deploy takes twenty minutes now? It used to be five."),
        (on_day(now, 1, "11:58"), "linus",
         "The image cache was cleared last week. The next deploy will be quick again."),
        (on_day(now, 1, "12:01"), "grace", "That explains it, thanks!"),
        (on_day(now, 1, "17:40"), "ada", RETRO_NOTES),
        (ago(now, hours=2, minutes=50), "bob", "Lunch today? The usual place 🍜"),
        (ago(now, hours=2, minutes=48), "bob", "The noodle bar, not the pizza one."),
        (ago(now, hours=2, minutes=31), "ada", "Count me in!"),
        (ago(now, hours=1, minutes=20), "noa",
         "בוקר טוב! העליתי את התמונות מהכנס לתיקייה המשותפת 📸"),
        (ago(now, minutes=47), "grace",
         "Reminder: tomorrow's planning meeting moved to 10:30, same room. Agenda: "
         "https://example.org/wiki/planning"),
        (ago(now, minutes=12), "linus", "Agenda looks good. I added the flaky tests to it."),
    ]


def id_millis(ulid: str) -> int:
    """The milliseconds a ULID (``timestamps.new_message_id``) starts with."""
    return int("".join(f"{CROCKFORD.index(c):05b}" for c in ulid)[2:50], 2)


def tell(now: float) -> list[dict[str, object]]:
    """Write the story, every step in time order with this process's clock moved to
    its moment (an id made after a later one would be bumped to that one's time);
    the messages, oldest first."""
    from chalicelib import accounts, board, deps, sessions, signin
    from chalicelib.clients import Client
    from chalicelib.tokens import AccessClaims

    moment = [0.0]
    deps.use_clock(lambda: moment[0])
    at = deps.current_deps
    steps: list[tuple[float, Callable[[], None]]] = []
    signed_in: dict[str, sessions.TokenPair] = {}  # each person's one session (alice's newest)
    alices_tablet: list[sessions.TokenPair] = []
    written: list[dict[str, object]] = []

    def sign_in(username: str, ip: str, user_agent: str) -> sessions.TokenPair:
        pair = signin.password(at(), username, PASSWORD, Client(ip=ip, user_agent=user_agent))
        assert isinstance(pair, sessions.TokenPair)
        signed_in[username] = pair
        return pair

    def post(username: str, content: str) -> None:
        message = board.add_message(at(), username=username,
                                    session_id=signed_in[username].session_id, content=content)
        assert id_millis(message.id) == int(message.created_at * 1000), "an id out of time"
        written.append({"id": message.id, "username": message.username,
                        "content": message.content, "created_at": message.created_at})

    def sign_out_work_pc() -> None:
        # The caller as the authorizer reports it (PyJWT checks a token's expiry by the
        # wall clock, so the story cannot present the day-old token itself).
        caller = AccessClaims(username=VIEWER, jti="", issued_at=0.0, expires_at=0,
                              session_id=signed_in[VIEWER].session_id)
        sessions.logout(at(), caller, client=Client(*ALICE_WORK_PC))

    people_since = on_day(now, 9, "10:00")
    for index, (username, person) in enumerate(PEOPLE.items()):
        steps.append((people_since + index * 3600, lambda u=username, p=person: accounts.signup(
            at(), u, PASSWORD, p.display_name or None)))
    # The viewer: a Windows PC two days ago (signed out there that evening), an iPad
    # yesterday morning (last used that evening), then an iPhone last night, last used
    # this morning.
    steps += [
        (on_day(now, 2, "08:47"), lambda: accounts.signup(at(), VIEWER, PASSWORD)),
        (on_day(now, 2, "08:48"), lambda: sign_in(VIEWER, *ALICE_WORK_PC)),
        (on_day(now, 2, "18:10"), sign_out_work_pc),
        (on_day(now, 1, "07:40"), lambda: alices_tablet.append(sign_in(VIEWER, *ALICE_TABLET))),
        (on_day(now, 1, "20:30"), lambda: sessions.refresh(at(), alices_tablet[0].refresh_token)),
        (on_day(now, 1, "21:05"), lambda: sign_in(VIEWER, *ALICE_PHONE)),
        (ago(now, minutes=35), lambda: sessions.refresh(at(), signed_in[VIEWER].refresh_token)),
    ]
    first_posts = {}
    for when, username, content in messages(now):
        first_posts.setdefault(username, when)
        steps.append((when, lambda u=username, c=content: post(u, c)))
    for username, when in first_posts.items():
        person = PEOPLE[username]
        steps.append((when - 90, lambda u=username, p=person: sign_in(u, p.ip, p.user_agent)))

    for when, action in sorted(steps, key=lambda step: step[0]):
        moment[0] = when
        action()
    return written


def seed(env: Mapping[str, str], now: float | None = None) -> list[dict[str, object]]:
    """Tell the story to the test API started with ``env`` (its SQLite file), as of
    ``now`` (default: the real time, which the browser's clock shows); its messages,
    oldest first."""
    environment = {**os.environ, **env, **stage_environment(load_config(), "test")}
    with tempfile.TemporaryDirectory() as folder:
        told = Path(folder) / "messages.json"  # stdout carries the app's metric lines
        done = subprocess.run(
            [sys.executable, "-m", "tests.browser.board_story",
             repr(time.time() if now is None else now), str(told)],
            cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        written: list[dict[str, object]] = json.loads(told.read_text())
    return written


if __name__ == "__main__":
    Path(sys.argv[2]).write_text(json.dumps(tell(float(sys.argv[1]))))
