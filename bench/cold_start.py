"""Figure 2: cold start, ours against the floor any Chalice + DynamoDB app pays.

Each sample is a fresh ``python -c`` in this virtualenv, timed inside the child
from its first statement (interpreter start-up is common to all and left out):

- floor: ``import chalice, boto3`` and create one DynamoDB client;
- floor + first request: the same, then one GetItem on dynalite (what botocore's
  first request costs: endpoint rules, signing, a connection);
- ours: ``import app``, call the authorizer as Lambda does (a TOKEN event for one
  valid access token: JWT check and the revocation read on dynalite), then
  GET /messages as Lambda does (an API Gateway proxy event carrying the
  authorizer's context; one Query on dynalite).

The kinds run interleaved, in rotating order, after one unmeasured warm-up of
each (so .pyc files exist). The project's own share is ours minus the floor.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import (
    ROOT,
    Figure,
    Target,
    create_tables,
    dynalite,
    dynamodb_env,
    environment,
    new_keyring_json,
)

FLOOR = """
import time
t0 = time.perf_counter_ns()
import chalice, boto3
t1 = time.perf_counter_ns()
client = boto3.client("dynamodb", region_name="us-east-1")
t2 = time.perf_counter_ns()
import json
print(json.dumps({"import": t1 - t0, "client": t2 - t1, "total": t2 - t0}))
"""

FLOOR_AND_REQUEST = """
import os, sys, time
t0 = time.perf_counter_ns()
import chalice, boto3
client = boto3.client("dynamodb", region_name="us-east-1")
t1 = time.perf_counter_ns()
client.get_item(TableName=os.environ["CHALKBOARD_USERS_TABLE"],
                Key={"username": {"S": sys.argv[1]}}, ConsistentRead=True)
t2 = time.perf_counter_ns()
import json
print(json.dumps({"floor": t1 - t0, "request": t2 - t1, "total": t2 - t0}))
"""

OURS = """
import sys, time
t0 = time.perf_counter_ns()
import app
t1 = time.perf_counter_ns()
policy = app.jwt_auth({"type": "TOKEN", "authorizationToken": "Bearer " + sys.argv[1],
                       "methodArn": sys.argv[2]}, None)
t2 = time.perf_counter_ns()
import json
event = json.loads(sys.argv[3])
t3 = time.perf_counter_ns()
response = app.app(event, None)
t4 = time.perf_counter_ns()
allowed = policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"
print(json.dumps({"import": t1 - t0, "authorizer": t2 - t1, "messages": t4 - t3,
       "total": (t2 - t0) + (t4 - t3), "allowed": allowed,
       "status": response["statusCode"], "count": len(json.loads(response["body"])["messages"])}))
"""

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/api/GET/messages"


def api_gateway_event(token: str, claims: Any) -> dict[str, Any]:
    """GET /messages as API Gateway hands it to the Lambda after the authorizer allowed it."""
    headers = {"Authorization": f"Bearer {token}", "Host": "abcdef1234.execute-api.example",
               "Origin": "http://localhost:8080"}
    return {
        "resource": "/messages",
        "path": "/messages",
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/messages",
            "httpMethod": "GET",
            "path": "/api/messages",
            "stage": "api",
            "identity": {"sourceIp": "127.0.0.1"},
            # API Gateway passes the authorizer's context values as strings.
            "authorizer": {"principalId": claims.username, "jti": claims.jti,
                           "iat": str(claims.issued_at), "exp": str(claims.expires_at)},
        },
        "body": None,
        "isBase64Encoded": False,
    }


def _run(script: str, args: list[str], env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"cold-start child failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _app_import_on_floor(env: dict[str, str]) -> list[tuple[str, float]]:
    """-X importtime of app with chalice, boto3 and a client already loaded: the
    project's modules and what they pull in beyond the floor (ms, cumulative)."""
    script = ("import chalice, boto3; boto3.client('dynamodb', region_name='us-east-1'); "
              "import app; import chalicelib.store.dynamodb")
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", script], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120, check=True)
    parsed = []  # (depth, name, cumulative ms); importtime lists children before parents
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            name = parts[2].rstrip()
            depth = (len(name) - len(name.lstrip()) - 1) // 2
            parsed.append((depth, name.strip(), int(parts[1]) / 1000))
    rows = []
    for index, (depth, name, cumulative) in enumerate(parsed):
        if depth == 0 and name == "app":
            child = index - 1
            while child >= 0 and parsed[child][0] > 0:
                if parsed[child][0] == 1:
                    rows.append((parsed[child][1], parsed[child][2]))
                child -= 1
            rows.reverse()
            rows.append(("app (all of the above)", cumulative))
        elif depth == 0 and name.startswith("chalicelib"):
            rows.append((name, cumulative))
    return rows


