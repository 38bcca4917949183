import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, TimestampMixin, new_id


class CaseSource(TimestampMixin, Base):
    """A CASE provider we follow, and how and when to read it.

    `credentials` holds a Fernet token (see app/sources/credentials.py), never
    the API key or client secret itself. An empty `followed_documents` follows
    every CFDocument the provider lists.
    """

    __tablename__ = "case_sources"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    base_url: Mapped[str] = mapped_column(String(2048))
    case_version: Mapped[str] = mapped_column(String(8))
    auth_method: Mapped[str] = mapped_column(String(32))
    api_key_header: Mapped[str | None] = mapped_column(String(255))
    token_url: Mapped[str | None] = mapped_column(String(2048))
    client_id: Mapped[str | None] = mapped_column(String(255))
    oauth_scope: Mapped[str | None] = mapped_column(String(1024))
    credentials: Mapped[str | None] = mapped_column(Text)
    followed_documents: Mapped[list[str]] = mapped_column(JSON, default=list)
    schedule: Mapped[str | None] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(default=True)


class SyncRun(Base):
    """One synchronisation of a CASE source, kept as its history.

    `documents` lists every followed CFDocument with its outcome, item count,
    seconds taken and, for a failure, the error.
    """

    __tablename__ = "sync_runs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    source_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("case_sources.id", ondelete="CASCADE"), index=True
    )
    trigger: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    documents_created: Mapped[int] = mapped_column(Integer, default=0)
    documents_updated: Mapped[int] = mapped_column(Integer, default=0)
    documents_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    documents_failed: Mapped[int] = mapped_column(Integer, default=0)
    items_written: Mapped[int] = mapped_column(Integer, default=0)
    items_retired: Mapped[int] = mapped_column(Integer, default=0)
    duration_ms: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    documents: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
