"""Periodic jobs, and the rule that one scheduled slot runs once.

Every worker process schedules the same jobs. When a slot comes due, each
worker inserts a `job_runs` row for (job name, slot) before doing anything;
the unique constraint lets exactly one insert through, and the others skip
the slot. No lock is held while the job runs.

Other domains add their own jobs at import time:

    from app.jobs.service import register_periodic_job

    def sync_grades(session: Session) -> None:
        ...  # commit what it writes

    register_periodic_job("lms-grades-sync", "*/15 * * * *", sync_grades)

The worker (`standards-bridge worker`) runs every registered job on its cron
expression (five fields, UTC), each with its own session.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import structlog
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.database import utcnow
from app.jobs.models import JobRun

log = structlog.get_logger()

JobOutcome = Literal["succeeded", "failed", "skipped"]
# A slot is still run this long after it was due (a busy or restarted worker).
MISFIRE_GRACE = timedelta(minutes=10)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    cron: str
    func: Callable[[Session], None]

    @property
    def trigger(self) -> CronTrigger:
        return CronTrigger.from_crontab(self.cron, timezone="UTC")


_registered: dict[str, PeriodicJob] = {}


def register_periodic_job(
    name: str, cron: str, func: Callable[[Session], None]
) -> PeriodicJob:
    """Run `func(session)` on the five-field cron expression `cron` (UTC).

    Raises ValueError for a bad expression or a name already taken.
    """
    if name in _registered:
        raise ValueError(f"a periodic job named {name!r} is already registered")
    try:
        CronTrigger.from_crontab(cron, timezone="UTC")
    except ValueError as error:
        raise ValueError(
            f"job {name!r}: bad cron expression {cron!r}: {error}"
        ) from None
    job = PeriodicJob(name=name, cron=cron, func=func)
    _registered[name] = job
    return job


def registered_jobs() -> list[PeriodicJob]:
    return list(_registered.values())


def unregister_periodic_job(name: str) -> None:
    _registered.pop(name, None)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def due_slot(trigger: CronTrigger, *, now: datetime) -> datetime:
    """The scheduled fire time a run starting at `now` belongs to.

    The latest fire time at or before `now` within the misfire grace; every
    worker computes the same slot for the same firing. Outside the grace (a
    run forced by hand) the slot is `now` to the second.
    """
    slot: datetime | None = None
    candidate = trigger.get_next_fire_time(None, now - MISFIRE_GRACE)
    while candidate is not None and candidate <= now:
        slot = candidate
        candidate = trigger.get_next_fire_time(
            candidate, candidate + timedelta(seconds=1)
        )
    return slot or now.replace(microsecond=0)


def run_job_once(
    session_factory: sessionmaker[Session],
    *,
    name: str,
    slot: datetime,
    func: Callable[[Session], None],
) -> JobOutcome:
    """Run `func` for `slot` unless another worker has claimed it first."""
    run = _claim(session_factory, name=name, slot=slot)
    if run is None:
        log.info("job.slot_taken", job=name, slot=slot.isoformat())
        return "skipped"
    error: str | None = None
    try:
        with session_factory() as session:
            func(session)
    except Exception as failure:
        log.exception("job.failed", job=name, slot=slot.isoformat())
        error = f"{type(failure).__name__}: {failure}"
    outcome: JobOutcome = "failed" if error else "succeeded"
    with session_factory() as session:
        stored = session.get_one(JobRun, run.id)
        stored.status = outcome
        stored.finished_at = utcnow()
        stored.error = error
        session.commit()
    log.info("job.finished", job=name, slot=slot.isoformat(), outcome=outcome)
    return outcome


def _claim(
    session_factory: sessionmaker[Session], *, name: str, slot: datetime
) -> JobRun | None:
    run = JobRun(
        job_name=name,
        scheduled_for=slot,
        worker=worker_name(),
        status="running",
        started_at=utcnow(),
    )
    with session_factory() as session:
        session.add(run)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            return None
    return run