def measure(runs: int, workdir: Path) -> Figure:
    from chalicelib import config, signing_keys, store, tokens
    from chalicelib.store import Message, User
    from chalicelib.timestamps import new_message_id

    figure = Figure(
        number=2,
        title="Cold start: a fresh interpreter answering its first authorizer call and "
              "GET /messages (DynamoDB store on dynalite)",
        method=(
            f"Median of {runs} fresh `python -c` runs of each kind, interleaved in rotating "
            "order, timed inside the child from its first statement. Floor: import chalice "
            "and boto3, create one DynamoDB client. Ours: import app, the authorizer's "
            "first call (Lambda TOKEN event), then GET /messages (API Gateway proxy event)."
        ),
        columns=["kind", "median", "min", "max", "phases (median)"],
    )
    with dynalite(workdir) as endpoint:
        env = dynamodb_env(endpoint, new_keyring_json(), workdir / "data")
        env["CHALKBOARD_STAGE"] = "dev"  # a deployed stage: keys given, nothing generated
        create_tables(endpoint, env)
        with environment(env):
            now = time.time()
            board_store = store.get_store()
            board_store.create_user(User(username="bench", password_hash="-", created_at=now))
            for n in range(30):
                board_store.add_message(Message(id=new_message_id(now - 60 + n),
                                                username="bench", content=f"message {n}",
                                                created_at=now - 60 + n))
            token, claims = tokens.issue_access_token(
                username="bench", keyring=signing_keys.get_keyring(),
                settings=config.get_settings(), now=now,
            )
        child_env = {**os.environ, **env}
        child_env.pop("PYTHONDONTWRITEBYTECODE", None)
        event = json.dumps(api_gateway_event(token, claims))
        kinds = {
            "floor": (FLOOR, []),
            "floor + first request": (FLOOR_AND_REQUEST, ["bench"]),
            "ours": (OURS, [token, METHOD_ARN, event]),
        }
        samples: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
        for script, args in kinds.values():  # warm-up: compile .pyc, fill OS caches
            _run(script, args, child_env)
        order = list(kinds)
        for run in range(runs):
            for kind in order[run % 3:] + order[:run % 3]:
                script, args = kinds[kind]
                samples[kind].append(_run(script, args, child_env))
        imports = _app_import_on_floor(child_env)

    for sample in samples["ours"]:
        if not (sample["allowed"] and sample["status"] == 200 and sample["count"] == 20):
            raise RuntimeError(f"the cold-start child did not answer as expected: {sample}")

    def med(kind: str, key: str) -> float:
        return statistics.median(s[key] for s in samples[kind]) / 1e6

    def row(kind: str, phases: list[tuple[str, str]]) -> list[str]:
        totals = [s["total"] / 1e6 for s in samples[kind]]
        detail = ", ".join(f"{label} {med(kind, key):.0f}" for label, key in phases)
        return [kind, f"{statistics.median(totals):.0f} ms", f"{min(totals):.0f} ms",
                f"{max(totals):.0f} ms", detail + " ms"]

    figure.rows.append(row("floor", [("import", "import"), ("client", "client")]))
    figure.rows.append(row("floor + first request", [("floor", "floor"),
                                                      ("GetItem", "request")]))
    figure.rows.append(row("ours", [("import app", "import"), ("authorizer", "authorizer"),
                                    ("GET /messages", "messages")]))
    floor, floor_request, ours = med("floor", "total"), med("floor + first request", "total"), \
        med("ours", "total")
    share = ours - floor
    # Paired differences too: each round's ours minus the same round's floor.
    paired = statistics.median(
        (o["total"] - f["total"]) / 1e6 for o, f in zip(samples["ours"], samples["floor"],
                                                          strict=True))
    figure.rows.append(["project's share (ours − floor)", f"{share:.0f} ms", "", "",
                        f"paired median {paired:.0f} ms; beyond floor + first request "
                        f"{ours - floor_request:.0f} ms"])
    figure.targets.append(Target(name="cold start: project's own share (ours − floor)",
                                 figure=f"{share:.0f} ms", limit="≤ 60 ms", met=share <= 60))
    figure.data = {
        "runs": runs,
        "median_ms": {"floor": floor, "floor_and_first_request": floor_request, "ours": ours},
        "project_share_ms": share,
        "project_share_paired_ms": paired,
        "beyond_floor_and_first_request_ms": ours - floor_request,
        "samples_ns": samples,
        "app_import_on_floor_ms": imports,
    }
    return figure
