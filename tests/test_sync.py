"""Synchronising CASE sources over real HTTP against the provider double."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.activities.models import Alignment
from app.activities.service import align_activity, upsert_activity
from app.database import utcnow
from app.evidence.models import Evidence
from app.evidence.service import record_evidence
from app.frameworks.models import Association, Competency, Framework
from app.organizations.service import get_default_organization_id
from app.people.service import create_person
from app.sources.models import SyncRun
from app.sources.service import add_source
from app.sources.sync import sync_source
from connectors.case.client import RetryPolicy
from tests.case_provider import CaseProvider
from tests.conftest import CASE_DATA_DIR

SB = CASE_DATA_DIR / "smarterbalanced"
WEBB = SB / "webb-dok_b7bc9d8c.json"
ITEM_TYPES = SB / "item-type-response-type_db93d530.json"
G3_MATH = SB / "g3-math-item-spec-c1-th_1796d9a2.json"
FILES = (WEBB, ITEM_TYPES, G3_MATH)
SECRET = SecretStr("x" * 40)
# Two attempts, no waiting: a fault injected twice outlasts the retries.
QUICK = {
    "retry": RetryPolicy(max_attempts=2, initial_backoff=0, max_backoff=0, jitter=0),
    "read_timeout": 0.5,
}
FRAMEWORK_TABLES = ("frameworks", "competencies", "associations")


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text("utf-8"))


def document_id(path: Path) -> str:
    return str(load(path)["CFDocument"]["identifier"])


@pytest.fixture
def provider() -> Iterator[CaseProvider]:
    served = CaseProvider.from_files(FILES)
    with served.serve():
        yield served


def new_source(
    session: Session, provider: CaseProvider, *, follow: tuple[str, ...] = ()
) -> uuid.UUID:
    source = add_source(
        session,
        secret_key=SECRET,
        name=f"provider {uuid.uuid4()}",
        base_url=provider.url,
        case_version="1.1",
        followed_documents=follow,
    )
    return source.id


def run_sync(
    session_factory: sessionmaker[Session], source_id: uuid.UUID, **options: Any
) -> SyncRun:
    return sync_source(
        session_factory,
        source_id=source_id,
        secret_key=SECRET,
        client_options=QUICK,
        **options,
    )


def framework_rows(engine: Engine) -> dict[str, list[str]]:
    """Every row of the framework tables as text, to compare the store over time."""
    with engine.connect() as connection:
        return {
            name: sorted(
                repr(tuple(row))
                for row in connection.execute(
                    {
                        "frameworks": Framework,
                        "competencies": Competency,
                        "associations": Association,
                    }[name].__table__.select()
                )
            )
            for name in FRAMEWORK_TABLES
        }


def edited(path: Path, *, drop_item: str, new_statement: str) -> dict[str, Any]:
    """The package with one item's statement changed, another item and its
    associations removed, and the CFDocument's lastChangeDateTime moved on."""
    package = copy.deepcopy(load(path))
    package["CFDocument"]["lastChangeDateTime"] = "2024-05-01T10:00:00+00:00"
    items = [i for i in package["CFItems"] if i["identifier"] != drop_item]
    changed = next(i for i in items if i["identifier"] != drop_item)
    changed["fullStatement"] = new_statement
    changed["lastChangeDateTime"] = "2024-05-01T10:00:00+00:00"
    package["CFItems"] = items
    package["CFAssociations"] = [
        a
        for a in package["CFAssociations"]
        if drop_item
        not in (a["originNodeURI"]["identifier"], a["destinationNodeURI"]["identifier"])
    ]
    return package


def test_first_sync_imports_every_listed_document(
    provider: CaseProvider, session: Session, session_factory: sessionmaker[Session]
) -> None:
    source_id = new_source(session, provider)

    run = run_sync(session_factory, source_id)

    assert run.status == "succeeded", run.documents
    assert (run.documents_created, run.documents_updated) == (3, 0)
    assert (run.documents_unchanged, run.documents_failed) == (0, 0)
    # Item counts of the three files: 15 + 19 + 48.
    assert run.items_written == 15 + 19 + 48
    titles = sorted(session.scalars(select(Framework.title)))
    assert titles == sorted(load(path)["CFDocument"]["title"] for path in FILES)
    stored = session.get_one(SyncRun, run.id)
    assert stored.finished_at is not None and stored.duration_ms is not None
    assert {d["identifier"] for d in stored.documents} == {
        document_id(p) for p in FILES
    }


