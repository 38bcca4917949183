"""Tool key rotation (current, next, retired), encryption at rest, and the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import jwt
import pytest
from click.testing import Result
from pydantic import SecretStr
from sqlalchemy import select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.database import utcnow
from app.keys.encryption import ENCRYPTED_PREFIX, KeyEncryptionError, use_secret_key
from app.keys.models import ToolKey
from app.keys.service import (
    RETIRED_KEY_GRACE,
    ensure_signing_key,
    public_jwks,
    rotate_keys,
)
from app.lti.paths import JWKS_PATH
from app.main import create_app
from app.settings import Settings, get_settings
from tests.conftest import LiveServer

SECRET = SecretStr("a-secret-of-forty-characters-0123456789")
OTHER_SECRET = SecretStr("another-secret-of-forty-characters-98765")
COMMAND = Path(sys.executable).parent / "standards-bridge"

RunCli = Callable[..., Result]


@pytest.fixture(autouse=True)
def _no_secret_key_after() -> Iterator[None]:
    """Each test starts and ends without a process-wide secret."""
    use_secret_key(None)
    yield
    use_secret_key(None)


def published_kids(session: Session) -> list[str]:
    return [jwk["kid"] for jwk in public_jwks(session)["keys"]]


def statuses(session: Session) -> dict[str, str]:
    session.expire_all()
    return {key.kid: key.status for key in session.scalars(select(ToolKey))}


def test_the_jwks_publishes_the_current_and_the_next_key(session: Session) -> None:
    current = ensure_signing_key(session)

    kids = published_kids(session)

    (next_kid,) = [kid for kid, status in statuses(session).items() if status == "next"]
    assert kids == [current.kid, next_kid]
    # Signing stays with the current key while a next key is published.
    assert ensure_signing_key(session).kid == current.kid


def test_rotation_promotes_next_retires_current_and_makes_a_new_next(
    session: Session,
) -> None:
    old_current = ensure_signing_key(session)
    public_jwks(session)
    old_next = statuses(session)
    (old_next_kid,) = [kid for kid, status in old_next.items() if status == "next"]

    rotation = rotate_keys(session)
    session.commit()

    assert rotation.retired.kid == old_current.kid
    assert rotation.current.kid == old_next_kid
    assert statuses(session) == {
        old_current.kid: "retired",
        old_next_kid: "current",
        rotation.next.kid: "next",
    }
    assert ensure_signing_key(session).kid == old_next_kid
    # The retired key stays published during the grace period.
    assert set(published_kids(session)) == {
        old_current.kid,
        old_next_kid,
        rotation.next.kid,
    }


def test_rotation_without_a_published_next_key_makes_one(session: Session) -> None:
    first = ensure_signing_key(session)

    rotation = rotate_keys(session)
    session.commit()

    assert rotation.retired.kid == first.kid
    assert len({first.kid, rotation.current.kid, rotation.next.kid}) == 3
    assert ensure_signing_key(session).kid == rotation.current.kid


def test_a_retired_key_leaves_the_jwks_after_the_grace_period(
    session: Session,
) -> None:
    rotation = rotate_keys(session)
    session.commit()
    session.execute(
        update(ToolKey)
        .where(ToolKey.kid == rotation.retired.kid)
        .values(retired_at=utcnow() - RETIRED_KEY_GRACE - timedelta(minutes=1))
    )
    session.commit()

    assert rotation.retired.kid not in published_kids(session)
    assert rotation.current.kid in published_kids(session)


def _access_token(live_server: LiveServer) -> str:
    return live_server.admin_headers()["Authorization"].removeprefix("Bearer ")


def test_a_token_signed_before_rotation_verifies_during_the_grace_period(
    live_server: LiveServer, session: Session
) -> None:
    before = _access_token(live_server)
    before_kid = jwt.get_unverified_header(before)["kid"]

    rotation = rotate_keys(session)
    session.commit()

    after = _access_token(live_server)
    assert before_kid == rotation.retired.kid
    assert jwt.get_unverified_header(after)["kid"] == rotation.current.kid
    for token in (before, after):
        answer = httpx.get(
            live_server.url + "/api/v1/platforms",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 200, answer.text
    served = httpx.get(live_server.url + JWKS_PATH).json()["keys"]
    assert {jwk["kid"] for jwk in served} == {
        rotation.retired.kid,
        rotation.current.kid,
        rotation.next.kid,
    }

    # Past the grace period the retired key is gone, and so is its token.
    session.execute(
        update(ToolKey)
        .where(ToolKey.kid == rotation.retired.kid)
        .values(retired_at=utcnow() - RETIRED_KEY_GRACE - timedelta(minutes=1))
    )
    session.commit()
    refused = httpx.get(
        live_server.url + "/api/v1/platforms",
        headers={"Authorization": f"Bearer {before}"},
    )
    assert refused.status_code == 401


def _stored_private_keys(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(
            connection.execute(text("SELECT private_key_pem FROM tool_keys")).scalars()
        )


def test_private_keys_are_encrypted_at_rest_with_secret_key(
    settings: Settings, engine: Engine, session: Session
) -> None:
    app = create_app(settings.model_copy(update={"secret_key": SECRET}))
    with app.state.sessionmaker() as app_session:
        key = ensure_signing_key(app_session)
        pem = key.private_key_pem

    (stored,) = _stored_private_keys(engine)
    assert stored.startswith(ENCRYPTED_PREFIX)
    assert "PRIVATE KEY" not in stored
    session.expire_all()
    assert session.scalars(select(ToolKey)).one().private_key_pem == pem
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")


def test_encrypted_keys_cannot_be_read_with_another_or_no_secret(
    settings: Settings, session: Session
) -> None:
    create_app(settings.model_copy(update={"secret_key": SECRET}))
    ensure_signing_key(session)

    for secret, says in ((OTHER_SECRET, "was it changed?"), (None, "not set")):
        use_secret_key(secret)
        session.expire_all()
        with pytest.raises(KeyEncryptionError, match=says):
            session.scalars(select(ToolKey)).one()


def test_without_secret_key_keys_stay_readable_pem(
    engine: Engine, session: Session
) -> None:
    ensure_signing_key(session)

    (stored,) = _stored_private_keys(engine)
    assert stored.startswith("-----BEGIN PRIVATE KEY-----")


def test_a_plain_key_stays_readable_once_secret_key_is_set(
    settings: Settings, session: Session
) -> None:
    plain = ensure_signing_key(session)

    create_app(settings.model_copy(update={"secret_key": SECRET}))
    session.expire_all()

    assert (
        session.scalars(select(ToolKey)).one().private_key_pem == plain.private_key_pem
    )


def test_a_short_secret_key_stops_the_command_with_a_clear_line(
    database_url: str,
) -> None:
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "too-short",
    }

    result = subprocess.run(
        [str(COMMAND), "keys", "list"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert "SECRET_KEY must be at least 32 characters" in result.stderr
    assert "too-short" not in result.stderr


@pytest.fixture
def run_cli(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RunCli]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli, list(args))
    get_settings.cache_clear()


def test_keys_rotate_and_list_from_the_command_line(
    run_cli: RunCli, session: Session
) -> None:
    first = ensure_signing_key(session)

    rotated = run_cli("keys", "rotate")
    listed = run_cli("keys", "list")

    assert rotated.exit_code == 0, rotated.output
    assert f"Retired       {first.kid}" in rotated.output
    now = statuses(session)
    assert now[first.kid] == "retired"
    (current,) = [kid for kid, status in now.items() if status == "current"]
    assert f"Signing with {current}" in rotated.output
    assert listed.exit_code == 0, listed.output
    for kid in now:
        assert kid in listed.output
    assert "NOT encrypted" in listed.output


def test_new_secret_prints_a_usable_secret_key(run_cli: RunCli) -> None:
    result = run_cli("keys", "new-secret")

    assert result.exit_code == 0
    value = result.output.strip()
    assert Settings(secret_key=value, _env_file=None).secret_key is not None  # type: ignore[call-arg]
