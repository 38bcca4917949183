import uuid
from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, new_id


class JobRun(Base):
    """One run of a periodic job for one scheduled slot.

    The unique (job_name, scheduled_for) pair is what keeps several workers
    from running the same slot: each inserts the row first, and the one whose
    insert fails leaves the slot to the one that succeeded.
    """

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job_name", "scheduled_for"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    job_name: Mapped[str] = mapped_column(String(255))
    scheduled_for: Mapped[datetime]
    worker: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
