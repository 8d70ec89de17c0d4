"""Time in the API: ISO 8601 UTC with milliseconds, and ids that sort by time."""

from __future__ import annotations

import functools
import os
import threading
from datetime import UTC, datetime

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_lock = threading.Lock()
_last = (0, 0)  # (milliseconds, randomness) of the last id made in this process


# Every read of the board formats the same newest page again: ~1.2 µs a message,
# a tenth of a warm GET /messages without this cache (bench/, figure 5).
@functools.lru_cache(maxsize=4096)
def iso_ms(timestamp: float) -> str:
    """``2026-11-24T07:30:00.123Z``."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_message_id(now: float) -> str:
    """A ULID: 48 bits of milliseconds then 80 random bits, 26 Crockford base32 characters.

    Within one process ids are strictly increasing even inside one millisecond
    (the random part is incremented), so "newest first" is creation order.
    """
    global _last
    millis = int(now * 1000)
    with _lock:
        last_millis, last_random = _last
        if millis <= last_millis:
            millis, randomness = last_millis, last_random + 1
        else:
            randomness = int.from_bytes(os.urandom(10), "big") >> 1  # room to increment
        _last = (millis, randomness)
    value = (millis << 80) | randomness
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -5, -5))
