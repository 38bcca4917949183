import uuid

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import Base, TimestampMixin, new_id


class Person(TimestampMixin, Base):
    """A teacher, student or other learner whose evidence we hold."""

    __tablename__ = "people"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    display_name: Mapped[str | None] = mapped_column(String(255))
    given_name: Mapped[str | None] = mapped_column(String(255))
    family_name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))

    identifiers: Mapped[list["PersonIdentifier"]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="selectin"
    )


class PersonIdentifier(TimestampMixin, Base):
    """One external identity of a person.

    `scheme` says what kind of id it is: `lti` (an id_token `sub`, with
    `issuer` set to the platform issuer) or a district system's own name for
    its ids (for example `sis`), with `issuer` empty.
    """

    __tablename__ = "person_identifiers"
    __table_args__ = (UniqueConstraint("organization_id", "scheme", "issuer", "value"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    scheme: Mapped[str] = mapped_column(String(64))
    issuer: Mapped[str] = mapped_column(String(512), default="")
    value: Mapped[str] = mapped_column(String(512))

    person: Mapped[Person] = relationship(back_populates="identifiers")
