"""What the statement resource answers, and the verbs it understands."""

from __future__ import annotations

import uuid

from pydantic import RootModel

XAPI_VERSION = "1.0.3"
VERSION_HEADER = "X-Experience-API-Version"
ADL_VERBS = "http://adlnet.gov/expapi/verbs/"
EVIDENCE_VERBS = frozenset(
    ADL_VERBS + name for name in ("completed", "passed", "failed", "scored")
)
VOIDED_VERB = ADL_VERBS + "voided"


class StatementIds(RootModel[list[uuid.UUID]]):
    """The ids of the statements posted, in the order they were sent."""
