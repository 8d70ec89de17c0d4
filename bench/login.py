"""Figure 4: login's password check, with the argon2id parameters in use.

Time: ``passwords.verify_password`` against a hash made with the settings a
deployed stage gets (the defaults: OWASP's minimum), interleaved with the same
check at argon2-cffi's library defaults (the usual "just use the default"
choice), and the unknown-user path (a dummy verify). Then ``sessions.login``
whole on SQLite: throttle read, account read, verify, tokens issued and stored.

Memory: argon2 allocates in C, where tracemalloc cannot see it, so each figure
is a fresh child process that imports the app and boto3 and makes a DynamoDB
client (what a warm Lambda holds; only the Lambda's package set is importable,
as in figure 2), verifies a wrong password against a cheap
hash (loading passlib and argon2 without a big allocation), reads its peak RSS,
verifies once at the measured parameters, and reads it again. The peak is
``VmHWM`` from /proc/self/status: on Linux a child's ``ru_maxrss`` starts at its
parent's RSS at fork (seen here: a child of a 300 MiB parent reports 310 MiB),
which would hide what one verification adds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import (
    PASSWORD,
    Figure,
    Target,
    environment,
    fmt_ms,
    new_keyring_json,
    sqlite_env,
    summary,
    timed,
)
from bench.package_sets import lambda_site
from ops.stage import ROOT

LAMBDA_MB = 128

MEMORY_CHILD = """
import json, os
def peak_kib():  # this process's own high-water RSS (ru_maxrss would include the parent's)
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
import boto3
import app
from chalicelib import passwords
boto3.client("dynamodb", region_name="us-east-1")
from chalicelib.config import get_settings
passwords.verify_password("not the password", os.environ["BENCH_CHEAP_HASH"], get_settings())
before = peak_kib()
if os.environ["BENCH_VERIFIER"] == "ours":
    ok, _ = passwords.verify_password(
        os.environ["BENCH_PASSWORD"], os.environ["BENCH_HASH"], get_settings()
    )
else:
    import argon2
    ok = argon2.PasswordHasher().verify(os.environ["BENCH_HASH"], os.environ["BENCH_PASSWORD"])
