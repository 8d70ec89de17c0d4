"""The web app's files keep the shape the deploy upload and the house rules rely on.

No browser needed: these read static/ as files.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.browser.conftest import (
    CONFIG_STATEMENT,
    CSP_CONNECT,
    LOCAL_API,
    STATIC,
    deployed_config,
    deployed_index,
)

# The app's own modules (static/js/…, and config.js beside index.html); static/vendor/
# holds third-party code, kept unchanged.
MODULES = sorted([*STATIC.glob("js/**/*.js"), STATIC / "config.js"])
ENTRY = "js/main.js"


def name_of(module: Path) -> str:
    return module.relative_to(STATIC).as_posix()


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


def index_elements() -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed((STATIC / "index.html").read_text())
    return parser.elements


def test_config_js_is_the_one_statement_the_deploy_rewrites() -> None:
    source = (STATIC / "config.js").read_text()
    match = CONFIG_STATEMENT.match(source)
    assert match, source
    assert match["url"] == LOCAL_API
    deployed = deployed_config(source, "https://xyz.execute-api.eu-west-1.amazonaws.com/api")
    assert CONFIG_STATEMENT.match(deployed)
    from ops.upload_web import rewrite_config_js

    live = "https://abc.lambda-url.eu-west-1.on.aws/"  # issue 26: the deploy adds liveUrl
    match = CONFIG_STATEMENT.match(rewrite_config_js(source, LOCAL_API.replace("http:", "https:"),
                                                     live))
    assert match and match["live"] == live


def test_index_csp_names_the_local_api_once_and_comes_before_any_script() -> None:
    html = (STATIC / "index.html").read_text()
    assert html.count(CSP_CONNECT) == 1
    elements = index_elements()
    tags = [tag for tag, _ in elements]
    csp_at = next(
        i for i, (tag, attrs) in enumerate(elements)
        if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy"
    )
    assert csp_at < tags.index("script")
    deployed = deployed_index(html, "https://xyz.execute-api.eu-west-1.amazonaws.com/api")
    assert "connect-src https://xyz.execute-api.eu-west-1.amazonaws.com;" in deployed
    assert LOCAL_API not in deployed


def test_index_has_no_inline_script_style_or_handlers() -> None:
    elements = index_elements()
    scripts = [attrs for tag, attrs in elements if tag == "script"]
    assert scripts == [{"type": "module", "src": ENTRY}]
    assert "style" not in [tag for tag, _ in elements]
    for tag, attrs in elements:
        assert "style" not in attrs, tag
        assert not [name for name in attrs if name.startswith("on")], tag


@pytest.mark.parametrize("module", MODULES, ids=[name_of(m) for m in MODULES])
def test_modules_never_build_html_from_strings(module) -> None:
    source = module.read_text()
    for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("]:
        assert sink not in source, f"{name_of(module)} uses {sink}"


def test_only_api_js_calls_fetch_or_sets_authorization() -> None:
    for module in MODULES:
        source = module.read_text()
        uses = bool(re.search(r"\bfetch\(|Authorization", source))
        assert uses == (name_of(module) == "js/lib/api.js"), name_of(module)


def test_only_session_js_touches_browser_storage() -> None:
    for module in MODULES:
        uses = bool(re.search(r"\b(localStorage|sessionStorage)\b", module.read_text()))
        assert uses == (name_of(module) == "js/lib/session.js"), name_of(module)


def test_rules_js_is_written_from_the_server_rules() -> None:
    from ops.rules import is_current

    assert is_current(), "the web app's rules are stale: run .venv/bin/python -m ops rules"


def imports_of(module: str) -> set[str]:
    """The modules `module` imports, as paths relative to static/."""
    source = (STATIC / module).read_text()
    found = re.findall(
        r'^import [^;]*? from "(\.{1,2}/[\w./-]+)";', source, re.MULTILINE | re.DOTALL
    )
    folder = (STATIC / module).parent
    return {name_of((folder / path).resolve()) for path in found}


def test_every_module_of_the_graph_is_preloaded() -> None:
    graph, todo = set(), [ENTRY]
    while todo:
        module = todo.pop()
        if module not in graph:
            graph.add(module)
            todo.extend(imports_of(module))
    preloaded = {
        attrs["href"] for tag, attrs in index_elements()
        if tag == "link" and attrs.get("rel") == "modulepreload"
    }
    assert graph == preloaded
    assert graph == {name_of(module) for module in MODULES}  # no module left out of the graph


# Lines that may start a module's top level: declarations, and the insides of them.
DECLARATION_STARTS = (
    " ", "}", "]", ")", "//", "/*", "*", "import", "export", "const", "let", "function",
    "async function", "class",
)


@pytest.mark.parametrize("module", MODULES, ids=[name_of(m) for m in MODULES])
def test_modules_touch_no_element_when_imported(module) -> None:
    """Only main.js starts anything; the others look elements up in init()."""
    source = module.read_text()
    top_level = [
        line for line in source.splitlines()
        if line
        and not line.startswith(DECLARATION_STARTS)
    ]
    if name_of(module) == ENTRY:
        assert top_level == ["init();"]
    else:
        assert top_level == [], top_level
    assert not re.search(r"^(const|let) \w+ = byId\(", source, re.MULTILINE)


def test_the_visually_hidden_declarations_are_written_once() -> None:
    """One block hides text but reads it out; the elements hidden only where there is no
    room (.phone-hidden, .overview-action, the brand's name) join its selector list rather
    than repeating its declarations in their media queries."""
    css = "\n".join(path.read_text() for path in sorted(STATIC.glob("*.css")))
    blocks = re.findall(r"([^{}]*)\{([^{}]*clip-path:[^;]*inset\(50%\)[^{}]*)\}", css)
    hiding = [(selectors, body) for selectors, body in blocks if "1px" in body
              and "position:" in body and "absolute" in body and "white-space" in body]
    assert len(hiding) == 1, [selectors.strip() for selectors, _ in hiding]
    selectors = hiding[0][0]
    for name in (".visually-hidden", ".phone-hidden", ".overview-action", ".brand-name"):
        assert name in selectors, name
