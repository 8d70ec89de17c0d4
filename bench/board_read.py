"""Figure 1: reading the board's newest page as the table grows, ours against a Scan.

Ours is the store call GET /messages makes (``DynamoDBStore.list_messages(limit=20)``:
one Query, newest first, ``Limit=21``, ``ConsistentRead=True``, then one BatchGetItem
of the page's distinct authors' display names). Authors take turns among 50, so
the newest page always has 20 distinct authors: the most names a page can need. The baseline is the
seed design's approach: Scan every page (``ConsistentRead=True``), build every
message, sort in Python, keep 20. Each size has its own table on one dynalite,
all loaded first. Each round runs Queries round-robin over the sizes (rotating
order), then one Scan per size, so drift on this shared machine (or dynalite
warming up) touches every size alike; the Queries are kept apart from the
Scans because a Query just after a big Scan pays for dynalite's garbage
collection whatever its own table's size.

``ConsumedCapacity`` of our Query and BatchGetItem is captured without touching the store's code:
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
from chalicelib.store.model import BOARD, Message
from chalicelib.timestamps import new_message_id

PAGE = 20
AUTHORS = [f"user{n:02d}" for n in range(50)]
BATCH = 25  # BatchWriteItem's maximum
LOAD_THREADS = 4


@dataclass(frozen=True)
class Plan:
    sizes: tuple[int, ...]
    rounds: int  # each round: at every size, one Scan then ``queries_per_round`` Queries
    queries_per_round: int


DEFAULT = Plan(sizes=(100, 1_000, 10_000), rounds=30, queries_per_round=20)
QUICK = Plan(sizes=(100, 1_000), rounds=5, queries_per_round=8)


class CapacityProbe:
    """Adds ReturnConsumedCapacity to the client's Query and BatchGetItem calls and
    records the answers: units per call, by operation."""

    OPERATIONS = ("Query", "BatchGetItem")

    def __init__(self, client: Any) -> None:
        self.client = client
        self.units: dict[str, list[float]] = {name: [] for name in self.OPERATIONS}
        self.items: list[int] = []
        for name in self.OPERATIONS:
            client.meta.events.register(f"before-parameter-build.dynamodb.{name}", self._ask)
            client.meta.events.register(f"after-call.dynamodb.{name}", self._read)

    @staticmethod
    def _ask(params: dict[str, Any], **_: Any) -> None:
        params["ReturnConsumedCapacity"] = "TOTAL"

    def _read(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        consumed = parsed.get("ConsumedCapacity", {})
        entries = consumed if isinstance(consumed, list) else [consumed]
        self.units[model.name].append(
            sum(entry.get("CapacityUnits", float("nan")) for entry in entries)
        )
        if model.name == "Query":
            self.items.append(parsed.get("Count", 0))

    def clear(self) -> None:
        for units in self.units.values():
            units.clear()
        self.items.clear()


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
    messages = []
    for n in range(count):
        created = start + n
        content = "".join(rng.choices(alphabet, k=rng.randint(40, 400))).strip() or "hi"
        messages.append(Message(id=new_message_id(created), username=AUTHORS[n % len(AUTHORS)],
                                content=content, created_at=created))
    return messages


def _add_authors(client: Any, table: str) -> None:
    """Every author's account, with a display name longer than the username."""
    for n, author in enumerate(AUTHORS):
        client.put_item(TableName=table, Item={
            "username": {"S": author}, "password_hash": {"S": "$argon2id$bench"},
            "created_at": {"N": "1"}, "credential_stamp": {"S": "bench"},
            "display_name": {"S": f"Bench Author Number {n}"},
        })


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
            "Limit 21, ConsistentRead; then one BatchGetItem of the page's distinct "
            "authors' display names, eventually consistent; authors take turns among 50, "
            "so every page names 20). Scan: the seed design (Scan every page with "
            "ConsistentRead, sort in Python, keep 20). One table per size; "
            f"{plan.rounds} rounds of {plan.queries_per_round} Queries per size "
            "round-robin, then 1 Scan per size. "
            "Capacity: ours read by botocore hooks on the store's own client; the Scan "
            "asks for it and sums its pages (dynalite counts a Scan as eventually "
            "consistent: on DynamoDB a consistent Scan costs 2× the RCU shown)."
        ),
        columns=["messages", "ours p50", "ours p95", "ours RCU (Query + names)", "scan p50",
                 "scan p95", "scan RCU (pages)", "scan ÷ ours (p50)"],
    )
    rng = random.Random(7)
    with dynalite(workdir) as endpoint:
        loader = dynamodb_client(endpoint)
        boards: dict[int, tuple[Any, CapacityProbe, str]] = {}
        load_seconds: dict[int, float] = {}
        start = time.time() - 30 * 86_400
        for size in plan.sizes:
            env = dynamodb_env(endpoint, new_keyring_json(), workdir / "data")
            create_tables(endpoint, env)
            table = table_names(env).messages
            _add_authors(loader, table_names(env).users)
            load_seconds[size] = load(loader, table, _messages(size, start, rng))
            with environment(env):
                client = make_client()  # exactly as the store factory makes it
            probe = CapacityProbe(client)
            boards[size] = (DynamoDBStore(client, table_names(env)), probe, table)
        per_size = _measure_rounds(plan, boards)
        for size in plan.sizes:
            per_size[size]["load_seconds"] = round(load_seconds[size], 2)

    base = per_size[plan.sizes[0]]
    for size in plan.sizes:
        row = per_size[size]
        figure.rows.append([
            f"{size:,}",
            fmt_ms(row["ours_ms"]["p50"]), fmt_ms(row["ours_ms"]["p95"]),
            f"{row['ours_rcu']:g} ({row['query_rcu']:g} + {row['names_rcu']:g})",
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


def _measure_rounds(plan: Plan, boards: dict[int, tuple[Any, CapacityProbe, str]]
                    ) -> dict[int, dict[str, Any]]:
    ours_ns: dict[int, list[int]] = {size: [] for size in boards}
    scan_ns: dict[int, list[int]] = {size: [] for size in boards}
    scan_info: dict[int, dict[str, Any]] = {}
    newest: dict[int, list[str]] = {}
    for ours_store, probe, table in boards.values():  # warm connections and caches
        for _ in range(5):
            ours_store.list_messages(limit=PAGE, before_id=None)
        scan_newest(probe.client, table)
        probe.clear()
    sizes = list(boards)
    for round_number in range(plan.rounds):
        # Queries round-robin over the sizes in rotating order, then the Scans: a
        # Query right after a big Scan is slower (dynalite's GC), whatever the size.
        order = sizes[round_number % len(sizes):] + sizes[:round_number % len(sizes)]
        for _ in range(plan.queries_per_round):
            for size in order:
                elapsed, page = timed(boards[size][0].list_messages, limit=PAGE,
                                      before_id=None)
                ours_ns[size].append(elapsed)
                newest[size] = [m.id for m in page.messages]
        for size in order:
            _, probe, table = boards[size]
            elapsed, (scanned, scan_info[size]) = timed(scan_newest, probe.client, table)
            scan_ns[size].append(elapsed)
            if newest[size] != [m.id for m in scanned]:
                raise RuntimeError("the Query and the Scan disagree about the newest 20")
        for size in order:  # settle after the Scans, unmeasured
            boards[size][0].list_messages(limit=PAGE, before_id=None)
    results = {}
    for size, (_, probe, _) in boards.items():
        query_units = sorted(set(probe.units["Query"]))
        names_units = sorted(set(probe.units["BatchGetItem"]))
        if len(probe.units["BatchGetItem"]) != len(probe.units["Query"]):
            raise RuntimeError("a board read did not make exactly one Query and one BatchGetItem")
        results[size] = {
            "ours_ms": summary(ours_ns[size]),
            "scan_ms": summary(scan_ns[size]),
            "ours_rcu": max(query_units) + max(names_units),
            "query_rcu": max(query_units),
            "names_rcu": max(names_units),
            "ours_rcu_values": {"Query": query_units, "BatchGetItem": names_units},
            "ours_items_read": max(probe.items),
            "scan_rcu": scan_info[size]["units"],
            "scan_pages": scan_info[size]["pages"],
            "scan_items_read": scan_info[size]["items"],
        }
    return results
