"""Display names through the routes (chalice.test.Client), on SQLite."""

from __future__ import annotations

import pytest

from tests.helpers import Api, body_of

# Above the store: the store contract proves both adapters (docs/testing.md).
pytestmark = pytest.mark.stores("sqlite")

PASSWORD = "correct horse battery staple"


def signup(api: Api, body: dict) -> object:
    return api.call("POST", "/signup", {"password": PASSWORD, **body})


def token_of(api: Api, username: str) -> str:
    response = api.login(username)
    assert response.status_code == 200, response.body
    return body_of(response)["access_token"]


def test_signup_without_a_name_uses_the_username(api: Api) -> None:
    response = signup(api, {"username": "Alice"})
    assert response.status_code == 201
    assert body_of(response) == {"username": "alice", "display_name": "alice",
                                 "email": None, "email_verified": False}


def test_signup_with_a_name_keeps_it_trimmed_in_nfc(api: Api) -> None:
    response = signup(api, {"username": "zoe", "display_name": "  Zoe\u0308 Smith \n"})
    assert response.status_code == 201
    assert body_of(response) == {"username": "zoe", "display_name": "Zo\u00eb Smith",
                                 "email": None, "email_verified": False}
    me = body_of(api.call("GET", "/me", token=token_of(api, "zoe")))
    assert me["display_name"] == "Zo\u00eb Smith"


@pytest.mark.parametrize(
    "display_name",
    [
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian "I want", with a ZWNJ
        "\u0646\u06cc\u0645\u200c\u0641\u0627\u0635\u0644\u0647 Parsa",
        "\U0001f469\u200d\U0001f4bb",  # woman technologist: an emoji ZWJ sequence
        "Family \U0001f468\u200d\U0001f469\u200d\U0001f467",
        "\u0915\u094d\u200d\u0937",  # Devanagari half form with a ZWJ
        "Kim \u3164 Lee",  # a filler beside letters still shows a name
        "\u2800x",
    ],
)
def test_names_that_need_joiners_or_show_something_are_accepted(
    api: Api, display_name: str
) -> None:
    response = signup(api, {"username": "alice", "display_name": display_name})
    assert response.status_code == 201, response.body
    assert body_of(response)["display_name"] == display_name
    token = token_of(api, "alice")
    renamed = api.call("PATCH", "/me", {"display_name": display_name}, token=token)
    assert renamed.status_code == 200
    assert body_of(renamed)["display_name"] == display_name


@pytest.mark.parametrize(
    ("display_name", "problem"),
    [
        ("", "must not be empty"),
        ("   \t ", "must not be empty"),
        ("x" * 51, "at most 50 characters"),
        ("two\nlines", "one line"),
        ("tab\there", "one line"),
        ("bell\x07", "one line"),
        ("evil\u202eeman", "one line"),
        ("line\u2028separator", "one line"),
        # Shows nothing: fillers that render blank, alone or with spaces and marks.
        ("\u3164", "must not be empty"),
        ("\u2800", "must not be empty"),
        ("\u115f\u1160", "must not be empty"),
        ("\uffa0 \u3164", "must not be empty"),
        ("\u3164\u0301", "must not be empty"),
        ("\u200d", "must not be empty"),
        # Format characters (Unicode Cf), anywhere.
        ("soft\u00adhyphen", "invisible format characters"),
        ("\u00ad", "must not be empty"),
        ("mongolian\u180evowel", "invisible format characters"),
        ("nominal\u206edigits", "invisible format characters"),
        ("inhibit\u206aswapping", "invisible format characters"),
        ("anchor\ufff9here", "invisible format characters"),
        ("annotation\ufffb", "invisible format characters"),
        ("isolate\u2066d", "invisible format characters"),
        ("word\u2060joiner", "invisible format characters"),
        ("zero\u200bwidth", "invisible format characters"),
        ("left\u200eto right", "invisible format characters"),
        ("\ufeffbom", "invisible format characters"),
        ("flag\U000e0067\U000e0062\U000e007f", "invisible format characters"),
        ("tag\U000e0001", "invisible format characters"),
        ("music\U0001d173", "invisible format characters"),
        ("\u0600number", "invisible format characters"),
        # Joiners only inside a name, never at its ends.
        ("\u200cleading", "invisible format characters"),
        ("trailing\u200d", "invisible format characters"),
        ("trailing\u200c  ", "invisible format characters"),
    ],
)
def test_invalid_display_name_is_400_naming_the_field(
    api: Api, display_name: str, problem: str
) -> None:
    response = signup(api, {"username": "alice", "display_name": display_name})
    assert response.status_code == 400
    message = body_of(response)["Message"]
    assert message.startswith("display_name") and problem in message
    assert api.login("alice").status_code == 401  # no account was made
    token = api.session("bob")["access_token"]
    renamed = api.call("PATCH", "/me", {"display_name": display_name}, token=token)
    assert renamed.status_code == 400
    assert body_of(renamed)["Message"] == message


