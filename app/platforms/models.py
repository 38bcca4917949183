import uuid

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import Base, TimestampMixin, new_id


class Platform(TimestampMixin, Base):
    """An LMS registration: one issuer and the client id it gave this tool."""

    __tablename__ = "platforms"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(255), default="")
    product: Mapped[str] = mapped_column(String(32), default="other")
    issuer: Mapped[str] = mapped_column(String(512), index=True)
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(String(1024))
    auth_token_url: Mapped[str] = mapped_column(String(1024))
    auth_audience: Mapped[str | None] = mapped_column(String(1024))
    keyset_url: Mapped[str] = mapped_column(String(1024))

    deployments: Mapped[list["Deployment"]] = relationship(
        back_populates="platform", cascade="all, delete-orphan", lazy="selectin"
    )


class Deployment(TimestampMixin, Base):
    """One `deployment_id` of the tool inside a platform."""

    __tablename__ = "deployments"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    platform_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("platforms.id", ondelete="CASCADE"), index=True
    )
    deployment_id: Mapped[str] = mapped_column(String(255))

    platform: Mapped[Platform] = relationship(back_populates="deployments")
