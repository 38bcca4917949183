from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.migrate import pending_revisions
from app.organizations.models import Organization
from app.tables import metadata


def test_migrations_create_every_table(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())

    assert set(metadata.tables) <= tables


def test_store_is_at_the_newest_migration(engine: Engine, database_url: str) -> None:
    assert pending_revisions(engine, database_url) is False


def test_default_organization_exists(session: Session) -> None:
    slugs = session.execute(select(Organization.slug)).scalars().all()

    assert slugs == ["default"]


def test_health_endpoint_answers(client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_models_and_migrations_agree(engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, metadata)

    assert differences == []
