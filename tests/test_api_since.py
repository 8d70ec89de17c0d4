"""GET /messages?since=<message id>: what the web app's live updates poll, on SQLite."""

from __future__ import annotations

import pytest

from tests.helpers import Api, body_of

# Above the store: the store contract proves both adapters (docs/testing.md).
pytestmark = pytest.mark.stores("sqlite")


@pytest.fixture
def token(api: Api) -> str:
    return api.session("alice")["access_token"]


def post(api: Api, token: str, content: str) -> str:
    response = api.call("POST", "/messages", {"content": content}, token=token)
    assert response.status_code == 201
    return body_of(response)["id"]


def since(api: Api, token: str, query: str) -> object:
    return api.call("GET", f"/messages?{query}", token=token)


def test_since_returns_only_newer_messages_newest_first(api: Api, token: str) -> None:
    ids = [post(api, token, f"m{n}") for n in range(5)]
    answer = body_of(since(api, token, f"since={ids[1]}"))
    assert [m["id"] for m in answer["messages"]] == [ids[4], ids[3], ids[2]]
    assert answer["next_cursor"] is None
    assert answer["gap"] is False
    assert answer["messages"][0]["display_name"] == "alice"


def test_nothing_new_is_an_empty_answer(api: Api, token: str) -> None:
    newest = post(api, token, "only")
    answer = body_of(since(api, token, f"since={newest}"))
    assert answer == {"messages": [], "next_cursor": None, "gap": False}


def test_more_newer_than_the_limit_is_a_gap_with_the_newest(api: Api, token: str) -> None:
    ids = [post(api, token, f"m{n}") for n in range(6)]
    answer = body_of(since(api, token, f"since={ids[0]}&limit=3"))
    assert [m["id"] for m in answer["messages"]] == [ids[5], ids[4], ids[3]]
    assert answer["gap"] is True
    assert answer["next_cursor"] is None
    exact = body_of(since(api, token, f"since={ids[0]}&limit=5"))
    assert len(exact["messages"]) == 5 and exact["gap"] is False


def test_since_a_deleted_message_still_works(api: Api, token: str) -> None:
    first, second = post(api, token, "one"), post(api, token, "two")
    assert api.call("DELETE", f"/messages/{first}", token=token).status_code == 204
    answer = body_of(since(api, token, f"since={first}"))
    assert [m["id"] for m in answer["messages"]] == [second]


def test_the_first_page_has_no_gap_field(api: Api, token: str) -> None:
    post(api, token, "hello")
    assert set(body_of(since(api, token, "limit=5"))) == {"messages", "next_cursor"}


@pytest.mark.parametrize(
    "value",
    ["", "junk", "01ARZ3NDEKTSV4RRFFQ69G5FA", "01ARZ3NDEKTSV4RRFFQ69G5FAVX",
     "01arz3ndektsv4rrffq69g5fav", "01ARZ3NDEKTSV4RRFFQ69G5FAU", "%00", "x" * 10_000,
     "01ARZ3NDEKTSV4RRFFQ69G5FAV%0A"],
)
def test_since_that_is_not_a_message_id_is_400(api: Api, token: str, value: str) -> None:
    response = since(api, token, f"since={value}")
    assert response.status_code == 400
    assert body_of(response)["Message"].startswith("since must be a message id")


def test_since_with_cursor_is_400(api: Api, token: str) -> None:
    for n in range(3):
        post(api, token, f"m{n}")
    first = body_of(since(api, token, "limit=1"))
    newest = first["messages"][0]["id"]
    response = since(api, token, f"since={newest}&cursor={first['next_cursor']}")
    assert response.status_code == 400
    assert body_of(response)["Message"] == "use either cursor or since, not both"


def test_since_with_a_bad_limit_is_400(api: Api, token: str) -> None:
    newest = post(api, token, "m")
    assert since(api, token, f"since={newest}&limit=0").status_code == 400


def test_since_needs_a_token(api: Api) -> None:
    assert api.call("GET", "/messages?since=01ARZ3NDEKTSV4RRFFQ69G5FAV").status_code == 401
