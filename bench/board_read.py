"""Figure 1: reading the board's newest page as the table grows, ours against a Scan.

Ours is the store call GET /messages makes (``DynamoDBStore.list_messages(limit=20)``:
one Query, newest first, ``Limit=21``, ``ConsistentRead=True``). The baseline is the
seed design's approach: Scan every page (``ConsistentRead=True``), build every
message, sort in Python, keep 20. Both run against the same dynalite table, in
the same rounds, at each size; the table grows between sizes.

``ConsumedCapacity`` of our Query is captured without touching the store's code:
botocore hooks on the store's client add ``ReturnConsumedCapacity="TOTAL"`` to
the request (before-parameter-build) and read it from the answer (after-call).
The Scan asks for it itself and sums it over its pages. dynalite's Scan does not
take ``ConsistentRead`` (its request validation drops it), so it reports the
eventually consistent half; a consistent Scan on DynamoDB costs twice that.
"""

from __future__ import annotations

import random
import string
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    Figure,
    Target,
    create_tables,
    dynalite,
    dynamodb_client,
    dynamodb_env,
    environment,
    fmt_ms,
    fmt_ratio,
    new_keyring_json,
    ratio,
    summary,
    table_names,
    timed,
)
from chalicelib.store import BOARD, Message
from chalicelib.timestamps import new_message_id

PAGE = 20
BATCH = 25  # BatchWriteItem's maximum
LOAD_THREADS = 4


@dataclass(frozen=True)
class Plan:
    sizes: tuple[int, ...]
    ours_samples: int  # Query calls per size
    scan_rounds: dict[int, int]  # size → full Scans (each round: 1 Scan, then Queries)


DEFAULT = Plan(sizes=(100, 1_000, 10_000), ours_samples=300,
               scan_rounds={100: 60, 1_000: 30, 10_000: 12})
QUICK = Plan(sizes=(100, 1_000), ours_samples=40, scan_rounds={100: 10, 1_000: 5})


class CapacityProbe:
    """Adds ReturnConsumedCapacity to the client's Query calls and records the answer."""

    def __init__(self, client: Any) -> None:
        self.units: list[float] = []
        self.items: list[int] = []
        client.meta.events.register("before-parameter-build.dynamodb.Query", self._ask)
        client.meta.events.register("after-call.dynamodb.Query", self._read)

    @staticmethod
    def _ask(params: dict[str, Any], **_: Any) -> None:
        params["ReturnConsumedCapacity"] = "TOTAL"

    def _read(self, parsed: dict[str, Any], **_: Any) -> None:
        self.units.append(parsed.get("ConsumedCapacity", {}).get("CapacityUnits", float("nan")))
        self.items.append(parsed.get("Count", 0))


def _item(message: Message) -> dict[str, Any]:
    return {
        "board": {"S": BOARD},
        "id": {"S": message.id},
        "username": {"S": message.username},
        "content": {"S": message.content},
        "created_at": {"N": repr(message.created_at)},
    }


def _messages(count: int, start: float, rng: random.Random) -> list[Message]:
    """``count`` messages a second apart from ``start``, 40–400 characters of text."""
    alphabet = string.ascii_letters + "     .,"
    authors = [f"user{n:02d}" for n in range(50)]
    messages = []
    for n in range(count):
        created = start + n
        content = "".join(rng.choices(alphabet, k=rng.randint(40, 400))).strip() or "hi"
        messages.append(Message(id=new_message_id(created), username=rng.choice(authors),
                                content=content, created_at=created))
    return messages


def _write_batch(client: Any, table: str, messages: list[Message]) -> None:
    request = {table: [{"PutRequest": {"Item": _item(m)}} for m in messages]}
    for attempt in range(10):
        answer = client.batch_write_item(RequestItems=request)
        request = answer.get("UnprocessedItems") or {}
        if not request:
            return
        time.sleep(0.05 * 2**attempt)
    raise RuntimeError("dynalite left items unprocessed after 10 attempts")


def load(client: Any, table: str, messages: list[Message]) -> float:
    """BatchWriteItem, 25 per call, on a few threads; returns the seconds it took."""
    batches = [messages[i:i + BATCH] for i in range(0, len(messages), BATCH)]
    start = time.perf_counter()
    with ThreadPoolExecutor(LOAD_THREADS) as pool:
        list(pool.map(lambda batch: _write_batch(client, table, batch), batches))
    return time.perf_counter() - start


def _message(item: dict[str, Any]) -> Message:
    return Message(id=item["id"]["S"], username=item["username"]["S"],
                   content=item["content"]["S"], created_at=float(item["created_at"]["N"]))


def scan_newest(client: Any, table: str, limit: int = PAGE) -> tuple[list[Message], dict]:
    """The seed design: Scan the whole table, sort in memory, keep ``limit``."""
    request: dict[str, Any] = {
        "TableName": table, "ConsistentRead": True, "ReturnConsumedCapacity": "TOTAL",
    }
    items: list[dict[str, Any]] = []
    pages, units = 0, 0.0
    while True:
        answer = client.scan(**request)
        items.extend(answer["Items"])
        pages += 1
        units += answer["ConsumedCapacity"]["CapacityUnits"]
        if "LastEvaluatedKey" not in answer:
            break
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
    messages = sorted((_message(item) for item in items), key=lambda m: m.created_at,
                      reverse=True)
    return messages[:limit], {"pages": pages, "units": units, "items": len(items)}


