"""The job runner: one run per scheduled slot across workers, and source schedules."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.database import utcnow
from app.frameworks.models import Framework
from app.jobs.models import JobRun
from app.jobs.scheduler import JobRunner, source_job_name
from app.jobs.service import (
    PeriodicJob,
    due_slot,
    register_periodic_job,
    run_job_once,
    unregister_periodic_job,
)
from app.sources.models import CaseSource, SyncRun
from app.sources.service import add_source
from tests.case_provider import CaseProvider
from tests.conftest import CASE_DATA_DIR

WEBB = CASE_DATA_DIR / "smarterbalanced" / "webb-dok_b7bc9d8c.json"
SECRET = SecretStr("j" * 40)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def cron(expression: str) -> CronTrigger:
    return CronTrigger.from_crontab(expression, timezone="UTC")


@pytest.mark.parametrize(
    ("expression", "now", "slot"),
    [
        ("0 2 * * *", "2026-03-04T02:00:07.250", "2026-03-04T02:00:00"),
        ("*/15 * * * *", "2026-03-04T10:31:59", "2026-03-04T10:30:00"),
        ("* * * * *", "2026-03-04T10:31:00", "2026-03-04T10:31:00"),
        # Hours past the daily slot (outside the grace): a forced run, to the second.
        ("0 2 * * *", "2026-03-04T05:00:07.250", "2026-03-04T05:00:07"),
    ],
)
def test_the_slot_is_the_latest_fire_time_within_the_grace(
    expression: str, now: str, slot: str
) -> None:
    assert due_slot(cron(expression), now=at(now)) == at(slot)


def test_a_slot_already_run_is_skipped(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    calls: list[str] = []
    slot = at("2026-03-04T02:00:00")

    first = run_job_once(
        session_factory, name="nightly", slot=slot, func=lambda _s: calls.append("a")
    )
    second = run_job_once(
        session_factory, name="nightly", slot=slot, func=lambda _s: calls.append("b")
    )

    assert (first, second) == ("succeeded", "skipped")
    assert calls == ["a"]
    run = session.scalars(select(JobRun)).one()
    assert (run.job_name, run.scheduled_for, run.status) == (
        "nightly",
        slot,
        "succeeded",
    )
    assert run.finished_at is not None


def test_concurrent_workers_run_a_slot_once(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    workers = 4
    barrier = threading.Barrier(workers)
    calls: list[int] = []
    outcomes: list[str] = []
    slot = at("2026-03-04T02:00:00")

    def worker(number: int) -> None:
        barrier.wait()
        outcomes.append(
            run_job_once(
                session_factory,
                name="nightly",
                slot=slot,
                func=lambda _s: calls.append(number),
            )
        )

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["skipped"] * (workers - 1) + ["succeeded"]
    assert len(calls) == 1
    assert len(session.scalars(select(JobRun)).all()) == 1


def test_a_failing_job_is_recorded_with_its_error(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    def broken(_session: Session) -> None:
        raise RuntimeError("LMS unreachable")

    outcome = run_job_once(
        session_factory, name="grades", slot=at("2026-03-04T02:00:00"), func=broken
    )

    assert outcome == "failed"
    run = session.scalars(select(JobRun)).one()
    assert run.status == "failed" and run.error == "RuntimeError: LMS unreachable"


def test_registering_checks_the_cron_and_the_name() -> None:
    def job(_session: Session) -> None:
        return None

    with pytest.raises(ValueError, match="bad cron expression '0 0 0'"):
        register_periodic_job("lms-grades-sync", "0 0 0", job)
    register_periodic_job("lms-grades-sync", "*/15 * * * *", job)
    try:
        with pytest.raises(ValueError, match="already registered"):
            register_periodic_job("lms-grades-sync", "0 * * * *", job)
    finally:
        unregister_periodic_job("lms-grades-sync")


@pytest.fixture
def runners(session_factory: sessionmaker[Session]) -> Iterator[list[JobRunner]]:
    made: list[JobRunner] = []
    yield made
    for runner in made:
        runner.shutdown()


def fire_now(runner: JobRunner, name: str) -> None:
    runner.scheduler.modify_job(name, next_run_time=datetime.now(UTC))


def away_from_a_minute_boundary() -> None:
    """Both schedulers must compute their slot within one minute."""
    if utcnow().second >= 50:
        time.sleep(61 - utcnow().second)


def test_two_schedulers_on_one_database_run_a_due_job_once(
    session: Session,
    session_factory: sessionmaker[Session],
    runners: list[JobRunner],
) -> None:
    calls: list[str] = []
    job = PeriodicJob(
        name="every-minute", cron="* * * * *", func=lambda _s: calls.append("ran")
    )
    finished = threading.Semaphore(0)
    for _ in range(2):
        runner = JobRunner(
            BackgroundScheduler(timezone="UTC"),
            session_factory=session_factory,
            secret_key=None,
            jobs=[job],
        )
        runner.scheduler.add_listener(
            lambda _event: finished.release(), EVENT_JOB_EXECUTED | EVENT_JOB_ERROR
        )
        runner.start()
        runners.append(runner)

    away_from_a_minute_boundary()
    for runner in runners:
        fire_now(runner, "every-minute")
    assert finished.acquire(timeout=60) and finished.acquire(timeout=60)

    assert calls == ["ran"]
    rows = session.scalars(select(JobRun)).all()
    assert [(r.job_name, r.status) for r in rows] == [("every-minute", "succeeded")]


def test_sources_are_scheduled_rescheduled_and_dropped_on_reload(
    session: Session, session_factory: sessionmaker[Session], runners: list[JobRunner]
) -> None:
    source = add_source(
        session,
        secret_key=SECRET,
        name="state",
        base_url="https://case.example.org",
        schedule="0 2 * * *",
    )
    manual = add_source(
        session, secret_key=SECRET, name="manual", base_url="https://case.example.org"
    )
    runner = JobRunner(
        BackgroundScheduler(timezone="UTC"),
        session_factory=session_factory,
        secret_key=SECRET,
        jobs=[],
    )
    runners.append(runner)
    runner.start()
    name = source_job_name(source.id)

    def hour_field() -> str:
        job = runner.scheduler.get_job(name)
        return "gone" if job is None else str(job.trigger.fields[5])

    assert hour_field() == "2"
    assert runner.scheduler.get_job(source_job_name(manual.id)) is None

    stored = session.get_one(CaseSource, source.id)
    stored.schedule = "0 4 * * *"
    session.commit()
    runner.reload_sources()
    assert hour_field() == "4"

    stored.enabled = False
    session.commit()
    runner.reload_sources()
    assert hour_field() == "gone"


def test_a_scheduled_source_sync_imports_and_records_its_run(
    session: Session, session_factory: sessionmaker[Session], runners: list[JobRunner]
) -> None:
    provider = CaseProvider.from_files([WEBB])
    with provider.serve():
        source = add_source(
            session,
            secret_key=SECRET,
            name="state",
            base_url=provider.url,
            schedule="0 2 * * *",
        )
        runner = JobRunner(
            BackgroundScheduler(timezone="UTC"),
            session_factory=session_factory,
            secret_key=SECRET,
            jobs=[],
        )
        finished = threading.Event()
        runner.scheduler.add_listener(
            lambda _event: finished.set(), EVENT_JOB_EXECUTED | EVENT_JOB_ERROR
        )
        runners.append(runner)
        runner.start()
        fire_now(runner, source_job_name(source.id))
        assert finished.wait(timeout=60)

    session.rollback()
    run = session.scalars(select(SyncRun)).one()
    assert (run.trigger, run.status, run.documents_created) == (
        "schedule",
        "succeeded",
        1,
    )
    title = json.loads(WEBB.read_text("utf-8"))["CFDocument"]["title"]
    assert session.scalars(select(Framework.title)).all() == [title]
    job_run = session.scalars(select(JobRun)).one()
    assert (job_run.job_name, job_run.status) == (
        source_job_name(source.id),
        "succeeded",
    )
