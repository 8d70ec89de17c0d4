"""What the reliability suite tried and saw, counted as it runs.

Every request the suite makes goes through ``tests.reliability.client``, which
counts the answer here; the attack, fuzz, write and timing tests add their own
figures. ``python -m ops reliability-report`` runs the suite with
``CHALKBOARD_RELIABILITY_REPORT`` naming a file, and this tally is written there
as JSON when the session ends.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPORT_ENV = "CHALKBOARD_RELIABILITY_REPORT"


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    # store -> status -> count, for every HTTP answer the suite received
    statuses: defaultdict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    # one row per attack: what was tried, on which store, what came back
    attacks: list[dict[str, Any]] = field(default_factory=list)
    # store -> {"requests", "5xx", "undocumented", "failures"}
    fuzz: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    # (scenario, store) -> {"acknowledged", "found", "lost"}
    writes: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    # (race, store) -> {"obtained", "working"}: token pairs a race produced, and how
    # many of them the server still honoured once the session or account had ended
    ended_sessions: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    # free-form measured figures, e.g. login timing medians
    figures: dict[str, Any] = field(default_factory=dict)
    # what must never appear in a log: every password sent and token seen
    passwords: set[str] = field(default_factory=set)
    tokens: set[str] = field(default_factory=set)

    def status(self, store: str, status: int) -> None:
        with self.lock:
            self.statuses[store][status] += 1

    def attack(self, case: str, store: str, status: int, *, refused: bool) -> None:
        with self.lock:
            self.attacks.append(
                {"case": case, "store": store, "status": status, "refused": refused}
            )

    def fuzzed(self, store: str, status: int, *, documented: bool, failed: bool) -> None:
        with self.lock:
            counts = self.fuzz[store]
            counts["requests"] += 1
            counts["5xx"] += status >= 500
            counts["undocumented"] += not documented
            counts["failures"] += failed

    def wrote(self, scenario: str, store: str, *, acknowledged: int, found: int) -> None:
        with self.lock:
            self.writes[(scenario, store)] = {
                "acknowledged": acknowledged, "found": found, "lost": acknowledged - found,
            }

    def ended(self, race: str, store: str, *, obtained: int, working: int) -> None:
        with self.lock:
            counts = self.ended_sessions.setdefault((race, store), {"obtained": 0, "working": 0})
            counts["obtained"] += obtained  # a race run in rounds adds up
            counts["working"] += working

    def figure(self, name: str, value: Any) -> None:
        with self.lock:
            self.figures[name] = value

    def secret_password(self, password: str) -> None:
        if len(password) >= 8:  # shorter strings would match innocent log text
            with self.lock:
                self.passwords.add(password)

    def secret_token(self, token: str) -> None:
        if len(token) >= 20:
            with self.lock:
                self.tokens.add(token)

    def as_json(self) -> dict[str, Any]:
        return {
            "statuses": {store: dict(counts) for store, counts in self.statuses.items()},
            "attacks": self.attacks,
            "fuzz": {store: dict(counts) for store, counts in self.fuzz.items()},
            "writes": [
                {"scenario": scenario, "store": store, **counts}
                for (scenario, store), counts in self.writes.items()
            ],
            "ended_sessions": [
                {"race": race, "store": store, **counts}
                for (race, store), counts in self.ended_sessions.items()
            ],
            "figures": self.figures,
        }

    def write_report(self) -> Path | None:
        target = os.environ.get(REPORT_ENV)
        if not target:
            return None
        path = Path(target)
        path.write_text(json.dumps(self.as_json(), indent=2, sort_keys=True, default=str))
        return path


TALLY = Tally()
