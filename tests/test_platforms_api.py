"""The platform registration API and the LMS set-up answer."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.platforms.models import Deployment, Platform
from app.settings import Settings

# Canvas cloud's endpoints, from Instructure's "Configuring Canvas in the Tool"
# and the shapes in shared/lti/samples (the issuer of every hosted Canvas).
CANVAS = {
    "issuer": "https://canvas.instructure.com",
    "client_id": "10000000000002",
    "auth_login_url": "https://sso.canvaslms.com/api/lti/authorize_redirect",
    "auth_token_url": "https://sso.canvaslms.com/login/oauth2/token",
    "keyset_url": "https://sso.canvaslms.com/api/lti/security/jwks",
    "deployment_ids": ["7:d3a2504bba5184799a38f141e8df2335cfa8206d"],
    "name": "District Canvas",
    "product": "canvas",
}


def stored_counts(session: Session) -> tuple[int, int]:
    platforms = session.scalar(select(func.count()).select_from(Platform))
    deployments = session.scalar(select(func.count()).select_from(Deployment))
    return platforms or 0, deployments or 0


def test_create_then_read_a_platform(client: TestClient) -> None:
    created = client.post("/api/v1/platforms", json=CANVAS)

    assert created.status_code == 201
    body = created.json()
    assert body["issuer"] == "https://canvas.instructure.com"
    assert body["deployment_ids"] == ["7:d3a2504bba5184799a38f141e8df2335cfa8206d"]
    assert body["auth_audience"] is None
    assert created.headers["location"].endswith(f"/api/v1/platforms/{body['id']}")

    fetched = client.get(f"/api/v1/platforms/{body['id']}")
    listed = client.get("/api/v1/platforms")
    assert fetched.status_code == 200
    assert fetched.json() == body
    assert listed.json() == [body]


def test_registering_the_same_client_twice_is_a_conflict(
    client: TestClient, session: Session
) -> None:
    client.post("/api/v1/platforms", json=CANVAS)

    again = client.post(
        "/api/v1/platforms", json={**CANVAS, "deployment_ids": ["8:other"]}
    )

    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["code"] == "platform-exists"
    assert again.json()["field"] == "client_id"
    assert stored_counts(session) == (1, 1)


def test_a_bad_url_is_a_problem_naming_the_field(
    client: TestClient, session: Session
) -> None:
    response = client.post(
        "/api/v1/platforms", json={**CANVAS, "keyset_url": "sso.canvaslms.com/jwks"}
    )

    assert response.status_code == 422
    assert response.json()["field"] == "keyset_url"
    assert "keyset_url" in response.json()["detail"]
    assert stored_counts(session) == (0, 0)


def test_missing_deployments_and_unknown_products_are_rejected(
    client: TestClient, session: Session
) -> None:
    no_deployment = client.post(
        "/api/v1/platforms", json={**CANVAS, "deployment_ids": []}
    )
    bad_product = client.post("/api/v1/platforms", json={**CANVAS, "product": "sakai"})

    assert no_deployment.status_code == 422
    assert no_deployment.json()["field"] == "deployment_ids"
    assert bad_product.status_code == 422
    assert bad_product.json()["field"] == "product"
    assert stored_counts(session) == (0, 0)


def test_deployments_are_added_and_removed(client: TestClient) -> None:
    platform_id = client.post("/api/v1/platforms", json=CANVAS).json()["id"]
    deployments = f"/api/v1/platforms/{platform_id}/deployments"

    added = client.post(deployments, json={"deployment_id": "8:9f3c"})
    duplicate = client.post(deployments, json={"deployment_id": "8:9f3c"})
    removed = client.delete(f"{deployments}/7:d3a2504bba5184799a38f141e8df2335cfa8206d")
    last = client.delete(f"{deployments}/8:9f3c")

    assert added.status_code == 201
    assert added.json()["deployment_id"] == "8:9f3c"
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "deployment-exists"
    assert removed.status_code == 204
    assert last.status_code == 409
    assert last.json()["code"] == "last-deployment"
    remaining = client.get(f"/api/v1/platforms/{platform_id}").json()
    assert remaining["deployment_ids"] == ["8:9f3c"]


def test_patch_changes_urls_but_a_bad_one_changes_nothing(client: TestClient) -> None:
    platform_id = client.post("/api/v1/platforms", json=CANVAS).json()["id"]
    url = f"/api/v1/platforms/{platform_id}"

    patched = client.patch(url, json={"auth_audience": "https://sso.canvaslms.com"})
    refused = client.patch(url, json={"name": "Renamed", "auth_token_url": "token.php"})

    assert patched.status_code == 200
    assert patched.json()["auth_audience"] == "https://sso.canvaslms.com"
    assert refused.status_code == 422
    assert refused.json()["field"] == "auth_token_url"
    stored = client.get(url).json()
    assert stored["name"] == "District Canvas"
    assert stored["auth_token_url"] == CANVAS["auth_token_url"]


def test_delete_platform(client: TestClient, session: Session) -> None:
    platform_id = client.post("/api/v1/platforms", json=CANVAS).json()["id"]

    deleted = client.delete(f"/api/v1/platforms/{platform_id}")
    again = client.delete(f"/api/v1/platforms/{platform_id}")

    assert deleted.status_code == 204
    assert again.status_code == 404
    assert again.json()["code"] == "platform-not-found"
    assert stored_counts(session) == (0, 0)


def test_lms_setup_gives_the_tool_urls(client: TestClient, settings: Settings) -> None:
    response = client.get("/api/v1/lms-setup")

    assert response.status_code == 200
    body = response.json()
    base = f"http://127.0.0.1:{settings.port}"
    assert body["login_url"] == f"{base}/lti/login"
    assert body["launch_url"] == f"{base}/lti/launch"
    assert body["redirect_uris"] == [f"{base}/lti/launch"]
    assert body["jwks_url"] == f"{base}/lti/jwks"
    canvas = {f["label"]: f["value"] for f in body["canvas"]["fields"]}
    moodle = {f["label"]: f["value"] for f in body["moodle"]["fields"]}
    assert canvas["OpenID Connect Initiation Url"] == f"{base}/lti/login"
    assert canvas["Public JWK URL"] == f"{base}/lti/jwks"
    assert moodle["Initiate login URL"] == f"{base}/lti/login"
    assert moodle["Public keyset"] == f"{base}/lti/jwks"
    assert moodle["Redirection URI(s)"] == f"{base}/lti/launch"


def test_lms_setup_urls_are_served(client: TestClient) -> None:
    """The URLs handed to an LMS are routes this service answers."""
    urls = client.get("/api/v1/lms-setup").json()

    jwks = client.get(urlsplit(urls["jwks_url"]).path)
    # Bare posts without LTI parameters are refused, but by our routes.
    login = client.post(urlsplit(urls["login_url"]).path)
    launch = client.post(urlsplit(urls["launch_url"]).path)

    assert jwks.status_code == 200
    assert jwks.json()["keys"]
    assert login.status_code not in (404, 405)
    assert launch.status_code not in (404, 405)
