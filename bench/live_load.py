"""Figure 8: the newest page under live polling, simulated against dynalite with counted reads.

Viewers each poll "what is newer than the message I show" every ``poll_s``
seconds: ``viewers / poll_s`` requests a second. By Little's law that rate
needs ``rate × handler duration`` Lambda instances busy at once; the handler's
duration is measured (bench/app_costs.py: a warm GET /messages on dynalite
reading the store, minus the authorizer, an upper bound). Each simulated
instance has its own ``PageCache`` (the code board.list_messages uses) over one
shared DynamoDB store on dynalite; requests go to a random instance. Time is
virtual: the caches run on the simulation's clock, requests arrive evenly, and
posts arrive at ``posts_per_s`` on random instances (each post invalidates its
instance's cache, as board.add_message does). Every DynamoDB Query is counted
with its ConsumedCapacity; dynalite is always consistent, so staleness here is
the cache's alone (DynamoDB's eventually consistent reads add typically well
under a second).

The live-reading row (issue 26) runs the same simulation at the new design's ask
rate (a third of the viewers active, asking every 3 s; the rest every 30 s) with
GET /live's measured duration; each ask also reads its reader's session, one item
in that reader's own partition, never the board's.

Staleness of one answer: how long the oldest message it misses (already posted
when the answer is given) had been posted.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import app_costs
from bench.app_costs import CapacityMeter
from bench.common import (
    Figure,
    Target,
    create_tables,
    dynalite,
    dynamodb_env,
    environment,
    new_keyring_json,
    table_names,
)
from chalicelib import live, page_cache
from chalicelib.store.model import Message

LIVE_ACTIVE_SHARE = 1 / 3  # figure 7's assumption: 10 of a tab's 30 minutes active
PARTITION_READ_UNITS = 3000  # DynamoDB's per-partition read throughput
TARGET_READS = PARTITION_READ_UNITS / 3


@dataclass(frozen=True)
class Plan:
    viewers: int
    poll_s: float
    seconds: float  # virtual time simulated
    posts_per_s: float
    cost_samples: int


DEFAULT = Plan(viewers=100_000, poll_s=5.0, seconds=20.0, posts_per_s=2.0, cost_samples=300)
QUICK = Plan(viewers=5_000, poll_s=5.0, seconds=2.0, posts_per_s=2.0, cost_samples=10)


def simulate(store: Any, meter: CapacityMeter, plan: Plan, instances: int,
             rng: random.Random, limit: int = 20) -> dict[str, Any]:
    """``limit``: what each ask asks for (the web app's page; GET /live caps it)."""
    clock_now = [0.0]
    caches = [page_cache.PageCache(clock=lambda: clock_now[0]) for _ in range(instances)]
    base = time.time()
    posted: list[tuple[str, float]] = []  # (id, posted at), ascending
    for n in range(30):  # a board already in use
        message = Message(id=_new_id(base - 60 + n), username="seed", content=f"seed {n}",
                          created_at=base - 60 + n)
        store.add_message(message)
        posted.append((message.id, -60.0 + n))
    last_seen = [posted[-1][0]] * plan.viewers
    rate = plan.viewers / plan.poll_s
    total = int(rate * plan.seconds)
    post_times: list[float] = []  # a Poisson process: posts arrive at random moments
    while True:
        moment = (post_times[-1] if post_times else 0.0) + rng.expovariate(plan.posts_per_s)
        if moment >= plan.seconds:
            break
        post_times.append(moment)
    next_post = 0
    before = len(meter.calls)
    worst, stale_answers, misses, gaps = 0.0, 0, 0, 0
    for k in range(total):
        now = k / rate
        clock_now[0] = now
        while next_post < len(post_times) and post_times[next_post] <= now:
            at = post_times[next_post]
            message = Message(id=_new_id(base + at), username="poster",
                              content=f"live {next_post}", created_at=base + at)
            store.add_message(message)
            caches[rng.randrange(instances)].invalidate()
            posted.append((message.id, at))
            next_post += 1
        viewer = k % plan.viewers
        answer = caches[rng.randrange(instances)].newer_than(
            store, since_id=last_seen[viewer], limit=limit)
        if answer is None:  # the cached page does not reach back: the store answers
            misses += 1
            store.list_newer_messages(limit=limit, after_id=last_seen[viewer])
            continue
        messages, gap = answer
        gaps += gap
        newest = messages[0].id if messages else last_seen[viewer]
        last_seen[viewer] = max(newest, last_seen[viewer])
        first_missing = bisect.bisect_right(posted, (newest, float("inf")))
        if first_missing < len(posted):
            stale = now - posted[first_missing][1]
            worst = max(worst, stale)
            stale_answers += stale > 0
    calls = meter.calls[before:]
    queries = [units for op, units in calls if op == "Query"]
    return {
        "requests": total,
        "virtual_seconds": plan.seconds,
        "queries": len(queries),
        "queries_per_s": len(queries) / plan.seconds,
        "read_units_per_s": sum(queries) / plan.seconds,
        "worst_staleness_s": worst,
        "stale_answers": stale_answers,
        "since_misses": misses,
        "gaps": gaps,
        "posts": next_post,
    }


def _new_id(at: float) -> str:
    from chalicelib.timestamps import new_message_id

    return new_message_id(at)


def measure(plan: Plan, workdir: Path) -> Figure:
    from chalicelib.store.dynamodb import DynamoDBStore, make_client

    costs = app_costs.measure(workdir / "costs", plan.cost_samples)["costs"]
    handler_ms = costs["GET /messages"].ms
    rate = plan.viewers / plan.poll_s
    instances = max(1, math.ceil(rate * handler_ms / 1000))
    meter = CapacityMeter()
    (workdir / "sim").mkdir()
    with dynalite(workdir / "sim") as endpoint, meter.installed():
        env = dynamodb_env(endpoint, new_keyring_json(), workdir / "data")
        create_tables(endpoint, env)
        with environment(env):
            store = DynamoDBStore(make_client(), table_names(env))
        began = time.perf_counter()
        result = simulate(store, meter, plan, instances, random.Random(8))
        result["wall_seconds"] = time.perf_counter() - began
        # Issue 26's design: a third of the viewers active (an ask every 3 s), the rest
        # visible and idle (every 30 s), each ask GET /live on its own function
        live_rate = plan.viewers * (LIVE_ACTIVE_SHARE / 3.0 + (1 - LIVE_ACTIVE_SHARE) / 30.0)
        live_ms = costs["GET /live"].ms
        live_instances = max(1, math.ceil(live_rate * live_ms / 1000))
        live_plan = dataclasses.replace(plan, poll_s=plan.viewers / live_rate)
        live_result = simulate(store, meter, live_plan, live_instances, random.Random(9),
                               limit=live.MAX_LIVE_LIMIT)
    per_instance = result["read_units_per_s"] / instances
    figure = Figure(
        number=8,
        title="The newest page under live polling (simulated on dynalite, reads counted)",
        method=(
            f"{plan.viewers:,} viewers polling every {plan.poll_s:g} s for what is newer than "
            f"their newest message = {rate:,.0f} requests/s; handler duration "
            f"{handler_ms:.2f} ms (warm GET /messages on dynalite reading the store) → "
            f"{instances} warm instances (rate × duration), each with its own cache "
            f"(max age {page_cache.MAX_AGE:g} s), requests spread at random; "
            f"{plan.posts_per_s:g} posts/s (Poisson) on random instances; {plan.seconds:g} s of "
            "virtual time; every Query counted with its ConsumedCapacity. Without the "
            "cache every request is a Query."
        ),
        columns=["design", "instances", "board Queries/s", "board read units/s",
                 "worst staleness", "answers from the store (since misses)"],
    )
    uncached_units = rate * costs["GET /messages"].read_units
    figure.rows.append(["no cache (every request reads)", f"{instances}", f"{rate:,.0f}",
                        f"{uncached_units:,.0f}", "0 s", "–"])
    figure.rows.append([
        "per-instance cache (simulated)", f"{instances}", f"{result['queries_per_s']:,.0f}",
        f"{result['read_units_per_s']:,.1f}", f"{result['worst_staleness_s']:.2f} s",
        f"{result['since_misses']:,} of {result['requests']:,}"])
    for slower_ms in (20.0, 50.0):  # a deployed handler is slower than one on loopback
        more = math.ceil(rate * slower_ms / 1000)
        figure.rows.append([
            f"per-instance cache, {slower_ms:g} ms handler (extrapolated)", f"{more}",
            f"{result['queries_per_s'] / instances * more:,.0f}",
            f"{per_instance * more:,.0f}", f"{result['worst_staleness_s']:.2f} s", "–"])
    session_units = live_rate * costs["authorizer"].read_units
    figure.rows.append([
        f"live reading (issue 26): {LIVE_ACTIVE_SHARE:.0%} active every 3 s, the rest every "
        f"30 s = {live_rate:,.0f} asks/s, GET /live {live_ms:.2f} ms",
        f"{live_instances}", f"{live_result['queries_per_s']:,.0f}",
        f"{live_result['read_units_per_s']:,.1f} (+ {session_units:,.0f} session RRU/s, "
        "one per reader's own partition)", f"{live_result['worst_staleness_s']:.2f} s",
        f"{live_result['since_misses']:,} of {live_result['requests']:,}"])
    figure.targets.append(Target(
        name=f"board read units/s, live reading (issue 26), {plan.viewers:,} viewers",
        figure=f"{live_result['read_units_per_s']:,.1f}/s over {live_instances} instances",
        limit=f"≤ {TARGET_READS:,.0f}/s", met=live_result["read_units_per_s"] <= TARGET_READS))
    figure.targets.append(Target(
        name=f"board read units/s, {plan.viewers:,} viewers every {plan.poll_s:g} s",
        figure=f"{result['read_units_per_s']:,.1f}/s over {instances} instances",
        limit=f"≤ {TARGET_READS:,.0f}/s", met=result["read_units_per_s"] <= TARGET_READS))
    figure.targets.append(Target(
        name="newest page staleness (simulated)",
        figure=f"{result['worst_staleness_s']:.2f} s", limit="≤ 2 s",
        met=result["worst_staleness_s"] <= 2.0))
    figure.data = {"plan": plan.__dict__, "handler_ms": handler_ms, "instances": instances,
                   "live": {"asks_per_s": live_rate, "handler_ms": live_ms,
                            "instances": live_instances, "result": live_result,
                            "session_read_units_per_s": session_units},
                   "requests_per_s": rate, "result": result,
                   "read_units_per_instance_s": per_instance}
    return figure
