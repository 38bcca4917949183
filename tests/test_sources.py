"""CASE sources: validation, encrypted credentials, the REST API and the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from click.testing import Result
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.cli import cli
from app.frameworks.models import Framework
from app.settings import Settings, get_settings
from app.sources.models import CaseSource, SyncRun
from app.sources.service import SourceError, add_source
from app.sources.sync import sync_source
from tests.case_provider import CaseProvider
from tests.conftest import CASE_DATA_DIR, bearer_token_for

WEBB = CASE_DATA_DIR / "smarterbalanced" / "webb-dok_b7bc9d8c.json"
SECRET = SecretStr("s" * 40)
API_KEY = "k3y-that-must-never-be-stored-in-clear"
CLIENT_SECRET = "client-secret-that-must-never-be-stored-in-clear"

RunCli = Callable[..., Result]


@pytest.fixture
def provider() -> Iterator[CaseProvider]:
    served = CaseProvider.from_files([WEBB])
    with served.serve():
        yield served


@pytest.fixture
def keyed_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"secret_key": SECRET})


@pytest.fixture
def keyed_client(keyed_settings: Settings) -> Iterator[TestClient]:
    from app.main import create_app

    app = create_app(keyed_settings)
    with TestClient(app) as client:
        token = bearer_token_for(app, scopes=["admin"], name="admin")
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def raw_source_rows(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM case_sources")).all()
    return [repr(tuple(row)) for row in rows]


def source_count(session: Session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(CaseSource)) or 0


def test_an_api_key_is_stored_encrypted_and_used_to_sync(
    provider: CaseProvider,
    session: Session,
    session_factory: sessionmaker[Session],
    engine: Engine,
) -> None:
    provider.require_api_key(API_KEY, header="X-Case-Key")
    source = add_source(
        session,
        secret_key=SECRET,
        name="keyed",
        base_url=provider.url,
        auth_method="api_key",
        api_key=API_KEY,
        api_key_header="X-Case-Key",
    )

    rows = raw_source_rows(engine)
    assert len(rows) == 1 and API_KEY not in rows[0]
    run = sync_source(session_factory, source_id=source.id, secret_key=SECRET)
    assert run.status == "succeeded", run.error
    assert run.documents_created == 1
    assert {r.headers.get("x-case-key") for r in provider.requests_to("CF")} == {
        API_KEY
    }


def test_oauth_client_credentials_are_stored_encrypted_and_used_to_sync(
    provider: CaseProvider,
    session: Session,
    session_factory: sessionmaker[Session],
    engine: Engine,
) -> None:
    provider.require_oauth(
        client_id="bridge", client_secret=CLIENT_SECRET, scope="case.read"
    )
    source = add_source(
        session,
        secret_key=SECRET,
        name="oauth",
        base_url=provider.url,
        case_version="1.0",
        auth_method="oauth2",
        token_url=provider.token_url,
        client_id="bridge",
        client_secret=CLIENT_SECRET,
        oauth_scope="case.read",
    )

    assert CLIENT_SECRET not in raw_source_rows(engine)[0]
    run = sync_source(session_factory, source_id=source.id, secret_key=SECRET)
    assert run.status == "succeeded", run.error
    assert provider.tokens_issued == 1
    assert all(
        r.raw_path.startswith("/ims/case/v1p0/") for r in provider.requests_to("CF")
    )


def test_a_changed_secret_key_fails_the_run_with_a_clear_error(
    provider: CaseProvider, session: Session, session_factory: sessionmaker[Session]
) -> None:
    provider.require_api_key(API_KEY)
    source = add_source(
        session,
        secret_key=SECRET,
        name="keyed",
        base_url=provider.url,
        auth_method="api_key",
        api_key=API_KEY,
    )

    run = sync_source(
        session_factory, source_id=source.id, secret_key=SecretStr("o" * 40)
    )

    assert run.status == "failed"
    assert run.error is not None and "cannot be decrypted" in run.error
    assert provider.requests_to("CF") == []


def test_credentials_are_refused_without_a_secret_key(
    provider: CaseProvider, session: Session
) -> None:
    with pytest.raises(SourceError) as refused:
        add_source(
            session,
            secret_key=None,
            name="keyed",
            base_url=provider.url,
            auth_method="api_key",
            api_key=API_KEY,
        )

    assert refused.value.field == "api_key"
    assert "SECRET_KEY is not set" in str(refused.value)
    assert source_count(session) == 0


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"schedule": "61 * * * *"}, "schedule", "is not a cron expression"),
        ({"schedule": "every night"}, "schedule", "is not a cron expression"),
        ({"base_url": "ftp://case.example.org"}, "base_url", "http(s) URL"),
        (
            {"base_url": "https://case.example.org/ims/case/v1p0"},
            "base_url",
            "points at CASE 1.0",
        ),
        ({"case_version": "2.0"}, "case_version", "1.0 or 1.1"),
        ({"auth_method": "api_key"}, "api_key", "needs api key"),
        ({"auth_method": "oauth2", "client_id": "x"}, "token_url", "needs token url"),
        ({"api_key": "k"}, "api_key", "only used with another auth method"),
        ({"auth_method": "basic"}, "auth_method", "none, api_key, oauth2"),
        ({"name": "  "}, "name", "needs a name"),
    ],
)
def test_bad_source_settings_are_refused_naming_the_field(
    session: Session, changes: dict[str, str], field: str, fragment: str
) -> None:
    given = {"name": "state", "base_url": "https://case.example.org", **changes}

    with pytest.raises(SourceError) as refused:
        add_source(session, secret_key=SECRET, **given)  # type: ignore[arg-type]

    assert refused.value.field == field
    assert fragment in str(refused.value)
    assert source_count(session) == 0


def test_the_api_adds_lists_shows_syncs_and_removes_without_returning_secrets(
    provider: CaseProvider, keyed_client: TestClient
) -> None:
    provider.require_api_key(API_KEY)
    created = keyed_client.post(
        "/api/v1/case/sources",
        json={
            "name": "state",
            "base_url": provider.url,
            "auth_method": "api_key",
            "api_key": API_KEY,
            "schedule": "0 2 * * *",
        },
    )
    assert created.status_code == 201, created.text
    source = created.json()
    assert source["has_credentials"] is True and source["schedule"] == "0 2 * * *"

    listed = keyed_client.get("/api/v1/case/sources")
    shown = keyed_client.get(f"/api/v1/case/sources/{source['id']}")
    synced = keyed_client.post(f"/api/v1/case/sources/{source['id']}/sync")
    runs = keyed_client.get(
        "/api/v1/case/sync-runs", params={"source_id": source["id"]}
    )

    for response in (created, listed, shown):
        assert API_KEY not in response.text
    assert not {"api_key", "client_secret", "credentials"} & set(shown.json())
    assert [s["id"] for s in listed.json()] == [source["id"]]
    assert synced.status_code == 200
    assert synced.json()["status"] == "succeeded"
    assert synced.json()["documents_created"] == 1
    assert [r["id"] for r in runs.json()] == [synced.json()["id"]]
    metrics = keyed_client.get("/metrics").text
    assert 'standards_bridge_case_sync_runs_total{outcome="succeeded"} 1.0' in metrics

    removed = keyed_client.delete(f"/api/v1/case/sources/{source['id']}")
    assert removed.status_code == 204
    assert keyed_client.get(f"/api/v1/case/sources/{source['id']}").status_code == 404


def test_the_api_refuses_a_bad_cron_and_a_duplicate_name_as_problems(
    keyed_client: TestClient,
) -> None:
    body = {"name": "state", "base_url": "https://case.example.org"}

    bad_cron = keyed_client.post(
        "/api/v1/case/sources", json={**body, "schedule": "0 25 * * *"}
    )
    first = keyed_client.post("/api/v1/case/sources", json=body)
    again = keyed_client.post("/api/v1/case/sources", json=body)

    assert bad_cron.status_code == 422
    assert bad_cron.headers["content-type"] == "application/problem+json"
    assert bad_cron.json()["field"] == "schedule"
    assert "is not a cron expression" in bad_cron.json()["detail"]
    assert first.status_code == 201
    assert again.status_code == 409 and again.json()["code"] == "source-exists"


def test_the_api_without_secret_key_refuses_credentials(client: TestClient) -> None:
    response = client.post(
        "/api/v1/case/sources",
        json={
            "name": "state",
            "base_url": "https://case.example.org",
            "auth_method": "api_key",
            "api_key": API_KEY,
        },
    )

    assert response.status_code == 422
    assert response.json()["code"] == "secret-key-missing"
    assert client.get("/api/v1/case/sources").json() == []


def test_reading_needs_frameworks_read_and_writing_frameworks_write(
    app: FastAPI,
) -> None:
    reader = bearer_token_for(app, scopes=["frameworks:read"], name="reader")
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {reader}"
        listed = client.get("/api/v1/case/sources")
        added = client.post(
            "/api/v1/case/sources",
            json={"name": "x", "base_url": "https://case.example.org"},
        )

    assert listed.status_code == 200
    assert added.status_code == 403


@pytest.fixture
def run_cli(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RunCli]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    monkeypatch.setenv("SECRET_KEY", SECRET.get_secret_value())
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli, [str(arg) for arg in args])
    get_settings.cache_clear()


def test_the_cli_adds_syncs_and_reports_runs(
    provider: CaseProvider, run_cli: RunCli, session: Session, engine: Engine
) -> None:
    added = run_cli(
        "case", "sources", "add", "state", "--url", provider.url,
        "--auth", "api_key", "--api-key", API_KEY, "--schedule", "30 1 * * *",
    )  # fmt: skip
    provider.require_api_key(API_KEY)
    synced = run_cli("case", "sync", "state")
    runs = run_cli("case", "sync-runs")
    shown = run_cli("case", "sources", "show", "state")
    listed = run_cli("case", "sources", "list")

    assert added.exit_code == 0, added.output
    assert API_KEY not in raw_source_rows(engine)[0]
    assert synced.exit_code == 0, synced.output
    assert "succeeded" in synced.stdout and "created 1" in synced.stdout
    assert runs.exit_code == 0 and "succeeded" in runs.stdout
    described = json.loads(shown.stdout)
    assert described["has_credentials"] is True and API_KEY not in shown.stdout
    assert "30 1 * * *" in listed.stdout
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Framework)) == 1

    removed = run_cli("case", "sources", "remove", "state")
    assert removed.exit_code == 0
    assert source_count(session) == 0
    assert session.scalar(select(func.count()).select_from(SyncRun)) == 0
    assert session.scalar(select(func.count()).select_from(Framework)) == 1


def test_the_cli_refuses_a_bad_cron_naming_the_field(
    run_cli: RunCli, session: Session
) -> None:
    result = run_cli(
        "case", "sources", "add", "state", "--url", "https://case.example.org",
        "--schedule", "* * *",
    )  # fmt: skip

    assert result.exit_code == 2
    assert "(schedule)" in result.stderr and "is not a cron expression" in result.stderr
    assert source_count(session) == 0


def test_the_cli_sync_exits_non_zero_when_the_provider_fails(
    provider: CaseProvider, run_cli: RunCli
) -> None:
    run_cli("case", "sources", "add", "state", "--url", provider.url)
    provider.faults.fail_next("CFDocuments", times=10, status=500)

    result = run_cli("case", "sync", "state")

    assert result.exit_code == 1
    assert "failed" in result.stdout
    assert "500" in result.stderr


def test_the_cli_names_an_unknown_source(run_cli: RunCli) -> None:
    result = run_cli("case", "sync", "nowhere")

    assert result.exit_code == 2
    assert "no CASE source has id or name 'nowhere'" in result.stderr
