"""Figure 7: measured work turned into dollars, for chalkboard and the scan design.

The work per request is measured in this run (bench/app_costs.py: warm
durations on dynalite and DynamoDB request units from the store's own client's
``ConsumedCapacity``); the scan design's read of the newest page (Scan the
table, sort, keep 20) is measured on dynalite at 1,000 messages and scaled by
table size (its read units and time grow with the bytes scanned). Prices are
AWS's published us-east-1 prices in bench/prices.py's ``PRICES`` (sources and
date in bench/README.md), without free tiers; the live-reading candidates (issue 26)
are priced in bench/live_costs.py.

Modelled, not measured: the workload (``Workload``), Lambda's billed duration
(the measured loopback duration rounded up to 1 ms, so a deployed function,
whose DynamoDB calls take a few ms, bills more), and the polls that reach the
store (one read per warm instance per second at most, see page_cache).
"""

from __future__ import annotations

import random
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench import app_costs, board_read
from bench.common import (
    Figure,
    Target,
    dynalite_tables,
    dynamodb_client,
    table_names,
)
from bench.live_costs import GOAL_IDLE_HOUR, GOAL_MONTH, LIVE_GIVES_UP, live_candidates
from bench.prices import (
    DAYS,
    LAMBDA_MEMORY_GB,
    PRICES,
    Workload,
    lambda_dollars,
    read_dollars,
    write_dollars,
)
from ops.stage import ROOT

SIZES = (100, 10_000, 1_000_000)
TTLS = (0, 60, 300)


