"""Whether this process can serve: the database answers and its schema is current."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from app.migrate import alembic_config

VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class MigrationState:
    """The revisions the database is stamped with and the ones this release ships."""

    current: tuple[str, ...]
    head: tuple[str, ...]

    @property
    def pending(self) -> bool:
        return set(self.current) != set(self.head)


class ReadinessProbe:
    """Asks the database on every probe; remembers the migration state briefly.

    Orchestrators probe every few seconds, and reading the migration scripts
    from disk each time would cost more than the query itself. The database
    is still asked every time, so a lost connection shows at once.
    """

    def __init__(self, *, engine: Engine, database_url: str, cache_seconds: float):
        self._engine = engine
        self._database_url = database_url
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._cached: tuple[float, MigrationState] | None = None

    def database_answers(self) -> None:
        """Run a trivial query; raises SQLAlchemyError when the database is away."""
        with self._engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def migration_state(self) -> MigrationState:
        with self._lock:
            now = time.monotonic()
            if self._cached and now - self._cached[0] < self._cache_seconds:
                return self._cached[1]
            state = read_migration_state(self._engine, self._database_url)
            self._cached = (now, state)
            return state


def read_migration_state(engine: Engine, database_url: str) -> MigrationState:
    script = ScriptDirectory.from_config(alembic_config(database_url))
    with engine.connect() as connection:
        current = _stamped_revisions(connection)
    return MigrationState(current=current, head=tuple(sorted(script.get_heads())))


def _stamped_revisions(connection: Connection) -> tuple[str, ...]:
    # Read alembic's table directly: a MigrationContext logs its set-up at INFO,
    # which would add lines to the log on every probe.
    if not inspect(connection).has_table(VERSION_TABLE):
        return ()
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
    return tuple(sorted(rows.scalars()))
