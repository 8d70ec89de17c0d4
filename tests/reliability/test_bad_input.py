"""Bad bodies and look-alike usernames, over HTTP to `chalice local`, on both stores.

A body that is not JSON, not an object, has a field missing, of the wrong type,
unknown, or not valid Unicode is a 400; over 64 KiB a 413; never a 5xx.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.http_client import Reply
from tests.reliability.stack import PASSWORD, Served, fresh_name, session
from tests.reliability.tally import TALLY

pytestmark = pytest.mark.reliability

# route -> (fields and a valid value for each, whether a bearer token is needed)
ROUTES: dict[str, tuple[dict[str, str], bool]] = {
    "/signup": ({"username": "fine-name", "password": PASSWORD}, False),
    "/login": ({"username": "fine-name", "password": PASSWORD}, False),
    "/token/refresh": ({"refresh_token": "r" * 43}, False),
    "/logout": ({"refresh_token": "r" * 43}, True),
    "/me/password": ({"current_password": PASSWORD, "new_password": "a new staple horse"}, True),
    "/messages": ({"content": "hello"}, True),
}
WRONG_TYPES: dict[str, Any] = {
    "number": 7, "null": None, "true": True, "array": ["x"], "object": {"x": "y"},
}


def bad_bodies(fields: dict[str, str], *, optional: bool) -> dict[str, tuple[bytes, int]]:
    """Case name -> (raw body, the status it must get)."""
    valid = json.dumps(fields).encode()
    cases: dict[str, tuple[bytes, int]] = {
        "not JSON": (b"{nope", 400),
        "truncated JSON": (valid[:-1], 400),
        "invalid UTF-8": (valid[:-2] + b'\xff\xfe"}', 400),
        "array": (b"[]", 400),
        "string": (b'"text"', 400),
        "number": (b"42", 400),
        "null": (b"null", 400),
        "NaN": (b"NaN", 400),
        "30,000 levels deep": (b"[" * 30_000 + b"]" * 30_000, 400),
        "5,000-digit number": (b'{"n": ' + b"9" * 5_000 + b"}", 400),
        "unknown extra field": (json.dumps({**fields, "is_admin": True}).encode(), 400),
        "duplicate keys, last one wrong": (valid[:-1] + b', "' + next(iter(fields)).encode()
                                           + b'": 5}', 400),
        "duplicate keys, both valid": (valid[:-1] + b", " + valid[1:], 400),
        "over 64 KiB": (json.dumps({**fields, "pad": "p" * 65_536}).encode(), 413),
    }
    for name in fields:
        others = {key: value for key, value in fields.items() if key != name}
        if not optional:
            cases[f"{name} missing"] = (json.dumps(others).encode(), 400)
        for kind, value in WRONG_TYPES.items():
            cases[f"{name} is {kind}"] = (json.dumps({**fields, name: value}).encode(), 400)
        # A JSON escape for half a surrogate pair: no Unicode text can hold it.
        lone = json.dumps({**fields, name: "x" * 12}).replace("x" * 12, "\\ud800" + "x" * 12)
        cases[f"{name} holds a lone surrogate"] = (lone.encode(), 400)
    return cases


@pytest.fixture
def bearer(served: Served) -> str:
    return session(served.http(), fresh_name("bodies"))["access_token"]


@pytest.mark.parametrize("route", list(ROUTES))
def test_bad_bodies_are_400_or_413_never_5xx(served: Served, bearer: str, route: str) -> None:
    fields, needs_token = ROUTES[route]
    http = served.http()
    wrong = {}
    for case, (raw, expected) in bad_bodies(fields, optional=route == "/logout").items():
        reply = http.call("POST", route, raw=raw, token=bearer if needs_token else None)
        TALLY.attack(f"bad body: {route} {case}", served.kind, reply.status,
                     refused=reply.status == expected)
        if reply.status != expected or not isinstance(reply.body, dict) or "Code" not in reply.body:
            wrong[case] = (reply.status, reply.raw[:120])
    assert not wrong, wrong
    # The session survived every bad body sent to /logout and /me/password.
    assert http.call("GET", "/me", token=bearer).status == 200


@pytest.mark.parametrize(
    ("content_type", "raw"),
    [
        (None, b'{"content": "no content type"}'),
        ("text/plain", b'{"content": "text/plain"}'),
        ("application/x-www-form-urlencoded", b"content=form+encoded"),
        ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="a"'
                                            b"\r\n\r\nb\r\n--x--\r\n"),
        ("application/json; charset=latin-1", b'{"content": "caf\xe9"}'),
    ],
)
def test_odd_content_types_are_never_a_5xx(
    served: Served, bearer: str, content_type: str | None, raw: bytes
) -> None:
    http = served.http()
    reply = http.call("POST", "/messages", raw=raw, token=bearer,
                      headers={"Content-Type": content_type})
    assert reply.status in {201, 400, 415}, (reply.status, reply.raw[:200])


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _math_bold(text: str) -> str:
    def bold(c: str) -> str:
        if c.isdigit():
            return chr(0x1D7CE + int(c))
        return chr(0x1D41A + ord(c) - ord("a")) if "a" <= c <= "z" else c

    return "".join(bold(c) for c in text)


# Forms NFKC folds (then lowercasing) into the very same name: the same account.
SAME_ACCOUNT = {
    "upper case": str.upper,
    "full-width": _fullwidth,
    "mathematical bold": _math_bold,
    "long s": lambda n: n.replace("s", "\u017f", 1),
    "Kelvin sign": lambda n: n.replace("k", "\u212a", 1),
    "ff ligature": lambda n: n.replace("ff", "\ufb00", 1),
    "modifier small s": lambda n: n.replace("s", "\u02e2", 1),
    "circled letters": lambda n: "".join(
        chr(0x24D0 + ord(c) - ord("a")) if "a" <= c <= "z" else c for c in n),
}
# Forms that stay outside a-z 0-9 _ . - after folding: refused, never a second account.
REFUSED = {
    "Cyrillic dze for s": lambda n: n.replace("s", "\u0455", 1),
    "Greek kappa for k": lambda n: n.replace("k", "\u03ba", 1),
    "dotless i": lambda n: n.replace("i", "\u0131", 1),
    "dotted capital I": lambda n: n.replace("i", "\u0130", 1),
    "combining acute": lambda n: n.replace("s", "s\u0301", 1),
    "zero-width space": lambda n: n.replace("k", "k\u200b", 1),
    "zero-width joiner": lambda n: n.replace("k", "k\u200d", 1),
    "no-break space": lambda n: n.replace("-", "\u00a0", 1),
    "right-to-left override": lambda n: "\u202e" + n,
}


def test_look_alike_usernames_cannot_make_a_second_account(served: Served) -> None:
    http = served.http()
    name = fresh_name("skiff")
    session(http, name)
    outcomes: dict[str, Reply] = {}
    for form, make in {**SAME_ACCOUNT, **REFUSED}.items():
        variant = make(name)
        assert variant != name, form
        outcomes[form] = http.call("POST", "/signup", {"username": variant,
                                                       "password": "another staple horse"})
    for form, reply in outcomes.items():
        expected = 409 if form in SAME_ACCOUNT else 400
        TALLY.attack(f"look-alike username: {form}", served.kind, reply.status,
                     refused=reply.status == expected)
    assert {form: r.status for form, r in outcomes.items()} == {
        **dict.fromkeys(SAME_ACCOUNT, 409), **dict.fromkeys(REFUSED, 400)}


@pytest.mark.parametrize("form", list(SAME_ACCOUNT))
def test_folded_forms_of_a_username_log_in_to_the_one_account(served: Served, form: str
                                                              ) -> None:
    http = served.http()
    name = fresh_name("skiff")
    session(http, name)
    reply = http.call("POST", "/login", {"username": SAME_ACCOUNT[form](name),
                                         "password": PASSWORD})
    assert reply.status == 200
    assert reply.body["username"] == name


def test_signup_under_a_folded_form_is_stored_as_plain_lowercase(served: Served) -> None:
    http = served.http()
    name = fresh_name("skiff")
    reply = http.call("POST", "/signup", {"username": _math_bold(name), "password": PASSWORD})
    assert reply.status == 201
    assert reply.body == {"username": name, "display_name": name, "email": None,
                          "email_verified": False}
