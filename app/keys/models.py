import uuid
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, TimestampMixin, new_id


class ToolKey(TimestampMixin, Base):
    """An RSA key pair the tool signs with; its public half is served as a JWK."""

    __tablename__ = "tool_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="current", index=True)
    private_key_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
