"""Synchronising a CASE source: every followed CFDocument, one transaction each.

A document whose listed lastChangeDateTime matches what we stored is not
fetched at all; a fetched package whose content hash matches is not written
(`import_package` decides that). Everything is fetched before anything is
written, so a provider failing half-way (5xx past the retries, a timeout,
truncated JSON) leaves the stored framework exactly as it was. Each run is
kept in `sync_runs` with an outcome per document.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.database import utcnow
from app.frameworks.models import Framework
from app.frameworks.service import import_package
from app.operations.metrics import record_case_sync_run
from app.sources.credentials import CredentialsError
from app.sources.models import CaseSource, SyncRun
from app.sources.service import client_config_for
from connectors.case.client import CaseClient
from connectors.case.errors import CaseProviderError
from connectors.case.package import PackageError, identifier_key

log = structlog.get_logger()


class SyncProgress(Protocol):
    def document(self, title: str, *, position: int, total: int) -> None: ...

    def records(self, done: int, total: int) -> None: ...


class SourceNotFound(LookupError):
    pass


@dataclass
class ListedDocument:
    identifier: str
    title: str | None
    last_change_at: datetime | None


@dataclass
class DocumentResult:
    identifier: str
    title: str | None
    outcome: str
    items: int = 0
    items_retired: int = 0
    seconds: float = 0.0
    framework_id: str | None = None
    error: str | None = None


def sync_source(
    session_factory: sessionmaker[Session],
    *,
    source_id: uuid.UUID,
    secret_key: SecretStr | None,
    trigger: str = "manual",
    full: bool = False,
    progress: SyncProgress | None = None,
    client_options: dict[str, Any] | None = None,
) -> SyncRun:
    """Run one synchronisation of a source and return its recorded run.

    `full` fetches every followed package even when its lastChangeDateTime
    is unchanged (the content hash still keeps unchanged ones from being
    written). `client_options` are passed to `CaseClientConfig` (timeouts,
    retry policy).
    """
    with session_factory() as session:
        source = session.get(CaseSource, source_id)
        if source is None:
            raise SourceNotFound(f"no CASE source has id {source_id}")
        session.expunge(source)
        run = SyncRun(
            source_id=source_id,
            trigger=trigger,
            status="running",
            started_at=utcnow(),
            documents=[],
        )
        session.add(run)
        session.commit()
        run_id = run.id
    log.info("case_sync.started", source_id=str(source_id), run_id=str(run_id))

    started = time.perf_counter()
    results: list[DocumentResult] = []
    error: str | None = None
    try:
        config = client_config_for(
            source, secret_key=secret_key, **(client_options or {})
        )
        results = asyncio.run(
            _sync_documents(
                session_factory,
                source=source,
                client=CaseClient(config),
                full=full,
                progress=progress,
            )
        )
    except (CaseProviderError, CredentialsError) as failure:
        error = str(failure)
    return _finish_run(
        session_factory,
        run_id=run_id,
        results=results,
        error=error,
        seconds=time.perf_counter() - started,
    )


def list_sync_runs(
    session: Session, *, source_id: uuid.UUID | None = None, limit: int = 50
) -> list[SyncRun]:
    statement = select(SyncRun).order_by(SyncRun.started_at.desc()).limit(limit)
    if source_id is not None:
        statement = statement.where(SyncRun.source_id == source_id)
    return list(session.scalars(statement))


async def _sync_documents(
    session_factory: sessionmaker[Session],
    *,
    source: CaseSource,
    client: CaseClient,
    full: bool,
    progress: SyncProgress | None,
) -> list[DocumentResult]:
    async with client:
        listed = [_listed(document) for document in await client.list_documents()]
        wanted = _followed_documents(listed, followed=source.followed_documents)
        results = []
        for position, document in enumerate(wanted, start=1):
            if progress is not None:
                progress.document(
                    document.title or document.identifier,
                    position=position,
                    total=len(wanted),
                )
            results.append(
                await _sync_document(
                    session_factory,
                    source=source,
                    client=client,
                    document=document,
                    full=full,
                    records=progress.records if progress else None,
                )
            )
        return results


async def _sync_document(
    session_factory: sessionmaker[Session],
    *,
    source: CaseSource,
    client: CaseClient,
    document: ListedDocument,
    full: bool,
    records: Callable[[int, int], None] | None,
) -> DocumentResult:
    started = time.perf_counter()
    result = DocumentResult(
        identifier=document.identifier, title=document.title, outcome="failed"
    )
    try:
        with session_factory() as session:
            stored = _stored_framework(session, source=source, document=document)
            if stored is not None and not full and _same_change(stored, document):
                result.outcome = "unchanged"
                result.framework_id = str(stored.id)
                return result
        package = await client.get_package(document.identifier)
        with session_factory() as session:
            imported = import_package(
                session,
                package=package,
                organization_id=source.organization_id,
                progress=records,
            )
        result.outcome = imported.outcome
        result.framework_id = str(imported.framework.id)
        result.title = imported.framework.title
        if imported.outcome != "unchanged":
            result.items = imported.counts.items_stored
            result.items_retired = imported.counts.items_retired
    except (CaseProviderError, PackageError) as error:
        result.error = str(error)
    except Exception as error:
        # The import's transaction was rolled back; the run goes on to the
        # next document and the failure is on record.
        log.exception("case_sync.document_crashed", identifier=document.identifier)
        result.error = f"{type(error).__name__}: {error}"
    finally:
        result.seconds = round(time.perf_counter() - started, 3)
    if result.error:
        log.warning(
            "case_sync.document_failed",
            source_id=str(source.id),
            identifier=document.identifier,
        )
    return result


def _stored_framework(
    session: Session, *, source: CaseSource, document: ListedDocument
) -> Framework | None:
    statement = (
        select(Framework)
        .where(Framework.organization_id == source.organization_id)
        .where(Framework.identifier_key == identifier_key(document.identifier))
        .order_by(Framework.created_at)
    )
    if document.title is not None:
        statement = statement.where(Framework.title == document.title)
    return session.scalars(statement).first()


def _same_change(stored: Framework, document: ListedDocument) -> bool:
    return (
        document.last_change_at is not None
        and stored.last_change_at is not None
        and stored.last_change_at == document.last_change_at
    )


def _listed(document: dict[str, Any]) -> ListedDocument:
    title = document.get("title")
    return ListedDocument(
        identifier=str(document["identifier"]),
        title=title if isinstance(title, str) else None,
        last_change_at=_moment(document.get("lastChangeDateTime")),
    )


def _moment(text: object) -> datetime | None:
    """lastChangeDateTime as the package reader stores it: UTC, naive read as UTC."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _followed_documents(
    listed: list[ListedDocument], *, followed: list[str]
) -> list[ListedDocument]:
    """The listed documents to follow; followed identifiers the provider does not
    list are fetched anyway, since some providers list only part of what they
    serve."""
    if not followed:
        return listed
    by_key = {identifier_key(d.identifier): d for d in listed}
    return [
        by_key.get(
            identifier_key(identifier),
            ListedDocument(identifier=identifier, title=None, last_change_at=None),
        )
        for identifier in followed
    ]


