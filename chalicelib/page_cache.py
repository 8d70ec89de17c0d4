"""A short-lived per-instance cache of the board's newest page, which every open tab polls.

With live updates every viewer asks for the newest page (or what is newer than
the message it shows) every few seconds, and every message lives under one
board partition key, which DynamoDB serves at about 3,000 read units a second.
One Lambda instance answers many viewers, so it keeps the newest page it read
for ``MAX_AGE`` seconds and answers from memory meanwhile: the board partition
sees about one read per second per warm instance, whatever the number of
viewers (bench figure 8 simulates 100,000).

Bounds, as the API contract allows (a rename or a post shows "within seconds"):

- staleness: an answer is at most ``MAX_AGE`` plus one read old (≤ 2 s);
- this instance's own posts and deletes drop the cache at once, and the next
  reads are strongly consistent for ``CONSISTENT_AFTER_WRITE`` seconds, so a
  writer sees their own change on the next load it makes here;
- otherwise the newest page is read eventually consistently (half the read
  units): at most a second or so behind, within the staleness already allowed.

Older pages (a cursor) are never cached: each is read once per reader.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable

from chalicelib.store.model import Message, Page
from chalicelib.store.protocol import Store

MAX_AGE = 1.0  # seconds a newest page is reused
CONSISTENT_AFTER_WRITE = 2.0  # seconds of strongly consistent reads after an own write
MIN_PAGE = 20  # the page size the web app reads; ``since`` answers come from it


class PageCache:
    """The newest pages this instance read, by size, each reused for ``max_age`` seconds."""

    def __init__(self, *, max_age: float = MAX_AGE,
                 consistent_after_write: float = CONSISTENT_AFTER_WRITE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._max_age = max_age
        self._consistent_after_write = consistent_after_write
        self._clock = clock
        self._lock = threading.Lock()  # chalice local serves requests on threads
        self._pages: dict[int, tuple[float, Page]] = {}  # limit → (read at, page)
        self._store: Store | None = None
        self._consistent_until = float("-inf")

    def newest(self, store: Store, *, limit: int) -> Page:
        """The newest ``limit`` messages: from memory if read within ``max_age``."""
        now = self._clock()
        with self._lock:
            if store is not self._store:  # another store (tests reset it): nothing is valid
                self._pages.clear()
                self._store = store
            entry = self._pages.get(limit)
            if entry is not None and now - entry[0] < self._max_age:
                return entry[1]
            consistent = now < self._consistent_until
        page = store.list_messages(limit=limit, before_id=None, consistent=consistent)
        with self._lock:
            if store is self._store:
                self._pages[limit] = (now, page)  # aged from before the read: a safe bound
        return page

    def newer_than(self, store: Store, *, since_id: str, limit: int
                   ) -> tuple[tuple[Message, ...], bool] | None:
        """Messages newer than ``since_id`` (newest first, at most ``limit``) and whether
        more than ``limit`` are newer, from the cached newest page; None when that page
        does not reach back to ``since_id`` (the caller asks the store)."""
        page = self.newest(store, limit=max(limit, MIN_PAGE))
        newer = tuple(m for m in page.messages if m.id > since_id)
        if len(newer) > limit:
            return newer[:limit], True
        if len(newer) < len(page.messages) or not page.has_more:
            return newer, False
        return None

    def invalidate(self) -> None:
        """This instance wrote to the board: forget its pages, read consistently for a while."""
        with self._lock:
            self._pages.clear()
            self._consistent_until = self._clock() + self._consistent_after_write


@functools.cache
def get_page_cache() -> PageCache:
    """The one cache of this process (a Lambda instance, or a local server)."""
    return PageCache()

