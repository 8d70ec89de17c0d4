"""Figure 5: the warm request path through ``chalice.test.Client`` on SQLite.

Two routes are added to the app object in this process only (never to app.py):
a bare Chalice route (no authorizer, no store, returns a constant) and the same
bare route behind our authorizer. One client serves all four kinds of request,
interleaved: the bare route, the bare route with our authorizer, an authorized
GET /messages (newest 20 of a board of 100+) and an authorized POST /messages.
Each request includes what the test client itself does (the stage's environment
swapped in, the local gateway running the authorizer, the Lambda event built).
"""

from __future__ import annotations

import itertools
import json
import random
import string
from pathlib import Path
from typing import Any

from bench.common import (
    PASSWORD,
    Figure,
    Target,
    environment,
    fmt_ratio,
    fmt_us,
    new_keyring_json,
    ratio,
    sqlite_env,
    summary,
    timed,
)
from chalicelib.config import DEFAULT_POST_RATE_LIMIT
from ops.stage import ROOT

BARE = "/bench/bare"
POSTING_LIMIT = DEFAULT_POST_RATE_LIMIT
BARE_AUTH = "/bench/bare-authorized"


def _add_bare_routes(app: Any, authorizer: Any) -> None:
    if BARE in app.routes:
        return

    @app.route(BARE, methods=["GET"])
    def bench_bare() -> dict:
        return {"ok": True}

    @app.route(BARE_AUTH, methods=["GET"], authorizer=authorizer)
    def bench_bare_authorized() -> dict:
        return {"ok": True}


def measure(samples: int, workdir: Path) -> Figure:
    from chalice.test import Client

    from app import app, jwt_auth

    figure = Figure(
        number=5,
        title="Warm request path: chalice.test.Client on SQLite, against a bare route",
        method=(
            f"{samples:,} requests of each kind through one chalice.test.Client, "
            "interleaved. Bare: a route added in the benchmark process with no authorizer "
            "and no store. Ratios are p50 ÷ the bare route's p50."
        ),
        columns=["request", "p50", "p95", "÷ bare (p50)"],
    )
    _add_bare_routes(app, jwt_auth)
    rng = random.Random(5)
    # The stage's default posting limit: each author below stays under it.
    env = {**sqlite_env(workdir / "sqlite", new_keyring_json()),
           "CHALKBOARD_POST_RATE_LIMIT": str(POSTING_LIMIT)}
    with environment(env), Client(app, stage_name="test", project_dir=str(ROOT)) as client:
        http = client.http
        json_headers = {"Content-Type": "application/json"}

        def sign_in(username: str) -> dict[str, str]:
            credentials = json.dumps({"username": username, "password": PASSWORD})
            if http.post("/signup", headers=json_headers, body=credentials).status_code != 201:
                raise RuntimeError("signup failed")
            login = http.post("/login", headers=json_headers, body=credentials)
            return {"Authorization": f"Bearer {json.loads(login.body)['access_token']}"}

        authorized = sign_in("bench")
        # Posts rotate over enough authors that each stays under the stage's posting
        # limit, as real users do: one author posting thousands a minute would measure
        # the 429 path (and a posting window no real author fills).
        posts_per_author = max(1, POSTING_LIMIT // 2)
        authors = [{**sign_in(f"bench-{n}"), **json_headers}
                   for n in range(-(-(samples + 150) // posts_per_author))]
        turn = itertools.count()

        def post() -> Any:
            text = "".join(rng.choices(string.ascii_letters + "    ", k=rng.randint(40, 300)))
            return http.post("/messages", headers=authors[next(turn) % len(authors)],
                             body=json.dumps({"content": text.strip() or "hi"}))

        for _ in range(100):
            post()
        kinds = {
            "bare route": lambda: http.get(BARE),
            "bare route + our authorizer": lambda: http.get(BARE_AUTH, headers=authorized),
            "GET /messages (authorized, 20 newest)": lambda: http.get(
                "/messages", headers=authorized),
            "POST /messages (authorized)": post,
        }
        expected = {"bare route": 200, "bare route + our authorizer": 200,
                    "GET /messages (authorized, 20 newest)": 200,
                    "POST /messages (authorized)": 201}
        for _ in range(50):  # warm every path
            for call in kinds.values():
                call()
        times: dict[str, list[int]] = {kind: [] for kind in kinds}
        for _ in range(samples):
            for kind, call in kinds.items():
                elapsed, response = timed(call)
                times[kind].append(elapsed)
                if response.status_code != expected[kind]:
                    raise RuntimeError(f"{kind}: {response.status_code} {response.body!r}")
        page = json.loads(http.get("/messages", headers=authorized).body)
        if len(page["messages"]) != 20:
            raise RuntimeError("GET /messages did not return 20 messages")

    stats = {kind: summary(values, unit=1e3) for kind, values in times.items()}
    bare = stats["bare route"]["p50"]
    for kind, stat in stats.items():
        figure.rows.append([kind, fmt_us(stat["p50"]), fmt_us(stat["p95"]),
                            fmt_ratio(ratio(stat["p50"], bare))])
    for kind in ("GET /messages (authorized, 20 newest)", "POST /messages (authorized)"):
        value = ratio(stats[kind]["p50"], bare)
        figure.targets.append(Target(name=f"warm {kind.split(' (')[0]} vs bare route (p50)",
                                     figure=fmt_ratio(value), limit="≤ 3×", met=value <= 3))
    figure.data = {"samples": samples, "us": stats}
    return figure
