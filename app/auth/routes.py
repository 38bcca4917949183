"""The OAuth 2 token endpoint and the API for managing API clients."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from app.auth import service
from app.auth.dependencies import (
    REALM,
    TOKEN_PATH,
    require_scopes,
    token_audience,
    token_issuer,
)
from app.auth.schemas import (
    ApiClientCreate,
    ApiClientCreated,
    ApiClientRead,
    TokenError,
    TokenResponse,
)
from app.auth.service import AuthenticatedClient, OAuthError
from app.database import get_session
from app.settings import Settings

router = APIRouter(tags=["auth"])

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
CLIENT_CREDENTIALS = "client_credentials"
# RFC 6749 §5.1: token responses, and errors alike, must not be cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
TOKEN_PARAMETERS = ("grant_type", "scope", "client_id", "client_secret")

TOKEN_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            FORM_MEDIA_TYPE: {
                "schema": {
                    "type": "object",
                    "required": ["grant_type"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": [CLIENT_CREDENTIALS]},
                        "scope": {
                            "type": "string",
                            "description": "Space-separated scopes (default: all "
                            "the client holds)",
                        },
                        "client_id": {
                            "type": "string",
                            "description": "With client_secret, instead of HTTP "
                            "Basic authentication",
                        },
                        "client_secret": {"type": "string"},
                    },
                }
            }
        },
    }
}

CLIENT_PROBLEMS: dict[int | str, dict[str, object]] = {
    401: {"description": "No valid access token"},
    403: {"description": "The access token lacks the admin scope"},
    404: {"description": "No such API client"},
    422: {"description": "A field is missing or malformed"},
}


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    client_secret: str


@router.post(
    TOKEN_PATH,
    summary="Exchange client credentials for an access token (RFC 6749 §4.4)",
    response_model=TokenResponse,
    responses={
        400: {"model": TokenError, "description": "RFC 6749 §5.2 error"},
        401: {"model": TokenError, "description": "invalid_client"},
    },
    openapi_extra=TOKEN_REQUEST_BODY,
)
async def token(request: Request, session: Session = Depends(get_session)) -> Response:
    """Authenticate the client by HTTP Basic or by form fields, then sign a token."""
    try:
        form = await _token_form(request)
        credentials = _client_credentials(request, form)
        issued = await run_in_threadpool(
            _grant,
            session,
            credentials=credentials,
            grant_type=form.get("grant_type"),
            scope=_text(form.get("scope")),
            settings=request.app.state.settings,
        )
    except OAuthError as error:
        return _token_error(error)

    body = TokenResponse(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        scope=issued.scope,
    )
    return JSONResponse(body.model_dump(), headers=NO_STORE)


@router.post(
    "/api/v1/clients",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiClientCreated,
    responses=CLIENT_PROBLEMS,
    summary="Register an API client in the caller's organization",
)
def create_client(
    body: ApiClientCreate,
    response: Response,
    caller: AuthenticatedClient = Depends(require_scopes("admin")),
    session: Session = Depends(get_session),
) -> ApiClientCreated:
    """The answer carries the client secret; it cannot be read again later."""
    created = service.create_client(
        session,
        name=body.name,
        scopes=body.scopes,
        organization_id=caller.organization_id,
    )
    session.commit()
    response.headers.update(NO_STORE)
    return ApiClientCreated(
        **ApiClientRead.of(created.client).model_dump(),
        client_secret=created.client_secret,
    )


@router.get(
    "/api/v1/clients",
    response_model=list[ApiClientRead],
    responses=CLIENT_PROBLEMS,
    summary="The caller's organization's API clients, revoked ones included",
)
def list_clients(
    caller: AuthenticatedClient = Depends(require_scopes("admin")),
    session: Session = Depends(get_session),
) -> list[ApiClientRead]:
    clients = service.list_clients(session, organization_id=caller.organization_id)
    return [ApiClientRead.of(client) for client in clients]


@router.delete(
    "/api/v1/clients/{client_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=CLIENT_PROBLEMS,
    summary="Revoke an API client; its access tokens stop working at once",
)
def revoke_client(
    client_id: str,
    caller: AuthenticatedClient = Depends(require_scopes("admin")),
    session: Session = Depends(get_session),
) -> Response:
    service.revoke_client(
        session, client_id=client_id, organization_id=caller.organization_id
    )
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _grant(
    session: Session,
    *,
    credentials: ClientCredentials,
    grant_type: object,
    scope: str | None,
    settings: Settings,
) -> service.IssuedToken:
    client = service.authenticate_client(
        session,
        client_id=credentials.client_id,
        client_secret=credentials.client_secret,
    )
    if not grant_type:
        raise OAuthError("invalid_request", "The grant_type parameter is missing.")
    if grant_type != CLIENT_CREDENTIALS:
        raise OAuthError(
            "unsupported_grant_type",
            f"Only grant_type={CLIENT_CREDENTIALS} is supported.",
        )
    scopes = service.grantable_scopes(client, requested=scope)
    issued = service.issue_access_token(
        session,
        client=client,
        scopes=scopes,
        issuer=token_issuer(settings),
        audience=token_audience(settings),
        ttl_seconds=settings.api_token_ttl_seconds,
    )
    # Signing may have made the tool's first key; keep it.
    session.commit()
    return issued


async def _token_form(request: Request) -> FormData:
    """The request's form fields, each present at most once (RFC 6749 §3.2)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip()
    if media_type.lower() != FORM_MEDIA_TYPE:
        raise OAuthError(
            "invalid_request", f"The token request body must be {FORM_MEDIA_TYPE}."
        )
    form = await request.form()
    repeated = [name for name in TOKEN_PARAMETERS if len(form.getlist(name)) > 1]
    if repeated:
        raise OAuthError(
            "invalid_request", f"Parameter {repeated[0]} is given more than once."
        )
    return form


