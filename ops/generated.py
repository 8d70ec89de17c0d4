"""Files written from the code (deploy templates, docs/deploy.md's lists, the web app's
rules): the one way a command writes them, or with ``--check`` only reports them stale.

Each such command's ``main`` is ``command_main``: it renders its files' whole text and
hands it to ``write_or_check``; the tests and CI run the ``--check`` form, so a stale
file fails them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from ops.stage import ROOT


def command_main(argv: list[str] | None, *, command: str, summary: str,
                 files: Callable[[], Mapping[Path, str]], root: Path = ROOT) -> int:
    """``command [--check]``: parse ``argv``, render ``files()`` and write or check them."""
    parser = argparse.ArgumentParser(prog=command, description=summary)
    parser.add_argument("--check", action="store_true",
                        help="write nothing; name each stale file and exit 1 if any is")
    args = parser.parse_args(argv)
    return write_or_check(files(), check=args.check, command=command, root=root)


def write_or_check(files: Mapping[Path, str], *, check: bool, command: str,
                   root: Path = ROOT) -> int:
    """Write each file whose text differs from ``files`` (``wrote: path``) and return 0;
    with ``check``, write nothing, name each stale one (``stale: path``) and what to run
    (``command``), and return 1 if any is stale. Paths are shown relative to ``root``."""
    stale = [path for path, text in files.items()
             if not (path.exists() and path.read_text(encoding="utf-8") == text)]
    for path in stale:
        if not check:
            path.write_text(files[path], encoding="utf-8")
        print(f"{'stale' if check else 'wrote'}: {path.relative_to(root)}")
    if check and stale:
        print(f"run: {command}", file=sys.stderr)
        return 1
    return 0
