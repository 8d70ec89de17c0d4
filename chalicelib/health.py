"""The health check: the app answers, and so does its store."""

from __future__ import annotations

from chalicelib.deps import Deps


def check(deps: Deps) -> None:
    """Return when the store answers; raise ``StoreUnavailable`` (a 503) when it does not."""
    deps.store.ping()
