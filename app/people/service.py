"""People and their external identifiers.

A person is known to us by any number of identifiers: an id_token `sub` of
an LMS (scheme `lti`, issuer the platform issuer) and district system ids
such as scheme `sis` or `email` (issuer empty). Any of them finds the person.
"""

import uuid
from dataclasses import dataclass

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.database import insert_or_find
from app.people.models import Person, PersonIdentifier
from app.problems import Problem

LTI_SCHEME = "lti"
EMAIL_SCHEME = "email"

log = structlog.get_logger()


@dataclass(frozen=True)
class Identifier:
    scheme: str
    value: str
    issuer: str = ""


def _normalised(identifier: Identifier) -> Identifier:
    # Addresses arrive in whatever case a system kept them; they name one inbox.
    scheme = identifier.scheme.strip().lower()
    value = identifier.value.strip()
    if scheme == EMAIL_SCHEME:
        value = value.lower()
    return Identifier(scheme=scheme, value=value, issuer=identifier.issuer.strip())


def find_person(
    session: Session,
    *,
    organization_id: uuid.UUID,
    scheme: str,
    value: str,
    issuer: str = "",
) -> Person | None:
    """The person holding identifier (`scheme`, `issuer`, `value`), if any."""
    identifier = _normalised(Identifier(scheme=scheme, value=value, issuer=issuer))
    statement = (
        select(Person)
        .join(PersonIdentifier, PersonIdentifier.person_id == Person.id)
        .where(PersonIdentifier.organization_id == organization_id)
        .where(PersonIdentifier.scheme == identifier.scheme)
        .where(PersonIdentifier.issuer == identifier.issuer)
        .where(PersonIdentifier.value == identifier.value)
    )
    return session.execute(statement).scalar_one_or_none()


def get_person(
    session: Session, *, organization_id: uuid.UUID, person_id: uuid.UUID
) -> Person | None:
    person = session.get(Person, person_id)
    if person is None or person.organization_id != organization_id:
        return None
    return person


def upsert_lti_person(
    session: Session,
    *,
    organization_id: uuid.UUID,
    issuer: str,
    sub: str,
    display_name: str | None = None,
    given_name: str | None = None,
    family_name: str | None = None,
    email: str | None = None,
) -> Person:
    """Create or update the person behind an id_token `sub` of `issuer`.

    Names and email follow the latest launch; a claim the platform left out
    keeps the value we already hold.
    """
    person = find_person(
        session,
        organization_id=organization_id,
        scheme=LTI_SCHEME,
        issuer=issuer,
        value=sub,
    )
    if person is None:
        person = _new_person(
            organization_id=organization_id,
            identifiers=[Identifier(scheme=LTI_SCHEME, value=sub, issuer=issuer)],
        )
        person, created = insert_or_find(
            session,
            person,
            find=lambda: find_person(
                session,
                organization_id=organization_id,
                scheme=LTI_SCHEME,
                issuer=issuer,
                value=sub,
            ),
        )
        if created:
            log.info("person.created", person_id=str(person.id), scheme=LTI_SCHEME)

    _update_profile(
        person,
        display_name=display_name,
        given_name=given_name,
        family_name=family_name,
        email=email,
    )
    session.flush()
    return person


def _update_profile(person: Person, **profile: str | None) -> None:
    for name, value in profile.items():
        if value is not None and getattr(person, name) != value:
            setattr(person, name, value)


def _new_person(
    *,
    organization_id: uuid.UUID,
    identifiers: list[Identifier],
    display_name: str | None = None,
    given_name: str | None = None,
    family_name: str | None = None,
    email: str | None = None,
) -> Person:
    person = Person(
        organization_id=organization_id,
        display_name=display_name,
        given_name=given_name,
        family_name=family_name,
        email=email,
    )
    person.identifiers = [
        PersonIdentifier(
            organization_id=organization_id,
            scheme=identifier.scheme,
            issuer=identifier.issuer,
            value=identifier.value,
        )
        for identifier in map(_normalised, identifiers)
    ]
    return person


def create_person(
    session: Session,
    *,
    organization_id: uuid.UUID,
    identifiers: list[Identifier],
    display_name: str | None = None,
    given_name: str | None = None,
    family_name: str | None = None,
    email: str | None = None,
) -> Person:
    """Create a person known by `identifiers` (any number, each held by one person).

    Raises a 422 problem for an identifier repeated or incomplete in the list and
    a 409 problem for one another person already holds; nothing is stored then.
    """
    _check_identifiers(identifiers)
    person = _new_person(
        organization_id=organization_id,
        identifiers=identifiers,
        display_name=display_name,
        given_name=given_name,
        family_name=family_name,
        email=email,
    )
    try:
        with session.begin_nested():
            session.add(person)
    except IntegrityError:
        raise _identifier_taken(
            session, organization_id=organization_id, identifiers=identifiers
        ) from None

    log.info("person.created", person_id=str(person.id), identifiers=len(identifiers))
    return person


def _check_identifiers(identifiers: list[Identifier]) -> None:
    seen: set[Identifier] = set()
    for position, identifier in enumerate(identifiers):
        field = f"identifiers.{position}"
        normalised = _normalised(identifier)
        if not normalised.scheme or not normalised.value:
            raise Problem(
                422,
                "incomplete-identifier",
                "An identifier needs a non-empty scheme and value.",
                field=field,
            )
        if normalised.scheme == LTI_SCHEME and not normalised.issuer:
            raise Problem(
                422,
                "identifier-missing-issuer",
                "An lti identifier needs the issuer of the platform that sent it.",
                field=f"{field}.issuer",
            )
        if normalised in seen:
            raise Problem(
                422,
                "duplicate-identifier",
                f"The identifier {normalised.scheme} {normalised.value!r} is "
                "listed twice.",
                field=field,
            )
        seen.add(normalised)


def _identifier_taken(
    session: Session, *, organization_id: uuid.UUID, identifiers: list[Identifier]
) -> Problem:
    for position, identifier in enumerate(identifiers):
        holder = find_person(
            session,
            organization_id=organization_id,
            scheme=identifier.scheme,
            value=identifier.value,
            issuer=identifier.issuer,
        )
        if holder is not None:
            return Problem(
                409,
                "identifier-taken",
                f"Another person ({holder.id}) already has the identifier "
                f"{identifier.scheme} {identifier.value!r}.",
                field=f"identifiers.{position}",
            )
    return Problem(
        409, "identifier-taken", "Another person already has one of these identifiers."
    )


def resolve_person(
    session: Session,
    *,
    organization_id: uuid.UUID,
    person_id: uuid.UUID | None = None,
    identifier: Identifier | None = None,
    field: str = "person",
) -> Person:
    """The person named by our id or by any identifier they are known by.

    Raises a 404 problem naming `field` when nobody matches.
    """
    person: Person | None = None
    if person_id is not None:
        person = get_person(
            session, organization_id=organization_id, person_id=person_id
        )
        described = f"id {person_id}"
    elif identifier is not None:
        person = find_person(
            session,
            organization_id=organization_id,
            scheme=identifier.scheme,
            value=identifier.value,
            issuer=identifier.issuer,
        )
        described = f"identifier {identifier.scheme} {identifier.value!r}"
        if identifier.issuer:
            described += f" of {identifier.issuer}"
    else:
        raise Problem(
            422,
            "person-reference-missing",
            "Name the person by id or by scheme and value.",
            field=field,
        )

    if person is None:
        raise Problem(
            404, "person-not-found", f"No person has the {described}.", field=field
        )
    return person
