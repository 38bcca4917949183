"""Request and response bodies of the publishing settings API."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field


class VisibilityIn(BaseModel):
    visibility: Literal["public", "private"] = Field(
        description="`public`: served over CASE without a token; `private`: only "
        "to callers holding frameworks:read"
    )


class VisibilityOut(BaseModel):
    id: uuid.UUID
    visibility: Literal["public", "private"]
