"""Imports every domain's models so mappers and Alembic see the whole schema."""

from app.activities.models import Activity, Alignment
from app.auth.models import ApiClient
from app.contexts.models import Context
from app.database import Base
from app.evidence.models import Evidence, EvidenceEvent
from app.frameworks.models import Association, Competency, Framework
from app.jobs.models import JobRun
from app.keys.models import ToolKey
from app.lms_services.models import (
    ContextMembership,
    LineItemLink,
    MembershipService,
    ScorePassback,
)
from app.lti.models import LaunchSession, LaunchStateEntry, UsedNonce
from app.mastery.models import Mastery, MasteryPolicy
from app.organizations.models import Organization
from app.people.models import Person, PersonIdentifier
from app.platforms.models import Deployment, Platform
from app.sources.models import CaseSource, SyncRun

metadata = Base.metadata

__all__ = [
    "Activity",
    "Alignment",
    "ApiClient",
    "Association",
    "CaseSource",
    "Competency",
    "Context",
    "ContextMembership",
    "Deployment",
    "Evidence",
    "EvidenceEvent",
    "Framework",
    "JobRun",
    "LaunchSession",
    "LaunchStateEntry",
    "LineItemLink",
    "Mastery",
    "MasteryPolicy",
    "MembershipService",
    "Organization",
    "Person",
    "PersonIdentifier",
    "Platform",
    "ScorePassback",
    "SyncRun",
    "ToolKey",
    "UsedNonce",
    "metadata",
]
