"""Figure 3: the authorizer, warm: one access token checked again and again.

The authorizer is called as Lambda calls it (``app.jwt_auth(event, context)``
with a TOKEN event), so each call parses the header, verifies the JWT (HS256,
every claim), reads the account and the token's revocation from the store, and
builds the policy. Beside it, ``tokens.verify_access_token`` alone: the JWT
work without the store, for the token seen before (its verified claims are
cached until it expires) and for a token seen for the first time (the full
HS256 check). Store calls are counted by wrapping the store's
methods; DynamoDB requests and their capacity by botocore hooks.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import (
    CallCounter,
    Figure,
    RequestCounter,
    dynalite_tables,
    environment,
    fmt_us,
    new_keyring_json,
    sqlite_env,
    summary,
    timed,
)

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/api/GET/messages"


def _per_call(items: list[str], calls: int) -> str:
    counts = Counter(items)
    return ", ".join(f"{n / calls:g} {name}" for name, n in sorted(counts.items())) or "0"


def _measure_store(env: dict[str, str], calls: int) -> dict[str, Any]:
    from app import jwt_auth
    from chalicelib import config, deps, signing_keys, tokens
    from chalicelib.store.model import Session, User

    counter = RequestCounter(capacity_for=("BatchGetItem",))
    with environment(env), counter.installed():
        the_store = deps.get_store()
        now = time.time()
        the_store.create_user(User(username="bench", password_hash="-", created_at=now,
                                   credential_stamp="bench"))
        the_store.start_session(Session(username="bench", sid="s1", credential_stamp="bench",
                                        created_at=now, last_used_at=now,
                                        expires_at=int(now) + 3600))
        token, _ = tokens.issue_access_token(username="bench", session_id="s1",
                                             keyring=signing_keys.get_keyring(time.time()),
            settings=config.get_settings(), now=time.time(),
        )
        event = {"type": "TOKEN", "authorizationToken": f"Bearer {token}",
                 "methodArn": METHOD_ARN}
        keyring, settings = signing_keys.get_keyring(time.time()), config.get_settings()
        for _ in range(50):  # warm: settings, keyring, store and connections all made
            jwt_auth(event, None)
        store_calls = CallCounter(the_store)
        counter.clear()
        full_ns: list[int] = []
        verify_ns: list[int] = []
        first_sight_ns: list[int] = []
        for _ in range(calls):  # interleaved: full call, verify again, verify a new token
            elapsed, policy = timed(lambda: jwt_auth(event, None))
            full_ns.append(elapsed)
            elapsed, _ = timed(
                lambda: tokens.verify_access_token(token, keyring=keyring, settings=settings,
                                                   now=time.time()))
            verify_ns.append(elapsed)
            fresh, _ = tokens.issue_access_token(
                username="bench", session_id="s1", keyring=keyring, settings=settings,
                now=time.time())
            elapsed, _ = timed(
                lambda fresh=fresh: tokens.verify_access_token(
                    fresh, keyring=keyring, settings=settings, now=time.time()))
            first_sight_ns.append(elapsed)
        if policy["policyDocument"]["Statement"][0]["Effect"] != "Allow":
            raise RuntimeError(f"the authorizer did not allow a valid token: {policy}")
        return {
            "calls": calls,
            "authorizer_us": summary(full_ns, unit=1e3),
            "verify_only_us": summary(verify_ns, unit=1e3),
            "verify_first_sight_us": summary(first_sight_ns, unit=1e3),
            "store_calls_per_call": _per_call(store_calls.calls, calls),
            "dynamodb_requests_per_call": _per_call(counter.operations, calls),
            "capacity_per_call": (sum(counter.capacity) / calls) if counter.capacity else None,
        }


def measure(sqlite_calls: int, dynamodb_calls: int, workdir: Path) -> Figure:
    figure = Figure(
        number=3,
        title="Authorizer, warm: verify one access token including the revocation check",
        method=(
            "app.jwt_auth called with a Lambda TOKEN event (JWT verify + one store read for "
            "the account and the token's revocation), interleaved with "
            "tokens.verify_access_token alone, on the same token (cached claims) and on a "
            "newly issued one (full check). Store calls counted by wrapping the store's "
            "methods; DynamoDB requests and capacity by botocore hooks."
        ),
        columns=["store", "calls", "authorizer p50", "authorizer p95",
                 "JWT verify alone p50 (seen before / first sight)",
                 "store calls / call", "DynamoDB requests / call"],
    )
    results: dict[str, dict[str, Any]] = {}
    results["SQLite"] = _measure_store(
        sqlite_env(workdir / "sqlite", new_keyring_json()), sqlite_calls)
    with dynalite_tables(workdir) as (_, env):
        results["DynamoDB (dynalite)"] = _measure_store(env, dynamodb_calls)
    for name, result in results.items():
        requests = result["dynamodb_requests_per_call"]
        if result["capacity_per_call"] is not None:
            requests += f" ({result['capacity_per_call']:g} RCU)"
        figure.rows.append([
            name, f"{result['calls']:,}",
            fmt_us(result["authorizer_us"]["p50"]), fmt_us(result["authorizer_us"]["p95"]),
            f'{fmt_us(result["verify_only_us"]["p50"])} / '
            f'{fmt_us(result["verify_first_sight_us"]["p50"])}',
            result["store_calls_per_call"], requests if name != "SQLite" else "–",
        ])
    figure.data = results
    return figure
