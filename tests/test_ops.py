"""`python -m ops`: one entry point that lists and runs every operator command."""

from __future__ import annotations

import importlib
import subprocess
import sys

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
