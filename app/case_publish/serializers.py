"""Stored frameworks written back as CASE JSON, strictly.

Only fields the CASE binding defines are written, never a null, every link
as a LinkURI object, every `uri` on our own endpoints, every date-time in
RFC 3339 UTC. Objects inside a CFPackage leave out `CFPackageURI` and
`CFDocumentURI` (the package schema has no room for them); objects served
on their own carry them.

What the store keeps only as the provider's raw JSON is copied when it has
the type the binding asks for and dropped otherwise. Links to CFDefinitions
(CFItemTypeURI, licenseURI, subjectURI, CFAssociationGroupingURI) are
dropped: we do not serve definitions, and a link must resolve here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal
from urllib.parse import quote

from app.case_publish.service import Publication, is_uuid
from app.crosswalks.service import ASSOCIATION_TYPES, canonical_type
from app.frameworks.models import Association, Competency, Framework

Json = dict[str, Any]
CaseVersion = Literal["1.0", "1.1"]

VERSION_ROOTS: dict[CaseVersion, str] = {
    "1.0": "/ims/case/v1p0",
    "1.1": "/ims/case/v1p1",
}

_DOCUMENT_TEXT = (
    "officialSourceURL",
    "publisher",
    "description",
    "language",
    "version",
    "adoptionStatus",
    "notes",
)
_ITEM_TEXT = ("alternativeLabel", "notes", "language")
_EXTENSION_TYPE = re.compile(r"ext:[A-Za-z0-9._-]+")
_NOT_IN_EXTENSION = re.compile(r"[^A-Za-z0-9._-]")
_TITLE_LENGTH = 60


@dataclass(frozen=True)
class CaseWriter:
    """Writes CASE JSON for one version root of this service."""

    public_url: str
    version: CaseVersion
    publication: Publication

    @property
    def root(self) -> str:
        return self.public_url + VERSION_ROOTS[self.version]

    def link(self, collection: str, identifier: str) -> str:
        return f"{self.root}/{collection}/{quote(identifier, safe='')}"

    # CFDocument

    def document(self, framework: Framework, *, in_package: bool = False) -> Json:
        identifier = self.publication.document_identifier(framework)
        raw = framework.document or {}
        document: Json = {
            "identifier": identifier,
            "uri": self.link("CFDocuments", identifier),
            "creator": framework.creator or framework.publisher or framework.title,
            "title": framework.title,
            "lastChangeDateTime": rfc3339(
                framework.last_change_at or framework.updated_at
            ),
        }
        if self.version == "1.1":
            document["caseVersion"] = "1.1"
            _copy_text(raw, document, ("frameworkType",))
        _copy_text(raw, document, _DOCUMENT_TEXT)
        _copy_text_list(raw, document, "subject")
        _copy_dates(raw, document)
        if framework.publisher:
            document["publisher"] = framework.publisher
        if framework.version:
            document["version"] = framework.version
        if framework.adoption_status:
            document["adoptionStatus"] = framework.adoption_status
        if not in_package:
            document["CFPackageURI"] = {
                "title": framework.title,
                "identifier": identifier,
                "uri": self.link("CFPackages", identifier),
            }
        return document

    def document_link(self, framework: Framework) -> Json:
        identifier = self.publication.document_identifier(framework)
        return {
            "title": framework.title,
            "identifier": identifier,
            "uri": self.link("CFDocuments", identifier),
        }

    # CFItem

    def item(
        self,
        competency: Competency,
        *,
        framework: Framework | None = None,
        in_package: bool = False,
    ) -> Json:
        identifier = self.item_identifier(competency)
        raw = competency.item or {}
        item: Json = {
            "identifier": identifier,
            "uri": self.link("CFItems", identifier),
            "fullStatement": competency.full_statement,
            "lastChangeDateTime": rfc3339(
                competency.last_change_at or competency.updated_at
            ),
        }
        optional = {
            "humanCodingScheme": competency.human_coding_scheme,
            "abbreviatedStatement": competency.abbreviated_statement,
            "CFItemType": competency.item_type,
            "listEnumeration": _text(raw.get("listEnumeration")),
        }
        item.update({name: value for name, value in optional.items() if value})
        _copy_text(raw, item, _ITEM_TEXT)
        _copy_text_list(raw, item, "conceptKeywords")
        _copy_text_list(raw, item, "subject")
        if competency.education_levels:
            item["educationLevel"] = list(competency.education_levels)
        _copy_dates(raw, item)
        if not in_package and framework is not None:
            item["CFDocumentURI"] = self.document_link(framework)
        return item

    def item_identifier(self, competency: Competency) -> str:
        return self.publication.identifier(
            competency.framework_id, competency.identifier
        )

    # CFAssociation

    def association(
        self,
        association: Association,
        *,
        framework: Framework,
        competencies: dict[Any, Competency],
        in_package: bool = False,
    ) -> Json:
        """`competencies` holds every competency an endpoint resolved to."""
        identifier = self.publication.identifier(
            association.framework_id, association.identifier
        )
        raw = association.association or {}
        written: Json = {
            "identifier": identifier,
            "associationType": association_type(association.association_type),
            "uri": self.link("CFAssociations", identifier),
            "originNodeURI": self._node(
                raw.get("originNodeURI"),
                identifier=association.origin_identifier,
                uri=association.origin_uri,
                competency=competencies.get(association.origin_competency_id),
            ),
            "destinationNodeURI": self._node(
                raw.get("destinationNodeURI"),
                identifier=association.destination_identifier,
                uri=association.destination_uri,
                competency=competencies.get(association.destination_competency_id),
                document=framework if association.destination_is_document else None,
            ),
            "lastChangeDateTime": rfc3339(
                _datetime(raw.get("lastChangeDateTime")) or association.updated_at
            ),
        }
        if association.sequence_number is not None:
            written["sequenceNumber"] = association.sequence_number
        if self.version == "1.1":
            _copy_text(raw, written, ("notes",))
        if not in_package:
            written["CFDocumentURI"] = self.document_link(framework)
        return written

    def _node(
        self,
        raw: Any,
        *,
        identifier: str,
        uri: str | None,
        competency: Competency | None,
        document: Framework | None = None,
    ) -> Json:
        given_title = raw.get("title") if isinstance(raw, dict) else None
        title = given_title if isinstance(given_title, str) and given_title else None
        if document is not None:
            link = self.document_link(document)
            return {**link, "title": title or link["title"]}
        if competency is not None:
            published = self.item_identifier(competency)
            return {
                "title": title or label(competency),
                "identifier": published,
                "uri": self.link("CFItems", published),
            }
        # An endpoint in a framework we do not hold: the provider's own names.
        return {
            "title": title or identifier,
            "identifier": identifier,
            "uri": uri or _external_uri(identifier),
        }

    # CFPackage

    def package(
        self,
        framework: Framework,
        *,
        items: list[Competency],
        associations: list[Association],
        competencies: dict[Any, Competency],
    ) -> Json:
        return {
            "CFDocument": self.document(framework, in_package=True),
            "CFItems": [self.item(item, in_package=True) for item in items],
            "CFAssociations": [
                self.association(
                    association,
                    framework=framework,
                    competencies=competencies,
                    in_package=True,
                )
                for association in associations
            ],
        }


def association_type(stored: str) -> str:
    """The CASE spelling, or an `ext:` name for a type outside the vocabulary."""
    kind = canonical_type(stored)
    if kind in ASSOCIATION_TYPES or _EXTENSION_TYPE.fullmatch(kind):
        return kind
    return "ext:" + (_NOT_IN_EXTENSION.sub("", kind) or "unknown")


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def label(competency: Competency) -> str:
    return competency.human_coding_scheme or competency.full_statement[:_TITLE_LENGTH]


def _external_uri(identifier: str) -> str:
    if identifier.lower().startswith(("http://", "https://")):
        return identifier
    if is_uuid(identifier):
        return f"urn:uuid:{identifier.lower()}"
    return identifier


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _copy_text(raw: dict[str, Any], target: Json, names: tuple[str, ...]) -> None:
    for name in names:
        value = raw.get(name)
        if isinstance(value, str) and value.strip():
            target[name] = value


def _copy_text_list(raw: dict[str, Any], target: Json, name: str) -> None:
    value = raw.get(name)
    if isinstance(value, str) and value.strip():
        target[name] = [value]
    elif isinstance(value, list):
        texts = [entry for entry in value if isinstance(entry, str) and entry.strip()]
        if texts:
            target[name] = texts


def _copy_dates(raw: dict[str, Any], target: Json) -> None:
    for name in ("statusStartDate", "statusEndDate"):
        value = raw.get(name)
        if not isinstance(value, str):
            continue
        try:
            target[name] = date.fromisoformat(value[:10]).isoformat()
        except ValueError:
            continue


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
