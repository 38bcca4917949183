"""`standards-bridge platforms`: registering LMSs from the command line."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.platforms import service
from app.platforms.models import Deployment, Platform
from app.settings import get_settings
from tests.conftest import LTI_SHAPES_DIR

RunCli = Callable[..., Result]

MOODLE = json.loads(
    (LTI_SHAPES_DIR / "moodle-4.5" / "12-platform-openid-configuration.json").read_text(
        encoding="utf-8"
    )
)
CANVAS_LOGIN = json.loads(
    (LTI_SHAPES_DIR / "samples" / "canvas-oidc-login-initiation.json").read_text(
        encoding="utf-8"
    )
)


@pytest.fixture
def run_cli(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RunCli]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli, list(args))
    get_settings.cache_clear()


def stored_counts(session: Session) -> tuple[int, int]:
    session.rollback()
    platforms = session.scalar(select(func.count()).select_from(Platform))
    deployments = session.scalar(select(func.count()).select_from(Deployment))
    return platforms or 0, deployments or 0


def only_platform(session: Session) -> Platform:
    session.rollback()
    return session.execute(select(Platform)).scalar_one()


def assert_clean_failure(result: Result, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stderr.startswith("Error: ")
    for fragment in fragments:
        assert fragment in result.stderr


def test_canvas_preset_fills_canvas_cloud(run_cli: RunCli, session: Session) -> None:
    result = run_cli(
        "platforms", "add", "--preset", "canvas",
        "--client-id", "10000000000002",
        "--deployment-id", "7:d3a2504bba5184799a38f141e8df2335cfa8206d",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    platform = only_platform(session)
    assert f"Registered platform {platform.id}" in result.stdout
    # Canvas cloud's issuer and endpoints, from Instructure's "Configuring
    # Canvas in the Tool" and shared/lti/README.md.
    assert platform.issuer == "https://canvas.instructure.com"
    assert (
        platform.auth_login_url
        == "https://sso.canvaslms.com/api/lti/authorize_redirect"
    )
    assert platform.auth_token_url == "https://sso.canvaslms.com/login/oauth2/token"
    assert platform.keyset_url == "https://sso.canvaslms.com/api/lti/security/jwks"
    assert platform.product == "canvas"
    assert [d.deployment_id for d in platform.deployments] == [
        "7:d3a2504bba5184799a38f141e8df2335cfa8206d"
    ]


def test_moodle_preset_matches_moodles_own_configuration(
    run_cli: RunCli, session: Session
) -> None:
    # Site URL as an administrator might paste it, with a trailing slash.
    result = run_cli(
        "platforms", "add", "--preset", "moodle",
        "--site-url", MOODLE["issuer"] + "/",
        "--client-id", "HNEXm4U9bIkeE7H", "--deployment-id", "2",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    platform = only_platform(session)
    assert platform.issuer == MOODLE["issuer"]
    assert platform.auth_login_url == MOODLE["authorization_endpoint"]
    assert platform.auth_token_url == MOODLE["token_endpoint"]
    assert platform.keyset_url == MOODLE["jwks_uri"]
    assert platform.product == "moodle"


def test_explicit_options_win_over_the_preset(
    run_cli: RunCli, session: Session
) -> None:
    self_hosted = CANVAS_LOGIN["iss"]

    result = run_cli(
        "platforms", "add", "--preset", "canvas",
        "--issuer", self_hosted,
        "--auth-login-url", f"{self_hosted}/api/lti/authorize_redirect",
        "--token-url", f"{self_hosted}/login/oauth2/token",
        "--keyset-url", f"{self_hosted}/api/lti/security/jwks",
        "--client-id", CANVAS_LOGIN["client_id"],
        "--deployment-id", CANVAS_LOGIN["lti_deployment_id"],
        "--name", "Self-hosted Canvas",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    platform = only_platform(session)
    assert platform.issuer == "https://canvas.example.edu"
    assert platform.keyset_url == "https://canvas.example.edu/api/lti/security/jwks"
    assert platform.name == "Self-hosted Canvas"
    assert platform.product == "canvas"


def test_adding_again_updates_and_adds_deployments(
    run_cli: RunCli, session: Session
) -> None:
    canvas = ("platforms", "add", "--preset", "canvas", "--client-id", "10000000000002")
    run_cli(*canvas, "--deployment-id", "7:aa")

    again = run_cli(*canvas, "--deployment-id", "7:aa", "--deployment-id", "8:bb")

    assert again.exit_code == 0, again.output
    assert "Updated platform" in again.stdout
    assert stored_counts(session) == (1, 2)


def test_a_bad_url_fails_cleanly_and_stores_nothing(
    run_cli: RunCli, session: Session
) -> None:
    result = run_cli(
        "platforms", "add",
        "--issuer", "ftp://moodle.example.edu",
        "--auth-login-url", "https://moodle.example.edu/mod/lti/auth.php",
        "--token-url", "https://moodle.example.edu/mod/lti/token.php",
        "--keyset-url", "https://moodle.example.edu/mod/lti/certs.php",
        "--client-id", "abc", "--deployment-id", "1",
    )  # fmt: skip

    assert_clean_failure(result, "issuer", "ftp://moodle.example.edu", "--issuer")
    assert stored_counts(session) == (0, 0)


def test_missing_urls_without_a_preset_are_named(
    run_cli: RunCli, session: Session
) -> None:
    result = run_cli(
        "platforms", "add", "--issuer", "https://moodle.example.edu",
        "--client-id", "abc", "--deployment-id", "1",
    )  # fmt: skip

    assert_clean_failure(result, "--auth-login-url", "--token-url", "--keyset-url")
    assert stored_counts(session) == (0, 0)


def test_moodle_preset_needs_the_site_url(run_cli: RunCli, session: Session) -> None:
    result = run_cli(
        "platforms", "add", "--preset", "moodle",
        "--client-id", "abc", "--deployment-id", "1",
    )  # fmt: skip

    assert_clean_failure(result, "--site-url")
    assert stored_counts(session) == (0, 0)


def test_an_empty_deployment_id_is_refused(run_cli: RunCli, session: Session) -> None:
    result = run_cli(
        "platforms", "add", "--preset", "canvas",
        "--client-id", "10000000000002", "--deployment-id", " ",
    )  # fmt: skip

    assert_clean_failure(result, "deployment", "--deployment-id")
    assert stored_counts(session) == (0, 0)


def test_list_show_and_manage_deployments(run_cli: RunCli, session: Session) -> None:
    run_cli(
        "platforms", "add", "--preset", "moodle", "--site-url", MOODLE["issuer"],
        "--client-id", "HNEXm4U9bIkeE7H", "--deployment-id", "2", "--name", "Lab",
    )  # fmt: skip
    platform_id = str(only_platform(session).id)

    listed = run_cli("platforms", "list")
    added = run_cli("platforms", "add-deployment", platform_id, "5")
    duplicate = run_cli("platforms", "add-deployment", platform_id, "5")
    removed = run_cli("platforms", "remove-deployment", platform_id, "2")
    shown = run_cli("platforms", "show", platform_id)

    assert listed.exit_code == 0
    assert platform_id in listed.stdout
    assert "client_id=HNEXm4U9bIkeE7H" in listed.stdout
    assert added.exit_code == 0
    assert_clean_failure(duplicate, "already has deployment '5'")
    assert removed.exit_code == 0
    assert shown.exit_code == 0
    assert MOODLE["jwks_uri"] in shown.stdout
    stored = only_platform(session)
    assert [d.deployment_id for d in stored.deployments] == ["5"]


def test_remove_deletes_the_registration(run_cli: RunCli, session: Session) -> None:
    run_cli(
        "platforms", "add", "--preset", "canvas",
        "--client-id", "10000000000002", "--deployment-id", "7:aa",
    )  # fmt: skip
    platform_id = str(only_platform(session).id)

    removed = run_cli("platforms", "remove", platform_id)
    again = run_cli("platforms", "remove", platform_id)
    listed = run_cli("platforms", "list")

    assert removed.exit_code == 0
    assert_clean_failure(again, platform_id)
    assert "No platforms are registered" in listed.stdout
    assert service.list_platforms(session) == []


def test_a_malformed_platform_id_is_explained(run_cli: RunCli) -> None:
    result = run_cli("platforms", "show", "canvas")

    assert_clean_failure(result, "'canvas' is not a platform id")


def test_an_unmigrated_store_is_refused(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()

    result = run_cli("platforms", "list")

    assert_clean_failure(result, "standards-bridge migrate")
