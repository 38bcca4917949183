"""`standards-bridge clients`: managing API clients from the command line."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from click.testing import Result
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.auth.models import ApiClient
from app.auth.service import new_client_id
from app.cli import cli
from app.organizations.service import get_default_organization_id
from app.settings import get_settings

RunCli = Callable[..., Result]


@pytest.fixture
def run_cli(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RunCli]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    # INFO, so the logs the commands write are there to keep off stdout.
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli, list(args))
    get_settings.cache_clear()


def stored_clients(session: Session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(ApiClient)) or 0


def assert_clean_failure(result: Result, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    # Log lines may come first; the error is the last line.
    error = result.stderr.splitlines()[-1]
    assert error.startswith("Error: ")
    for fragment in fragments:
        assert fragment in error


def test_create_prints_only_the_client_as_json(
    run_cli: RunCli, anonymous_client: TestClient, session: Session
) -> None:
    result = run_cli(
        "clients", "create", "--name", "State reporting",
        "--scopes", "reports:read evidence:read",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert created["name"] == "State reporting"
    assert created["scopes"] == ["evidence:read", "reports:read"]
    assert created["organization_id"] == str(get_default_organization_id(session))
    assert created["revoked_at"] is None
    assert len(created["client_secret"]) >= 43  # 32 bytes, base64url

    token = anonymous_client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(created["client_id"], created["client_secret"]),
    )
    assert token.status_code == 200, token.text
    assert token.json()["scope"] == "evidence:read reports:read"


def test_list_never_shows_secrets(run_cli: RunCli) -> None:
    created = json.loads(
        run_cli("clients", "create", "--name", "SIS", "--scopes", "admin").stdout
    )

    result = run_cli("clients", "list")

    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert [c["client_id"] for c in listed] == [created["client_id"]]
    assert "client_secret" not in listed[0]
    assert created["client_secret"] not in result.output


def test_revoke_ends_the_client(
    run_cli: RunCli, anonymous_client: TestClient, session: Session
) -> None:
    created = json.loads(
        run_cli("clients", "create", "--name", "SIS", "--scopes", "people:read").stdout
    )

    result = run_cli("clients", "revoke", created["client_id"])

    assert result.exit_code == 0, result.output
    assert f"Revoked API client {created['client_id']}" in result.stdout
    listed = json.loads(run_cli("clients", "list").stdout)
    assert listed[0]["revoked_at"] is not None
    token = anonymous_client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": created["client_id"],
            "client_secret": created["client_secret"],
        },
    )
    assert token.status_code == 401
    assert token.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("arguments", "fragments"),
    [
        (
            ("--name", "SIS", "--scopes", "evidence:read grades:write"),
            ("grades:write", "--scopes"),
        ),
        (("--name", "SIS", "--scopes", " "), ("at least one scope", "--scopes")),
        (("--name", "  ", "--scopes", "evidence:read"), ("needs a name", "--name")),
        (
            ("--name", "SIS", "--scopes", "admin", "--organization-id", "district-7"),
            ("'district-7' is not an organization id",),
        ),
        (
            (
                "--name", "SIS", "--scopes", "admin",
                "--organization-id", "00000000-0000-4000-8000-0000000000ff",
            ),
            ("No organization has id", "--organization-id"),
        ),
    ],
)  # fmt: skip
def test_bad_create_arguments_fail_cleanly_and_store_nothing(
    run_cli: RunCli,
    session: Session,
    arguments: tuple[str, ...],
    fragments: tuple[str, ...],
) -> None:
    result = run_cli("clients", "create", *arguments)

    assert_clean_failure(result, *fragments)
    assert stored_clients(session) == 0


def test_revoking_an_unknown_client_fails_cleanly(run_cli: RunCli) -> None:
    result = run_cli("clients", "revoke", "no-such-client")

    assert_clean_failure(result, "No API client has client_id 'no-such-client'")


def test_client_ids_are_safe_as_command_line_arguments() -> None:
    ids = {new_client_id() for _ in range(2000)}

    assert len(ids) == 2000
    assert all(not client_id.startswith("-") for client_id in ids)
    assert all(set(client_id) <= set("0123456789abcdef") for client_id in ids)
