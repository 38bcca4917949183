"""Benchmark: synchronise the largest CASE packages over real HTTP, then again.

Serves the Smarter Balanced math content specification (585 items) and the
10,000-item synthetic package from the CASE provider double on 127.0.0.1,
adds a source pointing at it, and runs three syncs:

1. first: every package fetched and imported;
2. unchanged: lastChangeDateTime unchanged, so no package is fetched;
3. unchanged, full: every package fetched, content hashes equal, nothing
   written.

Run from the repository root:

    .venv/bin/python bench/case_sync.py                      # fresh SQLite file
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/case_sync.py --reset           # a dedicated database

`--reset` drops and recreates the PostgreSQL `public` schema first: point it
only at a database made for the benchmark. Peak memory is the process's
maximum resident set size (it includes loading the JSON files once).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from pydantic import SecretStr  # noqa: E402
from sqlalchemy import text  # noqa: E402

from app.database import make_engine, make_sessionmaker  # noqa: E402
from app.logs import configure_logging  # noqa: E402
from app.migrate import upgrade_to_head  # noqa: E402
from app.settings import Settings  # noqa: E402
from app.sources.models import SyncRun  # noqa: E402
from app.sources.service import add_source  # noqa: E402
from app.sources.sync import sync_source  # noqa: E402
from tests.case_provider import CaseProvider  # noqa: E402
from tests.conftest import CASE_DATA_DIR  # noqa: E402

PACKAGES = (
    CASE_DATA_DIR / "smarterbalanced" / "math-content-spec_255adad7.json",
    CASE_DATA_DIR / "synthetic" / "synthetic-10000-items.json",
)
SECRET = SecretStr("benchmark-secret-key-" + "x" * 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reset", action="store_true", help="recreate the schema")
    args = parser.parse_args()
    configure_logging(level="WARNING", json=False)

    url = _database_url(reset=args.reset)
    upgrade_to_head(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    provider = CaseProvider.from_files(PACKAGES)
    items = sum(len(_read(path)["CFItems"]) for path in PACKAGES)
    print(f"store: {url.split('@')[-1]}  packages: {len(PACKAGES)}  items: {items}")

    with provider.serve():
        with sessions() as session:
            source_id = add_source(
                session,
                secret_key=SECRET,
                name=f"bench {time.time_ns()}",
                base_url=provider.url,
            ).id
        for label, full in (("first", False), ("unchanged", False), ("full", True)):
            started = time.perf_counter()
            run = sync_source(
                sessions,
                source_id=source_id,
                secret_key=SECRET,
                trigger="manual",
                full=full,
                client_options={"read_timeout": 120.0},
            )
            _report(label, run, items=items, seconds=time.perf_counter() - started)
    engine.dispose()


def _read(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return loaded


def _database_url(*, reset: bool) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        folder = tempfile.mkdtemp(prefix="case-sync-bench-")
        return f"sqlite:///{folder}/bench.db"
    url = Settings(database_url=url, _env_file=None).database_url  # type: ignore[call-arg]
    if reset and url.startswith("postgresql"):
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    return url


def _report(label: str, run: SyncRun, *, items: int, seconds: float) -> None:
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{label:<10} {run.status:<9} {seconds:7.2f} s  "
        f"{items / seconds:9.0f} items/s  peak RSS {peak_mib:6.0f} MiB  "
        f"created {run.documents_created} updated {run.documents_updated} "
        f"unchanged {run.documents_unchanged} failed {run.documents_failed}"
    )
    for document in run.documents:
        if document.get("error"):
            print(f"  {document['identifier']}: {document['error']}")


if __name__ == "__main__":
    main()
