"""Types shared by the API schemas."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from service.domain.legal_time import to_legal_time

T = TypeVar("T")

LocalDateTime = Annotated[
    datetime,
    PlainSerializer(lambda value: to_legal_time(value).isoformat(), return_type=str, when_used="json"),
]
"""A datetime rendered in Vietnamese legal time with its ``+07:00`` offset."""

def _iso_date_only(value: object) -> object:
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("expected a date as YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]
"""A calendar date written ``YYYY-MM-DD`` (pydantic alone would also take Unix timestamps such as ``0``)."""

def _iso_datetime_only(value: object) -> object:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not re.match(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", value):
        raise ValueError("expected an ISO 8601 date-time with an offset, e.g. 2026-02-12T09:00:00+07:00")
    return value


RequestDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_datetime_only)]
"""A datetime in a request: an offset is required (a naive value is a 422)."""

AGENCY_CODE_PATTERN = r"^[0-9A-Z]+(\.[0-9A-Z]+)*$"
AGENCY_CODE_RE = re.compile(AGENCY_CODE_PATTERN)
NATIONAL_ID_PATTERN = r"^[0-9]{12}$"

AgencyCode = Annotated[str, Field(pattern=AGENCY_CODE_PATTERN, max_length=35, examples=["000.26.01.H26"])]
NationalId = Annotated[str, Field(pattern=NATIONAL_ID_PATTERN, examples=["001090001234"])]


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class ValidationIssue(BaseModel):
    """One invalid field: where (``loc``, as Pydantic names it: ``["body", "national_id"]``), what a person reads
    (``msg``, Vietnamese, or English with ``Accept-Language: en``) and the stable kind of error (``type``)."""

    loc: list[str]
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details, with a stable machine ``code``."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[ValidationIssue] | None = None
