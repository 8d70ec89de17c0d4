"""Write the web app's copy of the server's input rules from chalicelib/validation.py.

The web app checks what people type with the server's own limits; this renders them
as a JavaScript module so there is one source. ``--check`` writes nothing and exits 1
when the file is stale (the tests run it).

    python -m ops rules           # (re)write the web app's rules module
    python -m ops rules --check   # exit 1 if it differs from chalicelib/validation.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from chalicelib import validation
from ops.generated import command_main
from ops.stage import ROOT

# The generated module: the one place its path is named.
RULES_JS = ROOT / "static" / "js" / "lib" / "rules.js"


def render() -> str:
    """The module's text, from the validators' constants."""
    pattern = validation.USERNAME_PATTERN.pattern
    lengths = re.search(r"\{(\d+),(\d+)\}", pattern)
    if lengths is None:
        raise ValueError(f"the username pattern names no length range: {pattern}")
    return "\n".join(
        [
            "// The server's rules for what people type, written from chalicelib/validation.py",
            "// by `python -m ops rules` (`--check` fails when the two differ). Do not edit.",
            "",
            # The server uses fullmatch; JavaScript's test() searches, so anchor it here.
            f"export const USERNAME_PATTERN = new RegExp({json.dumps(f'^(?:{pattern})$')});",
            f"export const USERNAME_MIN = {int(lengths[1])};",
            f"export const USERNAME_MAX = {int(lengths[2])};",
            f"export const PASSWORD_MIN = {validation.PASSWORD_MIN};",
            f"export const PASSWORD_MAX = {validation.PASSWORD_MAX};",
            f"export const CONTENT_MAX = {validation.CONTENT_MAX};",
            f"export const DISPLAY_NAME_MAX = {validation.DISPLAY_NAME_MAX};",
            f"export const PAGE_LIMIT_MAX = {validation.LIMIT_MAX};",
            "",
        ]
    )


def is_current(path: Path | None = None) -> bool:
    """True when ``path`` (the web app's module by default) holds what ``render()`` writes."""
    path = path or RULES_JS
    return path.is_file() and path.read_text(encoding="utf-8") == render()


def main(argv: list[str] | None = None) -> int:
    return command_main(argv, command="python -m ops rules", summary=__doc__.splitlines()[0],
                        files=lambda: {RULES_JS: render()}, root=ROOT)
