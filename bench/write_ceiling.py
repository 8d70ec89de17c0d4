"""Figure 9: the board partition's write ceiling, the client past it, and a sharded read.

Every message is written under one partition key (``board = "main"``), and one
DynamoDB partition takes at most 1,000 write units a second. Measured here:

- the write units of one post, by size (dynalite's ``ConsumedCapacity`` for
  the store's PutItem): the ceiling on paper is 1,000 ÷ that, posts per second;
- what the app does past it: a botocore ``before-send`` hook on the store's own
  client answers PutItem with ``ProvisionedThroughputExceededException`` (as
  DynamoDB does when a partition is over its limit) for the first N attempts,
  and POST /messages goes through ``chalice.test.Client`` on dynalite: how many
  attempts botocore makes (standard retry mode; the store's ``max_attempts: 3``
  counts retries, so a call makes up to 4 attempts), how long the
  request takes, and what the caller gets (201, or 503 with ``Retry-After``);
- the path past the ceiling (docs/scaling.md): posts written under 4 shard
  keys (``main#0``..``main#3``) and the newest page read as 4 Queries merged by
  id. Its read units and time per page are measured on dynalite beside today's
  one Query (bench-only tables: the store is not sharded).
"""

from __future__ import annotations

import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench import app_costs
from bench.common import (
    PASSWORD,
    Figure,
    dynalite_tables,
    dynamodb_client,
    environment,
    fmt_ms,
    summary,
    table_names,
)
from chalicelib.timestamps import new_message_id
from ops.stage import ROOT

PARTITION_WRITE_UNITS = 1000
SHARDS = 4
PAGE = 20


