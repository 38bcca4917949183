"""`standards-bridge worker`: run scheduled CASE syncs and other periodic jobs."""

from __future__ import annotations

import signal
from types import FrameType

import typer
from apscheduler.schedulers.blocking import BlockingScheduler
from rich.console import Console

from app.database import make_engine, make_sessionmaker
from app.jobs.scheduler import JobRunner
from app.settings import get_settings

console = Console(stderr=True)


def worker() -> None:
    """Run scheduled jobs until stopped. Several workers may run at once: each
    scheduled slot runs in one of them."""
    settings = get_settings()
    engine = make_engine(settings.database_url)
    runner = JobRunner(
        BlockingScheduler(timezone="UTC"),
        session_factory=make_sessionmaker(engine),
        secret_key=settings.secret_key,
        reload_seconds=settings.case_sync_reload_seconds,
    )

    def stop(_signal: int, _frame: FrameType | None) -> None:
        # Containers stop with SIGTERM; let a running job finish its transaction.
        runner.shutdown()

    signal.signal(signal.SIGTERM, stop)
    console.print("Worker started (Ctrl+C or SIGTERM stops it)")
    try:
        runner.start()
    except (KeyboardInterrupt, SystemExit):
        typer.echo("Worker stopped", err=True)
    finally:
        engine.dispose()
