import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from app.database import Base, TimestampMixin, new_id
from app.keys.encryption import decrypt_private_key, encrypt_private_key


class PrivateKeyText(TypeDecorator[str]):
    """A PEM private key: plain text in Python, encrypted in the store when
    SECRET_KEY is set, so every reader of `ToolKey.private_key_pem` gets a PEM.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: object) -> str | None:
        return None if value is None else encrypt_private_key(value)

    def process_result_value(self, value: str | None, dialect: object) -> str | None:
        return None if value is None else decrypt_private_key(value)


class ToolKey(TimestampMixin, Base):
    """An RSA key pair the tool signs with; its public half is served as a JWK.

    `status` is "current" (signs now), "next" (published, signs after the
    next rotation) or "retired" (signed before `retired_at`; published for a
    grace period so what it signed still verifies).
    """

    __tablename__ = "tool_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="current", index=True)
    private_key_pem: Mapped[str] = mapped_column(PrivateKeyText())
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    retired_at: Mapped[datetime | None] = mapped_column(default=None)