class Throttle:
    """Answers the first ``fail`` PutItem attempts of each call with a throttling error."""

    BODY = json.dumps({
        "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        "message": "The level of configured provisioned throughput for the table was exceeded.",
    }).encode()

    def __init__(self) -> None:
        self.fail = 0
        self.attempts = 0

    def __call__(self, request: Any, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        self.attempts += 1
        if self.attempts > self.fail:
            return None  # send it for real

        class Raw:
            def stream(self, **_: Any) -> Any:
                yield Throttle.BODY

        return AWSResponse(request.url, 400, {
            "Content-Type": "application/x-amz-json-1.0",
            "x-amzn-RequestId": "throttled"}, Raw())


def _put_units(client: Any, table: str, content: str) -> float:
    answer = client.put_item(TableName=table, ReturnConsumedCapacity="TOTAL", Item={
        "board": {"S": "main"}, "id": {"S": new_message_id(time.time())},
        "username": {"S": "a" * 32}, "content": {"S": content},
        "created_at": {"N": repr(time.time())}})
    return answer["ConsumedCapacity"]["CapacityUnits"]


def _throttled_posts(env: dict[str, str], samples: int, fails: tuple[int, ...]
                     ) -> list[dict[str, Any]]:
    from chalice.test import Client

    from app import app
    from chalicelib.deps import get_store

    rows = []
    with environment(env), Client(app, stage_name=app_costs.STAGE,
                                  project_dir=str(ROOT)) as client:
        http = client.http
        headers = {"Content-Type": "application/json"}
        credentials = json.dumps({"username": "writer", "password": PASSWORD})
        http.post("/signup", headers=headers, body=credentials)
        token = json.loads(http.post("/login", headers=headers, body=credentials).body)[
            "access_token"]
        headers["Authorization"] = f"Bearer {token}"
        throttle = Throttle()
        get_store()._client.meta.events.register("before-send.dynamodb.PutItem", throttle)
        for fail in fails:
            times, statuses, attempts, retry_after = [], [], [], set()
            for _ in range(samples):
                throttle.fail, throttle.attempts = fail, 0
                began = time.perf_counter_ns()
                answer = http.post("/messages", headers=headers,
                                   body=json.dumps({"content": "past the ceiling"}))
                times.append(time.perf_counter_ns() - began)
                statuses.append(answer.status_code)
                attempts.append(throttle.attempts)
                if "Retry-After" in answer.headers:
                    retry_after.add(answer.headers["Retry-After"])
            rows.append({"throttled_attempts": fail, "ms": summary(times),
                         "statuses": sorted(set(statuses)), "attempts": max(attempts),
                         "retry_after": sorted(retry_after)})
    return rows


def _sharded_read(client: Any, table: str, messages: int, rounds: int) -> dict[str, Any]:
    """Write ``messages`` over SHARDS keys; compare 1 Query on one key with the merge read."""
    rng = random.Random(9)
    start = time.time() - 86_400
    for n in range(messages):
        message_id = new_message_id(start + n)
        item = {"id": {"S": message_id}, "username": {"S": f"user{n % 50:02d}"},
                "content": {"S": "".join(rng.choices("abcdefgh  ", k=rng.randint(40, 400)))},
                "created_at": {"N": repr(start + n)}}
        client.put_item(TableName=table, Item={**item, "board": {"S": "main"}})
        client.put_item(TableName=table,
                        Item={**item, "board": {"S": f"main#{rng.randrange(SHARDS)}"}})

    def query(board: str) -> dict[str, Any]:
        return client.query(TableName=table, KeyConditionExpression="board = :b",
                            ExpressionAttributeValues={":b": {"S": board}},
                            ScanIndexForward=False, Limit=PAGE + 1, ConsistentRead=False,
                            ReturnConsumedCapacity="TOTAL")

    pool = ThreadPoolExecutor(SHARDS)
    one_ns, merged_ns, one_units, merged_units = [], [], 0.0, 0.0
    for _ in range(rounds):
        began = time.perf_counter_ns()
        single = query("main")
        one_ns.append(time.perf_counter_ns() - began)
        one_units = single["ConsumedCapacity"]["CapacityUnits"]
        began = time.perf_counter_ns()
        answers = list(pool.map(query, [f"main#{k}" for k in range(SHARDS)]))
        merged = sorted((item for a in answers for item in a["Items"]),
                        key=lambda item: item["id"]["S"], reverse=True)[:PAGE]
        merged_ns.append(time.perf_counter_ns() - began)
        merged_units = sum(a["ConsumedCapacity"]["CapacityUnits"] for a in answers)
        if [i["id"]["S"] for i in merged] != [i["id"]["S"] for i in single["Items"][:PAGE]]:
            raise RuntimeError("the merged shards disagree with the single key's newest page")
    pool.shutdown()
    return {"one_key_ms": summary(one_ns), "merged_ms": summary(merged_ns),
            "one_key_read_units": one_units, "merged_read_units": merged_units}


def measure(workdir: Path, samples: int, sharded_messages: int, rounds: int,
            fails: tuple[int, ...] = (0, 1, 2, 3, 4)) -> Figure:
    """``fails``: how many leading PutItem attempts to throttle, one row each."""
    figure = Figure(
        number=9,
        title="The write ceiling of one board partition, the client past it, and 4 shards",
        method=(
            "Write units: the store's PutItem on dynalite with ReturnConsumedCapacity, by "
            "content size (username 32 characters); ceiling = 1,000 WCU/s per partition ÷ "
            "units per post. Past it: a botocore before-send hook answers the store client's "
            "first N PutItem attempts with ProvisionedThroughputExceededException; "
            f"POST /messages through chalice.test.Client, {samples} requests per N. Shards: "
            f"{sharded_messages} messages written both under one key and spread over "
            f"{SHARDS} keys; the newest {PAGE} read as 1 Query vs {SHARDS} parallel Queries "
            f"merged by id (eventually consistent), {rounds} rounds."
        ),
        columns=["what", "measured", "consequence"],
    )
    workdir.mkdir(parents=True, exist_ok=True)
    with dynalite_tables(workdir) as (endpoint, env):
        client = dynamodb_client(endpoint)
        table = table_names(env).messages
        units = {label: _put_units(client, table, content) for label, content in (
            ("typical post (200 ASCII characters)", "x" * 200),
            ("longest post (1,000 ASCII characters)", "x" * 1000),
            ("longest post (1,000 emoji, 4 bytes each)", "😀" * 1000))}
        throttled = _throttled_posts(env, samples, fails)
        sharded = _sharded_read(client, table, sharded_messages, rounds)
    for label, wcu in units.items():
        figure.rows.append([f"write units per {label}", f"{wcu:g} WCU",
                            f"one board partition takes ≤ {PARTITION_WRITE_UNITS / wcu:,.0f} "
                            "posts/s"])
    for row in throttled:
        n = row["throttled_attempts"]
        outcome = ", ".join(str(s) for s in row["statuses"])
        if row["retry_after"]:
            outcome += f" (Retry-After: {', '.join(row['retry_after'])} s)"
        figure.rows.append([
            f"POST /messages, first {n} PutItem attempt{'s' if n != 1 else ''} throttled",
            f"{fmt_ms(row['ms']['p50'])} p50, {row['attempts']} attempts",
            f"answers {outcome}"])
    figure.rows.append([
        f"newest page, 1 key (today) vs {SHARDS} shards merged",
        f"{fmt_ms(sharded['one_key_ms']['p50'])} vs {fmt_ms(sharded['merged_ms']['p50'])} p50; "
        f"{sharded['one_key_read_units']:g} vs {sharded['merged_read_units']:g} RRU",
        f"{SHARDS}× the write ceiling for "
        f"{sharded['merged_read_units'] / max(sharded['one_key_read_units'], 1e-9):.1f}× the "
        "read units per uncached page"])
    figure.data = {"write_units": units, "throttled": throttled, "sharded": sharded}
    return figure
