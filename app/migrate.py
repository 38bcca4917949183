"""Schema migrations, run programmatically so the CLI and tests share one path."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


def pending_revisions(engine: Engine, database_url: str) -> bool:
    """True when the store is behind the newest migration."""
    script = ScriptDirectory.from_config(alembic_config(database_url))
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    return set(current) != set(script.get_heads())
