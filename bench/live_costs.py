"""Figure 7's live-reading candidates (issue 26): each way to learn "anything new?",
priced for a day of the workload and for one idle viewer-hour from the measured costs.

How the figure uses them: cost_model.py's ``measure`` prints one row a candidate and
checks the chosen one against ``GOAL_MONTH`` and ``GOAL_IDLE_HOUR``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from bench.prices import (
    DAYS,
    LAMBDA_MEMORY_GB,
    PRICES,
    Workload,
    lambda_dollars,
    read_dollars,
    write_dollars,
)
from chalicelib.live import TICKET_SECONDS

ACTIVE_S = 60  # "active": an input (key, pointer, scroll, focus) within this many seconds
GOAL_MONTH = 15.0  # dollars a month at authorizer TTL 0, figure 7's workload
GOAL_IDLE_HOUR = 0.0008  # dollars for one idle viewer-hour
EDGE_CACHES = 1  # regional edge caches asking the origin (≤ 1 fetch per CACHE_S each)
LIVE_ANSWER_BYTES = 600  # GET /live's answer with headers, as CloudFront bills data out
BUSY_S = 12 * 3600  # the busy half of the day every model here spreads the day's load over


@dataclass(frozen=True)
class Live:
    """One way to learn "anything new?": how often, and through what."""

    name: str
    active_s: float  # poll interval while active
    idle_s: float  # poll interval while visible and idle (hidden: no polls in (b)–(d))
    via: str  # "api" (GET /messages?since through the authorizer), "edge" (GET /live via
    #           CloudFront, cached cache_s, ticket checked by a CloudFront Function), "url"
    #           (GET /live on a Lambda function URL: no API Gateway, the session checked on
    #           every ask) or "push" (API Gateway WebSocket)
    cache_s: float = 1.0
    ticket_s: float = TICKET_SECONDS


CANDIDATES = (
    Live("(a) today: every 5 s through the API", 5, 5, "api"),
    Live("(b) adaptive: 3 s active, 30 s idle, through the API", 3, 30, "api"),
    Live("(c) every 5 s, GET /live via CloudFront (1 s cache, ticket)", 5, 5, "edge"),
    Live("(b)+(c) adaptive via CloudFront", 3, 30, "edge"),
    Live("(c') every 5 s, GET /live on a Lambda function URL (ticket)", 5, 5, "url"),
    Live("(b)+(c') adaptive on a Lambda function URL: chosen", 3, 30, "url"),
    Live("(d) WebSocket push", 0, 0, "push"),
)


def _polls(live: Live, active_minutes: float, idle_minutes: float) -> float:
    if live.via == "push":
        return 0.0
    return active_minutes * 60 / live.active_s + idle_minutes * 60 / live.idle_s


def live_day(live: Live, costs: dict[str, Any], w: Workload, *, viewers_at_once: float,
             active_minutes: float, idle_minutes: float, alone: bool = False
             ) -> dict[str, float]:
    """One viewer's "anything new?" costs for the given minutes, in dollars by bill line.

    ``viewers_at_once`` sets how often a post is new to someone (push fan-out) and how many
    polls share one origin fetch (edge); ``alone`` = nobody else shares anything."""
    minutes = active_minutes + idle_minutes
    polls = _polls(live, active_minutes, idle_minutes)
    auth, cached = costs["authorizer"], costs["GET /messages (cached)"]
    lines = dict.fromkeys(("api", "handler", "authorizer", "reads", "edge"), 0.0)
    if live.via == "api":
        lines["api"] = polls * PRICES["api_gateway_rest_per_million_requests"] / 1e6
        lines["handler"] = lambda_dollars(polls, cached.ms)
        lines["authorizer"] = lambda_dollars(polls, auth.ms) + read_dollars(polls * auth.read_units)
        # the polls' board reads are shared by the instance's page cache (figure 8): at most
        # one a second for everyone polling (one warm instance suffices here)
        rate_all = max(viewers_at_once, 1.0) * polls / (minutes * 60)
        board = costs["GET /messages"].read_units * (1.0 if alone else min(1.0, 1 / rate_all))
        lines["reads"] = read_dollars(polls * board)
    elif live.via == "edge":
        lives, ticket = costs["GET /live"], costs["GET /live/ticket"]
        lines["edge"] = polls * (PRICES["cloudfront_per_10k_https_requests"] / 1e4
                                 + PRICES["cloudfront_functions_per_million_invocations"] / 1e6
                                 + LIVE_ANSWER_BYTES / 1e9 * PRICES["cloudfront_per_gb_out"])
        # origin fetches: at most EDGE_CACHES per cache_s for everyone, this viewer's share
        rate_all = max(viewers_at_once, 1.0) * polls / (minutes * 60)
        share = 1.0 if alone else min(1.0, EDGE_CACHES / live.cache_s / rate_all)
        fetches = polls * share
        tickets = math.ceil(minutes * 60 / live.ticket_s)
        # the shared answer says only "something is new": each time it is, the reader then
        # fetches GET /messages?since through the API (not when alone: nobody posts)
        post_rate = 0.0 if alone else w.daily_users * w.posts / BUSY_S
        follow = sum(m * 60 / every * (1 - math.exp(-post_rate * every))
                     for m, every in ((active_minutes, live.active_s),
                                      (idle_minutes, live.idle_s)))
        api_calls = fetches + tickets + follow
        lines["api"] = api_calls * PRICES["api_gateway_rest_per_million_requests"] / 1e6
        lines["handler"] = lambda_dollars(fetches, lives.ms) + lambda_dollars(tickets, ticket.ms) \
            + lambda_dollars(follow, cached.ms)
        lines["authorizer"] = lambda_dollars(tickets + follow, auth.ms) \
            + read_dollars((tickets + follow) * auth.read_units)
        lines["reads"] = read_dollars(fetches * lives.read_units + tickets * ticket.read_units)
        lines["follow_ups"] = follow
    elif live.via == "url":
        lives, ticket = costs["GET /live"], costs["GET /live/ticket"]
        tickets = math.ceil(minutes * 60 / live.ticket_s)
        rate_all = max(viewers_at_once, 1.0) * polls / (minutes * 60)
        board = costs["GET /messages"].read_units * (1.0 if alone else min(1.0, 1 / rate_all))
        lines["api"] = tickets * PRICES["api_gateway_rest_per_million_requests"] / 1e6
        lines["handler"] = lambda_dollars(polls, lives.ms) + lambda_dollars(tickets, ticket.ms)
        lines["authorizer"] = lambda_dollars(tickets, auth.ms) \
            + read_dollars(tickets * auth.read_units)
        # each ask reads the session (the authorizer's BatchGetItem) + a share of the page
        lines["reads"] = read_dollars(polls * (auth.read_units + board)
                                      + tickets * ticket.read_units)
    else:  # push: connection minutes, a connect + authorize message, a keep-alive ping every
        # 9 min (the idle timeout is 10), and one message per post while connected
        pings = minutes / 9
        posts_seen = 0.0 if alone else w.daily_users * w.posts * minutes * 60 / BUSY_S
        messages = 1 + pings + posts_seen
        lines["api"] = (minutes * PRICES["api_gateway_websocket_per_million_connection_minutes"]
                        + messages * PRICES["api_gateway_websocket_per_million_messages"]) / 1e6
        # $connect, the authorize message and pings run the handler; each post's fan-out
        # is one Lambda that Queries the connections and calls PostToConnection (~10 ms each
        # connection, this viewer's share)
        lines["handler"] = lambda_dollars(2 + pings, cached.ms) \
            + posts_seen * 10 / 1000 * LAMBDA_MEMORY_GB * PRICES["lambda_per_gb_second"]
        lines["authorizer"] = lambda_dollars(1, auth.ms) + read_dollars(auth.read_units)
        lines["reads"] = read_dollars(posts_seen * 0.5 / max(viewers_at_once, 1))
    lines["total"] = sum(v for k, v in lines.items() if k != "follow_ups")
    lines["polls"] = polls
    return lines


def live_candidates(costs: dict[str, Any], w: Workload, month_without_polls: dict[str, float]
                    ) -> dict[str, dict[str, Any]]:
    """Each candidate's month (figure 7's workload, authorizer TTL 0) and idle viewer-hour."""
    users_month = w.daily_users * DAYS
    at_once = w.daily_users * w.session_minutes * 60 / BUSY_S
    answer: dict[str, dict[str, Any]] = {}
    for live in CANDIDATES:
        if live.via == "api" and live.active_s == live.idle_s == w.poll_s:
            active, idle = w.session_minutes, 0.0  # today: no notion of active
        else:
            active, idle = w.active_minutes, w.session_minutes - w.active_minutes
        day = live_day(live, costs, w, viewers_at_once=at_once, active_minutes=active,
                       idle_minutes=idle)
        month = {key: month_without_polls[key] + users_month * day.get(key, 0.0)
                 for key in month_without_polls}
        month["total"] = sum(month.values())
        hour = live_day(live, costs, w, viewers_at_once=1, active_minutes=0,
                        idle_minutes=60, alone=True)
        refresh = costs["POST /token/refresh"]
        hour_total = hour["total"] + 4 * (  # 4 token refreshes an hour, as today's row
            PRICES["api_gateway_rest_per_million_requests"] / 1e6
            + lambda_dollars(1, refresh.ms) + read_dollars(refresh.read_units)
            + write_dollars(refresh.write_units))
        answer[live.name] = {"live": live.__dict__, "month": month, "polls_per_day": day["polls"],
                             "idle_hour": {**hour, "total": hour_total}}
    return answer


# How long a revoked token still works, by the candidate's ``via`` (the figure's last column).
LIVE_GIVES_UP = {
    "api": "–",
    "edge": f"an ended session's ticket: the cached newest id ≤ {TICKET_SECONDS} s "
            "(its fetch: at once)",
    "url": "at once (the session is read on every ask)",
    "push": "not servable by `chalice local`; connections outlive a revocation until re-checked",
}
