from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from service.schemas.common import ApiModel, LocalDateTime


class CalendarDayOut(BaseModel):
    date: dt.date
    working: bool
    name: str | None = None


class ExplanationOut(BaseModel):
    date: dt.date
    kind: str
    name: str
    detail: str | None = None
    legal_basis: str | None = None


class DueDateOut(BaseModel):
    start: LocalDateTime
    effective_start: LocalDateTime
    due_at: LocalDateTime
    explanation: list[ExplanationOut]


class OverrideIn(ApiModel):
    kind: Literal["holiday", "workday"]
    name: Annotated[str, Field(min_length=1, max_length=255, pattern=r"\S")]
    """Not blank: the calendar refuses a nameless override (a blank one stored broke every due-date computation)."""
    legal_basis: Annotated[str, Field(max_length=500)] | None = None


class OverrideOut(BaseModel):
    date: dt.date
    kind: Literal["holiday", "workday"]
    name: str
    legal_basis: str | None