def _client_credentials(request: Request, form: FormData) -> ClientCredentials:
    """Credentials sent by one method, HTTP Basic or form fields (RFC 6749 §2.3.1)."""
    form_id = _text(form.get("client_id"))
    form_secret = _text(form.get("client_secret"))
    authorization = request.headers.get("authorization")

    if authorization is not None:
        basic = _basic_credentials(authorization)
        if form_secret is not None or (
            form_id is not None and form_id != basic.client_id
        ):
            raise OAuthError(
                "invalid_request",
                "Authenticate the client by one method: HTTP Basic or form fields.",
            )
        return basic
    if not form_id or not form_secret:
        raise OAuthError(
            "invalid_client",
            "Client authentication is missing: send HTTP Basic credentials, or "
            "client_id and client_secret.",
        )
    return ClientCredentials(client_id=form_id, client_secret=form_secret)


def _basic_credentials(authorization: str) -> ClientCredentials:
    scheme, _, encoded = authorization.partition(" ")
    try:
        if scheme.lower() != "basic":
            raise ValueError(scheme)
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (ValueError, binascii.Error):
        raise OAuthError(
            "invalid_client", "The Authorization header is not HTTP Basic credentials."
        ) from None
    client_id, separator, client_secret = decoded.partition(":")
    if not separator:
        raise OAuthError(
            "invalid_client", "HTTP Basic credentials need client_id:client_secret."
        )
    # RFC 6749 §2.3.1 form-encodes both before Basic encoding.
    return ClientCredentials(
        client_id=unquote_plus(client_id),
        client_secret=unquote_plus(client_secret),
    )


def _text(value: object) -> str | None:
    """A form field's text; an uploaded file or an absent field is None."""
    return value if isinstance(value, str) else None


def _token_error(error: OAuthError) -> JSONResponse:
    """RFC 6749 §5.2 error body.

    invalid_client is always a 401: RFC 6749 requires it when Basic was tried
    and allows it otherwise, and RFC 9110 requires a 401 to carry a challenge,
    which also tells a client that tried form fields that Basic works.
    """
    headers = dict(NO_STORE)
    status_code = 400
    if error.error == "invalid_client":
        status_code = 401
        headers["WWW-Authenticate"] = f'Basic realm="{REALM}"'
    body = TokenError(error=error.error, error_description=error.description)
    return JSONResponse(body.model_dump(), status_code=status_code, headers=headers)
