"""Probes, metrics and request ids: what an orchestrator and Prometheus see."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from alembic import command
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from app.main import create_app
from app.migrate import alembic_config, upgrade_to_head
from app.operations.metrics import (
    bound_metrics,
    record_case_sync_run,
    record_evidence_ingested,
    record_framework_import,
    record_lti_launch,
)
from app.problems import PROBLEM_MEDIA_TYPE
from app.settings import Settings
from tests.conftest import REPO_ROOT, free_port

# The one migration in migrations/versions/0001_initial_schema.py.
HEAD_REVISION = "0001"
PEOPLE_ROUTE = "/api/v1/people/{person_id}"


def throwaway_settings(database_url: str, **values: object) -> Settings:
    return Settings(
        database_url=database_url,
        log_level="WARNING",
        _env_file=None,  # type: ignore[call-arg]
        **values,
    )


def sample_value(metrics_text: str, name: str, labels: dict[str, str]) -> float:
    """The value of the sample `name{labels}`, 0 when it was never recorded."""
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


def test_healthz_answers_without_the_database() -> None:
    unreachable = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/absent"

    with TestClient(create_app(throwaway_settings(unreachable))) as client:
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ok_on_a_migrated_store(client: TestClient) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "database": "ok",
        "revision": [HEAD_REVISION],
    }


def test_readyz_names_an_unreachable_database() -> None:
    # Nothing listens on a port just handed back by the OS: connection refused.
    unreachable = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/absent"

    with TestClient(create_app(throwaway_settings(unreachable))) as client:
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    problem = response.json()
    assert problem["code"] == "database-unreachable"
    assert problem["status"] == 503
    assert "database" in problem["detail"]


def test_readyz_names_pending_migrations_on_an_unmigrated_store(
    tmp_path: Path,
) -> None:
    database_url = f"sqlite:///{tmp_path / 'empty.db'}"

    with TestClient(create_app(throwaway_settings(database_url))) as client:
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    problem = response.json()
    assert problem["code"] == "migrations-pending"
    assert problem["current_revisions"] == []
    assert problem["head_revisions"] == [HEAD_REVISION]
    assert problem["detail"] == (
        f"The database schema is at revision none but this release expects "
        f"{HEAD_REVISION}; run `standards-bridge migrate`."
    )


def test_readyz_follows_the_stamp_when_not_cached(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'stamped.db'}"
    upgrade_to_head(database_url)
    app = create_app(throwaway_settings(database_url, readiness_cache_seconds=0))

    with TestClient(app) as client:
        ready = client.get("/readyz")
        command.stamp(alembic_config(database_url), "base")
        behind = client.get("/readyz")
        command.stamp(alembic_config(database_url), "head")
        ready_again = client.get("/readyz")

    assert ready.status_code == 200
    assert behind.status_code == 503
    assert behind.json()["current_revisions"] == []
    assert ready_again.status_code == 200


def test_readyz_reuses_the_migration_state_within_the_cache_period(
    tmp_path: Path,
) -> None:
    database_url = f"sqlite:///{tmp_path / 'cached.db'}"
    upgrade_to_head(database_url)
    app = create_app(throwaway_settings(database_url, readiness_cache_seconds=3600))

    with TestClient(app) as client:
        first = client.get("/readyz")
        command.stamp(alembic_config(database_url), "base")
        second = client.get("/readyz")

    # The stamp changed after the first probe; the remembered state still answers.
    assert first.status_code == 200
    assert second.status_code == 200


def test_metrics_count_requests_by_route_template(client: TestClient) -> None:
    person_ids = [str(uuid.uuid4()), str(uuid.uuid4())]
    for person_id in person_ids:
        assert client.get(f"/api/v1/people/{person_id}").status_code == 404
    client.get("/healthz")
    client.get("/no-such-page")

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    text = response.text
    people = {"method": "GET", "route": PEOPLE_ROUTE, "status": "404"}
    assert sample_value(text, "standards_bridge_http_requests_total", people) == 2
    assert (
        sample_value(
            text, "standards_bridge_http_request_duration_seconds_count", people
        )
        == 2
    )
    health = {"method": "GET", "route": "/healthz", "status": "200"}
    assert sample_value(text, "standards_bridge_http_requests_total", health) == 1
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert sample_value(text, "standards_bridge_http_requests_total", unmatched) == 1
    for person_id in person_ids:
        assert person_id not in text
    assert "no-such-page" not in text


def test_domain_counters_increment_outside_a_request(app: FastAPI) -> None:
    with bound_metrics(app.state.metrics):
        record_lti_launch("accepted")
        record_lti_launch("accepted")
        record_lti_launch("rejected")
        record_framework_import("created")
        record_case_sync_run("failed")
        record_evidence_ingested("api", count=3)
        record_evidence_ingested("api")

    with TestClient(app) as client:
        text = client.get("/metrics").text

    def value(name: str, **labels: str) -> float:
        return sample_value(text, f"standards_bridge_{name}_total", labels)

    assert value("lti_launches", outcome="accepted") == 2
    assert value("lti_launches", outcome="rejected") == 1
    assert value("framework_imports", outcome="created") == 1
    assert value("case_sync_runs", outcome="failed") == 1
    assert value("evidence_ingested", source="api") == 4  # 3 + 1


def test_domain_counters_reach_the_app_from_inside_a_request(app: FastAPI) -> None:
    def ingest() -> dict[str, str]:
        record_evidence_ingested("lti", count=2)
        return {"status": "ok"}

    # A sync endpoint runs in the thread pool: the bound metrics must follow it.
    app.add_api_route("/ingest-for-metrics", ingest, methods=["POST"])

    with TestClient(app) as client:
        client.post("/ingest-for-metrics")
        text = client.get("/metrics").text

    labels = {"source": "lti"}
    assert sample_value(text, "standards_bridge_evidence_ingested_total", labels) == 2


def test_each_app_keeps_its_own_counters(settings: Settings) -> None:
    counted, untouched = create_app(settings), create_app(settings)

    with bound_metrics(counted.state.metrics):
        record_framework_import("updated")
    # Unbound: nothing to count in, and nothing breaks.
    record_framework_import("updated")

    labels = {"outcome": "updated"}
    name = "standards_bridge_framework_imports_total"
    with TestClient(counted) as client:
        assert sample_value(client.get("/metrics").text, name, labels) == 1
    with TestClient(untouched) as client:
        assert sample_value(client.get("/metrics").text, name, labels) == 0


def test_metrics_add_up_workers_in_multiprocess_mode(tmp_path: Path) -> None:
    # prometheus_client reads PROMETHEUS_MULTIPROC_DIR on import: a fresh process.
    multiprocess_dir = tmp_path / "prometheus"
    multiprocess_dir.mkdir()
    database_url = f"sqlite:///{tmp_path / 'workers.db'}"
    script = f"""