def test_name_of_exactly_50_characters_after_trimming_is_accepted(api: Api) -> None:
    name = "é" * 50
    response = signup(api, {"username": "alice", "display_name": f"  {name}  "})
    assert body_of(response)["display_name"] == name


def test_display_name_of_the_wrong_type_is_400(api: Api) -> None:
    response = signup(api, {"username": "alice", "display_name": 7})
    assert response.status_code == 400
    assert body_of(response)["Message"] == "display_name must be a string"


def test_me_shows_the_display_name(api: Api) -> None:
    token = api.session("alice")["access_token"]
    me = body_of(api.call("GET", "/me", token=token))
    assert set(me) == {"username", "display_name", "created_at", "totp_enabled", "email",
                        "email_verified", "recovery_codes_left"}
    assert me["recovery_codes_left"] is None  # two-factor is off
    assert me["display_name"] == "alice"


def test_patch_me_renames_and_answers_like_get_me(api: Api) -> None:
    token = api.session("alice")["access_token"]
    response = api.call("PATCH", "/me", {"display_name": " Alice Liddell "}, token=token)
    assert response.status_code == 200
    assert body_of(response) == body_of(api.call("GET", "/me", token=token))
    assert body_of(response)["display_name"] == "Alice Liddell"


@pytest.mark.parametrize(
    "body", [{}, {"display_name": "A", "username": "mallory"}, {"display_name": None}]
)
def test_patch_me_takes_exactly_a_display_name(api: Api, body: dict) -> None:
    token = api.session("alice")["access_token"]
    assert api.call("PATCH", "/me", body, token=token).status_code == 400
    assert body_of(api.call("GET", "/me", token=token))["display_name"] == "alice"


def test_patch_me_needs_a_token(api: Api) -> None:
    assert api.call("PATCH", "/me", {"display_name": "A"}).status_code == 401


def test_messages_show_the_authors_current_name_old_ones_included(api: Api) -> None:
    alice = api.session("alice")["access_token"]
    bob = api.session("bob")["access_token"]
    posted = body_of(api.call("POST", "/messages", {"content": "first"}, token=alice))
    assert posted["display_name"] == "alice"
    api.call("POST", "/messages", {"content": "from bob"}, token=bob)
    api.call("PATCH", "/me", {"display_name": "Alice L."}, token=alice)
    later = body_of(api.call("POST", "/messages", {"content": "second"}, token=alice))
    assert later["display_name"] == "Alice L."
    board = body_of(api.call("GET", "/messages", token=bob))["messages"]
    assert [(m["username"], m["display_name"], m["content"]) for m in board] == [
        ("alice", "Alice L.", "second"), ("bob", "bob", "from bob"), ("alice", "Alice L.", "first")
    ]
    assert set(board[0]) == {"id", "username", "display_name", "content", "created_at"}


def test_rename_shows_at_once_on_a_board_this_instance_just_read(api: Api) -> None:
    """The newest page is kept per instance for a second; a rename drops it, as a post does."""
    token = api.session("alice")["access_token"]
    api.call("POST", "/messages", {"content": "hello"}, token=token)
    assert body_of(api.call("GET", "/messages", token=token))["messages"][0][
        "display_name"] == "alice"
    api.call("PATCH", "/me", {"display_name": "Alice L."}, token=token)
    for query in ["", "?limit=20"]:
        board = body_of(api.call("GET", f"/messages{query}", token=token))["messages"]
        assert [m["display_name"] for m in board] == ["Alice L."]
