"""API clients: the district and state systems that call the API on their own."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, TimestampMixin, new_id


class ApiClient(TimestampMixin, Base):
    """An OAuth 2 confidential client using the client credentials grant.

    Only a hash of its secret is kept (see `app.auth.service.hash_secret`); a
    revoked client stays on record so its tokens and its history keep a name.
    """

    __tablename__ = "api_clients"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    secret_hash: Mapped[str] = mapped_column(String(255))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    revoked_at: Mapped[datetime | None]

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
