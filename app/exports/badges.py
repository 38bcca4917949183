"""Open Badges 3.0: one unsigned OpenBadgeCredential per mastered competency.

The credential is the JSON-LD the 1EdTech Open Badges 3.0 data model
describes (on the W3C Verifiable Credentials 2.0 context), without a proof:
signing belongs to whoever issues it under their own key. The achievement
is the competency, aligned to its CASE CFItem (`targetType` CFItem), so a
reader can trace the badge back to the standard.

The recipient is named by an opaque `urn:uuid` of our person id unless an
email identity is asked for; the address then travels only as a salted
SHA-256 hash, as the specification recommends.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.frameworks.models import Competency, Framework
from app.mastery.service import CompetencyMastery, mastery_for_person
from app.organizations.models import Organization
from app.people.models import Person
from app.problems import Problem

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CREDENTIAL_TYPE = ["VerifiableCredential", "OpenBadgeCredential"]
IDENTITY_OPAQUE = "id"
IDENTITY_EMAIL = "email"
# Names each credential the same way on every request.
CREDENTIAL_NAMESPACE = uuid.UUID("5b0e2d7c-8f1a-4c3e-9d6b-2a7f4e1c9b30")


def urn(value: uuid.UUID | str) -> str:
    return f"urn:uuid:{value}"


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cfitem_url(competency: Competency, framework: Framework, *, public_url: str) -> str:
    """Where the CFItem is described: its own uri, else its CASE endpoint.

    A provider's CFDocument uri of the form .../CFDocuments/{id} names the
    CASE service, whose item endpoint is .../CFItems/{identifier}; without
    either, our framework listing is the best description we can point to.
    """
    if competency.uri:
        return competency.uri
    document_uri = framework.uri or ""
    if "/CFDocuments/" in document_uri:
        base = document_uri.split("/CFDocuments/", 1)[0]
        return f"{base}/CFItems/{competency.identifier}"
    return (
        f"{public_url}/api/v1/frameworks/{framework.id}/competencies"
        f"#{competency.identifier}"
    )


def _alignment(
    competency: Competency, framework: Framework, *, public_url: str
) -> dict[str, Any]:
    alignment: dict[str, Any] = {
        "type": ["Alignment"],
        "targetName": competency.human_coding_scheme or competency.full_statement,
        "targetUrl": cfitem_url(competency, framework, public_url=public_url),
        "targetDescription": competency.full_statement,
        "targetType": "CFItem",
        "targetFramework": framework.title,
    }
    if competency.human_coding_scheme:
        alignment["targetCode"] = competency.human_coding_scheme
    return alignment


def _achievement(
    standing: CompetencyMastery, framework: Framework, *, public_url: str
) -> dict[str, Any]:
    competency = standing.competency
    name = competency.abbreviated_statement or competency.full_statement
    if competency.human_coding_scheme:
        name = f"{competency.human_coding_scheme}: {name}"
    threshold = standing.threshold
    criteria = "Mastery judged from evidence on activities aligned to this standard"
    if threshold is not None:
        criteria += f", at or above {threshold:.0%} of the maximum score"
    achievement: dict[str, Any] = {
        "id": urn(competency.id),
        "type": ["Achievement"],
        "achievementType": "Competency",
        "name": name,
        "description": competency.full_statement,
        "criteria": {"narrative": criteria + "."},
        "alignment": [_alignment(competency, framework, public_url=public_url)],
    }
    if competency.human_coding_scheme:
        achievement["humanCode"] = competency.human_coding_scheme
    return achievement


def _subject_identity(person: Person, *, identity: str) -> dict[str, Any]:
    if identity == IDENTITY_OPAQUE:
        return {"id": urn(person.id)}
    if not person.email:
        raise Problem(
            422,
            "person-has-no-email",
            f"The person {person.id} has no email address to name them by; "
            "ask for identity=id instead.",
            field="identity",
        )
    salt = secrets.token_hex(8)
    digest = hashlib.sha256((person.email + salt).encode()).hexdigest()
    return {
        "identifier": [
            {
                "type": "IdentityObject",
                "identityHash": f"sha256${digest}",
                "identityType": "emailAddress",
                "hashed": True,
                "salt": salt,
            }
        ]
    }


def _issuer(organization: Organization) -> dict[str, Any]:
    return {
        "id": urn(organization.id),
        "type": ["Profile"],
        "name": organization.name,
    }


def _credential(
    standing: CompetencyMastery,
    *,
    person: Person,
    issuer: dict[str, Any],
    subject: dict[str, Any],
    framework: Framework,
    public_url: str,
) -> dict[str, Any]:
    competency = standing.competency
    achievement = _achievement(standing, framework, public_url=public_url)
    # Mastery counts from the moment its most recent evidence was given.
    demonstrated = max(item.occurred_at for item in standing.evidence)
    credential_id = uuid.uuid5(CREDENTIAL_NAMESPACE, f"{person.id}/{competency.id}")
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": urn(credential_id),
        "type": list(CREDENTIAL_TYPE),
        "name": achievement["name"],
        "issuer": issuer,
        "validFrom": _timestamp(demonstrated),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            **subject,
            "achievement": achievement,
        },
    }


def badge_credentials(
    session: Session, *, person: Person, public_url: str, identity: str
) -> list[dict[str, Any]]:
    """An unsigned OpenBadgeCredential for each competency the person mastered."""
    organization = session.get(Organization, person.organization_id)
    assert organization is not None
    issuer = _issuer(organization)
    subject = _subject_identity(person, identity=identity)
    credentials = []
    for standing in mastery_for_person(session, person_id=person.id):
        if not standing.mastered or not standing.evidence:
            continue
        framework = standing.competency.framework
        credentials.append(
            _credential(
                standing,
                person=person,
                issuer=issuer,
                subject=subject,
                framework=framework,
                public_url=public_url,
            )
        )
    return credentials
