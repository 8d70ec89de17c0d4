"""Run the reliability suite (tests/reliability) and print what it measured.

    .venv/bin/python -m ops reliability-report [extra pytest arguments]

pytest runs with CHALKBOARD_RELIABILITY_REPORT naming a temporary file, into
which the suite's tally (tests/reliability/tally.py) writes every attack tried,
request fuzzed, write acknowledged and found, and answer received. The tables
are printed as Markdown after pytest's own output; the exit status is pytest's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from ops.stage import ROOT

STORES = ("sqlite", "dynamodb")


def run_suite(extra: list[str], report: Path) -> tuple[int, float]:
    env = {**os.environ, "CHALKBOARD_RELIABILITY_REPORT": str(report)}
    command = [sys.executable, "-m", "pytest", "-q", "tests/reliability", *extra]
    start = time.monotonic()
    status = subprocess.call(command, cwd=ROOT, env=env)
    return status, time.monotonic() - start


def row(label: str, by_store: dict[str, int]) -> str:
    cells = [str(by_store.get(store, 0)) for store in STORES]
    return f"| {label} | " + " | ".join(cells) + f" | {sum(by_store.values())} |"


def summary(data: dict[str, Any]) -> list[str]:
    attacks = data["attacks"]
    tried = Counter(a["store"] for a in attacks)
    refused = Counter(a["store"] for a in attacks if a["refused"])
    server_errors = Counter(a["store"] for a in attacks if a["status"] >= 500)
    fuzz = data["fuzz"]
    lines = [
        "| figure | sqlite | dynamodb | total |",
        "|---|---:|---:|---:|",
        row("attack cases tried", tried),
        row("attack cases refused", refused),
        row("attack cases answered 5xx", server_errors),
        row("requests fuzzed from docs/openapi.yaml", {s: c.get("requests", 0)
                                                       for s, c in fuzz.items()}),
        row("fuzzed: 5xx", {s: c.get("5xx", 0) for s, c in fuzz.items()}),
        row("fuzzed: status not documented", {s: c.get("undocumented", 0)
                                              for s, c in fuzz.items()}),
        row("fuzzed: any schemathesis check failed", {s: c.get("failures", 0)
                                                      for s, c in fuzz.items()}),
    ]
    for kind in ("acknowledged", "found", "lost"):
        lines.append(row(f"writes {kind}", _sum_writes(data, kind)))
    statuses = data["statuses"]
    codes = sorted({int(code) for counts in statuses.values() for code in counts})
    for code in codes:
        lines.append(row(f"answers {code}", {s: counts.get(str(code), 0)
                                             for s, counts in statuses.items()}))
    return lines


def _sum_writes(data: dict[str, Any], kind: str) -> Counter[str]:
    totals: Counter[str] = Counter()
    for write in data["writes"]:
        totals[write["store"]] += write[kind]
    return totals


def attacks_table(data: dict[str, Any]) -> list[str]:
    """Attacks by kind (the part of each case name before its colon)."""
    lines = ["| attack kind | tried | refused | 5xx |", "|---|---:|---:|---:|"]
    kinds: dict[str, Counter[str]] = {}
    for attack in data["attacks"]:
        counts = kinds.setdefault(attack["case"].partition(":")[0], Counter())
        counts["tried"] += 1
        counts["refused"] += attack["refused"]
        counts["5xx"] += attack["status"] >= 500
    for kind, counts in sorted(kinds.items()):
        lines.append(f"| {kind} | {counts['tried']} | {counts['refused']} | {counts['5xx']} |")
    return lines


def writes_table(data: dict[str, Any]) -> list[str]:
    lines = ["| write scenario | store | acknowledged | found | lost |", "|---|---|---:|---:|---:|"]
    for w in data["writes"]:
        lines.append(f"| {w['scenario']} | {w['store']} | {w['acknowledged']} | {w['found']} "
                     f"| {w['lost']} |")
    return lines


def ended_sessions_table(data: dict[str, Any]) -> list[str]:
    """Races that end a session or an account: every token pair they produced, and how
    many still worked afterwards (the only acceptable figure is 0)."""
    lines = ["| session-ending race | store | token pairs checked | still working |",
             "|---|---|---:|---:|"]
    for race in data.get("ended_sessions", []):
        lines.append(f"| {race['race']} | {race['store']} | {race['obtained']} "
                     f"| {race['working']} |")
    return lines


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "reliability.json"
        status, seconds = run_suite(argv, report)
        if not report.exists():
            print("the suite wrote no report (did it run at all?)", file=sys.stderr)
            return status or 1
        data = json.loads(report.read_text())
    out = [
        "", f"## Reliability report — pytest exit status {status}, {seconds:.0f} s", "",
        *summary(data), "", *attacks_table(data), "", *writes_table(data), "",
        *ended_sessions_table(data), "",
    ]
    not_refused = [a for a in data["attacks"] if not a["refused"]]
    out.append(f"Attacks not refused: {len(not_refused)}")
    out += [f"- {a['case']} ({a['store']}): {a['status']}" for a in not_refused[:20]]
    out += ["", "Measured figures:"]
    out += [f"- {name}: {json.dumps(value, ensure_ascii=False)}"
            for name, value in sorted(data["figures"].items())]
    print("\n".join(out))
    return status

