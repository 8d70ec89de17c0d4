"""Hostile input through the test client, on SQLite: look-alike usernames,
password forms that dodge the rules, numbers too long to parse, bodies that are not
UTF-8, and password guessing or posting through routes other than /login."""

from __future__ import annotations

import json
import unicodedata

import pytest

from tests.helpers import Api, body_of

# Above the store: the store contract proves both adapters (docs/testing.md).
pytestmark = pytest.mark.stores("sqlite")

PASSWORD = "correct horse battery staple"
WRONG = "not the right password"


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@pytest.mark.parametrize("variant", ["bob\n", "bob\r\n", "bob ", " bob", "bob\t", "b\nob",
                                     "bob\x00", "bob\u200b"])
def test_a_username_with_anything_around_it_is_400_not_a_second_account(
    api: Api, variant: str
) -> None:
    assert api.signup("bob").status_code == 201
    response = api.signup(variant, "a different password here")
    assert response.status_code == 400
    assert body_of(response)["Message"].startswith("username")
    login = api.login(variant)
    assert login.status_code == 401  # no account can have that name


def test_a_trailing_newline_never_reaches_the_throttle(api: Api) -> None:
    """Failures for "bob\\n" are not counted against bob (nor under a key of their own)."""
    api.signup("bob")
    for _ in range(6):
        assert api.login("bob\n", WRONG).status_code == 401
    assert api.login("bob").status_code == 200


def test_nfc_and_nfd_forms_of_a_password_are_one_password(api: Api) -> None:
    nfc = unicodedata.normalize("NFC", "Crème brûlée façade 2031")
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfc != nfd
    assert api.signup("chef", nfd).status_code == 201
    assert api.login("chef", nfc).status_code == 200
    assert api.login("chef", nfd).status_code == 200


def test_fullwidth_form_of_a_password_logs_in(api: Api) -> None:
    assert api.signup("wide", "violet tractor umbrella").status_code == 201
    assert api.login("wide", fullwidth("violet tractor umbrella")).status_code == 200


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Password1234 ", "too common"),
        (" password 1234 ", "too common"),
        (fullwidth("PASSWORD1234"), "too common"),
        ("password\u200b1234", "too common"),
        ("QWERTY123456", "too common"),
        (" " * 12, "visible character"),
        ("\u200b" * 12, "visible character"),
        ("\u3000" * 12, "visible character"),
        ("\x00" * 12, "control characters"),
        ("a perfectly\nfine password", "control characters"),
        ("tab\tseparated words", "control characters"),
        ("\u0301" * 12, "visible character"),
    ],
)
def test_a_password_dodging_the_rules_is_400(api: Api, password: str, message: str) -> None:
    for response in (
        api.signup("dodger", password),
        api.call("POST", "/me/password", {"current_password": PASSWORD, "new_password": password},
                 token=api.session("changer" + str(abs(hash(password)) % 10**6))["access_token"]),
    ):
        assert response.status_code == 400
        assert message in body_of(response)["Message"]


def test_a_password_that_normalizes_past_128_characters_is_400(api: Api) -> None:
    # U+FDFA is one character that NFKC turns into 18.
    response = api.signup("longform", "\ufdfa" * 8)
    assert response.status_code == 400 and "at most 128" in body_of(response)["Message"]


def test_wrong_current_passwords_count_in_the_login_throttle(api: Api) -> None:
    token = api.session("victim")["access_token"]
    change = {"current_password": WRONG, "new_password": "a brand new passphrase"}
    statuses = [api.call("POST", "/me/password", change, token=token).status_code
                for _ in range(5)]
    assert statuses == [403] * 5
    right = {"current_password": PASSWORD, "new_password": "a brand new passphrase"}
    refused = api.call("POST", "/me/password", right, token=token)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 900
    assert body_of(refused)["Code"] == "TooManyRequestsError"
    assert api.login("victim").status_code == 429  # one throttle per username
    assert api.call("GET", "/me", token=token).status_code == 200  # still the old password


def test_a_successful_password_change_clears_the_count(api: Api) -> None:
    token = api.session("forgetful")["access_token"]
    for _ in range(4):
        api.call("POST", "/me/password", {"current_password": WRONG,
                                          "new_password": "a brand new passphrase"}, token=token)
    assert api.call("POST", "/me/password", {"current_password": PASSWORD,
                                             "new_password": "a brand new passphrase"},
                    token=token).status_code == 204
    for _ in range(4):
        assert api.login("forgetful", WRONG).status_code == 401
    assert api.login("forgetful", "a brand new passphrase").status_code == 200


@pytest.mark.parametrize("limit", ["9" * 4301, "1" * 5000, "0" * 10 + "5", "1e2", "0x10"])
def test_a_limit_too_long_or_not_decimal_is_400(api: Api, limit: str) -> None:
    token = api.session("counter")["access_token"]
    response = api.call("GET", f"/messages?limit={limit}", token=token)
    assert response.status_code == 400
    assert "limit" in body_of(response)["Message"]


@pytest.mark.parametrize("number", ["9" * 4301, "-" + "9" * 5000, "1" + "0" * 400 + ".5",
                                    "NaN", "Infinity", "-Infinity"])
def test_a_body_number_too_long_or_not_json_is_400(api: Api, number: str) -> None:
    raw = '{"username": "numbers", "password": "correct horse battery", "x": ' + number + "}"
    response = api.call("POST", "/signup", raw=raw)
    assert response.status_code == 400


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32",
                                      "utf-8-sig"])
def test_a_body_not_in_plain_utf_8_is_400(api: Api, encoding: str) -> None:
    raw = json.dumps({"username": "encoded", "password": PASSWORD}).encode(encoding)
    response = api.call("POST", "/signup", raw=raw)
    assert response.status_code == 400
    assert "UTF-8" in body_of(response)["Message"] or "JSON" in body_of(response)["Message"]
    assert api.login("encoded").status_code == 401  # no account was made


def test_posting_past_the_rate_limit_is_429_with_retry_after(api: Api, env_override) -> None:
    env_override(CHALKBOARD_POST_RATE_LIMIT="3")
    token = api.session("poster")["access_token"]
    other = api.session("neighbour")["access_token"]
    statuses = [api.call("POST", "/messages", {"content": f"post {n}"}, token=token).status_code
                for n in range(4)]
    assert statuses == [201, 201, 201, 429]
    refused = api.call("POST", "/messages", {"content": "again"}, token=token)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert body_of(refused) == {"Code": "TooManyRequestsError",
                                "Message": body_of(refused)["Message"]}
    assert "posting too fast" in body_of(refused)["Message"]
    assert api.call("POST", "/messages", {"content": "mine"}, token=other).status_code == 201


def test_invalid_content_costs_no_posting_slot(api: Api, env_override) -> None:
    env_override(CHALKBOARD_POST_RATE_LIMIT="2")
    token = api.session("sloppy")["access_token"]
    for _ in range(5):
        assert api.call("POST", "/messages", {"content": "   "}, token=token).status_code == 400
    assert [api.call("POST", "/messages", {"content": "ok"}, token=token).status_code
            for _ in range(2)] == [201, 201]


@pytest.mark.parametrize("content", ["\u200b" * 5, "\x00", " \u200b\u2060 ", "\ufeff"])
def test_content_that_shows_nothing_is_refused_as_empty(api: Api, content: str) -> None:
    token = api.session("blank")["access_token"]
    refused = api.call("POST", "/messages", {"content": content}, token=token)
    assert refused.status_code == 400
    assert body_of(refused)["Message"] == "content must not be empty"
