"""The tool's signing keys: made on first use, rotated on demand, published.

Platforms verify what the tool signs (client assertions, deep-linking
responses, API access tokens) against the keys served at the JWKS URL; each
key's `kid` is its RFC 7638 thumbprint, so the same key always has the same
name.

Rotation is staged so that no verifier meets an unknown key: the "next" key
is published alongside the "current" one before it ever signs, and a retired
key stays published for `RETIRED_KEY_GRACE` so what it signed still verifies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.database import utcnow
from app.keys.models import ToolKey

log = structlog.get_logger()

CURRENT = "current"
NEXT = "next"
RETIRED = "retired"
RSA_KEY_BITS = 2048
# Longer than the longest API access token (24 h) and any platform's JWKS
# cache, so nothing a retired key signed outlives its publication.
RETIRED_KEY_GRACE = timedelta(hours=48)


@dataclass(frozen=True)
class Rotation:
    retired: ToolKey
    current: ToolKey
    next: ToolKey


def current_signing_key(session: Session) -> ToolKey | None:
    return _oldest_with_status(session, CURRENT)


def next_signing_key(session: Session) -> ToolKey | None:
    return _oldest_with_status(session, NEXT)


def ensure_signing_key(session: Session) -> ToolKey:
    """The current signing key, creating and committing one if there is none."""
    return _ensure_key(session, CURRENT)


def public_jwks(session: Session) -> dict[str, Any]:
    """The JWKS document: current, next and recently retired keys, public halves.

    Publishing makes the next key too, so platforms have seen it before the
    rotation that makes it sign.
    """
    ensure_signing_key(session)
    _ensure_key(session, NEXT)
    retired_since = utcnow() - RETIRED_KEY_GRACE
    statement = (
        select(ToolKey)
        .where(
            or_(
                ToolKey.status.in_((CURRENT, NEXT)),
                and_(ToolKey.status == RETIRED, ToolKey.retired_at >= retired_since),
            )
        )
        .order_by(ToolKey.created_at, ToolKey.kid)
    )
    return {"keys": [dict(key.public_jwk) for key in session.scalars(statement)]}


def list_keys(session: Session) -> list[ToolKey]:
    statement = select(ToolKey).order_by(ToolKey.created_at, ToolKey.kid)
    return list(session.scalars(statement))


def is_published(key: ToolKey) -> bool:
    if key.status != RETIRED:
        return True
    return key.retired_at is not None and key.retired_at >= utcnow() - RETIRED_KEY_GRACE


def rotate_keys(session: Session) -> Rotation:
    """Retire the current key, promote the next one, and make a new next key.

    With no next key yet, one is made and promoted at once: platforms meet
    it unannounced, which they handle by refetching the JWKS for an unknown
    kid. The caller commits.
    """
    retiring = ensure_signing_key(session)
    promoted = next_signing_key(session) or _new_tool_key(status=NEXT)
    session.add(promoted)

    retiring.status = RETIRED
    retiring.retired_at = utcnow()
    promoted.status = CURRENT
    upcoming = _new_tool_key(status=NEXT)
    session.add(upcoming)
    session.flush()

    log.info(
        "tool_key.rotated",
        retired_kid=retiring.kid,
        current_kid=promoted.kid,
        next_kid=upcoming.kid,
    )
    return Rotation(retired=retiring, current=promoted, next=upcoming)


def _oldest_with_status(session: Session, status: str) -> ToolKey | None:
    statement = (
        select(ToolKey)
        .where(ToolKey.status == status)
        .order_by(ToolKey.created_at, ToolKey.kid)
        .limit(1)
    )
    return session.scalars(statement).first()


def _ensure_key(session: Session, status: str) -> ToolKey:
    existing = _oldest_with_status(session, status)
    if existing is not None:
        return existing

    key = _new_tool_key(status=status)
    session.add(key)
    try:
        session.commit()
    except IntegrityError:
        # Another worker made a key in the same instant; use the stored one.
        session.rollback()
        stored = _oldest_with_status(session, status)
        if stored is None:
            raise
        return stored
    log.info("tool_key.created", kid=key.kid, status=status)
    return key


def _new_tool_key(*, status: str) -> ToolKey:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)
    private_pem = private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    ).decode("ascii")
    public_jwk = json.loads(JWK.from_pem(private_pem.encode("ascii")).export_public())
    kid = JWK(**public_jwk).thumbprint()
    public_jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return ToolKey(
        kid=kid, status=status, private_key_pem=private_pem, public_jwk=public_jwk
    )
