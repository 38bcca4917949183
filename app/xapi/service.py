"""xAPI statements as evidence: which statements count, and how they map to ours.

A statement is recorded when its verb is one of the ADL verbs completed,
passed, failed or scored and it carries `result.score` (`raw` with `max`, or
`scaled`, read as `scaled` x 100 out of 100). The other parts map as:

- actor: `mbox` (mailto:) is the person identifier of scheme `email`;
  `account` is scheme = `homePage`, value = `name`; `openid` is scheme
  `openid`. A hashed mailbox or a group cannot be matched and is refused.
- object: an activity whose `external_id` is the object IRI (one activity of
  any source), otherwise the activity with source S and external id E where
  the IRI is `S/E` (split at the last slash).
- `timestamp` is `occurred_at` (the time of storing when absent), so mastery
  orders statements by when they happened, not when they arrived.

A voiding statement (verb voided, object a StatementRef) voids the evidence
that statement became. A batch is all-or-nothing, as the xAPI specification
asks: one statement that cannot be recorded refuses the whole batch with a
400 problem listing every statement at fault, and nothing is stored. A
statement id already stored with the same content is skipped; with other
content it is a 409.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.activities.models import Activity
from app.activities.service import find_activity
from app.database import new_id, utcnow
from app.evidence.models import Evidence
from app.evidence.service import (
    aligned_competencies,
    checked_scores,
    insert_ignoring_conflicts,
    void_evidence,
)
from app.mastery.service import recompute_mastery
from app.people.service import EMAIL_SCHEME, find_person
from app.problems import Problem
from app.xapi.schemas import EVIDENCE_VERBS, VOIDED_VERB

XAPI_SOURCE = "xapi"
OPENID_SCHEME = "openid"
SCALED_MAXIMUM = Decimal(100)
# Set by the LRS, not the sender: a statement sent again may differ in them.
LRS_PROPERTIES = ("stored", "authority", "version")

log = structlog.get_logger()


class StatementRefused(Exception):
    """A statement this service cannot record; the message says which part."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class EvidenceStatement:
    statement_id: uuid.UUID
    content_hash: str
    person_id: uuid.UUID
    activity_id: uuid.UUID
    score: Decimal
    max_score: Decimal
    occurred_at: datetime


@dataclass(frozen=True)
class VoidingStatement:
    statement_id: uuid.UUID
    target_id: uuid.UUID


Interpreted = EvidenceStatement | VoidingStatement


@dataclass(frozen=True)
class StoredStatements:
    statement_ids: list[uuid.UUID]  # every statement of the batch, in order
    recorded: int  # how many became new evidence


def store_statements(
    session: Session,
    *,
    organization_id: uuid.UUID,
    statements: list[Any],
    actor: str,
    threshold: Decimal | None = None,
) -> StoredStatements:
    """Record a batch of statements, all or none.

    Commits are left to the caller; on a problem nothing has been written.
    """
    with_ids = [
        _with_id(statement, position) for position, statement in enumerate(statements)
    ]
    _refuse_repeated_ids(with_ids)
    interpreted = _interpreted(
        session, organization_id=organization_id, statements=with_ids
    )

    new = _new_evidence(session, organization_id=organization_id, batch=interpreted)
    voided = _apply_voids(
        session,
        organization_id=organization_id,
        batch=interpreted,
        actor=actor,
        threshold=threshold,
    )
    _recompute(session, evidence=new, threshold=threshold)
    log.info(
        "xapi.statements_stored",
        statements=len(interpreted),
        recorded=len(new),
        voided=voided,
    )
    return StoredStatements(
        statement_ids=[item.statement_id for item in interpreted], recorded=len(new)
    )


def _with_id(statement: Any, position: int) -> dict[str, Any]:
    if not isinstance(statement, dict):
        raise Problem(
            400,
            "statement-invalid",
            f"Statement {position} is not a JSON object.",
            field=f"statements[{position}]",
        )
    if "id" not in statement:
        # The LRS names a statement its sender left unnamed (xAPI 2.2.2).
        return {**statement, "id": str(uuid.uuid4())}
    try:
        statement_id = uuid.UUID(str(statement["id"]))
    except ValueError:
        raise Problem(
            400,
            "statement-invalid",
            f"Statement {position}: id {statement['id']!r} is not a UUID.",
            field=f"statements[{position}].id",
        ) from None
    return {**statement, "id": str(statement_id)}


def _refuse_repeated_ids(statements: list[dict[str, Any]]) -> None:
    seen: dict[str, int] = {}
    for position, statement in enumerate(statements):
        if statement["id"] in seen:
            raise Problem(
                400,
                "statement-id-repeated",
                f"Statements {seen[statement['id']]} and {position} share the id "
                f"{statement['id']}; a batch names each statement once.",
                field=f"statements[{position}].id",
            )
        seen[statement["id"]] = position


