"""`python -m ops`: one entry point that lists and runs every operator command."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from ops.__main__ import COMMANDS, main
from ops.stage import ROOT


def test_every_registered_command_is_a_module_with_main() -> None:
    for module_name, _ in COMMANDS.values():
        assert callable(importlib.import_module(f"ops.{module_name}").main)


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert f"  {name} " in out


def test_an_unknown_command_is_refused_with_the_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["create-table"]) == 2
    err = capsys.readouterr().err
    assert "no command 'create-table'" in err
    assert "create-tables" in err


def test_runs_from_the_repository_root_as_python_dash_m() -> None:
    result = subprocess.run([sys.executable, "-m", "ops", "keyring", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=True)
    assert "usage: python -m ops keyring" in result.stdout
    assert "revoke" in result.stdout


def test_rules_check_passes_on_the_committed_file_and_fails_on_a_stale_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ops import rules

    assert main(["rules", "--check"]) == 0
    stale = tmp_path / "rules.js"
    stale.write_text(rules.render().replace("PASSWORD_MIN = ", "PASSWORD_MIN = 1"))
    monkeypatch.setattr(rules, "RULES_JS", stale)
    monkeypatch.setattr(rules, "ROOT", tmp_path)
    assert main(["rules", "--check"]) == 1
    assert "python -m ops rules" in capsys.readouterr().err
    assert main(["rules"]) == 0
    assert stale.read_text() == rules.render()
    assert main(["rules", "--check"]) == 0