def measure(plan: Plan, workdir: Path) -> Figure:
    from chalicelib.store.dynamodb import DynamoDBStore, make_client

    figure = Figure(
        number=1,
        title="Board read cost vs table size (DynamoDB store on dynalite)",
        method=(
            "Newest 20 messages. Ours: the store call GET /messages makes (one Query, "
            "Limit 21, ConsistentRead). Scan: the seed design (Scan every page with "
            "ConsistentRead, sort in Python, keep 20). Same table, interleaved rounds. "
            "Capacity: ours read by botocore hooks on the store's own client; the Scan "
            "asks for it and sums its pages (dynalite counts a Scan as eventually "
            "consistent: on DynamoDB a consistent Scan costs 2× the RCU shown)."
        ),
        columns=["messages", "ours p50", "ours p95", "ours RCU", "scan p50", "scan p95",
                 "scan RCU (pages)", "scan ÷ ours (p50)"],
    )
    rng = random.Random(7)
    with dynalite(workdir) as endpoint:
        env = dynamodb_env(endpoint, new_keyring_json(), workdir / "data")
        create_tables(endpoint, env)
        table = table_names(env).messages
        loader = dynamodb_client(endpoint)
        with environment(env):
            client = make_client()  # exactly as the store factory makes it
            probe = CapacityProbe(client)
            ours_store = DynamoDBStore(client, table_names(env))
            loaded, start = 0, time.time() - 30 * 86_400
            per_size: dict[int, dict[str, Any]] = {}
            for size in plan.sizes:
                batch = _messages(size - loaded, start + loaded, rng)
                load_seconds = load(loader, table, batch)
                loaded = size
                per_size[size] = _measure_size(plan, size, ours_store, probe, client, table)
                per_size[size]["load_seconds"] = round(load_seconds, 2)

    base = per_size[plan.sizes[0]]
    for size in plan.sizes:
        row = per_size[size]
        figure.rows.append([
            f"{size:,}",
            fmt_ms(row["ours_ms"]["p50"]), fmt_ms(row["ours_ms"]["p95"]),
            f"{row['ours_rcu']:g}",
            fmt_ms(row["scan_ms"]["p50"]), fmt_ms(row["scan_ms"]["p95"]),
            f"{row['scan_rcu']:g} ({row['scan_pages']})",
            fmt_ratio(ratio(row["scan_ms"]["p50"], row["ours_ms"]["p50"])),
        ])
    largest = per_size[plan.sizes[-1]]
    growth = ratio(largest["ours_ms"]["p50"], base["ours_ms"]["p50"])
    scan_growth = ratio(largest["scan_ms"]["p50"], base["scan_ms"]["p50"])
    figure.rows.append([
        f"{plan.sizes[-1]:,} ÷ {plan.sizes[0]:,}",
        fmt_ratio(growth), fmt_ratio(ratio(largest["ours_ms"]["p95"], base["ours_ms"]["p95"])),
        fmt_ratio(ratio(largest["ours_rcu"], base["ours_rcu"])),
        fmt_ratio(scan_growth),
        fmt_ratio(ratio(largest["scan_ms"]["p95"], base["scan_ms"]["p95"])),
        fmt_ratio(ratio(largest["scan_rcu"], base["scan_rcu"])), "",
    ])
    figure.targets.append(Target(
        name=f"ours p50 at {plan.sizes[-1]:,} vs at {plan.sizes[0]:,}",
        figure=fmt_ratio(growth), limit="≤ 1.10×", met=growth <= 1.10,
    ))
    same_capacity = all(per_size[s]["ours_rcu"] == base["ours_rcu"] for s in plan.sizes)
    figure.targets.append(Target(
        name="ours consumed capacity equal at every size",
        figure=" / ".join(f"{per_size[s]['ours_rcu']:g}" for s in plan.sizes) + " RCU",
        limit="equal", met=same_capacity,
    ))
    figure.data = {"sizes": {str(size): per_size[size] for size in plan.sizes},
                   "ours_growth_p50": growth, "scan_growth_p50": scan_growth}
    return figure


def _measure_size(plan: Plan, size: int, ours_store: Any, probe: CapacityProbe, client: Any,
                  table: str) -> dict[str, Any]:
    rounds = plan.scan_rounds[size]
    per_round = max(1, plan.ours_samples // rounds)
    for _ in range(5):  # warm both paths (connections, caches) before timing
        ours_store.list_messages(limit=PAGE, before_id=None)
    scan_newest(client, table)
    probe.units.clear()
    probe.items.clear()
    ours_ns: list[int] = []
    scan_ns: list[int] = []
    scan_info: dict[str, Any] = {}
    same_page = True
    for _ in range(rounds):
        elapsed, (scanned, scan_info) = timed(lambda: scan_newest(client, table))
        scan_ns.append(elapsed)
        for _ in range(per_round):
            elapsed, page = timed(lambda: ours_store.list_messages(limit=PAGE, before_id=None))
            ours_ns.append(elapsed)
        same_page = same_page and [m.id for m in page.messages] == [m.id for m in scanned]
    if not same_page:
        raise RuntimeError("the Query and the Scan disagree about the newest 20 messages")
    units = sorted(set(probe.units))
    return {
        "ours_ms": summary(ours_ns),
        "scan_ms": summary(scan_ns),
        "ours_rcu": units[0] if len(units) == 1 else max(units),
        "ours_rcu_values": units,
        "ours_items_read": max(probe.items),
        "scan_rcu": scan_info["units"],
        "scan_pages": scan_info["pages"],
        "scan_items_read": scan_info["items"],
        "same_newest_page": same_page,
    }
