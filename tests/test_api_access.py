"""Nothing under /api answers without a token; the anonymous surface is small."""

import re
import uuid

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import bearer_token_for

# Health, the public JWKS, the LTI protocol endpoints and pages (which carry
# their own launch session), the token endpoint and the API documentation.
# CASE read endpoints answer anonymously for public frameworks only; private
# ones answer 401 (tests/test_case_publish.py).
ANONYMOUS_PREFIXES = (
    "/healthz",
    "/readyz",
    "/metrics",
    "/lti/",
    "/.well-known/",
    "/ims/case/",
)
ANONYMOUS_PATHS = {"/oauth/token", "/openapi.json", "/docs", "/redoc"}
# Guarded like /api though outside it: the xAPI statement resource.
GUARDED_PREFIXES = ("/api/", "/xapi/")


def _documented_routes(app: FastAPI) -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    ]


def _api_routes(app: FastAPI) -> list[tuple[str, str]]:
    return [
        (m, p) for m, p in _documented_routes(app) if p.startswith(GUARDED_PREFIXES)
    ]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)


def test_every_api_route_refuses_a_request_without_a_token(
    app: FastAPI, anonymous_client: TestClient
) -> None:
    routes = _api_routes(app)
    assert len(routes) > 10

    for method, path in routes:
        response = anonymous_client.request(method, _concrete(path), json={})

        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["code"] == "authentication-required"
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_every_api_route_refuses_a_token_without_its_scope(
    app: FastAPI, anonymous_client: TestClient
) -> None:
    # A client holding only an unrelated read scope: every route but the
    # frameworks reads needs something else.
    token = bearer_token_for(app, scopes=["frameworks:read"])
    headers = {"Authorization": f"Bearer {token}"}

    for method, path in _api_routes(app):
        if method == "GET" and (
            path.startswith(
                ("/api/v1/frameworks", "/api/v1/crosswalks", "/api/v1/case")
            )
            or path.startswith("/api/v1/competencies")
            # An organization's mastery policy is read like a framework's.
            or path == "/api/v1/organizations/{organization_id}/mastery-policy"
        ):
            continue
        response = anonymous_client.request(
            method, _concrete(path), json={}, headers=headers
        )

        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["code"] == "insufficient-scope"


def test_only_the_documented_endpoints_answer_anonymously(app: FastAPI) -> None:
    anonymous = {
        path
        for _, path in _documented_routes(app)
        if not path.startswith(GUARDED_PREFIXES)
    }

    unexpected = {
        path
        for path in anonymous
        if path not in ANONYMOUS_PATHS and not path.startswith(ANONYMOUS_PREFIXES)
    }
    assert unexpected == set()
