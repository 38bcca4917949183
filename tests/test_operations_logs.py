"""Logs in JSON mode: one object per line, the request id on each, no secrets."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.logs import REDACTED, configure_logging
from app.main import create_app
from app.settings import Settings
from tests.conftest import free_port

QUERY_SECRET = "query-secret-5b1c"
HEADER_SECRET = "header-secret-77d0"
COMMAND = Path(sys.executable).parent / "standards-bridge"


@pytest.fixture
def json_app(settings: Settings) -> Iterator[FastAPI]:
    yield create_app(
        settings.model_copy(update={"log_json": True, "log_level": "INFO"})
    )
    # Later tests expect the console format the shared fixtures set up.
    configure_logging(level="WARNING", json=False)


def json_lines(captured: str) -> list[dict[str, Any]]:
    """Every line of `captured`, each of which must be one JSON object."""
    return [json.loads(line) for line in captured.splitlines() if line.strip()]


def events_named(lines: list[dict[str, Any]], event: str) -> list[dict[str, Any]]:
    return [line for line in lines if line["event"] == event]


def test_a_request_logs_one_json_line_with_its_id_and_no_secrets(
    json_app: FastAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    with TestClient(json_app) as client:
        capsys.readouterr()
        client.get(
            f"/healthz?id_token={QUERY_SECRET}&state=abc",
            headers={
                "Authorization": f"Bearer {HEADER_SECRET}",
                "X-Request-ID": "trace-42",
            },
        )
    captured = capsys.readouterr().err

    lines = json_lines(captured)
    [request_line] = events_named(lines, "http.request")
    assert request_line["request_id"] == "trace-42"
    assert request_line["method"] == "GET"
    assert request_line["route"] == "/healthz"
    assert request_line["status"] == 200
    assert request_line["duration_ms"] >= 0
    assert request_line["level"] == "info"
    logged_at = datetime.fromisoformat(request_line["timestamp"])
    assert logged_at.utcoffset() == UTC.utcoffset(None)
    assert QUERY_SECRET not in captured
    assert HEADER_SECRET not in captured
    assert "id_token" not in captured


def test_log_lines_inside_a_request_carry_its_id(
    json_app: FastAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    def noisy() -> dict[str, str]:
        structlog.get_logger().info("noisy.structlog")
        logging.getLogger("noisy.stdlib").warning("from the %s library", "standard")
        return {"status": "ok"}

    json_app.add_api_route("/noisy", noisy)

    with TestClient(json_app) as client:
        capsys.readouterr()
        client.get("/noisy", headers={"X-Request-ID": "trace-43"})
    lines = json_lines(capsys.readouterr().err)

    [from_structlog] = events_named(lines, "noisy.structlog")
    [from_stdlib] = events_named(lines, "from the standard library")
    assert from_structlog["request_id"] == "trace-43"
    assert from_stdlib["request_id"] == "trace-43"
    assert from_stdlib["level"] == "warning"
    assert from_stdlib["logger"] == "noisy.stdlib"


def test_an_unhandled_error_is_logged_with_the_request_id(
    json_app: FastAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken() -> None:
        raise RuntimeError("boom")

    json_app.add_api_route("/broken", broken)

    with TestClient(json_app, raise_server_exceptions=False) as client:
        capsys.readouterr()
        response = client.get("/broken", headers={"X-Request-ID": "trace-44"})
    lines = json_lines(capsys.readouterr().err)

    assert response.status_code == 500
    [request_line] = events_named(lines, "http.request")
    assert request_line["status"] == 500
    assert request_line["route"] == "/broken"
    [failure] = events_named(lines, "request.failed")
    assert failure["request_id"] == "trace-44"
    assert failure["error"] == "RuntimeError"


def test_secret_looking_fields_are_redacted(
    json_app: FastAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()

    structlog.get_logger().info(
        "careless.event",
        authorization=f"Bearer {HEADER_SECRET}",
        client_secret=HEADER_SECRET,
        refresh_token=HEADER_SECRET,
        payload={"id_token": HEADER_SECRET, "password": HEADER_SECRET},
        platform_id="kept",
    )
    captured = capsys.readouterr().err

    [line] = events_named(json_lines(captured), "careless.event")
    assert line["authorization"] == REDACTED
    assert line["client_secret"] == REDACTED
    assert line["refresh_token"] == REDACTED
    assert line["payload"] == {"id_token": REDACTED, "password": REDACTED}
    assert line["platform_id"] == "kept"
    assert HEADER_SECRET not in captured


def test_the_served_app_writes_only_json_lines(tmp_path: Path) -> None:
    """Through `standards-bridge serve`: uvicorn's own lines are JSON too, and its
    access line (which carries the query string) is not written."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_JSON": "true",
        "LOG_LEVEL": "INFO",
    }
    stderr = tmp_path / "stderr.txt"
    with stderr.open("w") as err:
        process = subprocess.Popen(
            [str(COMMAND), "serve"],
            cwd=tmp_path,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        response = _get_when_serving(
            f"http://127.0.0.1:{port}/healthz?id_token={QUERY_SECRET}",
            process,
            headers={
                "Authorization": f"Bearer {HEADER_SECRET}",
                "X-Request-ID": "served-1",
            },
        )
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    captured = stderr.read_text()

    assert response.headers["X-Request-ID"] == "served-1"
    lines = json_lines(captured)
    [request_line] = events_named(lines, "http.request")
    assert request_line["request_id"] == "served-1"
    assert request_line["route"] == "/healthz"
    assert any(line["logger"].startswith("uvicorn") for line in lines)
    assert not any(line["logger"] == "uvicorn.access" for line in lines)
    assert QUERY_SECRET not in captured
    assert HEADER_SECRET not in captured


def _get_when_serving(
    url: str, process: subprocess.Popen[bytes], *, headers: dict[str, str]
) -> httpx.Response:
    """Poll until the server answers; the bound only stops a broken start hanging."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}")
        try:
            return httpx.get(url, headers=headers, timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("serve did not start")
