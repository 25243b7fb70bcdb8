from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from service.deps import AdminUser, NowDep, SessionDep
from service.domain.calendar import CalendarRangeError
from service.domain.deadlines import compute_due
from service.domain.periods import check_period
from service.errors import Unprocessable
from service.operations import calendars
from service.schemas.calendar import CalendarDayOut, DueDateOut, ExplanationOut, OverrideIn, OverrideOut
from service.schemas.catalogue import ProcessingUnit
from service.schemas.common import IsoDate, Problem, RequestDateTime

router = APIRouter(prefix="/calendar", tags=["calendar"])

MAX_DAYS = 3 * 366


@router.get("/days", responses={404: {"model": Problem}, 422: {"model": Problem}})
def list_days(
    session: SessionDep,
    from_: Annotated[IsoDate, Query(alias="from")],
    to: IsoDate,
    agency_code: Annotated[str | None, Query(max_length=35)] = None,
) -> list[CalendarDayOut]:
    """Working and non-working days, with the reason a day is special (holiday, weekend, make-up day)."""
    check_period(from_, to, max_days=MAX_DAYS)
    calendar = calendars.calendar_for(session, agency_code)
    return [CalendarDayOut(date=d.date, working=d.working, name=d.name) for d in calendar.days(from_, to)]


@router.get("/due-date", responses={404: {"model": Problem}, 422: {"model": Problem}})
def due_date(
    session: SessionDep,
    start: Annotated[RequestDateTime, Query(description="ISO 8601 with offset; encode + as %2B")],
    unit: ProcessingUnit,
    value: Annotated[float, Query(gt=0, le=3650)] = 1,
    agency_code: Annotated[str | None, Query(max_length=35)] = None,
) -> DueDateOut:
    """The due instant for a resolution time counted from ``start``, with the days skipped and why."""
    calendar = calendars.calendar_for(session, agency_code)
    try:
        due = compute_due(calendar, start, value, unit)
    except CalendarRangeError:
        raise
    except ValueError as exc:
        raise Unprocessable(f"Không tính được hạn giải quyết: {exc}", code="DUE_DATE_NOT_COMPUTABLE") from exc
    return DueDateOut(start=due.start, effective_start=due.effective_start, due_at=due.due_at,
                      explanation=[ExplanationOut(**item.to_dict()) for item in due.explanation])  # type: ignore[arg-type]


@router.get("/overrides")
def list_overrides(session: SessionDep) -> list[OverrideOut]:
    """Days whose status differs from the built-in calendar (swaps, make-up Saturdays, new holidays)."""
    return [OverrideOut(date=o.day, kind=o.kind, name=o.name, legal_basis=o.legal_basis)
            for o in calendars.load_overrides(session)]


@router.put("/overrides/{day}", responses={403: {"model": Problem}})
def put_override(day: IsoDate, data: OverrideIn, session: SessionDep, now: NowDep, _: AdminUser) -> OverrideOut:
    """Declare a day off or a make-up working day. New computations use it at once; due dates already
    promised on receipts never move."""
    row = calendars.put_override(session, day, kind=data.kind, name=data.name, legal_basis=data.legal_basis,
                                 now=now)
    return OverrideOut(date=row.day, kind=row.kind, name=row.name, legal_basis=row.legal_basis)  # type: ignore[arg-type]


@router.delete("/overrides/{day}", status_code=status.HTTP_204_NO_CONTENT,
               responses={403: {"model": Problem}, 404: {"model": Problem}})
def delete_override(day: IsoDate, session: SessionDep, _: AdminUser) -> Response:
    calendars.delete_override(session, day)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
