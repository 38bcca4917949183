"""OAuth 2 client credentials (RFC 6749 §4.4) and Bearer-token scope checks."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth import service
from app.auth.dependencies import require_scopes, token_audience, token_issuer
from app.auth.models import ApiClient
from app.auth.service import AuthenticatedClient, CreatedClient
from app.database import utcnow
from app.keys.service import ensure_signing_key
from app.organizations.models import Organization
from app.organizations.service import get_default_organization_id
from app.settings import Settings

TOKEN_URL = "/oauth/token"
GRANT = {"grant_type": "client_credentials"}


def caller_body(caller: AuthenticatedClient) -> dict[str, Any]:
    return {
        "client_id": caller.client_id,
        "organization_id": str(caller.organization_id),
        "scopes": sorted(caller.scopes),
    }


@pytest.fixture
def api(app: FastAPI, anonymous_client: TestClient) -> TestClient:
    """The client, with routes guarded the two ways other domains guard theirs."""
    per_route = APIRouter(prefix="/guarded")

    @per_route.get("/evidence")
    def read_evidence(
        caller: AuthenticatedClient = Depends(require_scopes("evidence:read")),
    ) -> dict[str, Any]:
        return caller_body(caller)

    per_router = APIRouter(
        prefix="/guarded", dependencies=[Depends(require_scopes("reports:read"))]
    )

    @per_router.get("/reports")
    def read_reports(
        caller: AuthenticatedClient = Depends(require_scopes()),
    ) -> dict[str, Any]:
        return caller_body(caller)

    app.include_router(per_route)
    app.include_router(per_router)
    return anonymous_client


def register(
    session: Session, *, scopes: str, name: str = "District SIS"
) -> CreatedClient:
    created = service.create_client(
        session, name=name, scopes=service.split_scopes(scopes)
    )
    session.commit()
    return created


def request_token(
    api: TestClient,
    created: CreatedClient,
    *,
    scope: str | None = None,
    basic: bool = True,
) -> Any:
    form = dict(GRANT)
    if scope is not None:
        form["scope"] = scope
    if basic:
        return api.post(
            TOKEN_URL,
            data=form,
            auth=(created.client.client_id, created.client_secret),
        )
    form["client_id"] = created.client.client_id
    form["client_secret"] = created.client_secret
    return api.post(TOKEN_URL, data=form)


def access_token(api: TestClient, created: CreatedClient, **kwargs: Any) -> str:
    response = request_token(api, created, **kwargs)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def jws_part(token: str, index: int) -> dict[str, Any]:
    segment = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def b64url(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def assert_token_error(response: Any, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert response.json()["error_description"]
    assert response.headers["cache-control"] == "no-store"


def assert_invalid_token(response: Any, reason: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid-token"
    assert reason in response.json()["detail"]
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="invalid_token"' in challenge


def test_basic_authentication_grants_every_scope_of_the_client(
    api: TestClient, session: Session, settings: Settings
) -> None:
    created = register(session, scopes="reports:read evidence:read")

    response = request_token(api, created)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == settings.api_token_ttl_seconds == 900
    # Documented order of the scope set, whatever order they were given in.
    assert body["scope"] == "evidence:read reports:read"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"

    header, claims = (
        jws_part(body["access_token"], 0),
        jws_part(body["access_token"], 1),
    )
    # RFC 9068 §2.1 and §2.2: typ at+jwt, and the claims it requires.
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "RS256"
    assert claims["iss"] == settings.public_url
    assert claims["aud"] == settings.public_url + "/api"
    assert claims["sub"] == claims["client_id"] == created.client.client_id
    assert claims["exp"] - claims["iat"] == 900
    assert claims["jti"]

    guarded = api.get("/guarded/reports", headers=bearer(body["access_token"]))
    assert guarded.status_code == 200, guarded.text
    assert guarded.json() == {
        "client_id": created.client.client_id,
        "organization_id": str(get_default_organization_id(session)),
        "scopes": ["evidence:read", "reports:read"],
    }


def test_form_authentication_grants_a_working_token(
    api: TestClient, session: Session
) -> None:
    created = register(session, scopes="evidence:read")

    token = access_token(api, created, basic=False)

    guarded = api.get("/guarded/evidence", headers=bearer(token))
    assert guarded.status_code == 200, guarded.text
    assert guarded.json()["client_id"] == created.client.client_id


def test_basic_credentials_are_form_decoded(api: TestClient, session: Session) -> None:
    created = register(session, scopes="evidence:read")
    # RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding;
    # percent-encoding every character of the id is a valid such encoding.
    encoded_id = "".join(f"%{ord(char):02X}" for char in created.client.client_id)
    pair = f"{encoded_id}:{created.client_secret}".encode()

    response = api.post(
        TOKEN_URL,
        data=GRANT,
        headers={"Authorization": "Basic " + base64.b64encode(pair).decode()},
    )

    assert response.status_code == 200, response.text


def test_a_narrowed_scope_is_all_the_token_carries(
    api: TestClient, session: Session
) -> None:
    created = register(session, scopes="evidence:read reports:read")

    response = request_token(api, created, scope="evidence:read")

    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "evidence:read"
    token = response.json()["access_token"]
    assert api.get("/guarded/evidence", headers=bearer(token)).status_code == 200
    refused = api.get("/guarded/reports", headers=bearer(token))
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "insufficient-scope"
    assert "reports:read" in refused.json()["detail"]
    assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]
    assert 'scope="reports:read"' in refused.headers["www-authenticate"]


def test_admin_implies_every_scope(api: TestClient, session: Session) -> None:
    created = register(session, scopes="admin")

    narrowed = request_token(api, created, scope="people:read reports:read")
    token = access_token(api, created)

    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()["scope"] == "reports:read people:read"
    assert api.get("/guarded/evidence", headers=bearer(token)).status_code == 200
    assert api.get("/guarded/reports", headers=bearer(token)).status_code == 200


@pytest.mark.parametrize(
    ("scope", "named"),
    [("reports:read", "reports:read"), ("evidence:read grades:write", "grades:write")],
)
def test_a_scope_the_client_lacks_is_invalid_scope(
    api: TestClient, session: Session, scope: str, named: str
) -> None:
    created = register(session, scopes="evidence:read")

    response = request_token(api, created, scope=scope)

    assert_token_error(response, 400, "invalid_scope")
    assert named in response.json()["error_description"]


@pytest.mark.parametrize("basic", [True, False])
def test_a_wrong_secret_is_invalid_client(
    api: TestClient, session: Session, basic: bool
) -> None:
    created = register(session, scopes="evidence:read")
    wrong = CreatedClient(client=created.client, client_secret="x" * 43)

    response = request_token(api, wrong, basic=basic)

    assert_token_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"] == 'Basic realm="standards-bridge"'


def test_an_unknown_client_is_invalid_client(api: TestClient) -> None:
    response = api.post(TOKEN_URL, data=GRANT, auth=("no-such-client", "secret"))

    assert_token_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic ")


def test_missing_client_authentication_is_invalid_client(api: TestClient) -> None:
    response = api.post(TOKEN_URL, data=GRANT)

    assert_token_error(response, 401, "invalid_client")


def test_a_revoked_client_loses_its_tokens_and_gets_no_more(
    api: TestClient, session: Session
) -> None:
    admin = register(session, scopes="admin", name="State office")
    sis = register(session, scopes="evidence:read")
    sis_token = access_token(api, sis)
    assert api.get("/guarded/evidence", headers=bearer(sis_token)).status_code == 200

    revoked = api.delete(
        f"/api/v1/clients/{sis.client.client_id}",
        headers=bearer(access_token(api, admin)),
    )

    assert revoked.status_code == 204, revoked.text
    assert_invalid_token(
        api.get("/guarded/evidence", headers=bearer(sis_token)), "revoked"
    )
    assert_token_error(request_token(api, sis), 401, "invalid_client")


def test_an_expired_token_is_refused(
    api: TestClient, session: Session, settings: Settings
) -> None:
    created = register(session, scopes="evidence:read")
    ttl = settings.api_token_ttl_seconds
    # Issued two lifetimes ago, so it expired one lifetime ago.
    issued = service.issue_access_token(
        session,
        client=created.client,
        scopes=("evidence:read",),
        issuer=token_issuer(settings),
        audience=token_audience(settings),
        ttl_seconds=ttl,
        now=utcnow() - timedelta(seconds=2 * ttl),
    )
    session.commit()

    response = api.get("/guarded/evidence", headers=bearer(issued.access_token))

    assert_invalid_token(response, "expired")


def test_a_tampered_token_is_refused(api: TestClient, session: Session) -> None:
    created = register(session, scopes="evidence:read")
    token = access_token(api, created)
    header, _payload, signature = token.split(".")
    claims = jws_part(token, 1)
    claims["scope"] = "admin"

    forged = ".".join([header, b64url(claims), signature])
    unsigned = ".".join([b64url({"alg": "none", "typ": "at+jwt"}), b64url(claims), ""])

    for token in (forged, unsigned):
        response = api.get("/guarded/reports", headers=bearer(token))
        assert_invalid_token(response, "not ours")


def test_a_token_signed_by_another_key_is_refused(
    api: TestClient, session: Session, settings: Settings
) -> None:
    created = register(session, scopes="evidence:read")
    tool_key = ensure_signing_key(session)
    session.commit()
    impostor = RSAKey.generate_key(2048)
    claims = jws_part(access_token(api, created), 1)

    forged = jwt.encode(
        {"alg": "RS256", "typ": "at+jwt", "kid": tool_key.kid}, claims, impostor
    )

    assert_invalid_token(
        api.get("/guarded/evidence", headers=bearer(forged)), "not ours"
    )


def test_other_jwts_signed_by_the_tool_are_not_access_tokens(
    api: TestClient, session: Session
) -> None:
    created = register(session, scopes="evidence:read")
    claims = jws_part(access_token(api, created), 1)
    tool_key = ensure_signing_key(session)
    session.commit()
    # What the tool signs for an LMS (client assertions) has typ JWT.
    plain_jwt = jwt.encode(
        {"alg": "RS256", "typ": "JWT", "kid": tool_key.kid},
        claims,
        RSAKey.import_key(tool_key.private_key_pem),
    )

    response = api.get("/guarded/evidence", headers=bearer(plain_jwt))

    assert_invalid_token(response, "not an access token")


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Basic YTpi"}, {"Authorization": "Bearer "}]
)
def test_a_request_without_a_bearer_token_gets_the_bare_challenge(
    api: TestClient, headers: dict[str, str]
) -> None:
    response = api.get("/guarded/evidence", headers=headers)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "authentication-required"
    # RFC 6750 §3.1: no error code when no credentials were sent.
    assert response.headers["www-authenticate"] == 'Bearer realm="standards-bridge"'


def test_garbage_in_the_bearer_token_is_invalid_token(api: TestClient) -> None:
    response = api.get("/guarded/evidence", headers=bearer("not-a-jwt"))

    assert_invalid_token(response, "malformed")


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({}, "invalid_request"),
        (
            {"grant_type": ["client_credentials", "client_credentials"]},
            "invalid_request",
        ),
    ],
)
def test_malformed_token_requests(
    api: TestClient, session: Session, form: dict[str, Any], error: str
) -> None:
    created = register(session, scopes="evidence:read")

    response = api.post(
        TOKEN_URL,
        data=form,
        auth=(created.client.client_id, created.client_secret),
    )

    assert_token_error(response, 400, error)


def test_a_json_token_request_is_invalid_request(
    api: TestClient, session: Session
) -> None:
    created = register(session, scopes="evidence:read")

    response = api.post(
        TOKEN_URL,
        json=GRANT,
        auth=(created.client.client_id, created.client_secret),
    )

    assert_token_error(response, 400, "invalid_request")
    assert "application/x-www-form-urlencoded" in response.json()["error_description"]


def test_two_authentication_methods_at_once_is_invalid_request(
    api: TestClient, session: Session
) -> None:
    created = register(session, scopes="evidence:read")

    response = api.post(
        TOKEN_URL,
        data={**GRANT, "client_secret": created.client_secret},
        auth=(created.client.client_id, created.client_secret),
    )

    assert_token_error(response, 400, "invalid_request")


def test_the_secret_is_stored_only_as_a_salted_hash(session: Session) -> None:
    first = register(session, scopes="evidence:read")
    second = register(session, scopes="evidence:read", name="Second")

    row = session.execute(
        select(ApiClient.__table__).where(ApiClient.client_id == first.client.client_id)
    ).one()

    assert all(first.client_secret not in str(value) for value in row)
    assert row.secret_hash.startswith("hmac-sha256$")
    assert service.secret_matches(
        secret=first.client_secret, stored_hash=row.secret_hash
    )
    assert not service.secret_matches(
        secret=second.client_secret, stored_hash=row.secret_hash
    )
    # Same secret, different salt, different hash.
    assert service.hash_secret(first.client_secret) != row.secret_hash


def test_admins_manage_clients_over_the_api(api: TestClient, session: Session) -> None:
    admin_token = access_token(api, register(session, scopes="admin", name="State"))

    created = api.post(
        "/api/v1/clients",
        json={"name": "  Gradebook sync ", "scopes": ["evidence:write", "people:read"]},
        headers=bearer(admin_token),
    )

    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    body = created.json()
    assert body["name"] == "Gradebook sync"
    assert body["scopes"] == ["evidence:write", "people:read"]
    assert body["organization_id"] == str(get_default_organization_id(session))
    assert body["revoked_at"] is None
    sis = CreatedClient(
        client=service.get_client(session, client_id=body["client_id"]),
        client_secret=body["client_secret"],
    )
    assert request_token(api, sis).json()["scope"] == "evidence:write people:read"

    listed = api.get("/api/v1/clients", headers=bearer(admin_token))
    assert listed.status_code == 200
    assert [c["name"] for c in listed.json()] == ["State", "Gradebook sync"]
    assert all("client_secret" not in c for c in listed.json())
    assert body["client_secret"] not in listed.text

    revoked = api.delete(
        f"/api/v1/clients/{body['client_id']}", headers=bearer(admin_token)
    )
    assert revoked.status_code == 204
    listed = api.get("/api/v1/clients", headers=bearer(admin_token)).json()
    assert listed[1]["revoked_at"] is not None


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        (
            {"name": "SIS", "scopes": ["evidence:read", "grades:write"]},
            "unknown-scope",
            "scopes",
        ),
        ({"name": "SIS", "scopes": []}, "missing-scope", "scopes"),
        ({"name": "   ", "scopes": ["evidence:read"]}, "invalid-client-name", "name"),
    ],
)
def test_bad_client_registrations_store_nothing(
    api: TestClient, session: Session, payload: dict[str, Any], code: str, field: str
) -> None:
    admin_token = access_token(api, register(session, scopes="admin"))

    response = api.post("/api/v1/clients", json=payload, headers=bearer(admin_token))

    assert response.status_code == 422, response.text
    assert response.json()["code"] == code
    assert response.json()["field"] == field
    session.rollback()
    assert session.scalar(select(func.count()).select_from(ApiClient)) == 1


def test_revoking_an_unknown_client_is_404(api: TestClient, session: Session) -> None:
    admin_token = access_token(api, register(session, scopes="admin"))

    response = api.delete("/api/v1/clients/no-such-client", headers=bearer(admin_token))

    assert response.status_code == 404
    assert response.json()["code"] == "api-client-not-found"
    assert "no-such-client" in response.json()["detail"]


def test_another_organizations_clients_are_out_of_reach(
    api: TestClient, session: Session
) -> None:
    district = Organization(slug="district-7", name="District 7", kind="district")
    session.add(district)
    session.flush()
    theirs = service.create_client(
        session, name="District SIS", scopes=["admin"], organization_id=district.id
    )
    session.commit()
    admin_token = access_token(api, register(session, scopes="admin"))

    listed = api.get("/api/v1/clients", headers=bearer(admin_token)).json()
    revoked = api.delete(
        f"/api/v1/clients/{theirs.client.client_id}", headers=bearer(admin_token)
    )

    assert theirs.client.client_id not in [c["client_id"] for c in listed]
    assert revoked.status_code == 404
    session.refresh(theirs.client)
    assert theirs.client.revoked_at is None


def test_managing_clients_needs_the_admin_scope(
    api: TestClient, session: Session
) -> None:
    token = access_token(api, register(session, scopes="evidence:read people:write"))

    response = api.get("/api/v1/clients", headers=bearer(token))

    assert response.status_code == 403
    assert "admin" in response.json()["detail"]


def test_require_scopes_refuses_unknown_scopes_when_declared() -> None:
    with pytest.raises(ValueError, match="grades:write"):
        require_scopes("grades:write")
