"""Bad settings stop every command with one clear line per bad value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.settings import Settings

COMMAND = Path(sys.executable).parent / "standards-bridge"


def run_with_environment(tmp_path: Path, *args: str, **variables: str):
    # A fresh directory: no `.env` file is read alongside the variables given.
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "PORT", "MASTERY_THRESHOLD"}
    }
    return subprocess.run(
        [str(COMMAND), *args],
        cwd=tmp_path,
        env={**environment, **variables},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("arguments", [("migrate",), ("lms-setup",), ("serve",)])
def test_bad_settings_print_one_line_each_and_exit_2(
    tmp_path: Path, arguments: tuple[str, ...]
) -> None:
    result = run_with_environment(
        tmp_path,
        *arguments,
        PORT="abc",
        MASTERY_THRESHOLD="2",
        DATABASE_URL="nonsense://",
    )

    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 3
    assert sorted(lines) == sorted(
        [
            "Error: DATABASE_URL must start with sqlite:/// or postgresql+psycopg:// "
            "(postgresql:// is read as postgresql+psycopg://), got 'nonsense://' "
            "(SQLAlchemy URL of the store: a SQLite file, or "
            "postgresql+psycopg://user@host:5432/db)",
            "Error: PORT must be a whole number, got 'abc' (Port the server binds)",
            "Error: MASTERY_THRESHOLD must be at most 1, got '2' (Share of the "
            "maximum score (0-1] at or above which the most recent score counts "
            "as mastery)",
        ]
    )


def test_a_password_in_a_bad_database_url_is_not_printed(tmp_path: Path) -> None:
    result = run_with_environment(
        tmp_path, "migrate", DATABASE_URL="mysql://admin:hunter2@db.internal/bridge"
    )

    assert result.returncode == 2
    assert "hunter2" not in result.stderr
    assert "got 'mysql://***@db.internal/bridge'" in result.stderr


def test_good_settings_pass_the_check(tmp_path: Path) -> None:
    result = run_with_environment(
        tmp_path, "lms-setup", PORT="8123", DATABASE_URL=f"sqlite:///{tmp_path}/s.db"
    )

    assert result.returncode == 0, result.stderr
    assert "http://127.0.0.1:8123" in result.stdout


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("sqlite:///var/store.db", "sqlite:///var/store.db"),
        ("postgresql+psycopg://u@h:5432/d", "postgresql+psycopg://u@h:5432/d"),
        ("postgresql://u@h:5432/d", "postgresql+psycopg://u@h:5432/d"),
        ("postgres://u@h:5432/d", "postgresql+psycopg://u@h:5432/d"),
    ],
)
def test_supported_database_urls_are_accepted(given: str, stored: str) -> None:
    settings = Settings(database_url=given, _env_file=None)  # type: ignore[call-arg]

    assert settings.database_url == stored


@pytest.mark.parametrize(
    "given", ["nonsense://", "mysql://u@h/d", "sqlite://", "store.db", ""]
)
def test_other_database_urls_are_refused(given: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(database_url=given, _env_file=None)  # type: ignore[call-arg]

    [error] = refused.value.errors()
    assert error["loc"] == ("database_url",)
    assert "must start with sqlite:/// or postgresql+psycopg://" in error["msg"]
