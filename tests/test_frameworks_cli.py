"""`standards-bridge case`: importing CFPackages and listing frameworks."""

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
from app.frameworks.models import Competency, Framework
from app.settings import get_settings
from tests.conftest import CASE_DATA_DIR

RunCli = Callable[..., Result]

WSCB = CASE_DATA_DIR / "opensalt" / "what-standards-could-be_20c5134f.json"
SYNTHETIC = CASE_DATA_DIR / "synthetic" / "synthetic-10000-items.json"


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


def framework_count(session: Session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(Framework)) or 0


def assert_refused(result: Result, *fragments: str) -> None:
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "cannot be imported; nothing was stored" in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


def test_import_prints_the_framework_outcome_and_counts(
    run_cli: RunCli, session: Session
) -> None:
    result = run_cli("case", "import", WSCB)

    assert result.exit_code == 0, result.output
    session.rollback()
    framework = session.execute(select(Framework)).scalar_one()
    lines = result.stdout.splitlines()
    # SOURCES.md: 16 items, 39 associations, 3 CFItemTypes.
    assert lines[:6] == [
        "Framework: What Standards Could Be",
        f"Id: {framework.id}",
        "Outcome: created",
        "CFItems: 16 stored (16 in the file)",
        "CFAssociations: 39 stored (39 in the file)",
        "CFDefinitions: 3 stored (3 in the file)",
    ]
    assert lines[6].startswith("Report notes: ")
    assert lines[6].endswith("(--report lists them)")


def test_importing_again_says_nothing_was_changed(run_cli: RunCli) -> None:
    run_cli("case", "import", WSCB)

    result = run_cli("case", "import", WSCB)

    assert result.exit_code == 0
    assert (
        "Outcome: unchanged (same content as stored; nothing was changed)"
        in result.stdout
    )


def test_report_lists_every_note(run_cli: RunCli) -> None:
    result = run_cli("case", "import", WSCB, "--report")

    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    [summary] = [line for line in lines if line.startswith("Report notes: ")]
    count = int(summary.removeprefix("Report notes: "))
    notes = [line for line in lines if line.startswith("  - ")]
    assert len(notes) == count > 0
    assert (
        "  - CFDocument 20c5134f-423d-4097-a971-3dd5152bf507 lastChangeDateTime: "
        "'2017-05-25T18:05:33' has no time zone; read as UTC"
    ) in notes


def test_a_large_package_imports_with_a_progress_bar(
    run_cli: RunCli, session: Session
) -> None:
    result = run_cli("case", "import", SYNTHETIC)

    assert result.exit_code == 0, result.output
    assert "CFItems: 10000 stored (10000 in the file)" in result.stdout
    session.rollback()
    stored = session.scalar(select(func.count()).select_from(Competency))
    assert stored == 10000


def test_a_list_response_is_refused_with_its_problem(
    run_cli: RunCli, session: Session
) -> None:
    path = CASE_DATA_DIR / "smarterbalanced" / "cfdocuments-list-response.json"

    result = run_cli("case", "import", path)

    assert_refused(
        result, "package CFDocument: is missing: this is a list of CFDocuments"
    )
    assert framework_count(session) == 0


def test_a_malformed_package_lists_every_problem(
    run_cli: RunCli, session: Session, tmp_path: Path
) -> None:
    raw = json.loads(WSCB.read_text(encoding="utf-8"))
    raw["CFDocument"].pop("title")
    raw["CFItems"][2].pop("identifier")
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(raw), encoding="utf-8")

    result = run_cli("case", "import", path)

    assert_refused(
        result,
        "  - CFDocument title: is missing; a framework needs a title",
        "  - CFItems[2] identifier: is missing",
    )
    assert framework_count(session) == 0


def test_a_missing_file_is_refused_cleanly(run_cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "absent.json"

    result = run_cli("case", "import", path)

    assert_refused(result, f"  - {path}: No such file or directory")


def test_a_file_that_is_not_json_is_refused_cleanly(
    run_cli: RunCli, tmp_path: Path
) -> None:
    path = tmp_path / "package.json"
    path.write_text('{"CFDocument": ', encoding="utf-8")

    result = run_cli("case", "import", path)

    assert_refused(result, "  - package: is not valid JSON: Expecting value")


def test_list_shows_imported_frameworks(run_cli: RunCli) -> None:
    empty = run_cli("case", "list")
    run_cli("case", "import", WSCB)

    listed = run_cli("case", "list")

    assert empty.exit_code == 0
    assert "No frameworks imported yet." in empty.stdout
    assert listed.exit_code == 0
    [line] = listed.stdout.splitlines()
    assert line.endswith("    16 competencies  What Standards Could Be")
