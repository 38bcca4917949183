"""Benchmark: stream a large CSV of evidence through the bulk endpoint over HTTP.

Seeds a fresh store with 10,000 people (SIS ids) and 2,000 competencies, each
aligned to one activity, starts the service with uvicorn in its own process,
and uploads N generated rows (default 1,000,000) as one chunked request to
POST /api/v1/evidence/bulk, reading the streamed report while still sending.
Prints rows per second and the peak resident memory of the server and of
this client (the client's peak is reset after seeding, so it measures the
upload alone).

Run from the repository root:

    .venv/bin/python bench/evidence_ingest.py --rows 20000      # fresh SQLite file
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/evidence_ingest.py --reset       # a dedicated database

`--reset` drops and recreates the PostgreSQL `public` schema first: point it
only at a database made for the benchmark.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.activities.models import Activity, Alignment  # noqa: E402
from app.auth.service import create_client  # noqa: E402
from app.database import make_engine, make_sessionmaker, utcnow  # noqa: E402
from app.frameworks.models import Competency, Framework  # noqa: E402
from app.migrate import upgrade_to_head  # noqa: E402
from app.organizations.service import get_default_organization_id  # noqa: E402
from app.people.models import Person, PersonIdentifier  # noqa: E402
from app.settings import Settings  # noqa: E402

SOURCE = "bench-assessments"
HEADER = (
    "person_scheme,person_value,activity_source,activity_external_id,"
    "score,max_score,occurred_at,idempotency_key\n"
)
BLOCK_BYTES = 64 * 1024
START = datetime(2024, 1, 1, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--competencies", type=int, default=2_000)
    parser.add_argument("--reset", action="store_true", help="recreate the schema")
    args = parser.parse_args()

    url = _fresh_store(reset=args.reset)
    client_id, secret = _seed(url, people=args.people, competencies=args.competencies)
    _reset_peak_memory()

    port = _free_port()
    server = _start_server(url, port)
    # Stopping the benchmark (timeout, Ctrl-C) must stop its server too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))
    try:
        base = f"http://127.0.0.1:{port}"
        token = _token(base, client_id, secret)
        started = time.perf_counter()
        statuses = _upload(
            port,
            token,
            _rows(args.rows, people=args.people, competencies=args.competencies),
        )
        elapsed = time.perf_counter() - started
        server_peak = _peak_memory_kib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)

    client_peak = _peak_memory_kib(os.getpid())
    store = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"store: {store}")
    print(f"rows: {args.rows:,} in {elapsed:.1f} s = {args.rows / elapsed:,.0f} rows/s")
    print(f"report: {dict(statuses)}")
    print(f"server peak RSS: {server_peak / 1024:.0f} MiB")
    print(f"client peak RSS (upload only): {client_peak / 1024:.0f} MiB")


def _fresh_store(*, reset: bool) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        folder = tempfile.mkdtemp(prefix="evidence-bench-")
        url = f"sqlite:///{folder}/bench.db"
    url = Settings(database_url=url, _env_file=None).database_url  # type: ignore[call-arg]
    if url.startswith("postgresql"):
        if not reset:
            sys.exit("pass --reset to recreate the schema of DATABASE_URL")
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade_to_head(url)
    return url


def _seed(url: str, *, people: int, competencies: int) -> tuple[str, str]:
    """People, competencies and aligned activities in bulk; an API client."""
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        organization_id = get_default_organization_id(session)
        _seed_people(session, organization_id, people)
        _seed_competencies(session, organization_id, competencies)
        created = create_client(session, name="evidence bench", scopes=["admin"])
        session.commit()
    engine.dispose()
    return created.client.client_id, created.client_secret


def _seed_people(session: Session, organization_id: uuid.UUID, count: int) -> None:
    now = utcnow()
    ids = [uuid.uuid4() for _ in range(count)]
    session.execute(
        insert(Person),
        [
            {
                "id": i,
                "organization_id": organization_id,
                "created_at": now,
                "updated_at": now,
            }
            for i in ids
        ],
    )
    session.execute(
        insert(PersonIdentifier),
        [
            {
                "id": uuid.uuid4(),
                "organization_id": organization_id,
                "person_id": person_id,
                "scheme": "sis",
                "issuer": "",
                "value": f"s{n}",
                "created_at": now,
                "updated_at": now,
            }
            for n, person_id in enumerate(ids, start=1)
        ],
    )


def _seed_competencies(
    session: Session, organization_id: uuid.UUID, count: int
) -> None:
    now = utcnow()
    framework_id = uuid.uuid4()
    session.execute(
        insert(Framework),
        [
            {
                "id": framework_id,
                "organization_id": organization_id,
                "identifier": str(framework_id),
                "identifier_key": str(framework_id),
                "title": "Benchmark framework",
                "content_hash": "0" * 64,
                "document": {},
            }
        ],
    )
    competencies = [uuid.uuid4() for _ in range(count)]
    activities = [uuid.uuid4() for _ in range(count)]
    session.execute(
        insert(Competency),
        [
            {
                "id": competency_id,
                "framework_id": framework_id,
                "identifier": str(competency_id),
                "identifier_key": str(competency_id),
                "human_coding_scheme": f"B.{n}",
                "full_statement": f"Benchmark competency {n}",
                "list_position": n,
                "item": {},
            }
            for n, competency_id in enumerate(competencies, start=1)
        ],
    )
    session.execute(
        insert(Activity),
        [
            {
                "id": activity_id,
                "organization_id": organization_id,
                "source": SOURCE,
                "external_id": f"quiz-{n}",
                "kind": "external",
                "created_at": now,
                "updated_at": now,
            }
            for n, activity_id in enumerate(activities, start=1)
        ],
    )
    session.execute(
        insert(Alignment),
        [
            {
                "id": uuid.uuid4(),
                "activity_id": activity_id,
                "competency_id": competency_id,
                "created_at": now,
                "updated_at": now,
            }
            for activity_id, competency_id in zip(activities, competencies, strict=True)
        ],
    )


def _rows(count: int, *, people: int, competencies: int) -> Iterator[bytes]:
    """The CSV upload in blocks of about 64 KiB, generated as it is sent."""
    block = [HEADER]
    size = len(HEADER)
    for n in range(count):
        occurred_at = (START + timedelta(seconds=n)).isoformat()
        line = (
            f"sis,s{n * 7919 % people + 1},{SOURCE},quiz-{n % competencies + 1},"
            f"{n % 11},10,{occurred_at},bench-{n}\n"
        )
        block.append(line)
        size += len(line)
        if size >= BLOCK_BYTES:
            yield "".join(block).encode()
            block, size = [], 0
    if block:
        yield "".join(block).encode()


def _upload(port: int, token: str, body: Iterator[bytes]) -> Counter[str]:
    """Send `body` chunked while reading the report on the same connection.

    Sending and reading at once matters: the server writes report lines as it
    reads rows, and a client that only reads after sending would stall both.
    """
    sock = socket.create_connection(("127.0.0.1", port))
    request = (
        "POST /api/v1/evidence/bulk HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Content-Type: text/csv\r\n"
        "Transfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n"
    )
    sock.sendall(request.encode())

    def send() -> None:
        try:
            for block in body:
                sock.sendall(f"{len(block):x}\r\n".encode() + block + b"\r\n")
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered early (an error); the reader reports it

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    statuses = _read_report(sock.makefile("rb"))
    sender.join()
    sock.close()
    return statuses


def _read_report(stream: Any) -> Counter[str]:
    status_line = stream.readline().decode()
    headers = {}
    while (line := stream.readline().decode().strip()) != "":
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if " 200 " not in status_line:
        sys.exit(f"upload refused: {status_line.strip()} {stream.read()[:500]!r}")

    statuses: Counter[str] = Counter()
    pending = b""
    for data in _chunks(stream):
        *lines, pending = (pending + data).split(b"\n")
        for line in lines:
            status = line.split(b",", 2)[1:2]
            if status:
                statuses[status[0].decode() or "summary"] += 1
    statuses.pop("status", None)  # the report's own header line
    return statuses


def _chunks(stream: Any) -> Iterator[bytes]:
    while True:
        size = int(stream.readline().split(b";")[0], 16)
        if size == 0:
            return
        yield stream.read(size)
        stream.readline()


def _token(base: str, client_id: str, secret: str) -> str:
    response = httpx.post(
        base + "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def _start_server(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "app.main:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=REPO_ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.terminate()
    sys.exit("the server did not start")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _peak_memory_kib(pid: int) -> int:
    """VmHWM, the peak resident set size, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _reset_peak_memory() -> None:
    # Writing 5 to clear_refs resets VmHWM, so seeding does not count.
    Path("/proc/self/clear_refs").write_text("5")


if __name__ == "__main__":
    main()
