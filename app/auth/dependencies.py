"""Bearer-token checks for API routes, scope by scope.

Guard a whole router, or read the caller (its organization, its scopes) in a
route; both may be combined, the token is verified once per request:

    router = APIRouter(dependencies=[Depends(require_scopes("evidence:read"))])

    @router.post("/evidence")
    def record(caller: AuthenticatedClient = Depends(
        require_scopes("evidence:write"))): ...
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2
from sqlalchemy.orm import Session

from app.auth.service import (
    SCOPES,
    AuthenticatedClient,
    InvalidToken,
    verify_access_token,
)
from app.database import get_session
from app.problems import Problem
from app.settings import Settings

TOKEN_PATH = "/oauth/token"
API_AUDIENCE_PATH = "/api"
REALM = "standards-bridge"

# Declares the client credentials flow in the OpenAPI document; the header
# itself is read and checked below.
api_client_scheme = OAuth2(
    flows=OAuthFlows(
        clientCredentials=OAuthFlowClientCredentials(tokenUrl=TOKEN_PATH, scopes=SCOPES)
    ),
    scheme_name="apiClient",
    description="OAuth 2 client credentials; send the token as a Bearer token.",
    auto_error=False,
)


def token_issuer(settings: Settings) -> str:
    return settings.public_url


def token_audience(settings: Settings) -> str:
    return settings.public_url + API_AUDIENCE_PATH


def require_scopes(*scopes: str) -> Callable[..., AuthenticatedClient]:
    """A dependency that admits a caller holding every one of `scopes`.

    Answers 401 (RFC 6750 challenge) without a valid token, 403 naming the
    first missing scope otherwise. `admin` satisfies any scope.
    """
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown:
        raise ValueError(f"unknown scopes {unknown}; the scopes are {list(SCOPES)}")

    def caller_with_scopes(
        request: Request,
        authorization: str | None = Security(api_client_scheme, scopes=list(scopes)),
        session: Session = Depends(get_session),
    ) -> AuthenticatedClient:
        caller = _authenticated_client(
            request, authorization=authorization, session=session
        )
        missing = [scope for scope in scopes if not caller.has_scope(scope)]
        if missing:
            raise _insufficient_scope(missing)
        return caller

    return caller_with_scopes


def _authenticated_client(
    request: Request, *, authorization: str | None, session: Session
) -> AuthenticatedClient:
    """The verified caller, remembered on the request for later dependencies."""
    remembered = getattr(request.state, "api_client", None)
    if isinstance(remembered, AuthenticatedClient):
        return remembered

    token = _bearer_token(authorization)
    settings: Settings = request.app.state.settings
    try:
        caller = verify_access_token(
            session,
            token=token,
            issuer=token_issuer(settings),
            audience=token_audience(settings),
        )
    except InvalidToken as error:
        raise _invalid_token(str(error)) from None
    request.state.api_client = caller
    return caller


def _bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        # RFC 6750 §3.1: a request with no credentials gets the bare challenge.
        raise Problem(
            401,
            "authentication-required",
            "This API needs an access token from /oauth/token, sent as "
            "`Authorization: Bearer TOKEN`.",
            field="Authorization",
            headers={"WWW-Authenticate": f'Bearer realm="{REALM}"'},
        )
    return token.strip()


def _invalid_token(reason: str) -> Problem:
    return Problem(
        401,
        "invalid-token",
        reason,
        field="Authorization",
        headers={
            "WWW-Authenticate": f'Bearer realm="{REALM}", error="invalid_token", '
            f'error_description="{reason}"'
        },
    )


def _insufficient_scope(missing: list[str]) -> Problem:
    needed = " ".join(missing)
    return Problem(
        403,
        "insufficient-scope",
        f"The access token lacks scope {needed}; ask /oauth/token for it "
        "with a client that holds it.",
        field="scope",
        headers={
            "WWW-Authenticate": f'Bearer realm="{REALM}", '
            f'error="insufficient_scope", scope="{needed}"'
        },
    )


def require_method_scopes(
    *, read: str, write: str
) -> Callable[..., AuthenticatedClient]:
    """Guard a whole router: `read` for GET and HEAD, `write` for every other method.

    Routes that compute without storing (POST of a calculation) still need the
    write scope of their router unless they declare a narrower dependency.
    """
    read_guard = require_scopes(read)
    write_guard = require_scopes(write)

    def caller_for_method(
        request: Request,
        authorization: str | None = Security(api_client_scheme, scopes=[read]),
        session: Session = Depends(get_session),
    ) -> AuthenticatedClient:
        guard = read_guard if request.method in {"GET", "HEAD"} else write_guard
        return guard(request, authorization=authorization, session=session)

    return caller_for_method
