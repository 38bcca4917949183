"""Read a CFPackage as real providers publish it into one normalised shape.

Published packages bend the CASE 1.0/1.1 rules in recurring ways: naive or
placeholder timestamps, `CFItems` keyed by id instead of listed, LinkURIs
given as bare strings, sequence numbers as strings, upper-case GUIDs,
associations without an identifier, node uris that are not URLs. Every bend
that can be repaired without guessing is repaired and recorded as a
`Deviation` in the package's report. Anything that would need a guess is a
`PackageProblem`; all of them are collected and raised together in one
`PackageError`, so a provider can fix the package in one pass.

Identifiers are compared through `identifier_key` (lower case) and keep
their original spelling for output. Node uris are never fetched: endpoints
are resolved by identifier only.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

DOCUMENT = "CFDocument"
"""What `Package.resolve` returns for a node that is the package's CFDocument."""

# Part of every content hash: raise it when reading changes what is stored,
# so packages imported before are written again rather than skipped.
READER_VERSION = 1

MAX_IDENTIFIER_LENGTH = 512
MAX_URI_LENGTH = 2048
MAX_CODE_LENGTH = 255

_PLACEHOLDER_DATE = re.compile(r"YYYY|hh:mm", re.IGNORECASE)
_DERIVED_ASSOCIATION_PREFIX = "urn:standards-bridge:cfassociation:"


@dataclass(frozen=True)
class Deviation:
    """One repair made while reading: which object, which field, what was done."""

    object: str
    field: str
    action: str


@dataclass(frozen=True)
class PackageProblem:
    object: str
    field: str
    message: str


class PackageError(ValueError):
    """The package cannot be understood safely; `problems` says everything wrong."""

    def __init__(self, problems: list[PackageProblem]) -> None:
        self.problems = problems
        summary = "; ".join(
            f"{p.object} {p.field}: {p.message}".replace("  ", " ") for p in problems
        )
        super().__init__(f"the CFPackage cannot be imported: {summary}")


@dataclass(frozen=True)
class NodeRef:
    """An association endpoint as given (LinkURI), with its comparison key."""

    identifier: str
    key: str
    uri: str | None
    title: str | None

    @property
    def web_uri(self) -> str | None:
        """The uri when it is an http(s) URL; `local:`, `urn:` and bare ids are not."""
        if self.uri is not None and _is_web_url(self.uri):
            return self.uri
        return None


@dataclass
class PackageDocument:
    identifier: str
    key: str
    alias_key: str | None
    uri: str | None
    title: str
    creator: str | None
    publisher: str | None
    version: str | None
    adoption_status: str | None
    case_version: str | None
    last_change_at: datetime | None
    raw: dict[str, Any]


@dataclass
class PackageItem:
    identifier: str
    key: str
    alias_key: str | None
    uri: str | None
    human_coding_scheme: str | None
    full_statement: str
    abbreviated_statement: str | None
    item_type: str | None
    education_levels: list[str]
    last_change_at: datetime | None
    raw: dict[str, Any]


@dataclass
class PackageAssociation:
    identifier: str
    key: str
    association_type: str
    sequence_number: int | None
    origin: NodeRef
    destination: NodeRef
    last_change_at: datetime | None
    raw: dict[str, Any]


@dataclass(frozen=True)
class FoundCounts:
    """How many CFItems, CFAssociations and CFDefinitions the file itself holds."""

    items: int
    associations: int
    definitions: int


