"""The xAPI statement resource (POST and PUT), for LRS-style senders.

Only what evidence needs is implemented: statements are written, never read
back here (the evidence API shows what they became). Calls need a bearer
token with `evidence:write`; HTTP Basic, common among LRS clients, is not
accepted, since API clients authenticate through /oauth/token.
"""

import re
import uuid
from typing import Any

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response, status
from sqlalchemy.orm import Session

from app.auth.dependencies import require_scopes
from app.auth.service import AuthenticatedClient
from app.database import get_session
from app.operations.metrics import record_evidence_ingested
from app.problems import PROBLEM_MEDIA_TYPE, Problem
from app.xapi.schemas import VERSION_HEADER, XAPI_VERSION, StatementIds
from app.xapi.service import XAPI_SOURCE, store_statements

router = APIRouter(prefix="/xapi", tags=["xapi"])

SUPPORTED_VERSION = re.compile(r"^1\.0(\.\d+)?$")
STATEMENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "A statement cannot be recorded, an id repeats in the "
        "batch, or the version header is missing; nothing was stored",
        "content": {PROBLEM_MEDIA_TYPE: {}},
    },
    409: {
        "description": "A statement id is already stored with different content",
        "content": {PROBLEM_MEDIA_TYPE: {}},
    },
}


def _checked_version(version: str | None) -> None:
    if version is None or not SUPPORTED_VERSION.match(version.strip()):
        raise Problem(
            400,
            "xapi-version-unsupported",
            f"Send the {VERSION_HEADER} header with a 1.0.x version "
            f"(got {version or 'none'}).",
            field=VERSION_HEADER,
            headers={VERSION_HEADER: XAPI_VERSION},
        )


def _store(
    request: Request,
    session: Session,
    caller: AuthenticatedClient,
    statements: list[Any],
) -> list[uuid.UUID]:
    stored = store_statements(
        session,
        organization_id=caller.organization_id,
        statements=statements,
        actor=caller.client_id,
        threshold=request.app.state.settings.mastery_threshold,
    )
    session.commit()
    if stored.recorded:
        record_evidence_ingested(XAPI_SOURCE, stored.recorded)
    return stored.statement_ids


@router.post("/statements", response_model=StatementIds, responses=STATEMENT_RESPONSES)
def post_statements(
    request: Request,
    response: Response,
    payload: Any = Body(description="One statement, or an array of statements"),
    version: str | None = Header(default=None, alias=VERSION_HEADER),
    session: Session = Depends(get_session),
    caller: AuthenticatedClient = Depends(require_scopes("evidence:write")),
) -> StatementIds:
    """Record statements, all or none; answers their ids in the order sent."""
    _checked_version(version)
    statements = payload if isinstance(payload, list) else [payload]
    ids = _store(request, session, caller, statements)
    response.headers[VERSION_HEADER] = XAPI_VERSION
    return StatementIds(ids)


@router.put(
    "/statements",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=STATEMENT_RESPONSES,
)
def put_statement(
    request: Request,
    statement_id: uuid.UUID = Query(alias="statementId"),
    payload: Any = Body(description="One statement"),
    version: str | None = Header(default=None, alias=VERSION_HEADER),
    session: Session = Depends(get_session),
    caller: AuthenticatedClient = Depends(require_scopes("evidence:write")),
) -> Response:
    """Record one statement under the id the sender chose."""
    _checked_version(version)
    if not isinstance(payload, dict):
        raise Problem(
            400, "statement-invalid", "PUT takes one statement object.", field="body"
        )
    if "id" in payload and str(payload["id"]).lower() != str(statement_id):
        raise Problem(
            400,
            "statement-id-mismatch",
            f"The statement's id {payload['id']} differs from statementId "
            f"{statement_id}.",
            field="id",
        )
    _store(request, session, caller, [{**payload, "id": str(statement_id)}])
    return Response(
        status_code=status.HTTP_204_NO_CONTENT,
        headers={VERSION_HEADER: XAPI_VERSION},
    )
