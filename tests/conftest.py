"""Shared fixtures: a migrated store (SQLite or PostgreSQL), the app, a live server.

The store is chosen by `DATABASE_URL`: unset means a fresh SQLite file per test
session; a PostgreSQL URL means that database, wiped and migrated once per
session. Every test starts from the migrated, empty schema.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.auth.dependencies import token_audience, token_issuer
from app.auth.service import create_client, issue_access_token
from app.database import make_engine, make_sessionmaker
from app.main import create_app
from app.migrate import upgrade_to_head
from app.organizations.models import DEFAULT_ORGANIZATION_SLUG, Organization
from app.settings import Settings
from app.tables import metadata

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = Path(os.environ.get("SHARED_DIR", REPO_ROOT.parent / "shared"))
CASE_DATA_DIR = SHARED_DIR / "data" / "case"
CASES_DIR = SHARED_DIR / "cases"
LTI_SHAPES_DIR = SHARED_DIR / "lti"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        path = tmp_path_factory.mktemp("store") / "standards-bridge.db"
        url = f"sqlite:///{path}"
    url = Settings(database_url=url).database_url
    if url.startswith("postgresql"):
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade_to_head(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _empty_store(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            if table.name == "organizations":
                continue
            connection.execute(delete(table))
        connection.execute(
            delete(Organization.__table__).where(
                Organization.__table__.c.slug != DEFAULT_ORGANIZATION_SLUG
            )
        )


@pytest.fixture(autouse=True)
def _clean_store(request: pytest.FixtureRequest) -> Iterator[None]:
    """Empty every table (but the default organization) after each test that used it."""
    yield
    if "engine" in request.fixturenames:
        _empty_store(request.getfixturevalue("engine"))


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def settings(database_url: str, engine: Engine) -> Settings:
    return Settings(
        database_url=database_url,
        host="127.0.0.1",
        port=free_port(),
        log_level="WARNING",
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


def bearer_token_for(
    app: FastAPI, *, scopes: list[str], name: str = "test client"
) -> str:
    """An access token for a new API client holding `scopes`."""
    settings: Settings = app.state.settings
    with app.state.sessionmaker() as session:
        created = create_client(session, name=name, scopes=scopes)
        token = issue_access_token(
            session,
            client=created.client,
            scopes=tuple(scopes),
            issuer=token_issuer(settings),
            audience=token_audience(settings),
            ttl_seconds=settings.api_token_ttl_seconds,
        )
        session.commit()
    return token.access_token


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A test client whose requests carry an `admin` access token."""
    with TestClient(app) as client:
        token = bearer_token_for(app, scopes=["admin"], name="test admin")
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


@pytest.fixture
def anonymous_client(app: FastAPI) -> Iterator[TestClient]:
    """A test client that sends no credentials."""
    with TestClient(app) as client:
        yield client


class LiveServer:
    """A uvicorn server on a background thread, reachable over real HTTP."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        self.url = f"http://{host}:{port}"
        self._app = app
        config = uvicorn.Config(app, host=host, port=port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("live server did not start")
            time.sleep(0.02)

    def admin_headers(self) -> dict[str, str]:
        """Headers with an `admin` token fetched from the live /oauth/token."""
        with self._app.state.sessionmaker() as session:
            created = create_client(session, name="live admin", scopes=["admin"])
            session.commit()
        response = httpx.post(
            self.url + "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(created.client.client_id, created.client_secret),
        )
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


@pytest.fixture
def live_server(app: FastAPI, settings: Settings) -> Iterator[LiveServer]:
    """The app served on `settings.public_url`, so LTI URLs match what platforms see."""
    server = LiveServer(app, settings.host, settings.port)
    server.start()
    yield server
    server.stop()
