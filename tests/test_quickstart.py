"""`standards-bridge quickstart`, the command behind `make run`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.cli import prepare_quickstart
from app.database import make_engine
from app.frameworks.models import Framework
from app.frameworks.service import bundled_framework_path
from app.keys.models import ToolKey
from app.migrate import pending_revisions
from app.settings import Settings
from tests.conftest import free_port

BUNDLED_TITLE = json.loads(bundled_framework_path().read_text(encoding="utf-8"))[
    "CFDocument"
]["title"]
COMMAND = Path(sys.executable).parent / "standards-bridge"


def count(session: Session, model: type) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_preparation_imports_the_framework_and_makes_a_key_once(
    database_url: str, engine: Engine, session: Session
) -> None:
    settings = Settings(database_url=database_url, _env_file=None)  # type: ignore[call-arg]

    first = prepare_quickstart(settings)
    second = prepare_quickstart(settings)

    assert first.framework_title == BUNDLED_TITLE
    assert first.framework_outcome == "created"
    assert second.framework_outcome == "unchanged"
    assert second.key_id == first.key_id
    assert count(session, Framework) == 1
    assert count(session, ToolKey) == 1


def test_preparation_migrates_a_new_store(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'new' / 'standards-bridge.db'}"

    prepared = prepare_quickstart(
        Settings(database_url=database_url, _env_file=None)  # type: ignore[call-arg]
    )

    engine = make_engine(database_url)
    try:
        assert pending_revisions(engine, database_url) is False
        assert "frameworks" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    assert prepared.framework_outcome == "created"


def test_quickstart_prints_the_lms_setup_and_serves(
    database_url: str, engine: Engine, session: Session, tmp_path: Path
) -> None:
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }
    environment.pop("BASE_URL", None)
    stdout = tmp_path / "stdout.txt"
    stderr = tmp_path / "stderr.txt"
    with stdout.open("w") as out, stderr.open("w") as err:
        process = subprocess.Popen(
            [str(COMMAND), "quickstart"], env=environment, stdout=out, stderr=err
        )
    try:
        jwks = _wait_for_jwks(f"http://127.0.0.1:{port}", process)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)

    printed = [line.partition(": ") for line in stdout.read_text().splitlines()]
    fields = {label.strip(): value.strip() for label, _, value in printed}
    assert (
        fields["OpenID Connect Initiation Url"] == f"http://127.0.0.1:{port}/lti/login"
    )
    assert fields["Public keyset"] == f"http://127.0.0.1:{port}/lti/jwks"
    assert f"Framework {BUNDLED_TITLE}: created" in stderr.read_text()
    session.rollback()
    # The JWKS also publishes the next key, made when it is first served.
    current_kid = session.execute(
        select(ToolKey.kid).where(ToolKey.status == "current")
    ).scalar_one()
    assert current_kid in [key["kid"] for key in jwks["keys"]]


def _wait_for_jwks(base_url: str, process: subprocess.Popen[bytes]) -> dict:
    """Poll until the server answers; the bound only stops a broken start hanging."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"quickstart exited with {process.returncode}")
        try:
            response = httpx.get(f"{base_url}/lti/jwks", timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
            continue
        response.raise_for_status()
        return response.json()
    raise AssertionError("quickstart did not start serving")
