"""The tool's signing key and the JWKS platforms fetch."""

from __future__ import annotations

import base64
import hashlib
import json

import jwt
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.keys.models import ToolKey
from app.keys.service import ensure_signing_key, public_jwks
from app.lti.paths import JWKS_PATH, WELL_KNOWN_JWKS_PATH


def _rfc7638_thumbprint(jwk: dict[str, str]) -> str:
    # RFC 7638 section 3.2: the required RSA members, lexicographic order, no
    # whitespace, SHA-256, base64url without padding.
    canonical = json.dumps(
        {"e": jwk["e"], "kty": jwk["kty"], "n": jwk["n"]},
        separators=(",", ":"),
        sort_keys=True,
    )
    digest = hashlib.sha256(canonical.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def test_the_key_is_made_once_and_named_by_its_thumbprint(session: Session) -> None:
    first = ensure_signing_key(session)
    second = ensure_signing_key(session)

    assert first.id == second.id
    assert session.execute(select(func.count()).select_from(ToolKey)).scalar() == 1
    assert first.kid == _rfc7638_thumbprint(first.public_jwk)
    assert first.public_jwk["kid"] == first.kid
    assert first.public_jwk["alg"] == "RS256" and first.public_jwk["use"] == "sig"
    # 2048-bit modulus: 256 bytes.
    modulus = base64.urlsafe_b64decode(first.public_jwk["n"] + "==")
    assert len(modulus) == 256


def test_the_jwks_holds_only_public_members(session: Session) -> None:
    key = ensure_signing_key(session)

    published = public_jwks(session)["keys"]

    assert key.kid in [jwk["kid"] for jwk in published]
    for jwk in published:
        assert set(jwk) == {"kty", "n", "e", "kid", "alg", "use"}


def test_what_the_private_key_signs_verifies_with_the_published_key(
    session: Session,
) -> None:
    key = ensure_signing_key(session)
    token = jwt.encode(
        {"iss": "tool"},
        key.private_key_pem,
        algorithm="RS256",
        headers={"kid": key.kid},
    )

    (jwk,) = [k for k in public_jwks(session)["keys"] if k["kid"] == key.kid]
    public = jwt.PyJWK(jwk).key

    assert jwt.decode(token, public, algorithms=["RS256"]) == {"iss": "tool"}


def test_both_jwks_urls_serve_the_same_keys_made_on_first_request(
    client: TestClient, session: Session
) -> None:
    lti = client.get(JWKS_PATH)
    well_known = client.get(WELL_KNOWN_JWKS_PATH)

    assert lti.status_code == well_known.status_code == 200
    assert lti.json() == well_known.json()
    published = lti.json()["keys"]
    assert ensure_signing_key(session).kid in [jwk["kid"] for jwk in published]
    assert all("d" not in jwk for jwk in published)
