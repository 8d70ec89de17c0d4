"""Fixtures for the deploy tests: packaged templates per stage, and moto's AWS.

``chalice package`` runs once per stage per session, on a copy of the project in
a temporary folder (it caches vendored wheels under ``.chalice/deployments``,
which must not appear in the repository), with dummy credentials: no AWS call
is made. The SAM transform that CloudFormation would run is run here too, with
AWS's own translator, so the assertions see what API Gateway would get.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ops.stage import ROOT
from tests.helpers import DUMMY_AWS

STAGES = ["dev", "prod"]
# A web origin and API origin as a deployer would have them.
EXAMPLE_WEB_ORIGIN = "https://d111111abcdef8.cloudfront.net"
HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)  # before -m selects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is a ``deploy`` test, including ones added later."""
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.deploy)


def aws_env() -> dict[str, str]:
    """This process's environment without real AWS settings, plus dummy credentials."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("AWS_", "CHALKBOARD_"))}
    return {**env, **DUMMY_AWS, "AWS_REGION": DUMMY_AWS["AWS_DEFAULT_REGION"]}


def copy_project(target: Path) -> Path:
    """The files `chalice package` reads, and nothing else (no .venv, no data)."""
    for name in ("app.py", "requirements.txt"):
        shutil.copy2(ROOT / name, target / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "deployments", "deployed")
    for folder in ("chalicelib", ".chalice", "infra"):
        shutil.copytree(ROOT / folder, target / folder, ignore=ignore)
    return target


# Chalice keeps each built dependency set in <project>/.chalice/deployments, named by a
# hash of requirements.txt and the runtime: kept here between runs, a re-run downloads
# nothing from PyPI (a changed requirements.txt makes a new name, never a stale hit).
WHEEL_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / \
    "chalkboard" / "chalice-deployments"


def chalice_package(project: Path, stage: str, out: Path, merge: bool = True) -> dict[str, Any]:
    """`python -m ops package`'s packaging (it fails on a missing dependency), in ``project``."""
    from ops import package

    deployments = project / ".chalice" / "deployments"
    if WHEEL_CACHE.is_dir():
        shutil.copytree(WHEEL_CACHE, deployments, dirs_exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith(("AWS_", "CHALKBOARD_"))]:
            patch.delenv(name)
        for name, value in aws_env().items():
            patch.setenv(name, value)
        try:
            package.package(stage, out, cwd=project, merge=merge)
        except package.PackageError as error:
            pytest.fail(f"python -m ops package --stage {stage}: {error}")
    if deployments.is_dir():  # each file renamed into place: a parallel run never reads half
        WHEEL_CACHE.mkdir(parents=True, exist_ok=True)
        for built in deployments.iterdir():
            if built.is_file() and not (WHEEL_CACHE / built.name).exists():
                partial = WHEEL_CACHE / f".{built.name}.{os.getpid()}"
                shutil.copy2(built, partial)
                os.replace(partial, WHEEL_CACHE / built.name)
    return json.loads((out / "sam.json").read_text())


def sam_transform(template: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's AWS::Serverless transform, run locally by AWS's own translator.

    CodeUri is rewritten to an S3 URL first, as `aws cloudformation package` does.
    """
    from samtranslator.translator.transform import transform

    template = json.loads(json.dumps(template))
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://deploy-bucket/deployment.zip"

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", DUMMY_AWS["AWS_DEFAULT_REGION"])
        return transform(template, {}, NoManagedPolicies())


@dataclass(frozen=True)
class Packaged:
    stage: str
    path: Path  # sam.json as chalice wrote it
    template: dict[str, Any]  # sam.json
    cloudformation: dict[str, Any]  # after the SAM transform

    @property
    def resources(self) -> dict[str, Any]:
        return self.cloudformation["Resources"]

    def of_type(self, kind: str) -> dict[str, Any]:
        return {name: r for name, r in self.resources.items() if r["Type"] == kind}

    @property
    def zip_path(self) -> Path:
        """deployment.zip, beside sam.json."""
        return self.path.parent / "deployment.zip"

    @property
    def swagger(self) -> dict[str, Any]:
        return self.resources["RestAPI"]["Properties"]["Body"]


@pytest.fixture(scope="session")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project as a developer's tree is once the app or its tests have run: with
    timestamp ``.pyc`` files in ``__pycache__`` beside the sources (Chalice packs them)."""
    import compileall

    project = copy_project(tmp_path_factory.mktemp("project"))
    compileall.compile_dir(project / "chalicelib", quiet=2)
    compileall.compile_file(project / "app.py", quiet=2)
    return project


_packaged: dict[str, Packaged] = {}


@pytest.fixture(scope="session", params=STAGES)
def packaged(request: pytest.FixtureRequest, project_copy: Path,
             tmp_path_factory: pytest.TempPathFactory) -> Packaged:
    """`chalice package --stage <stage> --merge-template infra/<stage>.json`, once per stage."""
    stage = request.param
    if stage not in _packaged:
        out = tmp_path_factory.mktemp(f"package-{stage}")
        template = chalice_package(project_copy, stage, out)
        _packaged[stage] = Packaged(stage, out / "sam.json", template, sam_transform(template))
    return _packaged[stage]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A boto3 session talking to moto's in-memory AWS (no network, no real account)."""
    import boto3
    from moto import mock_aws

    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in DUMMY_AWS.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.session.Session(region_name=DUMMY_AWS["AWS_DEFAULT_REGION"])