def _interpreted(
    session: Session, *, organization_id: uuid.UUID, statements: list[dict[str, Any]]
) -> list[Interpreted]:
    """Every statement read as evidence or a void, or a 400 listing each refusal."""
    result: list[Interpreted] = []
    errors: list[dict[str, Any]] = []
    batch_ids = {statement["id"] for statement in statements}
    for position, statement in enumerate(statements):
        try:
            result.append(
                _interpret(
                    session,
                    organization_id=organization_id,
                    statement=statement,
                    batch_ids=batch_ids,
                )
            )
        except StatementRefused as refusal:
            errors.append(
                {
                    "field": f"statements[{position}].{refusal.field}",
                    "statement_id": statement["id"],
                    "message": str(refusal),
                }
            )
    if errors:
        first = errors[0]
        raise Problem(
            400,
            "statement-refused",
            f"{len(errors)} of {len(statements)} statements cannot be recorded, "
            f"so none was; first: {first['field']}: {first['message']}",
            field=first["field"],
            errors=errors,
        )
    return result


def _interpret(
    session: Session,
    *,
    organization_id: uuid.UUID,
    statement: dict[str, Any],
    batch_ids: set[str],
) -> Interpreted:
    verb = statement.get("verb")
    verb_id = verb.get("id") if isinstance(verb, dict) else None
    statement_id = uuid.UUID(statement["id"])
    if verb_id == VOIDED_VERB:
        return VoidingStatement(
            statement_id=statement_id,
            target_id=_voided_target(
                session,
                organization_id=organization_id,
                statement=statement,
                batch_ids=batch_ids,
            ),
        )
    if verb_id not in EVIDENCE_VERBS:
        raise StatementRefused(
            "verb.id",
            f"verb {verb_id!r} is not one recorded as evidence (completed, passed, "
            "failed, scored or voided under http://adlnet.gov/expapi/verbs/)",
        )
    score, max_score = _score(statement.get("result"))
    return EvidenceStatement(
        statement_id=statement_id,
        content_hash=content_hash(statement),
        person_id=_person_id(
            session, organization_id=organization_id, actor=statement.get("actor")
        ),
        activity_id=_activity_id(
            session, organization_id=organization_id, target=statement.get("object")
        ),
        score=score,
        max_score=max_score,
        occurred_at=_timestamp(statement.get("timestamp")),
    )


