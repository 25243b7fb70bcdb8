"""Types shared by the API schemas."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer
from pydantic_core import PydanticCustomError

from service.domain.legal_time import to_legal_time

T = TypeVar("T")

LocalDateTime = Annotated[
    datetime,
    PlainSerializer(lambda value: to_legal_time(value).isoformat(), return_type=str, when_used="json"),
]
"""A datetime rendered in Vietnamese legal time with its ``+07:00`` offset."""

FIRST_YEAR = 2000
LAST_YEAR = 2100
"""The years the working calendar covers (``service.domain.calendar``); every date a request carries lies in them."""

_YEAR = r"(20[0-9]{2}|2100)"
DATE_PATTERN = rf"^{_YEAR}-[0-9]{{2}}-[0-9]{{2}}$"
DATETIME_PATTERN = rf"^{_YEAR}-[0-9]{{2}}-[0-9]{{2}}[Tt ][0-9]{{2}}:[0-9]{{2}}"
_BOUNDS_TEXT = f"từ năm {FIRST_YEAR} đến năm {LAST_YEAR}"


def _iso_date_only(value: object) -> object:
    if not isinstance(value, (str, date)) or (isinstance(value, str)
                                              and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)):
        raise ValueError("expected a date as YYYY-MM-DD")
    return value


def _date_in_range(value: date) -> date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise PydanticCustomError("date_out_of_range", "Ngày phải nằm trong khoảng {bounds}.",
                                  {"bounds": _BOUNDS_TEXT})
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date_only), AfterValidator(_date_in_range),
                    Field(json_schema_extra={"pattern": DATE_PATTERN})]
"""A calendar date written ``YYYY-MM-DD`` in the years 2000–2100 (422 ``DATE_OUT_OF_RANGE`` otherwise; pydantic
alone would also take Unix timestamps such as ``0``)."""


def _iso_datetime_only(value: object) -> object:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not re.match(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}", value):
        raise ValueError("expected an ISO 8601 date-time with an offset, e.g. 2026-02-12T09:00:00+07:00")
    if not re.match(DATETIME_PATTERN, value):
        raise PydanticCustomError("date_out_of_range", "Thời điểm phải nằm trong khoảng {bounds}.",
                                  {"bounds": _BOUNDS_TEXT})
    return value


def _instant_in_range(value: datetime) -> datetime:
    if not FIRST_YEAR <= to_legal_time(value).year <= LAST_YEAR:
        raise PydanticCustomError("date_out_of_range", "Thời điểm phải nằm trong khoảng {bounds} (giờ Việt Nam).",
                                  {"bounds": _BOUNDS_TEXT})
    return value


RequestDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_datetime_only), AfterValidator(_instant_in_range),
                            Field(json_schema_extra={"pattern": DATETIME_PATTERN})]
"""A datetime in a request: an offset is required (a naive value is a 422), in the years 2000–2100 both as written
and in Vietnamese legal time (422 ``DATE_OUT_OF_RANGE`` otherwise)."""

AGENCY_CODE_PATTERN = r"^[0-9A-Z]+(\.[0-9A-Z]+)*$"
AGENCY_CODE_RE = re.compile(AGENCY_CODE_PATTERN)
NATIONAL_ID_PATTERN = r"^[0-9]{12}$"

AgencyCode = Annotated[str, Field(pattern=AGENCY_CODE_PATTERN, max_length=35, examples=["000.26.01.H26"])]
NationalId = Annotated[str, Field(pattern=NATIONAL_ID_PATTERN, examples=["001090001234"])]


CURSOR_PATTERN = r"^[A-Za-z0-9_-]{1,512}$"


def _cursor_shape(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(CURSOR_PATTERN, value):
        raise PydanticCustomError("invalid_cursor", "Con trỏ phân trang không hợp lệ.")
    return value


CursorParam = Annotated[str | None, AfterValidator(_cursor_shape),
                        Query(description="Opaque: the `next_cursor` of the previous page",
                              json_schema_extra={"pattern": CURSOR_PATTERN})]
"""The one cursor parameter of every list (see ``service.pagination``): a malformed one is 422 ``INVALID_CURSOR``
like a forged one."""


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
