"""Imports every domain's models so mappers and Alembic see the whole schema."""

from app.activities.models import Activity, Alignment
from app.auth.models import ApiClient
from app.contexts.models import Context
from app.database import Base
from app.evidence.models import Evidence
from app.frameworks.models import Association, Competency, Framework
from app.keys.models import ToolKey
from app.lti.models import LaunchSession, LaunchStateEntry, UsedNonce
from app.mastery.models import Mastery
from app.organizations.models import Organization
from app.people.models import Person, PersonIdentifier
from app.platforms.models import Deployment, Platform

metadata = Base.metadata

__all__ = [
    "Activity",
    "Alignment",
    "ApiClient",
    "Association",
    "Competency",
    "Context",
    "Deployment",
    "Evidence",
    "Framework",
    "LaunchSession",
    "LaunchStateEntry",
    "Mastery",
    "Organization",
    "Person",
    "PersonIdentifier",
    "Platform",
    "ToolKey",
    "UsedNonce",
    "metadata",
]