def content_hash(statement: dict[str, Any]) -> str:
    """SHA-256 of the statement as its sender made it, keys in a fixed order."""
    sent = {key: value for key, value in statement.items() if key not in LRS_PROPERTIES}
    text = json.dumps(sent, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _person_id(
    session: Session, *, organization_id: uuid.UUID, actor: Any
) -> uuid.UUID:
    scheme, value = _actor_identifier(actor)
    person = find_person(
        session, organization_id=organization_id, scheme=scheme, value=value
    )
    if person is None:
        raise StatementRefused(
            "actor", f"no person has the {scheme} identifier {value!r}"
        )
    return person.id


def _actor_identifier(actor: Any) -> tuple[str, str]:
    if not isinstance(actor, dict):
        raise StatementRefused("actor", "actor is missing")
    if actor.get("objectType") == "Group":
        raise StatementRefused("actor", "a group cannot be a person's evidence")
    if isinstance(actor.get("mbox"), str):
        mailbox = actor["mbox"]
        if not mailbox.lower().startswith("mailto:"):
            raise StatementRefused("actor.mbox", "mbox must be a mailto: IRI")
        return EMAIL_SCHEME, mailbox[len("mailto:") :]
    account = actor.get("account")
    if isinstance(account, dict):
        home_page, name = account.get("homePage"), account.get("name")
        if not isinstance(home_page, str) or not isinstance(name, str):
            raise StatementRefused("actor.account", "account needs homePage and name")
        return home_page, name
    if isinstance(actor.get("openid"), str):
        return OPENID_SCHEME, actor["openid"]
    raise StatementRefused(
        "actor",
        "actor must be identified by mbox, account or openid (a hashed mailbox "
        "cannot be matched to a person)",
    )


def _activity_id(
    session: Session, *, organization_id: uuid.UUID, target: Any
) -> uuid.UUID:
    if not isinstance(target, dict) or not isinstance(target.get("id"), str):
        raise StatementRefused("object.id", "object must be an activity with an id")
    if target.get("objectType", "Activity") != "Activity":
        raise StatementRefused(
            "object.objectType", "object must be an Activity to count as evidence"
        )
    iri = target["id"]
    statement = (
        select(Activity.id)
        .where(Activity.organization_id == organization_id)
        .where(Activity.external_id == iri)
    )
    named = list(session.scalars(statement))
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise StatementRefused(
            "object.id", f"{len(named)} activities of different sources have {iri!r}"
        )
    source, _, external_id = iri.rpartition("/")
    activity = (
        find_activity(
            session,
            organization_id=organization_id,
            source=source,
            external_id=external_id,
        )
        if source and external_id
        else None
    )
    if activity is None:
        raise StatementRefused("object.id", f"no activity is known by {iri!r}")
    return activity.id


def _score(result: Any) -> tuple[Decimal, Decimal]:
    score = result.get("score") if isinstance(result, dict) else None
    if not isinstance(score, dict):
        raise StatementRefused("result.score", "result.score is missing")
    try:
        if "raw" in score and "max" in score:
            raw, maximum = _number(score["raw"]), _number(score["max"])
        elif "scaled" in score:
            raw, maximum = _number(score["scaled"]) * SCALED_MAXIMUM, SCALED_MAXIMUM
        else:
            raise StatementRefused(
                "result.score", "result.score needs raw and max, or scaled"
            )
        return checked_scores(raw, maximum)
    except Problem as problem:
        raise StatementRefused("result.score", problem.detail) from None


def _number(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise StatementRefused("result.score", f"{value!r} is not a number")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise StatementRefused("result.score", f"{value!r} is not a number") from None


def _timestamp(value: Any) -> datetime:
    if value is None:
        return utcnow()
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise StatementRefused(
            "timestamp", "timestamp is not an ISO 8601 date-time"
        ) from None
    if moment.tzinfo is None:
        raise StatementRefused("timestamp", "timestamp has no UTC offset")
    return moment.astimezone(UTC)


def _voided_target(
    session: Session,
    *,
    organization_id: uuid.UUID,
    statement: dict[str, Any],
    batch_ids: set[str],
) -> uuid.UUID:
    target = statement.get("object")
    if not isinstance(target, dict) or target.get("objectType") != "StatementRef":
        raise StatementRefused(
            "object", "a voiding statement's object must be a StatementRef"
        )
    try:
        target_id = uuid.UUID(str(target.get("id")))
    except ValueError:
        raise StatementRefused(
            "object.id", "the StatementRef id is not a UUID"
        ) from None
    if str(target_id) in batch_ids:
        return target_id
    if (
        _by_statement_id(
            session, organization_id=organization_id, statement_id=target_id
        )
        is None
    ):
        raise StatementRefused(
            "object.id", f"no recorded statement has the id {target_id}"
        )
    return target_id


def _by_statement_id(
    session: Session, *, organization_id: uuid.UUID, statement_id: uuid.UUID
) -> Evidence | None:
    statement = (
        select(Evidence)
        .where(Evidence.organization_id == organization_id)
        .where(Evidence.statement_id == statement_id)
    )
    return session.execute(statement).scalar_one_or_none()


def _new_evidence(
    session: Session, *, organization_id: uuid.UUID, batch: list[Interpreted]
) -> list[Evidence]:
    """Insert the statements not yet stored; a stored id with other content is 409.

    The unique constraints decide which statements are new, so two batches
    racing with one statement store it once.
    """
    sent = {
        item.statement_id: _evidence_values(item, organization_id=organization_id)
        for item in batch
        if isinstance(item, EvidenceStatement)
    }
    insert_ignoring_conflicts(session, list(sent.values()))

    new: list[Evidence] = []
    for statement_id, values in sent.items():
        stored = _by_statement_id(
            session, organization_id=organization_id, statement_id=statement_id
        )
        if stored is not None and stored.id == values["id"]:
            new.append(stored)
        elif stored is None or stored.content_hash != values["content_hash"]:
            raise Problem(
                409,
                "statement-conflict",
                f"Statement {statement_id} is already stored with different "
                "content; a statement cannot be changed, send a new id.",
                field="id",
            )
    return new


def _evidence_values(
    item: EvidenceStatement, *, organization_id: uuid.UUID
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "organization_id": organization_id,
        "person_id": item.person_id,
        "activity_id": item.activity_id,
        "score": item.score,
        "max_score": item.max_score,
        "occurred_at": item.occurred_at,
        "received_at": utcnow(),
        "source": XAPI_SOURCE,
        "idempotency_key": f"{XAPI_SOURCE}:{item.statement_id}",
        "statement_id": item.statement_id,
        "content_hash": item.content_hash,
    }


def _apply_voids(
    session: Session,
    *,
    organization_id: uuid.UUID,
    batch: list[Interpreted],
    actor: str,
    threshold: Decimal | None,
) -> int:
    voided = 0
    for item in batch:
        if not isinstance(item, VoidingStatement):
            continue
        target = _by_statement_id(
            session, organization_id=organization_id, statement_id=item.target_id
        )
        if target is None:
            raise Problem(
                400,
                "statement-refused",
                f"Voiding statement {item.statement_id} names statement "
                f"{item.target_id}, which is not evidence.",
                field="object.id",
            )
        # Voiding what is already void changes nothing; a resent voiding
        # statement lands here.
        if target.voided_at is not None:
            continue
        void_evidence(
            session,
            organization_id=organization_id,
            evidence_id=target.id,
            reason=f"voided by xAPI statement {item.statement_id}",
            actor=actor,
            threshold=threshold,
        )
        voided += 1
    return voided


def _recompute(
    session: Session, *, evidence: list[Evidence], threshold: Decimal | None
) -> None:
    touched: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for row in evidence:
        touched[row.person_id] |= set(
            aligned_competencies(session, activity_id=row.activity_id)
        )
    for person_id in sorted(touched):
        if touched[person_id]:
            recompute_mastery(
                session,
                person_id=person_id,
                competency_ids=sorted(touched[person_id]),
                threshold=threshold,
            )
