"""District crosswalks from CSV, over the API and with `standards-bridge
crosswalks import`: every row or none."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.frameworks.models import Association, Competency, Framework
from app.frameworks.service import import_package
from app.settings import get_settings
from tests.conftest import CASE_DATA_DIR

RunCli = Callable[..., Result]

CCSS = CASE_DATA_DIR / "opensalt" / "ccss-math_draft-export-2017_D10003FB.json"
WSCB = CASE_DATA_DIR / "opensalt" / "what-standards-could-be_20c5134f.json"
ASTRAL = CASE_DATA_DIR / "opensalt" / "edge" / "utf8-astral-title.json"
SMARTLEVEL = CASE_DATA_DIR / "opensalt" / "edge" / "smartlevel.json"

HEADER = "origin_identifier,association_type,destination_identifier"
# WSCB 6.RP.A.1 and 7.RP.A (UUIDs) to CCSS 6.RP.A.1 and 7.RP.A.1 (ASN URLs).
GOOD_ROWS = [
    "b6f61076-aa12-450b-8f9d-b86bc071f85e,isPeerOf,"
    "http://purl.org/ASN/resources/S11434CE",
    "ddcf67a6-abf2-4df1-8d95-8752d65f0ec2,isRelatedTo,"
    "http://purl.org/ASN/resources/S11434C1",
]


@pytest.fixture
def frameworks(session: Session) -> None:
    for path in (WSCB, CCSS):
        import_package(session, package=json.loads(path.read_text("utf-8")))


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def post_csv(client: TestClient, text: str | bytes) -> object:
    return client.post(
        "/api/v1/crosswalks/import",
        content=text,
        headers={"Content-Type": "text/csv; charset=utf-8"},
    )


def district_count(session: Session) -> int:
    session.rollback()
    statement = (
        select(func.count())
        .select_from(Association)
        .join(Framework, Framework.id == Association.framework_id)
        .where(Framework.title == "District crosswalks")
    )
    return session.scalar(statement) or 0


def test_a_good_file_is_stored_with_a_row_report(
    client: TestClient, session: Session, frameworks: None
) -> None:
    response = post_csv(client, csv_text(*GOOD_ROWS, GOOD_ROWS[0]))

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["created"], body["existing"], body["duplicates"]) == (2, 0, 1)
    assert [(r["row"], r["status"]) for r in body["rows"]] == [
        (2, "created"),
        (3, "created"),
        (4, "duplicate"),
    ]
    assert district_count(session) == 2

    again = post_csv(client, csv_text(*GOOD_ROWS)).json()
    assert [r["status"] for r in again["rows"]] == ["exists", "exists"]
    assert district_count(session) == 2


def test_a_bad_row_refuses_the_whole_file(
    client: TestClient, session: Session, frameworks: None
) -> None:
    bad = [
        "b6f61076-aa12-450b-8f9d-b86bc071f85e,exactMatchOf,http://nowhere.example/x",
        "ddcf67a6-abf2-4df1-8d95-8752d65f0ec2,isChildOf,"
        "http://purl.org/ASN/resources/S11434C1",
    ]

    response = post_csv(client, csv_text(GOOD_ROWS[0], *bad, GOOD_ROWS[1]))

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "crosswalks-refused"
    assert "nothing was stored" in problem["detail"]
    assert problem["errors"] == [
        {
            "row": 3,
            "field": "destination_identifier",
            "message": "No competency has the id or CASE identifier "
            "'http://nowhere.example/x'.",
        },
        {
            "row": 4,
            "field": "association_type",
            "message": problem["errors"][1]["message"],
        },
    ]
    assert "isChildOf" in problem["errors"][1]["message"]
    assert district_count(session) == 0


def test_framework_columns_pick_between_namesakes(
    client: TestClient, session: Session, frameworks: None
) -> None:
    for path in (ASTRAL, SMARTLEVEL):
        import_package(session, package=json.loads(path.read_text("utf-8")))
    smartlevel = session.scalars(
        select(Framework).where(Framework.title.contains("Smart"))
    ).one()
    shared = "00000000-0000-0000-0000-000000000001"
    header = HEADER + ",origin_framework,destination_framework"

    ambiguous = post_csv(
        client,
        csv_text(f"{shared},isRelatedTo,{GOOD_ROWS[0].split(',')[2]},,", header=header),
    )
    narrowed = post_csv(
        client,
        csv_text(
            f"{shared},isRelatedTo,{GOOD_ROWS[0].split(',')[2]},{smartlevel.id},",
            header=header,
        ),
    )

    assert ambiguous.status_code == 422
    assert "origin_framework" in ambiguous.json()["errors"][0]["message"]
    assert narrowed.status_code == 200, narrowed.text
    [row] = narrowed.json()["rows"]
    association = session.get(Association, uuid.UUID(row["association_id"]))
    assert association is not None
    origin = session.get(Competency, association.origin_competency_id)
    assert origin is not None and origin.framework_id == smartlevel.id


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("origin,type,destination\na,b,c\n", 422, "csv-header-invalid"),
        (HEADER + ",colour\n", 422, "csv-header-invalid"),
        (HEADER + "\n", 422, "csv-empty"),
        ("", 422, "csv-header-invalid"),
        (b"\xff\xfe" + HEADER.encode(), 422, "csv-not-utf8"),
    ],
)
def test_a_file_that_is_not_a_crosswalk_csv_is_refused(
    client: TestClient,
    session: Session,
    frameworks: None,
    body: str | bytes,
    status: int,
    code: str,
) -> None:
    response = post_csv(client, body)

    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert district_count(session) == 0


def test_only_text_csv_is_accepted(client: TestClient, frameworks: None) -> None:
    response = client.post("/api/v1/crosswalks/import", json={"rows": GOOD_ROWS})

    assert response.status_code == 415
    assert response.json()["field"] == "Content-Type"


@pytest.fixture
def run_cli(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RunCli]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli, [str(arg) for arg in args])
    get_settings.cache_clear()


def test_cli_imports_a_file(
    run_cli: RunCli, session: Session, frameworks: None, tmp_path: Path
) -> None:
    path = tmp_path / "crosswalks.csv"
    path.write_text(csv_text(*GOOD_ROWS), encoding="utf-8")

    result = run_cli("crosswalks", "import", path)

    assert result.exit_code == 0, result.output
    assert "row 2: created" in result.stdout
    assert "Created 2, already stored 0" in result.stdout
    assert district_count(session) == 2


def test_cli_refuses_a_bad_file_and_stores_nothing(
    run_cli: RunCli, session: Session, frameworks: None, tmp_path: Path
) -> None:
    path = tmp_path / "crosswalks.csv"
    path.write_text(csv_text(GOOD_ROWS[0], "nope,exactMatchOf,nope"), encoding="utf-8")

    result = run_cli("crosswalks", "import", path)

    assert result.exit_code == 1
    assert "nothing was stored" in result.stderr
    assert "row 3: error" in result.stderr
    assert "Traceback" not in result.output
    assert district_count(session) == 0


def test_cli_names_a_missing_file(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli("crosswalks", "import", tmp_path / "missing.csv")

    assert result.exit_code == 1
    assert "missing.csv" in result.stderr
