"""The board: one shared list of messages, read newest first a page at a time."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from chalicelib import throttle
from chalicelib.cursors import UnknownCursorKey, read_cursor, sign_cursor
from chalicelib.deps import Deps
from chalicelib.errors import AccountGone, InvalidInput, MessageNotFound, NotAuthor
from chalicelib.store.model import Message, live
from chalicelib.timestamps import new_message_id
from chalicelib.validation import check_content, check_limit, check_message_id


@dataclass(frozen=True)
class BoardPage:
    messages: tuple[Message, ...]  # newest first, each with its author's current name
    next_cursor: str | None  # None on the last page, and always for ``since``
    gap: bool = False  # ``since`` only: more than the page are newer; reload the first page


def list_messages(
    deps: Deps, *, limit: str | None, cursor: str | None, since: str | None = None
) -> BoardPage:
    """A page of the board: the newest, the one after ``cursor``, or what is newer
    than the message ``since`` names (what live updates poll)."""
    size = check_limit(limit)
    if since is not None:
        if cursor is not None:
            raise InvalidInput("use either cursor or since, not both")
        return list_newer(deps, since_id=check_message_id(since, field="since"), limit=size)
    before_id = None
    if cursor is not None:  # a cursor signed after a key rotation may need a fresh keyring
        try:
            before_id = deps.with_keyring(lambda keyring: read_cursor(cursor, keyring),
                                     unknown_key=UnknownCursorKey)
        except UnknownCursorKey as error:  # still unknown after a reload: a plain 400
            raise InvalidInput(str(error)) from None
    if before_id is None:  # the newest page, which every open tab polls: see page_cache
        page = deps.page_cache.newest(deps.store, limit=size)
    else:
        page = deps.store.list_messages(limit=size, before_id=before_id)
    next_cursor = None
    if page.has_more and page.messages:
        next_cursor = sign_cursor(page.messages[-1].id, deps.keyring)
    return BoardPage(messages=page.messages, next_cursor=next_cursor)


def list_newer(deps: Deps, *, since_id: str, limit: int) -> BoardPage:
    """Up to ``limit`` messages newer than ``since_id``, newest first: from this
    instance's cached newest page when it reaches back that far (what live updates
    poll), otherwise one store read bounded by its key condition."""
    cached = deps.page_cache.newer_than(deps.store, since_id=since_id, limit=limit)
    if cached is not None:
        messages, gap = cached
        return BoardPage(messages=messages, next_cursor=None, gap=gap)
    page = deps.store.list_newer_messages(limit=limit, after_id=since_id)
    return BoardPage(messages=page.messages, next_cursor=None, gap=page.has_more)


def add_message(deps: Deps, *, username: str, session_id: str, content: str) -> Message:
    """Post within the per-user rate limit (``PostingThrottled`` past it), then look
    again at the session: if the account began to be deleted or the session ended
    meanwhile, take the message back.

    Account deletion marks the user first and then finds messages through the
    store's per-user index, which ``add_message`` writes before the message; so
    either this second look sees the deletion, or the deletion sees the message.
    """
    content = check_content(content)  # invalid content costs no slot
    throttle.reserve_post(deps, username)
    now = deps.now()
    message = Message(id=new_message_id(now), username=username, content=content, created_at=now)
    store = deps.store
    store.add_message(message)
    deps.page_cache.invalidate()
    state = store.access_state(username=username, sid=session_id)
    author = live(state.user)
    if author is None or state.session is None:
        store.delete_message(message_id=message.id)
        deps.page_cache.invalidate()
        raise AccountGone("this account or session no longer exists")
    # The look that guards against deletion also read the author's current name.
    return dataclasses.replace(message, display_name=author.display_name)


def delete_message(deps: Deps, *, username: str, message_id: str) -> None:
    store = deps.store
    message = store.get_message(message_id=message_id) if len(message_id) <= 64 else None
    if message is None:
        raise MessageNotFound("no such message")
    if message.username != username:
        raise NotAuthor("only the author can delete a message")
    store.delete_message(message_id=message_id)
    deps.page_cache.invalidate()
