"""Run every benchmark figure side by side in one run; print Markdown, write JSON.

    .venv/bin/python -m bench            # the full run (a few minutes)
    .venv/bin/python -m bench --quick    # small sizes: checks the harness, not the app
    .venv/bin/python -m bench --only 2,5 # some figures

Figures are measured, never asserted: a missed target is printed as missed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import (
    authorizer,
    board_read,
    cold_start,
    cost_model,
    http_load,
    live_load,
    login,
    warm_path,
    write_ceiling,
)
from bench.common import Figure, scratch_dir
from ops.stage import ROOT

RESULTS = ROOT / "bench" / "results"


def _figures(quick: bool) -> dict[int, Any]:
    """Figure number → a function of a scratch folder that measures it."""
    if quick:
        return {
            1: lambda d: board_read.measure(board_read.QUICK, d),
            2: lambda d: cold_start.measure(3, d),
            3: lambda d: authorizer.measure(300, 100, d),
            4: lambda d: login.measure(5, 1, d),
            5: lambda d: warm_path.measure(200, d),
            6: lambda d: http_load.measure(200, 1, 4, d, stores=("sqlite",)),
            7: lambda d: cost_model.measure(d, 10, scan_messages=200),
            8: lambda d: live_load.measure(live_load.QUICK, d),
            9: lambda d: write_ceiling.measure(d, 1, 30, 3, fails=(0, 1)),
        }
    return {
        1: lambda d: board_read.measure(board_read.DEFAULT, d),
        2: lambda d: cold_start.measure(21, d),
        3: lambda d: authorizer.measure(10_000, 3000, d),
        4: lambda d: login.measure(30, 5, d),
        5: lambda d: warm_path.measure(5000, d),
        6: lambda d: http_load.measure(5000, 10, 4, d),
        7: lambda d: cost_model.measure(d, 300),
        8: lambda d: live_load.measure(live_load.DEFAULT, d),
        9: lambda d: write_ceiling.measure(d, 3, 300, 50),
    }


def _machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info
                        if line.startswith("model name")), cpu)
        with open("/proc/meminfo") as info:
            memory_kib = int(next(line.split()[1] for line in info
                                  if line.startswith("MemTotal:")))
    except OSError:
        memory_kib = 0
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "app.py", "chalicelib"],
                               cwd=ROOT, capture_output=True, text=True,
                               check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (app.py/chalicelib modified)" if dirty else "")


def _table(columns: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |"
              for row in rows]
    return lines


def render(figures: list[Figure], meta: dict[str, Any]) -> str:
    machine = meta["machine"]
    busy = machine["load_average_at_start"][0] >= (machine["cores"] or 1)
    lines = [
        f"Measured {meta['date']} on {machine['cpu']} ({machine['cores']} cores, "
        f"{machine['memory_gib']} GiB, load average {machine['load_average_at_start'][0]} at "
        f"start{': busy, so expect noisier figures' if busy else ''}), {machine['os']}, "
        f"Python {machine['python']}, commit {meta['commit']}; "
        f"`{meta['command']}` took {meta['seconds']:.0f} s.",
        "",
    ]
    targets = [(figure.number, target) for figure in figures for target in figure.targets]
    if targets:
        lines += ["**Targets**", ""]
        lines += _table(["#", "target", "measured", "limit", "met"],
                        [[str(n), t.name, t.figure, t.limit, "yes" if t.met else "**no**"]
                         for n, t in targets])
        lines.append("")
    for figure in figures:
        lines += [f"**{figure.number}. {figure.title}** — {figure.method}", ""]
        lines += _table(figure.columns, figure.rows)
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes, a few seconds per figure (checks the harness)")
    parser.add_argument("--only", default="",
                        help="comma-separated figure numbers (default: all)")
    parser.add_argument("--json", type=Path, default=RESULTS / "latest.json",
                        help="where to write the results (default bench/results/latest.json)")
    args = parser.parse_args(argv)

    chosen = _figures(args.quick)
    if args.only:
        numbers = {int(n) for n in args.only.split(",")}
        chosen = {n: run for n, run in chosen.items() if n in numbers}
    command = "python -m bench" + (" --quick" if args.quick else "") + \
        (f" --only {args.only}" if args.only else "")
    meta: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": _machine(),
        "commit": _commit(),
        "command": command,
    }
    started = time.perf_counter()
    figures = []
    for number, run in chosen.items():
        print(f"bench: figure {number}…", file=sys.stderr, flush=True)
        began = time.perf_counter()
        # The app logs a JSON line per request to stdout (chalicelib/telemetry.py): the
        # lines are still written, so their cost is measured, but not into the report.
        with scratch_dir(f"figure{number}") as workdir, \
                open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
            figure = run(workdir)
        figure.seconds = time.perf_counter() - began
        print(f"bench: figure {number} took {figure.seconds:.0f} s", file=sys.stderr,
              flush=True)
        figures.append(figure)
    meta["seconds"] = time.perf_counter() - started

    markdown = render(figures, meta)
    print(markdown)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    document = {**meta, "figures": [asdict(figure) for figure in figures]}
    args.json.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    args.json.with_suffix(".md").write_text(markdown + "\n")
    print(f"bench: wrote {args.json} and {args.json.with_suffix('.md')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
