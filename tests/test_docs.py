"""The docs cannot drift from the tree: every relative link resolves (file and heading),
every command the docs show exists, and the README's layout lists what is there."""

from __future__ import annotations

import re
import subprocess
import unicodedata
from pathlib import Path

import pytest

from ops.__main__ import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted([README, ROOT / "bench" / "README.md", *(ROOT / "docs").glob("*.md")])

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
SCRIPT = re.compile(r"(?<![\w/.-])(?:\./)?scripts/([\w-]+)((?:[ \t]+--?[\w-]+)*)")
OPS_COMMAND = re.compile(r"python -m ops ([\w-]+)")
MODULE_RUN = re.compile(r"python -m (\w+)")


def ids(paths: list[Path]) -> list[str]:
    return [str(path.relative_to(ROOT)) for path in paths]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    kept = "".join(c for c in text if c in " -" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {slug(match) for match in re.findall(r"^#{1,6} (.+)$", text, re.MULTILINE)}


@pytest.mark.parametrize("doc", DOCS, ids=ids(DOCS))
def test_every_relative_link_resolves(doc: Path) -> None:
    broken = []
    for target in LINK.findall(FENCE.sub("", doc.read_text(encoding="utf-8"))):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path_part, _, anchor = target.partition("#")
        path = (doc.parent / path_part).resolve() if path_part else doc
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(f"{target}: no heading #{anchor} in {path.name}")
    assert not broken, f"{doc.relative_to(ROOT)}: " + "; ".join(broken)


@pytest.mark.parametrize("doc", DOCS, ids=ids(DOCS))
def test_every_command_shown_exists(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    missing = []
    for name, flags in SCRIPT.findall(text):
        script = ROOT / "scripts" / name
        if not script.is_file():
            missing.append(f"scripts/{name}")
            continue
        source = script.read_text(encoding="utf-8")
        # A script's own options (--quick); short ones like -k pass through to pytest.
        missing += [f"scripts/{name} {flag}" for flag in flags.split()
                    if flag.startswith("--") and flag not in source]
    missing += [f"python -m ops {command}" for command in OPS_COMMAND.findall(text)
                if not command.startswith("-") and command not in COMMANDS]
    missing += [f"python -m {module}" for module in MODULE_RUN.findall(text)
                if not (ROOT / module / "__main__.py").is_file()
                and module not in {"pytest", "http", "venv", "pip"}]
    assert not missing, f"{doc.relative_to(ROOT)} shows commands that do not exist: {missing}"


def test_readme_starts_with_the_two_commands() -> None:
    """The README's test command is what CI runs: it stays the first thing a reader sees."""
    lines = README.read_text(encoding="utf-8").splitlines()
    assert lines[2] == "```sh" and lines[5] == "```"
    assert lines[3].split()[0] == "./scripts/run" and lines[4].split()[0] == "./scripts/test"


def test_readme_fits_on_a_few_screens() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 150


def layout_entries() -> list[str]:
    """The paths named in the README's Layout block: top-level names at column 0,
    names indented two spaces under the folder above them."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Layout", 1)[1]
    block = FENCE.search(section)
    assert block, "the Layout section has no code block"
    entries: list[str] = []
    parent = ""
    for line in block.group(0).splitlines()[1:-1]:
        name = line.strip().split("  ", 1)[0].strip()
        if not line.startswith(" "):
            parent = name if name.endswith("/") else ""
            entries.append(name)
        elif line.startswith("  ") and not line.startswith("   "):
            entries.append(parent + name)
    return entries


def test_every_layout_path_exists() -> None:
    missing = [entry for entry in layout_entries() if not (ROOT / entry).exists()]
    assert not missing, f"README's layout names paths that do not exist: {missing}"


def test_layout_lists_every_top_level_folder_and_chalicelib_module() -> None:
    listed = set(layout_entries())
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.splitlines()
    folders = {path.split("/", 1)[0] + "/" for path in tracked if "/" in path}
    modules = {f"chalicelib/{path.name}" for path in (ROOT / "chalicelib").glob("*.py")
               if path.name != "__init__.py"}
    modules |= {f"chalicelib/{path.name}/" for path in (ROOT / "chalicelib").iterdir()
                if path.is_dir() and path.name != "__pycache__"}
    unlisted = sorted((folders | modules) - listed)
    assert not unlisted, f"README's layout does not list: {unlisted}"
