"""Property tests (hypothesis) for validation, access tokens and paging cursors.

Whatever the input, each function either answers within its contract or raises
its one refusal (``InvalidInput``, ``BodyTooLarge``, ``InvalidToken``); any
other exception would be a 500 in production.
"""

from __future__ import annotations

import base64
import functools
import json
import string
import time
import unicodedata

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from chalicelib.config import load_settings
from chalicelib.cursors import read_cursor, sign_cursor
from chalicelib.errors import BodyTooLarge, InvalidInput
from chalicelib.signing_keys import Keyring, parse_keyring
from chalicelib.timestamps import new_message_id
from chalicelib.tokens import (
    AccessClaims,
    InvalidToken,
    issue_access_token,
    verify_access_token,
)
from chalicelib.validation import (
    CONTENT_MAX,
    LIMIT_MAX,
    PASSWORD_MAX,
    PASSWORD_MIN,
    USERNAME_PATTERN,
    check_content,
    check_limit,
    check_new_password,
    check_username,
    parse_body,
)
from tests.helpers import make_keyring_json

pytestmark = pytest.mark.reliability
PROFILE = settings(database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KEYRING = parse_keyring(make_keyring_json("k-old", "k-new"))
ROTATED = Keyring(current="k-old", keys=KEYRING.keys)
FOREIGN = parse_keyring(make_keyring_json("k-new"))
SETTINGS = load_settings({"CHALKBOARD_STAGE": "test", "CHALKBOARD_WEB_ORIGIN": "http://x.example"})

# Every code point, surrogates included (JSON can carry them as escapes).
ANY_CHARACTER = st.characters(exclude_categories=())
ANY_TEXT = st.text(ANY_CHARACTER, max_size=60)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
    max_leaves=8,
)
FIELDS = {"username": str, "password": str}
BODIES = st.one_of(
    st.binary(max_size=200),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.sampled_from(["username", "password", "extra"]), JSON_VALUES | ANY_TEXT,
                    max_size=3).map(lambda d: json.dumps(d).encode()),
)


@PROFILE
@given(raw=BODIES)
def test_any_body_gives_exactly_the_fields_as_text_or_a_refusal(raw: bytes) -> None:
    try:
        body = parse_body(raw, required=FIELDS)
    except (InvalidInput, BodyTooLarge):
        return
    assert set(body) == set(FIELDS)
    for value in body.values():
        assert isinstance(value, str)
        value.encode("utf-8")  # what hashing and storing will do with it


@PROFILE
@given(value=ANY_TEXT)
def test_accepted_username_is_its_own_canonical_ascii_form(value: str) -> None:
    try:
        username = check_username(value)
    except InvalidInput:
        return
    assert USERNAME_PATTERN.fullmatch(username)
    assert username == unicodedata.normalize("NFKC", value).lower()
    assert check_username(username) == username


def _folding_variants() -> dict[str, list[str]]:
    """For each character a username may hold, every code point NFKC folds into it."""
    allowed = set(string.ascii_lowercase + string.digits + "_.-")
    table: dict[str, list[str]] = {c: [] for c in allowed}
    for code in range(0x110000):
        char = chr(code)
        folded = unicodedata.normalize("NFKC", char).lower()
        if folded in allowed:
            table[folded].append(char)
    return table


FOLDS = _folding_variants()
# Characters drawn like Latin letters that no normalisation turns into them.
CONFUSABLES = "аеорсхуіјѕԁһӏ" + "οαεκινρτυχ" + "ıĸ"
CANONICAL_NAMES = st.from_regex(r"\A[a-z0-9_.-]{3,32}\Z")


@PROFILE
@given(name=CANONICAL_NAMES, data=st.data())
def test_a_look_alike_of_a_username_is_that_username_or_refused(name: str, data) -> None:
    variant = "".join(data.draw(st.sampled_from(FOLDS[c])) for c in name)
    assert check_username(variant) == name
    position = data.draw(st.integers(0, len(name) - 1))
    confusable = data.draw(st.sampled_from([c for c in CONFUSABLES
                                            if unicodedata.normalize("NFKC", c).lower()
                                            not in FOLDS]))
    with pytest.raises(InvalidInput):
        check_username(variant[:position] + confusable + variant[position + 1:])


