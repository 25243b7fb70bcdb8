"""Working calendars built from the built-in schedule, the override rows and each agency's office hours.

Building a calendar precomputes a century-long working-time index, so calendars are cached per
(override rows, office hours). The override table is read on every call (a few dozen rows), which makes an
admin's change effective at once in every API process, while promised due dates, already stored, never move.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, select

from service.domain.calendar import OfficeHours, WorkingCalendar, vietnam_calendar
from service.domain.holidays_vn import CalendarOverride
from service.errors import NotFound
from service.models import Agency, CalendarOverrideRow


@lru_cache(maxsize=32)
def _build(overrides: tuple[CalendarOverride, ...], office_hours_json: str | None) -> WorkingCalendar:
    office_hours = OfficeHours.from_spec(json.loads(office_hours_json)) if office_hours_json else None
    return vietnam_calendar(overrides, office_hours)


_OVERRIDE_COLUMNS = select(CalendarOverrideRow.day, CalendarOverrideRow.kind, CalendarOverrideRow.name,
                           CalendarOverrideRow.legal_basis).order_by(CalendarOverrideRow.day)


@lru_cache(maxsize=32)
def _as_overrides(rows: tuple[tuple[Any, ...], ...]) -> tuple[CalendarOverride, ...]:
    return tuple(CalendarOverride(day=day, kind=kind, name=name, legal_basis=legal_basis)
                 for day, kind, name, legal_basis in rows)


def load_overrides(session: Session) -> tuple[CalendarOverride, ...]:
    """The override rows (plain column tuples, no ORM objects: this runs once in every request that computes
    working time; the same rows give the same cached tuple). Read on the connection, without flushing the
    request's pending changes: :func:`put_override` and :func:`delete_override`, the only writers, flush."""
    return _as_overrides(tuple(tuple(row) for row in session.connection().execute(_OVERRIDE_COLUMNS)))


_OVERRIDES = "motcua.calendar_overrides"


def _overrides(session: Session) -> tuple[CalendarOverride, ...]:
    """The override rows, read once per transaction (savepoint): a batch of actions in one transaction (the
    simulator) reads them once, not once per action; :func:`put_override` and :func:`delete_override` forget
    them."""
    transaction = session.get_nested_transaction() or session.get_transaction()
    cached = session.info.get(_OVERRIDES)
    if transaction is not None and cached is not None and cached[0] is transaction:
        return cached[1]  # type: ignore[no-any-return]
    overrides = load_overrides(session)
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is not None:
        session.info[_OVERRIDES] = (transaction, overrides)
    return overrides


_OFFICE_HOURS = "motcua.calendar_office_hours"
_AGENCY_HOURS = select(Agency.office_hours).where(Agency.code == bindparam("code"))


def _office_hours(session: Session, agency_code: str) -> str | None:
    """The agency's office hours (canonical JSON, ``None`` for the default ones), read once per transaction like
    the overrides (a request computes working time two or three times for the same agency)."""
    transaction = session.get_nested_transaction() or session.get_transaction()
    cached = session.info.get(_OFFICE_HOURS)
    if transaction is not None and cached is not None and cached[0] is transaction and agency_code in cached[1]:
        return cached[1][agency_code]  # type: ignore[no-any-return]
    # One column on the connection (no ORM object, no flush of the request's pending changes); an agency added
    # in this transaction and not flushed yet is found through the session.
    row = session.connection().execute(_AGENCY_HOURS, {"code": agency_code}).first()
    if row is None:
        agency = session.get(Agency, agency_code)
        if agency is None:
            raise NotFound(f"Không tìm thấy cơ quan có mã {agency_code}.", code="AGENCY_NOT_FOUND")
        row = (agency.office_hours,)
    return note_office_hours(session, agency_code, row[0])


def note_office_hours(session: Session, agency_code: str, office_hours: Any) -> str | None:
    """Remember the agency's office hours (its column's value) for the rest of the transaction, as
    :func:`calendar_for` reads them: a caller that reads the agency's row anyway spares it the query."""
    hours = json.dumps(office_hours, sort_keys=True) if office_hours else None
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is not None:
        cached = session.info.get(_OFFICE_HOURS)
        known = cached[1] if cached is not None and cached[0] is transaction else {}
        session.info[_OFFICE_HOURS] = (transaction, {**known, agency_code: hours})
    return hours


def calendar_for(session: Session, agency_code: str | None = None) -> WorkingCalendar:
    """The calendar of an agency (its office hours), or the default one."""
    return _build(_overrides(session), _office_hours(session, agency_code) if agency_code else None)


def put_override(session: Session, day: date, *, kind: str, name: str, legal_basis: str | None,
                 now: datetime) -> CalendarOverrideRow:
    row = session.get(CalendarOverrideRow, day)
    if row is None:
        row = CalendarOverrideRow(day=day, kind=kind, name=name, legal_basis=legal_basis, updated_at=now)
    else:
        row.kind, row.name, row.legal_basis, row.updated_at = kind, name, legal_basis, now
    session.add(row)
    session.flush()
    session.info.pop(_OVERRIDES, None)
    return row


def delete_override(session: Session, day: date) -> None:
    row = session.get(CalendarOverrideRow, day)
    if row is None:
        raise NotFound(f"Không có ngày điều chỉnh {day.isoformat()}.", code="OVERRIDE_NOT_FOUND")
    session.delete(row)
    session.flush()
    session.info.pop(_OVERRIDES, None)