@dataclass
class Package:
    document: PackageDocument
    items: list[PackageItem]
    associations: list[PackageAssociation]
    definitions: dict[str, list[Any]]
    found: FoundCounts
    report: list[Deviation]

    def __post_init__(self) -> None:
        self._index: dict[str, str] = {}
        for key in (self.document.key, self.document.alias_key):
            if key:
                self._index[key] = DOCUMENT
        for item in self.items:
            if item.alias_key:
                self._index.setdefault(item.alias_key, item.key)
        for item in self.items:
            self._index[item.key] = item.key

    @property
    def definition_count(self) -> int:
        return sum(len(entries) for entries in self.definitions.values())

    def resolve(self, node: NodeRef) -> str | None:
        """`DOCUMENT`, the key of the CFItem the node names, or None if not here.

        Identifiers that are not UUIDs (ASN URLs) are also reachable through
        their uuid5 alias, which is how OpenSALT names imported ASN nodes.
        """
        if not node.key:
            return None
        found = self._index.get(node.key)
        if found is not None:
            return found
        alias = alias_key(node.identifier)
        return self._index.get(alias) if alias else None

    def content_hash(self) -> str:
        """A digest of the package's content, so a re-import of the same content
        can be recognised and skipped.

        Everything stored is read from the raw objects, so they are what is
        hashed; the normalised fields follow from them.
        """
        content = {
            "reader": READER_VERSION,
            "document": self.document.raw,
            "items": [item.raw for item in self.items],
            "associations": [association.raw for association in self.associations],
            "definitions": self.definitions,
        }
        encoded = json.dumps(content, sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def identifier_key(identifier: str) -> str:
    """The form identifiers are compared in: GUIDs arrive in either case."""
    return identifier.lower()


def alias_key(identifier: str) -> str | None:
    """uuid5(NAMESPACE_URL, identifier) for an identifier that is not a UUID.

    OpenSALT gives every ASN node it imports this UUID, so a crosswalk made
    there names a CCSS standard `5b6c487e-…` whose own identifier is
    `http://purl.org/ASN/resources/S11434C1`.
    """
    if not identifier:
        return None
    try:
        uuid.UUID(identifier)
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, identifier))
    return None


