"""The package sets figure 2 runs the app in, each as (environment, interpreter flags,
working folder) for a fresh ``python -c``; figure 4 borrows the Lambda one.

- ".venv": the dev virtualenv as it is, test and deploy tools included;
- "Lambda": ``python -S`` (no site-packages) with a folder of links to
  requirements.txt's distributions and their dependencies (the zip), boto3's (the
  runtime ships it) and the ``chalice`` package alone (Chalice adds only its runtime
  module ``chalice.app``, which imports nothing outside stdlib);
- "zip" and "zip without .pyc": the dev stage's ``deployment.zip`` (``python -m ops
  package``), unzipped, beside a folder holding only the runtime's boto3 family, as
  Lambda runs it: nothing is written (``/var/task`` is read-only), and the working
  folder is the tree, as ``/var/task`` comes first on Lambda's ``sys.path``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from ops.stage import ROOT

# One set: the child's environment, the interpreter's flags, the child's working folder.
PackageSet = tuple[dict[str, str], tuple[str, ...], Path]

RUNTIME_PROVIDED = ("boto3",)  # the Lambda Python runtime ships boto3 and its dependencies


def _distribution_closure(names: list[str]) -> dict[str, metadata.Distribution]:
    """The installed distributions ``names`` need, without optional extras."""
    found: dict[str, metadata.Distribution] = {}
    todo = list(names)
    while todo:
        name = re.sub(r"[-_.]+", "-", todo.pop()).lower()
        if name in found:
            continue
        try:
            found[name] = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # a dependency for another Python version or platform
        for requirement in found[name].requires or []:
            if "extra ==" not in requirement:
                todo.append(re.split(r"[\s<>=!~;\[(]", requirement.strip(), maxsplit=1)[0])
    return found


def lambda_site(target: Path) -> Path:
    """A folder of links to what a deployed function can import (see the docstring)."""
    requirements = [
        re.split(r"[\s<>=!~;\[]", line.split("#")[0].strip(), maxsplit=1)[0]
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    target.mkdir(parents=True, exist_ok=True)
    tops: dict[str, Path] = {}
    for dist in _distribution_closure(requirements + list(RUNTIME_PROVIDED)).values():
        site = Path(str(dist.locate_file("")))
        for file in dist.files or []:
            top = file.parts[0]
            if top not in {"..", "__pycache__"}:  # dist-info too: pip -t copies it
                tops[top] = site / top
    chalice = Path(str(metadata.distribution("chalice").locate_file("chalice")))
    tops["chalice"] = chalice  # the package alone: its CLI's dependencies stay out
    for top, source in tops.items():
        if source.exists() and not (target / top).exists():
            (target / top).symlink_to(source)
    return target


def packaged_tree(workdir: Path, env: dict[str, str]) -> tuple[Path, Path]:
    """The dev stage's deployment.zip (checked by ``python -m ops package``), unzipped,
    and a folder of links to what the Lambda runtime ships besides the stdlib."""
    import zipfile

    out = workdir / "package"
    aws = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "bench",
           "AWS_SECRET_ACCESS_KEY": "bench"}
    child_env = {name: value for name, value in env.items()
                 if not name.startswith(("CHALKBOARD_", "AWS_"))}
    subprocess.run([sys.executable, "-m", "ops", "package", "--stage", "dev", str(out)],
                   cwd=ROOT, env={**child_env, **aws}, capture_output=True, text=True,
                   timeout=900, check=True)
    tree, runtime = workdir / "task", workdir / "runtime"
    with zipfile.ZipFile(out / "deployment.zip") as archive:
        archive.extractall(tree)
    runtime.mkdir()
    for dist in _distribution_closure(list(RUNTIME_PROVIDED)).values():
        site = Path(str(dist.locate_file("")))
        for top in {file.parts[0] for file in dist.files or []} - {"..", "__pycache__"}:
            if (site / top).exists() and not (runtime / top).exists():
                (runtime / top).symlink_to(site / top)
    return tree, runtime


def package_sets(workdir: Path, env: dict[str, str]) -> dict[str, PackageSet]:
    """The four package sets by name (see the docstring), built under ``workdir`` for a
    child environment ``env`` (the stage's variables beside ``os.environ``)."""
    venv_env = dict(env)
    venv_env.pop("PYTHONDONTWRITEBYTECODE", None)
    venv_env.pop("PYTHONPATH", None)
    lambda_env = {**venv_env, "PYTHONPATH": str(lambda_site(workdir / "lambda-site"))}
    tree, runtime = packaged_tree(workdir, venv_env)
    source_only = workdir / "task-without-pyc"
    shutil.copytree(tree, source_only, ignore=shutil.ignore_patterns("__pycache__"))
    zip_env = {**venv_env, "PYTHONDONTWRITEBYTECODE": "1"}
    return {
        ".venv": (venv_env, (), ROOT),
        "Lambda": (lambda_env, ("-S",), ROOT),
        # cwd is the tree: `python -c` puts it first on sys.path, as Lambda's /var/task
        "zip": ({**zip_env, "PYTHONPATH": f"{tree}:{runtime}"}, ("-S",), tree),
        "zip without .pyc": ({**zip_env, "PYTHONPATH": f"{source_only}:{runtime}"},
                             ("-S",), source_only),
    }
