"""docs/openapi.yaml stays in step with the app's routes, and states every rule.

The rules here are file-wide, so operations other issues add (sessions,
two-factor, passkeys) are held to them too: every operation says whether it is
guarded, declares each error it can answer, closes its response objects, and
gives every string it takes a rule a generator can follow. Where the file
states a rule as a pattern, the validator that enforces it agrees with the
pattern on every string hypothesis can think of.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate

from app import app
from chalicelib.errors import InvalidInput
from chalicelib.passkeys import check_name as check_passkey_name
from chalicelib.timestamps import new_message_id
from chalicelib.validation import (
    check_content,
    check_display_name,
    check_message_id,
    check_username,
    has_visible_character,
    shows_something,
)

SPEC = yaml.safe_load((Path(__file__).parent.parent / "docs" / "openapi.yaml").read_text())


def spec_operations() -> dict[tuple[str, str], dict]:
    return {
        (path, method.upper()): operation
        for path, item in SPEC["paths"].items()
        for method, operation in item.items()
    }


def test_spec_is_valid_openapi() -> None:
    validate(SPEC)


def test_every_route_is_documented_and_nothing_else() -> None:
    routes = {(path, method) for path, methods in app.routes.items() for method in methods}
    assert routes == set(spec_operations())


def test_security_is_declared_on_exactly_the_guarded_operations() -> None:
    for (path, method), operation in spec_operations().items():
        guarded = app.routes[path][method].authorizer is not None
        assert "security" in operation, (path, method)  # open ones say so: security: []
        assert bool(operation["security"]) == guarded, (path, method)
        if guarded:
            assert operation["security"] == [{"bearer": []}], (path, method)
            assert "401" in operation["responses"], (path, method)


def test_every_operation_documents_the_503_of_an_unreachable_store() -> None:
    for key, operation in spec_operations().items():
        assert "503" in operation["responses"], key


def test_every_operation_with_a_body_documents_400_413_and_415() -> None:
    for key, operation in spec_operations().items():
        if "requestBody" in operation:
            assert {"400", "413", "415"} <= set(operation["responses"]), key


# -- every error each operation can answer -------------------------------------------------


def resolve(node: Any) -> Any:
    """Follow a local $ref (once is enough in this file)."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def test_every_operation_with_query_parameters_documents_400() -> None:
    for key, operation in spec_operations().items():
        if any(resolve(p)["in"] == "query" for p in operation.get("parameters", [])):
            assert "400" in operation["responses"], key


def test_429_and_503_always_carry_retry_after() -> None:
    for key, operation in spec_operations().items():
        for status in {"429", "503"} & set(operation["responses"]):
            headers = resolve(operation["responses"][status]).get("headers", {})
            assert resolve(headers.get("Retry-After", {})).get("required") is True, (key, status)


def test_every_response_has_a_json_body_schema_except_204() -> None:
    for key, operation in spec_operations().items():
        for status, response in operation["responses"].items():
            response = resolve(response)
            if status == "204":
                assert "content" not in response, (key, status)
            else:
                assert "schema" in response["content"]["application/json"], (key, status)


def object_schemas(schema: Any, seen: tuple[int, ...] = ()) -> Iterator[dict]:
    """Every object schema inside ``schema``, $refs followed."""
    schema = resolve(schema)
    if not isinstance(schema, dict) or id(schema) in seen:
        return
    seen = (*seen, id(schema))
    if schema.get("type") == "object" or "properties" in schema:
        yield schema
    for child in schema.get("properties", {}).values():
        yield from object_schemas(child, seen)
    for keyword in ("items", "not"):
        if keyword in schema:
            yield from object_schemas(schema[keyword], seen)
    for keyword in ("allOf", "oneOf", "anyOf"):
        for child in schema.get(keyword, []):
            yield from object_schemas(child, seen)


def response_schemas() -> Iterator[tuple[tuple[str, str, str], dict]]:
    for key, operation in spec_operations().items():
        for status, response in operation["responses"].items():
            for media in resolve(response).get("content", {}).values():
                yield (*key, status), media["schema"]


def request_body_schemas() -> Iterator[tuple[tuple[str, str], dict]]:
    for key, operation in spec_operations().items():
        if "requestBody" in operation:
            yield key, resolve(operation["requestBody"])["content"]["application/json"]["schema"]


def test_every_response_object_is_closed() -> None:
    """The API never sends a field the file does not name."""
    for key, schema in response_schemas():
        for found in object_schemas(schema):
            assert found.get("additionalProperties") is False, (key, found)


def test_every_request_body_refuses_unknown_fields() -> None:
    for key, schema in request_body_schemas():
        for found in object_schemas(schema):
            assert found.get("additionalProperties") is False, (key, found)


STRING_RULES = {"pattern", "minLength", "maxLength", "format", "enum"}