def _finish_run(
    session_factory: sessionmaker[Session],
    *,
    run_id: uuid.UUID,
    results: list[DocumentResult],
    error: str | None,
    seconds: float,
) -> SyncRun:
    outcomes = [result.outcome for result in results]
    failed = outcomes.count("failed")
    if error is not None or (results and failed == len(results)):
        status = "failed"
    elif failed:
        status = "partial"
    else:
        status = "succeeded"
    with session_factory() as session:
        run = session.get_one(SyncRun, run_id)
        run.status = status
        run.finished_at = utcnow()
        run.duration_ms = round(seconds * 1000)
        run.error = error
        run.documents_created = outcomes.count("created")
        run.documents_updated = outcomes.count("updated")
        run.documents_unchanged = outcomes.count("unchanged")
        run.documents_failed = failed
        run.items_written = sum(result.items for result in results)
        run.items_retired = sum(result.items_retired for result in results)
        run.documents = [asdict(result) for result in results]
        session.commit()
    record_case_sync_run(status)
    log.info(
        "case_sync.finished",
        run_id=str(run_id),
        status=status,
        created=run.documents_created,
        updated=run.documents_updated,
        unchanged=run.documents_unchanged,
        failed=failed,
        duration_ms=run.duration_ms,
    )
    return run
