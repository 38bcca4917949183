"""The tool's public keys, where platforms look for them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response
from sqlalchemy.orm import Session

from app.database import get_session
from app.keys.service import public_jwks
from app.lti.paths import JWKS_PATH, WELL_KNOWN_JWKS_PATH

router = APIRouter(tags=["lti"])

# Platforms cache the set; a short lifetime lets a new key reach them quickly.
JWKS_CACHE_CONTROL = "public, max-age=300"


@router.get(JWKS_PATH, summary="The tool's public keys (JWKS)")
@router.get(WELL_KNOWN_JWKS_PATH, summary="The tool's public keys (JWKS)")
def jwks(response: Response, session: Session = Depends(get_session)) -> Any:
    response.headers["Cache-Control"] = JWKS_CACHE_CONTROL
    return public_jwks(session)