@PROFILE
@given(password=ANY_TEXT | st.text(min_size=120, max_size=140), username=CANONICAL_NAMES)
def test_accepted_new_password_keeps_every_rule(password: str, username: str) -> None:
    try:
        check_new_password(password, username=username, display_name=username,
                           settings=SETTINGS)
    except InvalidInput:
        return
    normalized = unicodedata.normalize("NFKC", password)
    assert PASSWORD_MIN <= len(normalized) <= PASSWORD_MAX
    assert normalized.lower() != username
    assert not any(unicodedata.category(c) == "Cc" for c in normalized)
    assert any(unicodedata.category(c)[0] in "LNPS" for c in normalized)


@PROFILE
@given(value=ANY_TEXT | st.text(min_size=990, max_size=1010))
def test_accepted_content_is_the_trimmed_text_of_1_to_1000_characters(value: str) -> None:
    try:
        content = check_content(value)
    except InvalidInput:
        return
    assert content == value.strip()
    assert 1 <= len(content) <= CONTENT_MAX


@PROFILE
@given(raw=st.none() | st.from_regex(r"\A[0-9]{1,4}\Z") | ANY_TEXT)
def test_accepted_limit_is_a_whole_number_from_1_to_100(raw: str | None) -> None:
    try:
        limit = check_limit(raw)
    except InvalidInput:
        return
    assert 1 <= limit <= LIMIT_MAX
    assert limit == (20 if raw is None else int(raw))


MESSAGE_IDS = st.one_of(
    st.floats(0, 2**47 / 1000).map(new_message_id),
    st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=64),
)


@PROFILE
@given(message_id=MESSAGE_IDS)
def test_cursor_round_trips_even_after_key_rotation(message_id: str) -> None:
    cursor = sign_cursor(message_id, KEYRING)
    assert read_cursor(cursor, KEYRING) == message_id
    assert read_cursor(cursor, ROTATED) == message_id


@PROFILE
@given(message_id=MESSAGE_IDS, data=st.data())
def test_a_tampered_cursor_never_names_another_message(message_id: str, data) -> None:
    cursor = sign_cursor(message_id, KEYRING)
    position = data.draw(st.integers(0, len(cursor) - 1))
    replacement = data.draw(st.sampled_from(string.ascii_letters + string.digits + "-_"))
    tampered = cursor[:position] + replacement + cursor[position + 1:]
    assume(tampered != cursor)
    try:
        named = read_cursor(tampered, KEYRING)
    except InvalidInput:
        return
    assert named == message_id  # only a change in the unused bits of the last character


@PROFILE
@given(message_id=MESSAGE_IDS)
def test_a_cursor_signed_by_another_keyring_is_refused(message_id: str) -> None:
    with pytest.raises(InvalidInput):
        read_cursor(sign_cursor(message_id, FOREIGN), KEYRING)


@PROFILE
@given(cursor=ANY_TEXT | st.text(string.ascii_letters + string.digits + "-_", max_size=300))
def test_an_arbitrary_cursor_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidInput):
        read_cursor(cursor, KEYRING)


SEGMENTS = st.one_of(
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=60),
).map(lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode())


@PROFILE
@given(token=ANY_TEXT | st.lists(SEGMENTS, min_size=1, max_size=4).map(".".join))
def test_an_arbitrary_access_token_is_refused_with_invalid_token(token: str) -> None:
    with pytest.raises(InvalidToken):
        verify_access_token(token, keyring=KEYRING, settings=SETTINGS, now=time.time())


@functools.cache
def genuine_token() -> tuple[str, AccessClaims]:
    """One token for every example (a new one each time would vary the length drawn from)."""
    return issue_access_token(username="alice", session_id="s1", keyring=KEYRING, settings=SETTINGS,
                              now=time.time())


@PROFILE
@given(data=st.data())
def test_a_changed_character_never_yields_other_claims(data) -> None:
    token, claims = genuine_token()
    position = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.sampled_from(string.ascii_letters + string.digits + "-_."))
    tampered = token[:position] + replacement + token[position + 1:]
    assume(tampered != token)
    try:
        verified = verify_access_token(tampered, keyring=KEYRING, settings=SETTINGS,
                                       now=time.time())
    except InvalidToken:
        return
    assert verified == claims