from fastapi.testclient import TestClient
from app.main import create_app
from app.operations.metrics import bound_metrics, record_lti_launch
from app.settings import Settings

app = create_app(Settings(database_url={database_url!r}, _env_file=None))
with bound_metrics(app.state.metrics):
    record_lti_launch("accepted")
with TestClient(app) as client:
    client.get("/healthz")
    print(client.get("/metrics").text)
"""
    environment = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(multiprocess_dir),
        "LOG_LEVEL": "WARNING",
    }

    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )

    assert list(multiprocess_dir.glob("*.db")), "values are kept in shared files"
    text = result.stdout
    launches = {"outcome": "accepted"}
    assert sample_value(text, "standards_bridge_lti_launches_total", launches) == 1
    health = {"method": "GET", "route": "/healthz", "status": "200"}
    assert sample_value(text, "standards_bridge_http_requests_total", health) == 1


def test_a_request_id_is_made_when_none_is_given(client: TestClient) -> None:
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]

    assert len(first) == 32 and int(first, 16) >= 0  # uuid4 hex
    assert first != second


def test_a_sane_request_id_is_echoed(client: TestClient) -> None:
    longest = "a" * 128

    for request_id in ("trace-42", "0af7651916cd43dd.8448eb211c80319c_0", longest):
        response = client.get("/healthz", headers={"X-Request-ID": request_id})
        assert response.headers["X-Request-ID"] == request_id


def test_an_unusable_request_id_is_replaced(client: TestClient) -> None:
    for bad in ("a" * 129, "has space", "semi;colon", 'quote"', "tab\tinside"):
        response = client.get("/healthz", headers={"X-Request-ID": bad})
        replaced = response.headers["X-Request-ID"]
        assert replaced != bad
        assert len(replaced) == 32


def test_problem_responses_carry_the_request_id(client: TestClient) -> None:
    response = client.get(
        f"/api/v1/people/{uuid.uuid4()}", headers={"X-Request-ID": "lookup-7"}
    )

    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == "lookup-7"
    assert json.loads(response.text)["status"] == 404
