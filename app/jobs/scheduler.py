"""The job runner: APScheduler with one cron job per enabled CASE source plus
every registered periodic job, kept in step with the sources table."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import structlog
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from app.database import utcnow
from app.jobs.service import (
    JobOutcome,
    PeriodicJob,
    due_slot,
    registered_jobs,
    run_job_once,
)
from app.sources.service import list_enabled_scheduled_sources
from app.sources.sync import sync_source

log = structlog.get_logger()

SOURCE_JOB_PREFIX = "case-sync:"
RELOAD_JOB_ID = "reload-case-sources"


def source_job_name(source_id: uuid.UUID) -> str:
    return f"{SOURCE_JOB_PREFIX}{source_id}"


class JobRunner:
    """Schedules jobs on `scheduler` (Background- or BlockingScheduler).

    Sources are re-read every `reload_seconds`, and on `reload_sources()`, so
    a source added, rescheduled, disabled or removed is followed without a
    restart.
    """

    def __init__(
        self,
        scheduler: BaseScheduler,
        *,
        session_factory: sessionmaker[Session],
        secret_key: SecretStr | None,
        reload_seconds: int = 60,
        jobs: list[PeriodicJob] | None = None,
    ) -> None:
        self.scheduler = scheduler
        self._session_factory = session_factory
        self._secret_key = secret_key
        self._reload_seconds = reload_seconds
        self._jobs = registered_jobs() if jobs is None else jobs
        self._source_schedules: dict[str, str] = {}

    def start(self) -> None:
        """Add every job, then start the scheduler (blocks for a BlockingScheduler)."""
        for job in self._jobs:
            self._add(job.name, job.trigger, self._job_call(job))
        self.reload_sources()
        self.scheduler.add_job(
            self.reload_sources,
            "interval",
            seconds=self._reload_seconds,
            id=RELOAD_JOB_ID,
            replace_existing=True,
        )
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def reload_sources(self) -> None:
        with self._session_factory() as session:
            wanted = {
                source_job_name(source.id): source.schedule or ""
                for source in list_enabled_scheduled_sources(session)
            }
        for name in set(self._source_schedules) - set(wanted):
            self.scheduler.remove_job(name)
            del self._source_schedules[name]
            log.info("job.unscheduled", job=name)
        for name, cron in wanted.items():
            if self._source_schedules.get(name) == cron:
                continue
            source_id = uuid.UUID(name.removeprefix(SOURCE_JOB_PREFIX))
            trigger = CronTrigger.from_crontab(cron, timezone="UTC")
            self._add(name, trigger, self._source_call(name, trigger, source_id))
            self._source_schedules[name] = cron
            log.info("job.scheduled", job=name, cron=cron)

    def _add(
        self, name: str, trigger: CronTrigger, call: Callable[[], JobOutcome]
    ) -> None:
        self.scheduler.add_job(
            call,
            trigger,
            id=name,
            name=name,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=600,
        )

    def _job_call(self, job: PeriodicJob) -> Callable[[], JobOutcome]:
        trigger = job.trigger

        def call() -> JobOutcome:
            return run_job_once(
                self._session_factory,
                name=job.name,
                slot=due_slot(trigger, now=utcnow()),
                func=job.func,
            )

        return call

    def _source_call(
        self, name: str, trigger: CronTrigger, source_id: uuid.UUID
    ) -> Callable[[], JobOutcome]:
        def sync(_session: Session) -> None:
            sync_source(
                self._session_factory,
                source_id=source_id,
                secret_key=self._secret_key,
                trigger="schedule",
            )

        def call() -> JobOutcome:
            return run_job_once(
                self._session_factory,
                name=name,
                slot=due_slot(trigger, now=utcnow()),
                func=sync,
            )

        return call
