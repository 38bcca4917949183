"""The tool's signing keys: made on first use, published as a JWKS.

Platforms verify what the tool signs (client assertions, deep-linking
responses) against the keys served at the JWKS URL; each key's `kid` is its
RFC 7638 thumbprint, so the same key always has the same name.
"""

from __future__ import annotations

import json
from typing import Any

import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.keys.models import ToolKey

log = structlog.get_logger()

CURRENT = "current"
# Keys still published so that what they signed keeps verifying.
PUBLISHED_STATUSES = (CURRENT, "next", "previous")
RSA_KEY_BITS = 2048


def current_signing_key(session: Session) -> ToolKey | None:
    statement = (
        select(ToolKey)
        .where(ToolKey.status == CURRENT)
        .order_by(ToolKey.created_at, ToolKey.kid)
        .limit(1)
    )
    return session.scalars(statement).first()


def ensure_signing_key(session: Session) -> ToolKey:
    """The current signing key, creating and committing one if there is none."""
    existing = current_signing_key(session)
    if existing is not None:
        return existing

    key = _new_tool_key()
    session.add(key)
    try:
        session.commit()
    except IntegrityError:
        # Another worker made a key in the same instant; use the stored one.
        session.rollback()
        stored = current_signing_key(session)
        if stored is None:
            raise
        return stored
    log.info("tool_key.created", kid=key.kid)
    return key


def public_jwks(session: Session) -> dict[str, Any]:
    """The JWKS document platforms fetch: public halves only."""
    ensure_signing_key(session)
    statement = (
        select(ToolKey)
        .where(ToolKey.status.in_(PUBLISHED_STATUSES))
        .order_by(ToolKey.created_at, ToolKey.kid)
    )
    return {"keys": [dict(key.public_jwk) for key in session.scalars(statement)]}


def _new_tool_key() -> ToolKey:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)
    # TODO: encrypt private keys at rest with a key from the environment
    private_pem = private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    ).decode("ascii")
    public_jwk = json.loads(JWK.from_pem(private_pem.encode("ascii")).export_public())
    kid = JWK(**public_jwk).thumbprint()
    public_jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return ToolKey(
        kid=kid, status=CURRENT, private_key_pem=private_pem, public_jwk=public_jwk
    )
