"""Build a stage's Lambda package the way it will run, or deploy it, and refuse a broken one.

    python -m ops package --stage prod [OUT]   # chalice package + infra/<stage>.json → OUT
    python -m ops deploy --stage dev           # check a package builds cleanly, then chalice deploy

Two things `chalice` leaves to chance, checked here first:

- **The runtime.** Chalice takes the Lambda runtime from the Python that runs it
  (there is no setting): the runtime is pinned to ``RUNTIME`` by refusing any other
  interpreter, so every deployer's machine packages the same runtime and wheels.
- **Bytecode.** Lambda's ``/var/task`` is read-only and Chalice ships no ``.pyc``,
  so every cold start would compile the app and its dependencies from source
  (30 to 60 ms of CPU here, bench figure 2). The package gets them compiled, by
  the pinned interpreter, as unchecked-hash ``.pyc`` (valid whatever the files'
  times after unzipping). `chalice deploy` builds its own zip: it goes without.
- **Missing dependencies.** `chalice package` and `chalice deploy` only *warn*
  "Could not install dependencies" when a requirement has no wheel for the
  runtime's platform, and leave it out of the zip (exit 0). Here that warning
  is an error (exit 1), before anything is deployed.
"""

from __future__ import annotations

import argparse
import compileall
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from ops.stage import ROOT

# The Lambda runtime every deploy uses, and the interpreter that must run Chalice for it.
RUNTIME = "python3.11"
RUNTIME_VERSION = (3, 11)
ARCHITECTURE = "x86_64"  # .chalice/config.json's lambda_architecture; docs/deploy.md says why
MISSING_DEPENDENCY = "Could not install dependencies"
CHALICE = Path(sys.executable).parent / "chalice"


class PackageError(Exception):
    """Packaging cannot give what Lambda would run: the message says what to do."""


def check_runtime(version: Sequence[int] = sys.version_info) -> None:
    """Refuse an interpreter whose version would make another Lambda runtime."""
    if tuple(version[:2]) != RUNTIME_VERSION:
        have = ".".join(map(str, version[:2]))
        want = ".".join(map(str, RUNTIME_VERSION))
        raise PackageError(
            f"Python {have} would deploy the Lambda runtime python{have}: chalkboard is "
            f"pinned to {RUNTIME}. Run this command with Python {want} "
            f"(e.g. python{want} -m venv .venv && .venv/bin/pip install -r "
            f"requirements-dev.txt), see docs/deploy.md, Prerequisites.")


def missing_dependencies(output: str) -> list[str]:
    """The requirements Chalice said it left out of the zip (one per line after its warning)."""
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if MISSING_DEPENDENCY in line:
            names = []
            for rest in lines[index + 1:]:
                if not rest.strip() or rest.startswith("You will have to"):
                    break
                names.append(rest.strip())
            return names or ["(unnamed)"]
    return []


def run_chalice(arguments: list[str], *, cwd: Path = ROOT, timeout: float = 900) -> str:
    """Run chalice, echo its output, and fail on a non-zero exit or a missing dependency."""
    result = subprocess.run([str(CHALICE), *arguments], cwd=cwd, capture_output=True,
                            text=True, timeout=timeout, check=False)
    output = result.stdout + result.stderr
    sys.stdout.write(output)
    if result.returncode != 0:
        raise PackageError(f"chalice {arguments[0]} failed (exit {result.returncode})")
    missing = missing_dependencies(output)
    if missing:
        raise PackageError(
            f"the package lacks {', '.join(missing)}: no wheel for Lambda's {RUNTIME} "
            f"({ARCHITECTURE}, glibc 2.26). Pin a version that has a manylinux2014 or "
            "pure-Python wheel in requirements.txt (docs/deploy.md, The package).")
    return output


def add_bytecode(zip_path: Path) -> int:
    """Compile the zip's Python files into it as unchecked-hash ``.pyc``; how many.

    Chalice copies the app's folders as they are, ``__pycache__`` included: a developer's
    tree holds timestamp ``.pyc`` from running the app or its tests, stale against the
    1980 file times inside the zip, so every cold start would compile those modules from
    source after all. The zip is rewritten without any ``.pyc`` it came with first.
    """
    with tempfile.TemporaryDirectory() as scratch:
        tree, rewritten = Path(scratch) / "tree", Path(scratch) / "deployment.zip"
        with zipfile.ZipFile(zip_path) as archive, \
                zipfile.ZipFile(rewritten, "w", compression=zipfile.ZIP_DEFLATED) as out:
            for info in archive.infolist():
                if info.filename.endswith(".pyc"):
                    continue
                data = archive.read(info)
                out.writestr(info, data)
                target = tree / info.filename
                if not info.is_dir():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
            # A file that does not compile (a dependency's Python 2 example) keeps its source.
            compileall.compile_dir(tree, quiet=2, workers=0,
                                   invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
            compiled = sorted(tree.rglob("*.pyc"))
            for path in compiled:
                out.write(path, path.relative_to(tree).as_posix())
        shutil.move(rewritten, zip_path)
    return len(compiled)


def package(stage: str, out: Path, *, cwd: Path = ROOT, merge: bool = True,
            bytecode: bool = True) -> Path:
    """`chalice package` for ``stage`` into ``out``, checked; the zip's path."""
    check_runtime()
    arguments = ["package", "--stage", stage]
    if merge:
        arguments += ["--merge-template", f"infra/{stage}.json"]
    run_chalice([*arguments, str(out)], cwd=cwd)
    zip_path = out / "deployment.zip"
    with zipfile.ZipFile(zip_path) as archive:
        if "app.py" not in archive.namelist():
            raise PackageError(f"{zip_path} has no app.py")
    if bytecode:
        add_bytecode(zip_path)
    return zip_path


def describe(zip_path: Path) -> str:
    with zipfile.ZipFile(zip_path) as archive:
        unzipped = sum(info.file_size for info in archive.infolist())
    return (f"{zip_path}: {zip_path.stat().st_size / 1e6:.1f} MB zipped, "
            f"{unzipped / 1e6:.1f} MB unzipped ({RUNTIME}, {ARCHITECTURE})")


def main(argv: list[str] | None = None, *, deploy: bool = False) -> int:
    name = "deploy" if deploy else "package"
    parser = argparse.ArgumentParser(prog=f"python -m ops {name}",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True)
    if not deploy:
        parser.add_argument("out", nargs="?", default="build/package",
                            help="folder for deployment.zip and sam.json (default build/package)")
    args = parser.parse_args(argv)
    try:
        if deploy:
            with tempfile.TemporaryDirectory() as scratch:  # the same build chalice deploy reuses
                print(describe(package(args.stage, Path(scratch), merge=False,
                                       bytecode=False)))
            run_chalice(["deploy", "--stage", args.stage])
        else:
            print(describe(package(args.stage, Path(args.out).resolve())))
    except PackageError as error:
        print(f"ops {name}: {error}", file=sys.stderr)
        return 1
    return 0


def deploy_main(argv: list[str] | None = None) -> int:
    return main(argv, deploy=True)