def decode_package(data: bytes | str) -> dict[str, Any]:
    """Parse the bytes of a CFPackage file or request body into a JSON object."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as error:
        raise PackageError(
            [PackageProblem("package", "", f"is not UTF-8 text ({error.reason})")]
        ) from error
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise PackageError(
            [
                PackageProblem(
                    "package",
                    "",
                    f"is not valid JSON: {error.msg} at line {error.lineno} "
                    f"column {error.colno}",
                )
            ]
        ) from error
    if not isinstance(value, dict):
        raise PackageError([_not_an_object(value)])
    return value


def read_package(raw: object) -> Package:
    """Normalise a parsed CFPackage, or raise `PackageError` listing every problem."""
    if not isinstance(raw, dict):
        raise PackageError([_not_an_object(raw)])
    return _Reader().read(raw)


def _not_an_object(value: object) -> PackageProblem:
    return PackageProblem(
        "package", "", f"must be a JSON object (a CFPackage), got {_kind(value)}"
    )


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)


class _Reader:
    """Reads one package, collecting repairs and problems as it goes."""

    def __init__(self) -> None:
        self.report: list[Deviation] = []
        self.problems: list[PackageProblem] = []

    def note(self, obj: str, field: str, action: str) -> None:
        self.report.append(Deviation(obj, field, action))

    def problem(self, obj: str, field: str, message: str) -> None:
        self.problems.append(PackageProblem(obj, field, message))

    def read(self, raw: dict[str, Any]) -> Package:
        document = self._document(raw)
        item_entries = self._entries(raw, "CFItems")
        association_entries = self._entries(raw, "CFAssociations")
        items = self._items(item_entries)
        associations = self._associations(association_entries)
        definitions, definitions_found = self._definitions(raw.get("CFDefinitions"))
        if raw.get("CFRubrics"):
            self.note("package", "CFRubrics", "not imported: rubrics are not stored")
        if self.problems or document is None:
            raise PackageError(self.problems)
        return Package(
            document=document,
            items=items,
            associations=associations,
            definitions=definitions,
            found=FoundCounts(
                items=len(item_entries),
                associations=len(association_entries),
                definitions=definitions_found,
            ),
            report=self.report,
        )

    # CFDocument

    def _document(self, raw: dict[str, Any]) -> PackageDocument | None:
        value = raw.get("CFDocument")
        if not isinstance(value, dict):
            self.problem("package", "CFDocument", self._missing_document(raw, value))
            return None
        identifier = self._identifier(value, DOCUMENT)
        title = self._text(value, DOCUMENT, "title")
        if not title or not title.strip():
            self.problem(DOCUMENT, "title", "is missing; a framework needs a title")
        label = f"{DOCUMENT} {identifier}" if identifier else DOCUMENT
        self._link_uri(value, label, "CFPackageURI")
        if identifier is None or not title:
            return None
        return PackageDocument(
            identifier=identifier,
            key=identifier_key(identifier),
            alias_key=alias_key(identifier),
            uri=self._uri(value.get("uri"), label, "uri"),
            title=title,
            creator=self._text(value, label, "creator"),
            publisher=self._text(value, label, "publisher"),
            version=self._text(value, label, "version"),
            adoption_status=self._text(value, label, "adoptionStatus"),
            case_version=self._text(value, label, "caseVersion"),
            last_change_at=self._datetime(value, label, "lastChangeDateTime"),
            raw=value,
        )

    @staticmethod
    def _missing_document(raw: dict[str, Any], value: object) -> str:
        if "CFDocuments" in raw:
            return (
                "is missing: this is a list of CFDocuments (a getAllCFDocuments "
                "response), not a CFPackage; fetch each document's package instead"
            )
        if value is None:
            return "is missing; a CFPackage must hold exactly one CFDocument"
        return f"must be an object, got {_kind(value)}"

    # Containers

    def _entries(self, raw: dict[str, Any], name: str) -> list[tuple[str, Any]]:
        """The (label, entry) pairs of CFItems or CFAssociations.

        Some generators wrap the list in an object of the same name, or key
        the entries by id instead of listing them; both carry the same data.
        """
        value = raw.get(name)
        if value is None:
            return []
        if isinstance(value, dict) and list(value) == [name]:
            self.note(
                "package", name, f'wrapped in an object {{"{name}": …}}; unwrapped'
            )
            value = value[name]
        if isinstance(value, list):
            return [(f"{name}[{index}]", entry) for index, entry in enumerate(value)]
        if isinstance(value, dict):
            self.note(
                "package", name, "given as an object keyed by id; took its values"
            )
            return [(f"{name}[{key!r}]", entry) for key, entry in value.items()]
        self.problem(
            "package",
            name,
            f"must be a list (or an object keyed by identifier), got {_kind(value)}",
        )
        return []

    # CFItems

    def _items(self, entries: list[tuple[str, Any]]) -> list[PackageItem]:
        items: list[PackageItem] = []
        seen: dict[str, tuple[str, PackageItem]] = {}
        for label, entry in entries:
            item = self._item(label, entry)
            if item is None:
                continue
            labelled = f"{label} {item.identifier}"
            earlier = seen.get(item.key)
            if earlier is None:
                seen[item.key] = (labelled, item)
                items.append(item)
            elif earlier[1].raw == item.raw:
                self.note(
                    labelled, "identifier", f"duplicate of {earlier[0]}; kept one"
                )
            else:
                self.problem(
                    labelled,
                    "identifier",
                    f"also used by {earlier[0]} with different content",
                )
        return items

    def _item(self, label: str, value: object) -> PackageItem | None:
        if not isinstance(value, dict):
            self.problem(label, "", f"must be an object, got {_kind(value)}")
            return None
        identifier = self._identifier(value, label)
        if identifier is not None:
            label = f"{label} {identifier}"
        full_statement = self._statement(value, label)
        if identifier is None or full_statement is None:
            return None
        human_coding_scheme = self._text(value, label, "humanCodingScheme")
        if human_coding_scheme and len(human_coding_scheme) > MAX_CODE_LENGTH:
            self.problem(
                label,
                "humanCodingScheme",
                f"is longer than {MAX_CODE_LENGTH} characters",
            )
        item_type = self._item_type(value, label)
        self._link_uri(value, label, "CFDocumentURI")
        return PackageItem(
            identifier=identifier,
            key=identifier_key(identifier),
            alias_key=alias_key(identifier),
            uri=self._uri(value.get("uri"), label, "uri"),
            human_coding_scheme=human_coding_scheme,
            full_statement=full_statement,
            abbreviated_statement=self._text(value, label, "abbreviatedStatement"),
            item_type=item_type,
            education_levels=self._education_levels(value, label),
            last_change_at=self._datetime(value, label, "lastChangeDateTime"),
            raw=value,
        )

    def _statement(self, value: dict[str, Any], label: str) -> str | None:
        """The fullStatement, kept exactly as given (HTML and Markdown included)."""
        full = self._text(value, label, "fullStatement")
        if full and full.strip():
            return full
        abbreviated = self._text(value, label, "abbreviatedStatement")
        if abbreviated and abbreviated.strip():
            self.note(label, "fullStatement", "missing; used abbreviatedStatement")
            return abbreviated
        self.problem(
            label,
            "fullStatement",
            "is missing and there is no abbreviatedStatement; an item needs a "
            "statement",
        )
        return None

    def _item_type(self, value: dict[str, Any], label: str) -> str | None:
        given = self._text(value, label, "CFItemType")
        if given and given.strip():
            return given
        link = value.get("CFItemTypeURI")
        if isinstance(link, dict) and isinstance(link.get("title"), str):
            return link["title"] or None
        return None

    def _education_levels(self, value: dict[str, Any], label: str) -> list[str]:
        field = "educationLevel"
        levels = value.get(field)
        if levels is None and value.get("educationalLevel") is not None:
            field = "educationalLevel"
            levels = value[field]
            self.note(label, field, "misspelt key; read as educationLevel")
        if levels is None:
            return []
        if isinstance(levels, str):
            self.note(label, field, "a string, not a list; read as a list")
            return [level.strip() for level in levels.split(",") if level.strip()]
        if isinstance(levels, list) and all(isinstance(x, str) for x in levels):
            return list(levels)
        self.note(label, field, f"{_kind(levels)} of non-strings; dropped")
        return []

    # CFAssociations

    def _associations(self, entries: list[tuple[str, Any]]) -> list[PackageAssociation]:
        associations: list[PackageAssociation] = []
        seen: dict[str, tuple[str, PackageAssociation]] = {}
        for label, entry in entries:
            association = self._association(label, entry)
            if association is None:
                continue
            labelled = f"{label} {association.identifier}"
            earlier = seen.get(association.key)
            if earlier is None:
                seen[association.key] = (labelled, association)
                associations.append(association)
            elif earlier[1].raw == association.raw:
                self.note(
                    labelled, "identifier", f"duplicate of {earlier[0]}; kept one"
                )
            else:
                self.problem(
                    labelled,
                    "identifier",
                    f"also used by {earlier[0]} with different content",
                )
        return associations

    def _association(self, label: str, value: object) -> PackageAssociation | None:
        if not isinstance(value, dict):
            self.problem(label, "", f"must be an object, got {_kind(value)}")
            return None
        association_type = value.get("associationType")
        if not isinstance(association_type, str) or not association_type.strip():
            self.problem(label, "associationType", "is missing")
        origin = self._node(value, label, "originNodeURI")
        destination = self._node(value, label, "destinationNodeURI")
        if (
            origin is None
            or destination is None
            or not isinstance(association_type, str)
            or not association_type.strip()
        ):
            return None
        identifier = value.get("identifier")
        if isinstance(identifier, str) and identifier.strip():
            label = f"{label} {identifier}"
        else:
            identifier = _derived_association_identifier(
                origin, association_type, destination
            )
            label = f"{label} {identifier}"
            self.note(
                label,
                "identifier",
                "missing; derived a uuid5 from origin, type and destination",
            )
        if len(identifier) > MAX_IDENTIFIER_LENGTH:
            self.problem(
                label,
                "identifier",
                f"is longer than {MAX_IDENTIFIER_LENGTH} characters",
            )
        self._link_uri(value, label, "CFDocumentURI")
        self._report_node(origin, label, "originNodeURI")
        self._report_node(destination, label, "destinationNodeURI")
        return PackageAssociation(
            identifier=identifier,
            key=identifier_key(identifier),
            association_type=association_type,
            sequence_number=self._sequence_number(value, label),
            origin=origin,
            destination=destination,
            last_change_at=self._datetime(value, label, "lastChangeDateTime"),
            raw=value,
        )

    def _node(self, value: dict[str, Any], label: str, field: str) -> NodeRef | None:
        node = value.get(field)
        if not isinstance(node, dict):
            self.problem(
                label,
                field,
                "is missing"
                if node is None
                else f"must be an object, got {_kind(node)}",
            )
            return None
        identifier = node.get("identifier")
        if identifier is None:
            identifier = ""
        if not isinstance(identifier, str):
            self.problem(label, f"{field}.identifier", "must be a string")
            return None
        uri = node.get("uri")
        title = node.get("title")
        return NodeRef(
            identifier=identifier,
            key=identifier_key(identifier),
            uri=uri if isinstance(uri, str) else None,
            title=title if isinstance(title, str) else None,
        )

    def _report_node(self, node: NodeRef, label: str, field: str) -> None:
        if not node.identifier.strip():
            self.note(label, f"{field}.identifier", "empty; endpoint left unresolved")
        if node.uri is not None and not _is_web_url(node.uri):
            self.note(
                label,
                f"{field}.uri",
                f"{node.uri!r} is not an http(s) URL; resolved by identifier, "
                "uri not kept",
            )

    def _sequence_number(self, value: dict[str, Any], label: str) -> int | None:
        number = value.get("sequenceNumber")
        if number is None or (isinstance(number, int) and not isinstance(number, bool)):
            return number
        if isinstance(number, str) and re.fullmatch(r"\s*-?\d+\s*", number):
            self.note(label, "sequenceNumber", f"string {number!r}; read as a number")
            return int(number)
        if isinstance(number, float) and number.is_integer():
            self.note(label, "sequenceNumber", f"{number!r}; read as a whole number")
            return int(number)
        self.note(label, "sequenceNumber", f"{number!r} is not a number; dropped")
        return None

    # CFDefinitions

    def _definitions(self, value: object) -> tuple[dict[str, list[Any]], int]:
        """The definitions kept (lists by kind) and how many the file holds."""
        if value is None:
            return {}, 0
        if isinstance(value, list):
            if value:
                self.note(
                    "package",
                    "CFDefinitions",
                    f"a list of {len(value)}, not an object; not imported",
                )
            else:
                self.note("package", "CFDefinitions", "an empty list; read as none")
            return {}, len(value)
        if not isinstance(value, dict):
            self.note("package", "CFDefinitions", f"{_kind(value)}; not imported")
            return {}, 0
        kept: dict[str, list[Any]] = {}
        for kind, entries in value.items():
            if isinstance(entries, list):
                kept[kind] = entries
            elif entries is not None:
                self.note(f"CFDefinitions.{kind}", "", "not a list; not imported")
        return kept, sum(len(entries) for entries in kept.values())

    # Fields

    def _identifier(self, value: dict[str, Any], label: str) -> str | None:
        identifier = value.get("identifier")
        if not isinstance(identifier, str) or not identifier.strip():
            self.problem(label, "identifier", "is missing")
            return None
        if len(identifier) > MAX_IDENTIFIER_LENGTH:
            self.problem(
                label,
                "identifier",
                f"is longer than {MAX_IDENTIFIER_LENGTH} characters",
            )
            return None
        return identifier

    def _text(self, value: dict[str, Any], label: str, field: str) -> str | None:
        text = value.get(field)
        if text is None or isinstance(text, str):
            return text
        if isinstance(text, int | float) and not isinstance(text, bool):
            self.note(label, field, f"number {text!r}; read as text")
            return str(text)
        self.note(label, field, f"{_kind(text)}, not text; dropped")
        return None

    def _uri(self, uri: object, label: str, field: str) -> str | None:
        if uri is None or uri == "":
            return None
        if not isinstance(uri, str):
            self.note(label, field, f"{_kind(uri)}, not a uri; dropped")
            return None
        if len(uri) > MAX_URI_LENGTH:
            self.note(label, field, f"longer than {MAX_URI_LENGTH} characters; dropped")
            return None
        return uri

    def _link_uri(self, value: dict[str, Any], label: str, field: str) -> None:
        """LinkURIs we only check the shape of: the store keeps the raw JSON."""
        link = value.get(field)
        if isinstance(link, str):
            self.note(label, field, "a string, not a LinkURI object; read as its uri")

    def _datetime(
        self, value: dict[str, Any], label: str, field: str
    ) -> datetime | None:
        text = value.get(field)
        if text is None:
            return None
        if not isinstance(text, str):
            self.note(label, field, f"{_kind(text)}, not a date-time; dropped")
            return None
        if _PLACEHOLDER_DATE.search(text):
            self.note(label, field, f"placeholder {text!r}; dropped")
            return None
        try:
            moment = datetime.fromisoformat(text.strip())
        except ValueError:
            self.note(label, field, f"{text!r} is not an ISO 8601 date-time; dropped")
            return None
        if moment.tzinfo is None:
            self.note(label, field, f"{text!r} has no time zone; read as UTC")
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


def _derived_association_identifier(
    origin: NodeRef, association_type: str, destination: NodeRef
) -> str:
    name = f"{_DERIVED_ASSOCIATION_PREFIX}{origin.key}:{association_type}:"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name + destination.key))


def _is_web_url(uri: str) -> bool:
    return uri.lower().startswith(("http://", "https://"))