def test_a_second_sync_fetches_no_package_and_writes_nothing(
    provider: CaseProvider,
    session: Session,
    session_factory: sessionmaker[Session],
    engine: Engine,
) -> None:
    source_id = new_source(session, provider)
    run_sync(session_factory, source_id)
    before = framework_rows(engine)
    provider.reset_log()

    run = run_sync(session_factory, source_id)

    assert run.status == "succeeded"
    assert run.documents_unchanged == 3 and run.items_written == 0
    # lastChangeDateTime is unchanged, so no package is even asked for.
    assert provider.requests_to("CFPackages/") == []
    assert framework_rows(engine) == before


def test_a_full_sync_fetches_every_package_but_writes_nothing_unchanged(
    provider: CaseProvider,
    session: Session,
    session_factory: sessionmaker[Session],
    engine: Engine,
) -> None:
    source_id = new_source(session, provider)
    run_sync(session_factory, source_id)
    before = framework_rows(engine)
    provider.reset_log()

    run = run_sync(session_factory, source_id, full=True)

    assert run.documents_unchanged == 3
    assert len(provider.requests_to("CFPackages/")) == 3
    assert framework_rows(engine) == before


def test_a_changed_document_is_updated_in_place_and_removed_items_keep_evidence(
    provider: CaseProvider, session: Session, session_factory: sessionmaker[Session]
) -> None:
    source_id = new_source(session, provider)
    run_sync(session_factory, source_id)
    raw = load(G3_MATH)
    dropped = raw["CFItems"][-1]["identifier"]
    competency = session.scalars(
        select(Competency).where(Competency.identifier == dropped)
    ).one()
    evidence_id = _evidence_on(session, competency.id)
    framework_id = competency.framework_id

    revised = edited(G3_MATH, drop_item=dropped, new_statement="Revised statement")
    provider.replace_package(revised)
    run = run_sync(session_factory, source_id)

    assert run.status == "succeeded", run.documents
    assert (run.documents_updated, run.documents_unchanged) == (1, 2)
    assert run.items_retired == 1
    session.expire_all()
    assert session.scalars(select(Framework.id)).all().count(framework_id) == 1
    retired = session.get_one(Competency, competency.id)
    assert retired.retired_at is not None
    assert session.get(Evidence, evidence_id) is not None
    assert session.scalars(
        select(Alignment).where(Alignment.competency_id == competency.id)
    ).first()
    statements = set(
        session.scalars(
            select(Competency.full_statement).where(
                Competency.framework_id == framework_id
            )
        )
    )
    assert "Revised statement" in statements


def _evidence_on(session: Session, competency_id: uuid.UUID) -> uuid.UUID:
    organization_id = get_default_organization_id(session)
    person = create_person(session, organization_id=organization_id, identifiers=[])
    activity = upsert_activity(
        session,
        organization_id=organization_id,
        source="test",
        external_id="quiz-1",
        kind="quiz",
    )
    align_activity(session, activity_id=activity.id, competency_ids=[competency_id])
    recorded = record_evidence(
        session,
        organization_id=organization_id,
        person_id=person.id,
        activity_id=activity.id,
        score=Decimal("9"),
        max_score=Decimal("10"),
        occurred_at=utcnow(),
        source="test",
    )
    session.commit()
    return recorded.evidence.id


def changed_follow_only(
    provider: CaseProvider, session: Session, session_factory: sessionmaker[Session]
) -> uuid.UUID:
    """A source following G3 math, synced once, whose package then changed."""
    source_id = new_source(session, provider, follow=(document_id(G3_MATH),))
    first = run_sync(session_factory, source_id)
    assert first.documents_created == 1
    dropped = load(G3_MATH)["CFItems"][-1]["identifier"]
    provider.replace_package(edited(G3_MATH, drop_item=dropped, new_statement="New"))
    return source_id