after = peak_kib()
print(json.dumps({"before_kib": before, "after_kib": after, "verified": ok}))
"""


def _library_default_hash(password: str) -> tuple[str, Any]:
    from argon2 import PasswordHasher

    hasher = PasswordHasher()  # argon2-cffi's defaults (RFC 9106 "low memory": 64 MiB)
    return hasher.hash(password), hasher


def _peak_memory(verifier: str, password_hash: str, cheap_hash: str, env: dict[str, str]
                 ) -> dict[str, Any]:
    child_env = {**os.environ, **env, "BENCH_VERIFIER": verifier, "BENCH_HASH": password_hash,
                 "BENCH_CHEAP_HASH": cheap_hash, "BENCH_PASSWORD": PASSWORD}
    done = subprocess.run([sys.executable, "-S", "-c", MEMORY_CHILD], cwd=ROOT, env=child_env,
                          capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory child failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if not result["verified"]:
        raise RuntimeError("memory child did not verify the password")
    return {"before_mib": result["before_kib"] / 1024, "after_mib": result["after_kib"] / 1024,
            "added_mib": (result["after_kib"] - result["before_kib"]) / 1024}


def measure(samples: int, memory_runs: int, workdir: Path) -> Figure:
    from chalicelib import config, deps, passwords, signin
    from chalicelib.clients import NO_CLIENT
    from chalicelib.deps import current_deps
    from chalicelib.store.model import User

    figure = Figure(
        number=4,
        title="Login: argon2id password check",
        method=(
            f"Median of {samples} verifications each, interleaved. Peak memory: VmHWM of "
            f"a fresh child (Lambda package set; app, boto3 and a DynamoDB client loaded) "
            f"before and after one verification, median of {memory_runs} children."
        ),
        columns=["what", "parameters", "verify p50", "verify p95", "peak RSS added",
                 "process peak RSS"],
    )
    env = sqlite_env(workdir / "sqlite", new_keyring_json())
    env["CHALKBOARD_STAGE"] = "dev"  # a deployed stage: argon2 parameters at their defaults
    with environment(env):
        settings = config.get_settings()
        params = (f"m={settings.argon2_memory_kib} KiB, t={settings.argon2_time_cost}, "
                  f"p={settings.argon2_parallelism}")
        ours_hash = passwords.hash_password(PASSWORD, settings)
        default_hash, default_hasher = _library_default_hash(PASSWORD)
        deps.get_store().create_user(User(username="bench", password_hash=ours_hash,
                                           created_at=time.time(), credential_stamp="bench"))
        for _ in range(2):
            passwords.verify_password(PASSWORD, ours_hash, settings)
            default_hasher.verify(default_hash, PASSWORD)
        ours_ns, default_ns, unknown_ns, login_ns = [], [], [], []
        for _ in range(samples):
            elapsed, (ok, _) = timed(
                lambda: passwords.verify_password(PASSWORD, ours_hash, settings)
            )
            ours_ns.append(elapsed)
            elapsed, _ = timed(lambda: default_hasher.verify(default_hash, PASSWORD))
            default_ns.append(elapsed)
            elapsed, _ = timed(lambda: passwords.spend_verify_time(PASSWORD, settings))
            unknown_ns.append(elapsed)
            elapsed, pair = timed(
                lambda: signin.password(current_deps(), "bench", PASSWORD, NO_CLIENT)
            )
            login_ns.append(elapsed)
        if not ok or not pair.access_token:
            raise RuntimeError("the benchmark's password did not verify")

    with environment({**env, "CHALKBOARD_STAGE": "test", "CHALKBOARD_ARGON2_MEMORY_KIB": "8",
                      "CHALKBOARD_ARGON2_TIME_COST": "1"}):
        cheap_hash = passwords.hash_password(PASSWORD, config.get_settings())
    # Stage dev: the child's settings match the hash, so nothing is rehashed. The child
    # imports only what the Lambda can (figure 2's package set), not the dev .venv.
    child_env = {**env, "PYTHONPATH": str(lambda_site(workdir / "lambda-site"))}
    ours_memory, default_memory = [], []
    for _ in range(memory_runs):
        ours_memory.append(_peak_memory("ours", ours_hash, cheap_hash, child_env))
        default_memory.append(_peak_memory("argon2-cffi", default_hash, cheap_hash, child_env))

    def median_of(runs: list[dict[str, Any]], key: str) -> float:
        return sorted(run[key] for run in runs)[len(runs) // 2]

    ours, default = summary(ours_ns), summary(default_ns)
    unknown, login = summary(unknown_ns), summary(login_ns)
    figure.rows += [
        ["ours: verify_password", params, fmt_ms(ours["p50"]), fmt_ms(ours["p95"]),
         f"{median_of(ours_memory, 'added_mib'):.1f} MiB",
         f"{median_of(ours_memory, 'after_mib'):.0f} MiB"],
        ["ours: unknown user (dummy verify)", params, fmt_ms(unknown["p50"]),
         fmt_ms(unknown["p95"]), "", ""],
        ["ours: signin.password whole (SQLite)", params, fmt_ms(login["p50"]),
         fmt_ms(login["p95"]), "", ""],
        ["argon2-cffi library default", f"m={default_hasher.memory_cost} KiB, "
         f"t={default_hasher.time_cost}, p={default_hasher.parallelism}",
         fmt_ms(default["p50"]), fmt_ms(default["p95"]),
         f"{median_of(default_memory, 'added_mib'):.1f} MiB",
         f"{median_of(default_memory, 'after_mib'):.0f} MiB"],
    ]
    owasp = (settings.argon2_memory_kib >= config.OWASP_MEMORY_KIB
             and settings.argon2_time_cost >= config.OWASP_TIME_COST
             and settings.argon2_parallelism >= config.OWASP_PARALLELISM)
    figure.targets.append(Target(
        name=f"login verify at OWASP's minimum or above ({params})",
        figure=fmt_ms(ours["p50"]) + ("" if owasp else " (below OWASP!)"),
        limit="≤ 60 ms", met=owasp and ours["p50"] <= 60,
    ))
    peak = median_of(ours_memory, "after_mib")
    figure.targets.append(Target(
        name="login's process peak RSS fits a 128 MB Lambda",
        figure=f"{peak:.0f} MiB ({peak * 1.048576:.0f} MB)", limit=f"< {LAMBDA_MB} MB",
        met=peak * 1.048576 < LAMBDA_MB,
    ))
    figure.data = {
        "parameters": {"memory_kib": settings.argon2_memory_kib,
                       "time_cost": settings.argon2_time_cost,
                       "parallelism": settings.argon2_parallelism},
        "verify_ms": ours, "unknown_user_ms": unknown, "login_ms": login,
        "library_default": {"memory_kib": default_hasher.memory_cost,
                            "time_cost": default_hasher.time_cost,
                            "parallelism": default_hasher.parallelism, "verify_ms": default},
        "memory": {"ours": ours_memory, "library_default": default_memory},
    }
    return figure
