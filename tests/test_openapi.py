"""docs/openapi.yaml stays in step with the app's routes."""

from __future__ import annotations

from pathlib import Path

import yaml
from openapi_spec_validator import validate

from app import app

SPEC = yaml.safe_load((Path(__file__).parent.parent / "docs" / "openapi.yaml").read_text())


def spec_operations() -> dict[tuple[str, str], dict]:
    return {
        (path, method.upper()): operation
        for path, item in SPEC["paths"].items()
        for method, operation in item.items()
    }


def test_spec_is_valid_openapi() -> None:
    validate(SPEC)


def test_every_route_is_documented_and_nothing_else() -> None:
    routes = {(path, method) for path, methods in app.routes.items() for method in methods}
    assert routes == set(spec_operations())


def test_guarded_routes_declare_bearer_auth_and_401() -> None:
    for (path, method), operation in spec_operations().items():
        guarded = app.routes[path][method].authorizer is not None
        assert ("security" in operation) == guarded, (path, method)
        if guarded:
            assert "401" in operation["responses"], (path, method)


def test_every_operation_documents_the_503_of_an_unreachable_store() -> None:
    for key, operation in spec_operations().items():
        assert "503" in operation["responses"], key


def test_every_operation_with_a_body_documents_400_413_and_415() -> None:
    for key, operation in spec_operations().items():
        if "requestBody" in operation:
            assert {"400", "413", "415"} <= set(operation["responses"]), key