def assert_failed_and_untouched(
    run: SyncRun, engine: Engine, before: dict[str, list[str]], *fragments: str
) -> None:
    assert run.status == "failed"
    assert run.documents_failed == 1 or run.error
    message = run.error or run.documents[0]["error"]
    for fragment in fragments:
        assert fragment in message, message
    assert framework_rows(engine) == before


@pytest.mark.parametrize(
    ("inject", "fragments"),
    [
        (
            lambda p: p.faults.fail_next("CFPackages/", times=2, status=500),
            ("500", "still failing after 2 attempt(s)"),
        ),
        (lambda p: p.faults.truncate_next("CFPackages/"), ("invalid JSON",)),
        (
            lambda p: p.faults.slow_next("CFPackages/", times=2, seconds=3),
            ("failed after 2 attempt(s)", "Timeout"),
        ),
    ],
    ids=["5xx-past-retries", "truncated-json", "timeout"],
)
def test_a_provider_fault_leaves_the_previous_version_whole(
    provider: CaseProvider,
    session: Session,
    session_factory: sessionmaker[Session],
    engine: Engine,
    inject: Any,
    fragments: tuple[str, ...],
) -> None:
    source_id = changed_follow_only(provider, session, session_factory)
    before = framework_rows(engine)
    inject(provider)

    run = run_sync(session_factory, source_id)

    assert_failed_and_untouched(run, engine, before, *fragments)
    stored = session.get_one(SyncRun, run.id)
    assert stored.status == "failed" and stored.documents[0]["error"]

    provider.faults.clear()
    recovered = run_sync(session_factory, source_id)
    assert recovered.status == "succeeded" and recovered.documents_updated == 1


def test_a_crash_half_way_through_writing_leaves_the_previous_version_whole(
    provider: CaseProvider,
    session: Session,
    session_factory: sessionmaker[Session],
    engine: Engine,
) -> None:
    source_id = changed_follow_only(provider, session, session_factory)
    before = framework_rows(engine)

    class CrashingProgress:
        def document(self, title: str, *, position: int, total: int) -> None:
            return None

        def records(self, done: int, total: int) -> None:
            raise RuntimeError("worker killed mid-import")

    run = run_sync(session_factory, source_id, progress=CrashingProgress())

    assert_failed_and_untouched(run, engine, before, "worker killed mid-import")


def test_a_document_list_changing_between_pages_fails_the_run_without_writing(
    provider: CaseProvider,
    session: Session,
    session_factory: sessionmaker[Session],
    engine: Engine,
) -> None:
    source_id = new_source(session, provider)
    before = framework_rows(engine)
    published = iter(range(100))

    def publish_another(_page: int) -> None:
        package = copy.deepcopy(load(WEBB))
        package["CFDocument"]["identifier"] = str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"extra-{next(published)}")
        )
        provider.add_package(package)

    provider.faults.after_list_page(publish_another, times=None)

    run = sync_source(
        session_factory,
        source_id=source_id,
        secret_key=SECRET,
        client_options={**QUICK, "page_size": 1},
    )

    assert run.status == "failed"
    assert run.error is not None and "changed while paging" in run.error
    assert run.documents == []
    assert framework_rows(engine) == before


def test_a_refused_document_fails_alone_and_the_others_import(
    provider: CaseProvider, session: Session, session_factory: sessionmaker[Session]
) -> None:
    source_id = new_source(session, provider)
    provider.faults.fail_next(f"CFPackages/{document_id(WEBB)}", times=2, status=503)

    run = run_sync(session_factory, source_id)

    assert run.status == "partial"
    assert (run.documents_created, run.documents_failed) == (2, 1)
    failed = [d for d in run.documents if d["outcome"] == "failed"]
    assert failed[0]["identifier"] == document_id(WEBB)
    assert "503" in failed[0]["error"]
