"""Frameworks we hold, published as a CASE 1.0 and 1.1 provider (read only).

Public frameworks answer without a token; private ones need a bearer token
with frameworks:read, and answer 401 without one (never 404, so whether a
private framework exists is told only to callers who may read it). Errors
are imsx status payloads, as CASE consumers expect.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from app.auth.dependencies import require_scopes
from app.case_publish import service
from app.case_publish.schemas import VisibilityIn, VisibilityOut
from app.case_publish.serializers import (
    VERSION_ROOTS,
    CaseVersion,
    CaseWriter,
    Json,
)
from app.crosswalks.service import IS_CHILD_OF
from app.database import get_session
from app.frameworks.models import Association, Competency, Framework
from app.problems import Problem
from app.settings import Settings

router = APIRouter()
api_router = APIRouter(prefix="/api/v1", tags=["frameworks"])

READ_SCOPE = "frameworks:read"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
SORT_FIELDS = ("title", "creator", "lastChangeDateTime", "adoptionStatus", "identifier")

_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "A query parameter is wrong (imsx status payload)"},
    401: {"description": "The framework is private; send a bearer token"},
    403: {"description": "The token lacks frameworks:read"},
    404: {"description": "Nothing is published under that identifier"},
}


class CaseError(Exception):
    """An imsx failure: status, CodeMinor value and a sentence."""

    def __init__(
        self,
        status: int,
        code_minor: str,
        description: str,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.code_minor = code_minor
        self.description = description
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse(
            {
                "imsx_codeMajor": "failure",
                "imsx_severity": "error",
                "imsx_description": self.description,
                "imsx_CodeMinor": {
                    "imsx_codeMinorField": [
                        {
                            "imsx_codeMinorFieldName": "sourcedId",
                            "imsx_codeMinorFieldValue": self.code_minor,
                        }
                    ]
                },
            },
            status_code=self.status,
            headers=self.headers,
        )


def _version_router(version: CaseVersion) -> APIRouter:
    """The read endpoints of one CASE version; both share every step."""
    versioned = APIRouter(
        prefix=VERSION_ROOTS[version],
        tags=[f"CASE {version}"],
        responses=_ERROR_RESPONSES,
    )

    @versioned.get("/CFDocuments", summary=f"getAllCFDocuments (CASE {version})")
    def list_documents(
        request: Request,
        limit: str | None = None,
        offset: str | None = None,
        sort: str | None = None,
        orderBy: str | None = None,  # noqa: N803 - the binding's parameter name
        session: Session = Depends(get_session),
    ) -> JSONResponse:
        return _answer(
            lambda: _documents_page(
                request,
                session,
                version=version,
                limit=limit,
                offset=offset,
                sort=sort,
                order_by=orderBy,
            )
        )

    @versioned.get("/CFDocuments/{sourcedId}", summary=f"getCFDocument ({version})")
    def get_document(
        request: Request,
        sourcedId: str,
        session: Session = Depends(get_session),  # noqa: N803
    ) -> JSONResponse:
        def build() -> JSONResponse:
            writer = _writer(request, session, version)
            framework = _readable_document(request, session, writer, sourcedId)
            return JSONResponse(writer.document(framework))

        return _answer(build)

    @versioned.get("/CFPackages/{sourcedId}", summary=f"getCFPackage ({version})")
    def get_package(
        request: Request,
        sourcedId: str,
        session: Session = Depends(get_session),  # noqa: N803
    ) -> JSONResponse:
        def build() -> JSONResponse:
            writer = _writer(request, session, version)
            framework = _readable_document(request, session, writer, sourcedId)
            return JSONResponse(_package(request, session, writer, framework))

        return _answer(build)

    @versioned.get("/CFItems/{sourcedId}", summary=f"getCFItem ({version})")
    def get_item(
        request: Request,
        sourcedId: str,
        session: Session = Depends(get_session),  # noqa: N803
    ) -> JSONResponse:
        def build() -> JSONResponse:
            writer = _writer(request, session, version)
            competency, framework = _readable_item(request, session, writer, sourcedId)
            return JSONResponse(writer.item(competency, framework=framework))

        return _answer(build)

    @versioned.get(
        "/CFAssociations/{sourcedId}", summary=f"getCFAssociation ({version})"
    )
    def get_association(
        request: Request,
        sourcedId: str,
        session: Session = Depends(get_session),  # noqa: N803
    ) -> JSONResponse:
        def build() -> JSONResponse:
            writer = _writer(request, session, version)
            association = service.find_association(
                session, writer.publication, identifier=sourcedId
            )
            if association is None:
                raise _unknown("CFAssociation", sourcedId)
            framework = _framework_of(writer, association.framework_id)
            _check_readable(request, session, framework)
            competencies = _readable_only(
                service.competencies_by_id(session, ids=_endpoint_ids([association])),
                readable=_readable_framework_ids(request, session, writer, framework),
            )
            return JSONResponse(
                writer.association(
                    association, framework=framework, competencies=competencies
                )
            )

        return _answer(build)

    @versioned.get(
        "/CFItemAssociations/{sourcedId}",
        summary=f"getCFItemAssociations ({version})",
    )
    def get_item_associations(
        request: Request,
        sourcedId: str,
        session: Session = Depends(get_session),  # noqa: N803
    ) -> JSONResponse:
        def build() -> JSONResponse:
            writer = _writer(request, session, version)
            competency, framework = _readable_item(request, session, writer, sourcedId)
            return JSONResponse(
                _item_association_set(request, session, writer, competency, framework)
            )

        return _answer(build)

    return versioned


for _version in VERSION_ROOTS:
    router.include_router(_version_router(_version))


@api_router.put(
    "/frameworks/{framework_id}/visibility",
    response_model=VisibilityOut,
    responses={404: {"description": "No such framework"}},
)
def set_visibility(
    framework_id: uuid.UUID, body: VisibilityIn, session: Session = Depends(get_session)
) -> VisibilityOut:
    """Publish the framework over CASE to anyone (`public`, the default) or
    only to callers with frameworks:read (`private`)."""
    framework = session.get(Framework, framework_id)
    if framework is None:
        raise Problem(
            404,
            "framework-not-found",
            f"No framework has the id {framework_id}.",
            field="framework_id",
        )
    service.set_visibility(session, framework=framework, visibility=body.visibility)
    return VisibilityOut(id=framework.id, visibility=body.visibility)


# Steps


def _answer(build: Callable[[], JSONResponse]) -> JSONResponse:
    try:
        return build()
    except CaseError as error:
        return error.response()


def _writer(request: Request, session: Session, version: CaseVersion) -> CaseWriter:
    settings: Settings = request.app.state.settings
    return CaseWriter(
        public_url=settings.public_url,
        version=version,
        publication=service.publication(session),
    )


def _documents_page(
    request: Request,
    session: Session,
    *,
    version: CaseVersion,
    limit: str | None,
    offset: str | None,
    sort: str | None,
    order_by: str | None,
) -> JSONResponse:
    count = _whole_number("limit", limit, default=DEFAULT_LIMIT, least=1)
    count = min(count, MAX_LIMIT)
    start = _whole_number("offset", offset, default=0, least=0)
    if sort is not None and sort not in SORT_FIELDS:
        raise CaseError(
            400,
            "invalid_sort_field",
            f"sort={sort!r} is not a field documents can be sorted by; use one "
            f"of {', '.join(SORT_FIELDS)}.",
        )
    if order_by is not None and order_by not in {"asc", "desc"}:
        raise CaseError(
            400,
            "invalid_selection_field",
            f"orderBy={order_by!r} must be asc or desc.",
        )
    writer = _writer(request, session, version)
    may_read_private = _token_sent(request) and _check_reader(request, session)
    documents = [
        writer.document(framework)
        for framework in writer.publication.visible(may_read_private=may_read_private)
    ]
    field = sort or "title"
    documents.sort(key=lambda d: (str(d.get(field, "")).lower(), d["identifier"]))
    if order_by == "desc":
        documents.reverse()
    return JSONResponse(
        {"CFDocuments": documents[start : start + count]},
        headers={"X-Total-Count": str(len(documents))},
    )


def _whole_number(name: str, value: str | None, *, default: int, least: int) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = least - 1
    if number < least:
        raise CaseError(
            400,
            "invalid_selection_field",
            f"{name}={value!r} must be a whole number of at least {least}.",
        )
    return number


def _readable_document(
    request: Request, session: Session, writer: CaseWriter, identifier: str
) -> Framework:
    framework = service.find_document(writer.publication, identifier=identifier)
    if framework is None:
        raise _unknown("CFDocument", identifier)
    _check_readable(request, session, framework)
    return framework


def _readable_item(
    request: Request, session: Session, writer: CaseWriter, identifier: str
) -> tuple[Competency, Framework]:
    competency = service.find_item(session, writer.publication, identifier=identifier)
    if competency is None:
        raise _unknown("CFItem", identifier)
    framework = _framework_of(writer, competency.framework_id)
    _check_readable(request, session, framework)
    return competency, framework


def _check_readable(request: Request, session: Session, framework: Framework) -> None:
    if framework.visibility == "private":
        _check_reader(request, session)


def _check_reader(request: Request, session: Session) -> bool:
    """Raise the imsx form of 401/403 unless the caller holds frameworks:read."""
    guard = require_scopes(READ_SCOPE)
    try:
        guard(
            request, authorization=request.headers.get("authorization"), session=session
        )
    except Problem as problem:
        code_minor = "unauthorisedrequest" if problem.status == 401 else "forbidden"
        raise CaseError(
            problem.status, code_minor, problem.detail, headers=problem.headers
        ) from problem
    return True


def _framework_of(writer: CaseWriter, framework_id: uuid.UUID) -> Framework:
    for framework in writer.publication.frameworks:
        if framework.id == framework_id:
            return framework
    raise LookupError(f"framework {framework_id} vanished while reading")


def _package(
    request: Request, session: Session, writer: CaseWriter, framework: Framework
) -> Json:
    items = service.framework_items(session, framework_id=framework.id)
    associations = service.framework_associations(session, framework_id=framework.id)
    competencies = {item.id: item for item in items}
    outside = service.competencies_by_id(
        session, ids=_endpoint_ids(associations) - set(competencies)
    )
    readable = writer.publication.visible(
        may_read_private=_token_sent(request) and _check_reader(request, session)
    )
    competencies.update(_readable_only(outside, readable={f.id for f in readable}))
    return writer.package(
        framework,
        items=items,
        associations=associations,
        competencies=competencies,
    )


def _item_association_set(
    request: Request,
    session: Session,
    writer: CaseWriter,
    competency: Competency,
    framework: Framework,
) -> Json:
    """The item and every association touching it that the caller may read."""
    readable_ids = _readable_framework_ids(request, session, writer, framework)
    readable = {f.id: f for f in writer.publication.frameworks if f.id in readable_ids}
    associations = [
        association
        for association in service.item_associations(
            session, competency_id=competency.id
        )
        if association.framework_id in readable
    ]
    competencies = _readable_only(
        service.competencies_by_id(session, ids=_endpoint_ids(associations)),
        readable=readable_ids,
    )
    # The item's place in its tree first, then its crosswalks.
    associations.sort(key=lambda a: a.association_type.lower() != IS_CHILD_OF)
    return {
        "CFItem": writer.item(competency, framework=framework),
        "CFAssociations": [
            writer.association(
                association,
                framework=readable[association.framework_id],
                competencies=competencies,
            )
            for association in associations
        ],
    }


def _readable_framework_ids(
    request: Request, session: Session, writer: CaseWriter, framework: Framework
) -> set[uuid.UUID]:
    # Reaching a private framework already proved the caller may read private ones.
    may_read_private = framework.visibility == "private" or (
        _token_sent(request) and _check_reader(request, session)
    )
    return {f.id for f in writer.publication.visible(may_read_private=may_read_private)}


def _token_sent(request: Request) -> bool:
    return request.headers.get("authorization") is not None


def _readable_only(
    competencies: dict[uuid.UUID, Competency], *, readable: set[uuid.UUID]
) -> dict[uuid.UUID, Competency]:
    """Endpoints in frameworks the caller may not read are shown by their
    original names only, as if we did not hold them."""
    return {
        key: competency
        for key, competency in competencies.items()
        if competency.framework_id in readable
    }


def _endpoint_ids(associations: list[Association]) -> set[uuid.UUID]:
    ids: set[uuid.UUID] = set()
    for association in associations:
        for end in (
            association.origin_competency_id,
            association.destination_competency_id,
        ):
            if end is not None:
                ids.add(end)
    return ids


def _unknown(kind: str, identifier: str) -> CaseError:
    return CaseError(
        404, "unknownobject", f"No {kind} is published with identifier {identifier!r}."
    )
