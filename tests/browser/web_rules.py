"""static/js/lib/rules.js, written from chalicelib/validation.py: the one source of the rules.

The web app checks what people type with the server's own limits. This module renders
the JavaScript from the Python constants; a test fails when static/js/lib/rules.js differs.
Regenerate with:  .venv/bin/python -m tests.browser.web_rules > static/js/lib/rules.js
"""

from __future__ import annotations

import json
import re

from chalicelib import validation


def render() -> str:
    pattern = validation.USERNAME_PATTERN.pattern
    lengths = re.search(r"\{(\d+),(\d+)\}", pattern)
    assert lengths, f"the username pattern names no length range: {pattern}"
    return "\n".join(
        [
            "// The server's rules for what people type, written from chalicelib/validation.py",
            "// by tests/browser/web_rules.py (a test fails if the two differ). Do not edit.",
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


if __name__ == "__main__":
    print(render(), end="")
