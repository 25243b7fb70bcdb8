"""Working calendars built from the built-in schedule, the override rows and each agency's office hours.

Building a calendar precomputes a century-long working-time index, so calendars are built once per
(override rows, office hours); the rows and each agency's calendar are kept across requests by
:mod:`service.operations.reference`, whose token makes an admin's change effective at once in every API process,
while promised due dates, already stored, never move.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import lru_cache

from sqlmodel import Session

from service.domain.calendar import OfficeHours, WorkingCalendar, vietnam_calendar
from service.domain.holidays_vn import CalendarOverride
from service.errors import NotFound
from service.models import Agency, CalendarOverrideRow
from service.operations import reference


@lru_cache(maxsize=32)
def _build(overrides: tuple[CalendarOverride, ...], office_hours_json: str | None) -> WorkingCalendar:
    office_hours = OfficeHours.from_spec(json.loads(office_hours_json)) if office_hours_json else None
    return vietnam_calendar(overrides, office_hours)


def load_overrides(session: Session) -> tuple[CalendarOverride, ...]:
    """The override rows in day order (kept across requests: :mod:`service.operations.reference`)."""
    return reference.calendar_overrides(session)


def _office_hours(session: Session, agency_code: str) -> str | None:
    """The agency's office hours (canonical JSON, ``None`` for the default ones); an agency added in this
    transaction and not flushed yet is found through the session."""
    facts = reference.agency(session, agency_code)
    if facts is not None:
        return facts.office_hours
    agency = session.get(Agency, agency_code)
    if agency is None:
        raise NotFound(f"Không tìm thấy cơ quan có mã {agency_code}.", code="AGENCY_NOT_FOUND")
    return json.dumps(agency.office_hours, sort_keys=True) if agency.office_hours else None


def calendar_for(session: Session, agency_code: str | None = None) -> WorkingCalendar:
    """The calendar of an agency (its office hours), or the default one; kept across requests with the reference
    data it is built from (:func:`service.operations.reference.derived`)."""
    return reference.derived(session, ("calendar", agency_code), lambda: _build(
        load_overrides(session), _office_hours(session, agency_code) if agency_code else None))


def put_override(session: Session, day: date, *, kind: str, name: str, legal_basis: str | None,
                 now: datetime) -> CalendarOverrideRow:
    row = session.get(CalendarOverrideRow, day)
    if row is None:
        row = CalendarOverrideRow(day=day, kind=kind, name=name, legal_basis=legal_basis, updated_at=now)
    else:
        row.kind, row.name, row.legal_basis, row.updated_at = kind, name, legal_basis, now
    session.add(row)
    session.flush()
    reference.changed(session)
    return row


def delete_override(session: Session, day: date) -> None:
    row = session.get(CalendarOverrideRow, day)
    if row is None:
        raise NotFound(f"Không có ngày điều chỉnh {day.isoformat()}.", code="OVERRIDE_NOT_FOUND")
    session.delete(row)
    session.flush()
    reference.changed(session)