def web_app() -> tuple[int, int]:
    """Files and bytes one cold load of the web app fetches (static/, uncompressed)."""
    files = [p for p in (ROOT / "static").iterdir() if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def measure_scan(workdir: Path, messages: int = 1000) -> dict[str, float]:
    """The scan design's newest page at ``messages``: ms and consistent read units per message."""
    rng = random.Random(11)
    workdir.mkdir(parents=True, exist_ok=True)
    with dynalite_tables(workdir) as (endpoint, env):
        client = dynamodb_client(endpoint)
        table = table_names(env).messages
        board_read.load(client, table, board_read._messages(messages, time.time() - 86_400, rng))
        board_read.scan_newest(client, table)
        samples = []
        for _ in range(5):
            began = time.perf_counter()
            _, info = board_read.scan_newest(client, table)
            samples.append((time.perf_counter() - began) * 1000)
    # dynalite reports a Scan as eventually consistent; the seed design read consistently.
    return {"ms_per_message": sorted(samples)[2] / messages,
            "read_units_per_message": 2 * info["units"] / messages,
            "bytes_per_message": info["units"] * 4096 / messages}


WORKLOAD = Workload()  # the stated workload (bench/README.md)


def measure(workdir: Path, samples: int, scan_messages: int = 1000,
            workload: Workload = WORKLOAD) -> Figure:
    costs = app_costs.measure(workdir / "costs", samples)["costs"]
    scan = measure_scan(workdir / "scan", scan_messages)
    files, size = web_app()
    w = workload
    users_month = w.daily_users * DAYS
    figure = Figure(
        number=7,
        title="What it costs: dollars a month for a stated workload, chalkboard vs the scan design",
        method=(
            f"Workload: {w.daily_users:,} daily users, each {w.page_views} page views and "
            f"{w.posts} posts a day, the tab open {w.session_minutes:g} min polling every "
            f"{w.poll_s:g} s ({w.polls:g} polls) with a token refresh every "
            f"{w.access_token_s // 60} min, one login and one cold load of the web app "
            f"({files} files, {size / 1024:.0f} KiB) a day; {DAYS}-day month. Measured per "
            "request (warm, dynalite): "
            + ", ".join(f"{kind} {cost.ms:.2f} ms {cost.read_units:g} RRU "
                        f"{cost.write_units:g} WRU" for kind, cost in costs.items())
            + f"; scan design {scan['ms_per_message'] * 1000:.1f} µs and "
            f"{scan['read_units_per_message']:.3f} RRU (consistent) per message on the board. "
            f"Lambda at {LAMBDA_MEMORY_GB * 1024:.0f} MB, billed per started ms. Chalkboard's "
            "polls reach DynamoDB at most once a second per warm instance (page cache); the "
            "scan design reads the table on every page view and poll (at 1,000,000 messages "
            "its page would take about a minute, past Lambda's 10 s timeout and API Gateway's "
            "29 s: it would not answer at all). us-east-1 prices, no free tier "
            "(bench/README.md)."
        ),
        columns=["design", "messages", "authorizer TTL", "API Gateway", "Lambda handler",
                 "Lambda authorizer", "DynamoDB reads", "DynamoDB writes + storage",
                 "web app (CloudFront, S3)", "total / month", "$ per 1M page views",
                 "revoked token works up to"],
    )
    handler_requests = w.page_views + w.posts + w.polls + w.refreshes + 1  # + login
    api_month = users_month * handler_requests * PRICES[
        "api_gateway_rest_per_million_requests"] / 1e6
    get, post, auth = costs["GET /messages"], costs["POST /messages"], costs["authorizer"]
    refresh, login = costs["POST /token/refresh"], costs["POST /login"]
    web_month = users_month * (files * PRICES["cloudfront_per_10k_https_requests"] / 1e4
                               + size / 1e9 * PRICES["cloudfront_per_gb_out"]) \
        + DAYS * files * PRICES["s3_per_1000_get_requests"] / 1000  # a daily cache refill
    other_handlers = users_month * (lambda_dollars(w.posts, post.ms)
                                    + lambda_dollars(w.refreshes, refresh.ms)
                                    + lambda_dollars(1, login.ms))
    other_reads = users_month * (w.refreshes * refresh.read_units + login.read_units)
    writes = users_month * (w.posts * post.write_units + w.refreshes * refresh.write_units
                            + login.write_units)
    # Chalkboard: page views read (newest page after a post, a new tab...); polls share
    # one read per second per instance. Average poll rate over the busy half of the day.
    poll_rate = w.daily_users * w.polls / (12 * 3600)
    poll_reads_day = min(poll_rate, 1.0) * 12 * 3600  # one warm instance suffices here
    results: dict[str, Any] = {}

    def row(design: str, messages: int, ttl: int, get_ms: float, get_units: float,
            poll_reads_month: float, poll_ms: float) -> None:
        views_month = users_month * w.page_views
        handler = (users_month * lambda_dollars(w.page_views, get_ms)
                   + users_month * lambda_dollars(w.polls, poll_ms) + other_handlers)
        authorizer_calls = users_month * w.authorizer_calls(ttl)
        authorizer = lambda_dollars(authorizer_calls, auth.ms) \
            + read_dollars(authorizer_calls * auth.read_units)
        reads = read_dollars(views_month * get_units + poll_reads_month + other_reads)
        storage = messages * scan["bytes_per_message"] / 1e9 * PRICES["dynamodb_per_gb_month"]
        total = api_month + handler + authorizer + reads + write_dollars(writes) + storage \
            + web_month
        per_view = (PRICES["api_gateway_rest_per_million_requests"]
                    + lambda_dollars(1e6, get_ms) + read_dollars(1e6 * get_units)
                    + (lambda_dollars(1e6, auth.ms) + read_dollars(1e6 * auth.read_units))
                    * w.authorizer_calls(ttl) / (w.polls + w.page_views + w.posts))
        results[f"{design}, {messages}, ttl {ttl}"] = {
            "api_gateway": api_month, "lambda_handler": handler,
            "lambda_authorizer_and_its_reads": authorizer, "dynamodb_reads": reads,
            "dynamodb_writes_storage": write_dollars(writes) + storage, "web": web_month,
            "total": total, "per_million_page_views": per_view,
            "authorizer_calls_month": authorizer_calls}
        figure.rows.append([
            design, f"{messages:,}", f"{ttl} s", _usd(api_month), _usd(handler),
            _usd(authorizer), _usd(reads), _usd(write_dollars(writes) + storage),
            _usd(web_month), f"**{_usd(total)}**", _usd(per_view),
            "refused at once" if ttl == 0 else f"{ttl} s after revocation"])

    cached = costs["GET /messages (cached)"]
    for messages in SIZES:
        row("chalkboard", messages, 0, get.ms, get.read_units,
            DAYS * poll_reads_day * get.read_units, cached.ms)
    for messages in SIZES:
        scan_ms = get.ms + scan["ms_per_message"] * messages
        scan_units = scan["read_units_per_message"] * messages
        row("scan design", messages, 0, scan_ms, scan_units,
            users_month * w.polls * scan_units, scan_ms)
    for ttl in TTLS[1:]:
        row("chalkboard", SIZES[1], ttl, get.ms, get.read_units,
            DAYS * poll_reads_day * get.read_units, cached.ms)
    for key in list(results):  # the TTL-0 row is the comparison for the TTL rows
        results[key]["ttl_saving_vs_0"] = (
            results[f"chalkboard, {SIZES[1]}, ttl 0"]["total"] - results[key]["total"])
    idle = idle_viewer_hour(costs, w.poll_s)
    for ttl, hour in idle.items():
        figure.rows.append([
            "one idle viewer, 1 hour, alone", "any", f"{ttl} s",
            f"{hour['api_requests']:.0f} req {_usd(hour['api_dollars'])}",
            f"{hour['handler_invocations']:.0f} inv. {_usd(hour['handler_dollars'])}",
            f"{hour['authorizer_invocations']:.0f} inv. {_usd(hour['authorizer_dollars'])}",
            f"{hour['read_units']:,.0f} RRU ({hour['read_units'] / 3600:.2f} RCU avg) "
            f"{_usd(hour['read_dollars'])}", "–", "–", f"**{_usd(hour['total'])}**", "–",
            "at once" if ttl == 0 else f"{ttl} s"])
    # Live reading candidates (issue 26): everything but "anything new?" is today's bill at
    # 10,000 messages and TTL 0; each candidate adds its own way of asking.
    storage = SIZES[1] * scan["bytes_per_message"] / 1e9 * PRICES["dynamodb_per_gb_month"]
    baseline = {
        "api": users_month * (w.page_views + w.posts + w.refreshes + 1)
        * PRICES["api_gateway_rest_per_million_requests"] / 1e6,
        "handler": users_month * lambda_dollars(w.page_views, get.ms) + other_handlers,
        "authorizer": lambda_dollars(users_month * (w.page_views + w.posts), auth.ms)
        + read_dollars(users_month * (w.page_views + w.posts) * auth.read_units),
        "reads": read_dollars(users_month * w.page_views * get.read_units + other_reads),
        "writes": write_dollars(writes) + storage,
        "edge": web_month,
    }
    candidates = live_candidates(costs, w, baseline)
    for name, found in candidates.items():
        month, hour = found["month"], found["idle_hour"]
        figure.rows.append([
            f"live: {name}", f"{SIZES[1]:,}", "0 s", _usd(month["api"]), _usd(month["handler"]),
            _usd(month["authorizer"]), _usd(month["reads"]), _usd(month["writes"]),
            _usd(month["edge"]), f"**{_usd(month['total'])}**",
            f"{found['polls_per_day']:.0f} asks/day; idle viewer-hour "
            f"**{_usd(hour['total'])}** ({hour['polls']:.0f} asks)",
            LIVE_GIVES_UP[found["live"]["via"]]])
    today_month = results[f"chalkboard, {SIZES[1]}, ttl 0"]["total"]
    chosen = next(found for name, found in candidates.items() if "chosen" in name)
    for minutes in (20, w.session_minutes):  # how the chosen design's bill grows with activity
        busier = live_candidates(costs, replace(w, active_minutes=minutes), baseline)
        month = next(found for name, found in busier.items() if "chosen" in name)["month"]
        figure.rows.append([
            f"live: chosen, if active {minutes:g} of the {w.session_minutes:g} min",
            f"{SIZES[1]:,}",
            "0 s", _usd(month["api"]), _usd(month["handler"]), _usd(month["authorizer"]),
            _usd(month["reads"]), _usd(month["writes"]), _usd(month["edge"]),
            f"**{_usd(month['total'])}**", "–", "–"])
    figure.targets.append(Target(
        name="live reading (chosen design), dollars a month at authorizer TTL 0",
        figure=f"{_usd(chosen['month']['total'])} (today {_usd(today_month)})",
        limit=f"≤ {_usd(GOAL_MONTH)}", met=chosen["month"]["total"] <= GOAL_MONTH))
    figure.targets.append(Target(
        name="live reading (chosen design), one idle viewer-hour",
        figure=_usd(chosen["idle_hour"]["total"]) + f" (today {_usd(idle[0]['total'])})",
        limit=f"≤ {_usd(GOAL_IDLE_HOUR)}", met=chosen["idle_hour"]["total"] <= GOAL_IDLE_HOUR))
    figure.data = {"prices": PRICES, "workload": w.__dict__, "lambda_memory_gb": LAMBDA_MEMORY_GB,
                   "live_candidates": candidates,
                   "measured": {k: v.__dict__ for k, v in costs.items()}, "scan": scan,
                   "web_app": {"files": files, "bytes": size}, "months": results,
                   "idle_viewer_hour": idle}
    return figure


def idle_viewer_hour(costs: dict[str, Any], poll_s: float) -> dict[int, dict[str, float]]:
    """One open tab polling for an hour, alone on the board (so every poll reads the store:
    the worst case; with others polling the same instance the reads are shared)."""
    polls = 3600 / poll_s
    refreshes = 3600 / 900
    get, auth, refresh = costs["GET /messages"], costs["authorizer"], costs["POST /token/refresh"]
    answer = {}
    for ttl in TTLS:
        authorizer_calls = polls if ttl == 0 else min(polls, 3600 / ttl + refreshes)
        read_units = polls * get.read_units + authorizer_calls * auth.read_units \
            + refreshes * refresh.read_units
        requests = polls + refreshes
        api = requests * PRICES["api_gateway_rest_per_million_requests"] / 1e6
        handler = lambda_dollars(polls, get.ms) + lambda_dollars(refreshes, refresh.ms)
        authorizer = lambda_dollars(authorizer_calls, auth.ms)
        reads = read_dollars(read_units)
        writes = write_dollars(refreshes * refresh.write_units)
        answer[ttl] = {"api_requests": requests, "api_dollars": api,
                       "handler_invocations": requests, "handler_dollars": handler,
                       "authorizer_invocations": authorizer_calls,
                       "authorizer_dollars": authorizer, "read_units": read_units,
                       "read_dollars": reads, "write_dollars": writes,
                       "total": api + handler + authorizer + reads + writes}
    return answer


def _usd(value: float) -> str:
    if value >= 100:
        return f"${value:,.0f}"
    if value >= 0.01:
        return f"${value:.2f}"
    return f"${value:.4f}" if value >= 0.0001 else f"${value:.1e}"