def request_strings() -> Iterator[tuple[str, dict]]:
    """Every string a client sends: body fields and parameters."""
    for key, schema in request_body_schemas():
        for found in object_schemas(schema):
            for name, field in found.get("properties", {}).items():
                yield f"{key} body {name}", field
    for key, operation in spec_operations().items():
        for parameter in operation.get("parameters", []):
            parameter = resolve(parameter)
            for found in object_schemas(parameter["schema"]):
                for name, field in found.get("properties", {}).items():
                    yield f"{key} {parameter['name']}.{name}", field
            yield f"{key} {parameter['name']}", parameter["schema"]


def test_every_string_a_client_sends_states_its_rule() -> None:
    """A keyword a generator can follow, or words saying that any string is taken."""
    for where, field in request_strings():
        if field.get("type") != "string" and "$ref" not in field:
            continue
        schema = resolve(field)
        if schema.get("type") != "string":
            continue
        stated = STRING_RULES & set(schema) or schema.get("description", "").startswith(
            "Any string"
        ) or field.get("description", "").startswith("Any string")
        assert stated, where


# -- the patterns are the validators --------------------------------------------------------

SCHEMAS = SPEC["components"]["schemas"]


def matches(schema_name: str, value: str) -> bool:
    # fullmatch: JSON Schema's (ECMA 262) $ means the end, not "before a final newline".
    return re.fullmatch(SCHEMAS[schema_name]["pattern"], value) is not None


def accepts(check: Any, value: str) -> bool:
    try:
        check(value)
    except InvalidInput:
        return False
    return True


# Characters where the rules have edges: every kind of whitespace Python trims, controls,
# line and paragraph separators, invisible format characters, combining marks, astral.
EDGES = (
    " \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000"
    "\x00\x07\x7f\x9f\u061c\u200b\u200c\u200d\u200e\u202e\u2060\u2066\ufeff"
    "\u0301é\u1100ａ𝐚🦊Aa0_.-"
    "\xad\u0600\u180e\u206a\u206f\ufff9\ufffb\u115f\u1160\u3164\uffa0\u2800"
    "\U000e0001\U000e0041\U0001d173"
)
edgy_text = st.text(alphabet=st.sampled_from(EDGES) | st.characters(), max_size=60)


@settings(max_examples=400, deadline=None)
@given(value=edgy_text | st.builds(lambda pad, name: pad + name + pad,
                                   st.text(alphabet=" \n\t\u3000", max_size=3),
                                   st.text(alphabet="ab é🦊\u0301", min_size=48, max_size=53)))
@example(" " * 3 + "x" * 50 + "\n")
@example("x" * 51)
@example("a\tb")
@example("a\xadb")  # a soft hyphen inside: the passkey name's pattern once allowed it
@example("")
@pytest.mark.parametrize(("schema", "check"), [("DisplayNameInput", check_display_name),
                                               ("PasskeyNameInput", check_passkey_name)])
def test_name_patterns_are_the_validator(schema: str, check: Any, value: str) -> None:
    """The pattern, and what its description states in words: a visible character that
    is not a filler, and no format character beyond the Basic Multilingual Plane. A
    passkey's name has a display name's rule, so the same pattern and validator."""
    astral_format = any(ord(c) > 0xFFFF and unicodedata.category(c) == "Cf" for c in value)
    assert accepts(check, value) == (
        matches(schema, value) and shows_something(value) and not astral_format
    )


@settings(max_examples=300, deadline=None)
@given(value=edgy_text | st.builds(lambda pad, body: pad + body + pad,
                                   st.text(alphabet=" \n\t\u3000", max_size=5),
                                   st.text(alphabet="ab ", min_size=995, max_size=1005)))
@example("")
@example(" \u2028 ")
def test_content_pattern_is_the_validator(value: str) -> None:
    """The pattern, and the visible character its description states in words."""
    assert accepts(check_content, value) == (
        matches("ContentInput", value) and has_visible_character(value)
    )


@settings(max_examples=300, deadline=None)
@given(value=st.text(alphabet=st.sampled_from(EDGES), max_size=34))
@example("alice\n")
@example("Alice.B-C_1")
def test_every_username_the_pattern_allows_is_accepted(value: str) -> None:
    """The input pattern is the ASCII part of what NFKC accepts (full-width and other
    compatibility forms are accepted too, as its description says)."""
    if matches("UsernameInput", value):
        assert check_username(value) == value.lower()
        assert matches("Username", value.lower())


@pytest.mark.parametrize("value", [new_message_id(1_800_000_000.0), "01ARZ3NDEKTSV4RRFFQ69G5FAV"])
def test_message_ids_match_their_pattern(value: str) -> None:
    assert matches("MessageId", value) and accepts(
        lambda v: check_message_id(v, field="since"), value
    )


@settings(max_examples=300, deadline=None)
@given(value=st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcz \n", max_size=28))
def test_message_id_pattern_is_the_validator(value: str) -> None:
    assert matches("MessageId", value) == accepts(
        lambda v: check_message_id(v, field="since"), value
    )
