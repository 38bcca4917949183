"""The exported OpenAPI description matches the service, and documents itself."""

import json

from fastapi import FastAPI

from tests.conftest import REPO_ROOT

EXPORTED = REPO_ROOT / "openapi" / "openapi.json"


def test_exported_openapi_is_current(app: FastAPI) -> None:
    exported = json.loads(EXPORTED.read_text(encoding="utf-8"))

    assert exported == app.openapi(), (
        "openapi/openapi.json is stale: run `make openapi` and commit it"
    )


def test_openapi_is_version_3_1(app: FastAPI) -> None:
    assert app.openapi()["openapi"].startswith("3.1")


def test_every_api_operation_is_described(app: FastAPI) -> None:
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary") or operation.get("description"), (
                method,
                path,
            )
