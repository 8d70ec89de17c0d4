"""What is packaged is what runs: each stage's deployment.zip, unzipped, in a Lambda-like
interpreter, and the `python -m ops package` checks (pinned runtime, no missing wheel).

The interpreter is started with ``-I -S``: no site-packages, no PYTHONPATH, no current
folder. Its path is the unzipped tree, a folder holding only what the Lambda Python
runtime ships besides the standard library (boto3, botocore and their dependencies),
and the standard library. ``lambda_like.py`` imports and drives the app there.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path
from typing import Any

import pytest
from chalice.constants import MISSING_DEPENDENCIES_TEMPLATE

from ops import package
from tests.deploy.conftest import Packaged

# What the Lambda Python runtime provides besides the standard library.
LAMBDA_RUNTIME_MODULES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six",
                          "urllib3")
DRIVER = Path(__file__).with_name("lambda_like.py")
ROUTE_FAMILIES = {
    "POST /signup": 201, "POST /login": 200, "POST /me/passkeys/options": 200,
    "POST /login/passkey/options": 200, "POST /me/totp": 200, "POST /messages": 201,
    "GET /messages": 200, "GET /live/ticket": 200, "GET /live": 200, "live function URL": 200,
    "POST /login/totp": 401,  # a forged mfa_token: refused, and its INFO line logged
}


def lambda_runtime(folder: Path) -> Path:
    """A folder of links to the modules the Lambda runtime ships, and nothing else."""
    folder.mkdir(exist_ok=True)
    for name in LAMBDA_RUNTIME_MODULES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None, f"{name} is not installed"
        source = Path(spec.origin)
        source = source.parent if source.name == "__init__.py" else source
        (folder / source.name).symlink_to(source, target_is_directory=source.is_dir())
    return folder


@pytest.fixture(scope="module")
def in_lambda(packaged: Packaged, tmp_path_factory: pytest.TempPathFactory
              ) -> tuple[dict[str, Any], str, Path, Path]:
    """The driver's report and log (stderr) from this stage's unzipped package."""
    base = tmp_path_factory.mktemp(f"lambda-{packaged.stage}")
    tree, data = base / "task", base / "data"
    with zipfile.ZipFile(packaged.zip_path) as archive:
        archive.extractall(tree)
    data.mkdir()
    runtime = lambda_runtime(base / "runtime")
    # -B: Lambda's /var/task is read-only, nothing is compiled and cached on the way.
    result = subprocess.run([sys.executable, "-I", "-S", "-B", str(DRIVER), str(tree), str(runtime),
                             str(data)], capture_output=True, text=True, timeout=120, cwd=base,
                            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    assert result.returncode == 0, f"the package failed in Lambda:\n{result.stderr[-4000:]}"
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return report, result.stdout + result.stderr, tree, runtime


def test_the_zip_serves_every_route_family_from_the_unzipped_tree(in_lambda: Any) -> None:
    report, _, _, _ = in_lambda
    assert report["answers"] == ROUTE_FAMILIES
    assert report["passkey_challenge"] is True
    assert report["totp_uri"].startswith("otpauth://totp/")
    assert report["board"] == ["hello from the zip"]
    # the live function (issue 26) and the API's GET /live give the ticket holder the board
    assert report["live"] == [["hello from the zip"], ["hello from the zip"]]
    assert report["live_cache_control"] == "no-store"
    assert report["dont_write_bytecode"] is True


def test_everything_imported_came_from_the_zip_the_runtime_or_the_standard_library(
    in_lambda: Any,
) -> None:
    report, _, tree, runtime = in_lambda
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    allowed = (tree.resolve(), runtime.resolve(), stdlib)
    assert not [entry for entry in report["sys_path"] if "site-packages" in entry]
    driver = {"__main__", "__mp_main__"}  # lambda_like.py itself
    outside = {name: origin for name, origin in report["modules"].items()
               if origin and name not in driver
               and not any(Path(origin).resolve().is_relative_to(root) for root in allowed)
               and not Path(origin).is_relative_to(runtime)}
    assert outside == {}
    # Every third-party module app and chalicelib import (lazily too) was imported.
    assert set(report["third_party"]) <= set(report["modules"])
    assert {"webauthn", "cbor2", "pyotp", "jwt", "segno", "argon2"} <= set(report["modules"])
    assert Path(report["modules"]["cbor2"]).is_relative_to(tree)
    assert any(name.startswith("chalicelib.store.") for name in report["modules"])


def test_chalicelib_info_lines_reach_the_log_under_lambdas_logging_defaults(
    in_lambda: Any,
) -> None:
    """Lambda's root logger stays at WARNING: the app's INFO lines must pass anyway."""
    _, log, _, _ = in_lambda
    assert "[INFO] chalicelib.signin: mfa_token refused" in log
    assert '"event":"request"' in log  # the structured request lines (stdout)
    # one structured line per authentication decision: the wrong password's
    assert '"event":"auth","type":"login","outcome":"failure"' in log


def test_the_zip_carries_bytecode_so_no_cold_start_compiles(packaged: Packaged) -> None:
    """/var/task is read-only: ops package compiles every module into the zip as an
    unchecked-hash .pyc (valid whatever the unzipped files' times), in place of the
    timestamp .pyc Chalice packs from a developer's tree (stale against the zip's 1980
    times, so each cold start would compile those modules after all)."""
    import importlib.util

    with zipfile.ZipFile(packaged.zip_path) as archive:
        names = archive.namelist()
        ours = [n for n in names if n.endswith(".py") and (n == "app.py" or n.startswith(
            ("chalicelib/", "webauthn/", "cbor2/", "jwt/")))]
        assert len(ours) > 20
        for name in ours:
            assert importlib.util.cache_from_source(name) in names, name
        headers = {name: archive.read(name)[:8] for name in names if name.endswith(".pyc")}
    assert len(names) == len(set(names)), "each file once: no second .pyc beside Chalice's"
    stale = sorted(name for name, header in headers.items()
                   if header[:4] != importlib.util.MAGIC_NUMBER
                   or int.from_bytes(header[4:8], "little") != 0b01)  # hash-based, unchecked
    assert stale == []


def test_the_guides_zip_size_is_the_measured_one(packaged: Packaged) -> None:
    import re

    from ops.deploy_doc import DOC

    match = re.search(r"deployment\.zip is about ([0-9.]+) MB \(([0-9.]+) MB unzipped\)",
                      DOC.read_text())
    assert match, "docs/deploy.md states the zip's size"
    with zipfile.ZipFile(packaged.zip_path) as archive:
        unzipped = sum(info.file_size for info in archive.infolist()) / 1e6
    zipped = packaged.zip_path.stat().st_size / 1e6
    assert abs(float(match[1]) - zipped) <= 0.1 * zipped
    assert abs(float(match[2]) - unzipped) <= 0.1 * unzipped


def test_every_function_runs_the_pinned_runtime_and_architecture(packaged: Packaged) -> None:
    functions = packaged.of_type("AWS::Lambda::Function")
    assert len(functions) >= 2
    for function in functions.values():
        assert function["Properties"]["Runtime"] == package.RUNTIME
        assert function["Properties"].get("Architectures") == [package.ARCHITECTURE]
    assert sys.version_info[:2] == package.RUNTIME_VERSION  # this test packaged with it


def test_another_python_is_refused_before_packaging() -> None:
    package.check_runtime(package.RUNTIME_VERSION)
    with pytest.raises(package.PackageError, match=r"pinned to python3\.11.*Python 3\.11"):
        package.check_runtime((3, 12, 1))


def fake_chalice(tmp_path: Path, output: str, status: int = 0) -> Path:
    script = tmp_path / "chalice"
    script.write_text(f"#!{sys.executable}\nimport sys\nsys.stdout.write({output!r})\n"
                      f"sys.exit({status})\n")
    script.chmod(0o755)
    return script


def test_chalices_missing_dependency_warning_fails_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    warning = MISSING_DEPENDENCIES_TEMPLATE % "\n".join(["cbor2==6.3.0", "other==1.0"])
    assert package.missing_dependencies("Creating deployment package.\n" + warning) == \
        ["cbor2==6.3.0", "other==1.0"]
    monkeypatch.setattr(package, "CHALICE", fake_chalice(tmp_path, warning))
    assert package.main(["--stage", "dev", str(tmp_path / "out")]) == 1
    assert "lacks cbor2==6.3.0, other==1.0" in capsys.readouterr().err


def test_a_failing_chalice_fails_the_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(package, "CHALICE", fake_chalice(tmp_path, "boom\n", status=2))
    assert package.main(["--stage", "dev", str(tmp_path / "out")]) == 1
    assert "chalice package failed (exit 2)" in capsys.readouterr().err
