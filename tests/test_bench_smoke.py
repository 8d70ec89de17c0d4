"""The benchmark harness runs end to end at tiny sizes (figures are printed, never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ops.stage import ROOT
from tests.helpers import require_dynalite

pytestmark = pytest.mark.slow  # a whole benchmark run, about a minute on a loaded machine


def test_bench_quick_run_writes_every_figure(tmp_path: Path) -> None:
    require_dynalite()
    output = tmp_path / "latest.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(output.read_text())
    assert [figure["number"] for figure in document["figures"]] == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert all(figure["rows"] for figure in document["figures"])
    assert "**Targets**" in done.stdout
    assert output.with_suffix(".md").read_text().strip() == done.stdout.strip()
