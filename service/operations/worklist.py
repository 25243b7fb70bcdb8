"""The staff worklist (``GET /worklist``): what the desk must do today and what is about to be late.

Counts per step and the ``due_soon``/``overdue`` buckets come from one query of index range counts
(:func:`bucket_counts`); a page of items from one more, which reads each status's first page in due order and
keeps the first of their union (plus the representation's batched look-ups, one query per related table, never
one per row). The
``due_soon``/``overdue`` buckets use :func:`service.domain.deadlines_ahead.due_soon_window`, the range form of the
same rule that marks each dossier ``due_soon`` and raises the warning events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from service.domain.deadlines_ahead import RUNNING_STATUSES, DueSoonWindow, due_soon_window
from service.dossiers.queries import decode_cursor, in_index_order, union_page
from service.models import Dossier, User
from service.operations.calendars import calendar_for

STEP_BUCKETS: Final[dict[str, str]] = {
    "to_receive": "submitted",
    "to_assign": "received",
    "processing": "processing",
    "awaiting_supplement": "awaiting_supplement",
    "awaiting_payment": "awaiting_payment",
    "to_return": "result_ready",
}
"""Each step of the desk's day and the status it waits in."""
BUCKETS: Final = (*STEP_BUCKETS, "due_soon", "overdue", "mine")
OPEN_STATUSES: Final = tuple(STEP_BUCKETS.values())
"""The worklist holds the dossiers someone at the agency still has to act on."""
ASSIGNED_STATUSES: Final = ("processing", "awaiting_supplement", "awaiting_payment")
"""A processor's own dossiers ("mine"): given to them and not yet decided."""


@dataclass(frozen=True)
class Worklist:
    counts: dict[str, int]
    items: list[Dossier]
    next_cursor: str | None


def bucket_condition(bucket: str, user: User, window: DueSoonWindow) -> Any:
    """The SQL condition of one bucket (for a non-processor, ``mine`` selects nothing)."""
    running = col(Dossier.status).in_(sorted(RUNNING_STATUSES))
    if bucket in STEP_BUCKETS:
        return col(Dossier.status) == STEP_BUCKETS[bucket]
    if bucket == "due_soon":
        return and_(running, col(Dossier.due_at) > window.after, col(Dossier.due_at) <= window.until)
    if bucket == "overdue":
        return and_(running, col(Dossier.due_at) < window.overdue_before)
    if bucket == "mine":
        if user.role != "processor":
            return col(Dossier.id).is_(None)  # never true: the primary key is never null
        return and_(col(Dossier.assignee_id) == user.id, col(Dossier.status).in_(ASSIGNED_STATUSES))
    raise ValueError(f"unknown bucket {bucket!r}")


def worklist(session: Session, *, user: User, now: datetime, bucket: str | None, limit: int,
             cursor: str | None, due_soon_hours: float) -> Worklist:
    """The caller's agency's worklist at ``now``; ``bucket`` filters the items (most urgent first: due date
    ascending, no due date last); due soon means at most ``due_soon_hours`` of working time left."""
    assert user.agency_code is not None, "staff belong to an agency"
    window = due_soon_window(calendar_for(session, user.agency_code), now, due_soon_hours)
    counts = bucket_counts(session, user, window)
    sort = f"worklist:{bucket or ''}"
    last = decode_cursor(cursor, sort) if cursor else None
    parts = []
    for status in bucket_statuses(bucket):  # each read in due order from ix_dossier_agency_code_status_due_at
        query = select(col(Dossier.id).label("id"), col(Dossier.due_at).label("v")).where(
            col(Dossier.agency_code) == user.agency_code, col(Dossier.status) == status)
        if bucket is not None:
            query = query.where(bucket_condition(bucket, user, window))
        parts.extend(in_index_order(query, column=Dossier.due_at, descending=False, last=last, limit=limit,
                                    dialect=session.get_bind().dialect.name))
    rows, next_cursor = union_page(session, parts, column=Dossier.due_at, descending=False, sort=sort, limit=limit)
    return Worklist(counts, rows, next_cursor)


def bucket_counts(session: Session, user: User, window: DueSoonWindow) -> dict[str, int]:
    """How many of the agency's open dossiers each bucket holds, by :func:`bucket_condition`: one statement of
    one count per bucket, each a range of an index counted without reading the dossiers' rows (the steps and
    deadline buckets from ``ix_dossier_agency_code_status_due_at``, ``mine`` from
    ``ix_dossier_agency_code_assignee_id``; for anyone but a processor it is 0 without a read).

    Separate counts rather than one aggregate with a ``CASE`` per bucket: at a million dossiers the busiest
    agency has some 13,000 open dossiers (mostly results waiting to be collected), and evaluating every bucket on
    each of them took 5 ms on SQLite, where a due-date bucket's count reads only the index entries in its range."""
    scope = and_(col(Dossier.agency_code) == user.agency_code, col(Dossier.status).in_(OPEN_STATUSES))
    counted = [name for name in BUCKETS if name != "mine" or user.role == "processor"]
    totals = session.exec(select(*[
        select(func.count()).where(scope, bucket_condition(name, user, window)).scalar_subquery().label(name)
        for name in counted])).one()
    return {**dict.fromkeys(BUCKETS, 0), **{name: int(value) for name, value in zip(counted, totals, strict=True)}}


def bucket_statuses(bucket: str | None) -> tuple[str, ...]:
    """The statuses a bucket's dossiers can be in (its items are read status by status, each in due order)."""
    if bucket is None:
        return OPEN_STATUSES
    if bucket in STEP_BUCKETS:
        return (STEP_BUCKETS[bucket],)
    if bucket == "mine":
        return ASSIGNED_STATUSES
    return tuple(status for status in OPEN_STATUSES if status in RUNNING_STATUSES)
