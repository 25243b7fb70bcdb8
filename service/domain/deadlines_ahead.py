"""Deadlines ahead: how much working time a running dossier has left, and whether it is due soon or overdue.

This is the one definition shared by the dossier representation (``due_soon``, ``working_hours_left``), the
staff worklist's ``due_soon``/``overdue`` buckets (:func:`due_soon_window` in SQL) and the warning events
(``motcua.dossier.due_soon`` / ``motcua.dossier.overdue``: :func:`service.domain.deadline_watch.warning_for`
calls :func:`deadline_ahead`), so that a dossier shown as "due soon" is exactly one that was warned about. The
statistics' "overdue" count (``in_progress_overdue``) is the same comparison, ``due_at`` before the cut, done in
SQL over a reporting period.

Definitions (the contract, Version 2, "Events" and "Staff worklist"):

* Only a *running* dossier has deadlines ahead: received or processing. A paused one (awaiting supplement or
  payment: the clock is stopped, Decree 61/2018/NĐ-CP Art. 19(4), now Decree 118/2025/NĐ-CP), one not yet
  received (no due date) and a finished, withdrawn or rejected one have none (``working_hours_left`` is None).
* Working time left is counted in the agency's working calendar (office hours, weekends, public holidays, Tết,
  the Government's swapped days off and make-up Saturdays — Labor Code 2019 Arts. 111–112), the same
  arithmetic as the due date itself (:mod:`service.domain.deadlines`). It is negative once ``due_at`` has
  passed (overdue by that much working time).
* **Due soon**: more than zero and at most ``threshold_hours`` of working time left
  (``MOTCUA_DUE_SOON_WORKING_HOURS``, 8 by default = one working day). The threshold has no explicit legal
  basis: Decree 61/2018 Art. 19(9) asks agencies to act (apologise and re-schedule) "at the latest one day
  before the deadline", which is why one working day is the default.
* **Overdue**: the legal clock has passed ``due_at`` (``now > due_at``), as in
  :func:`service.domain.timeliness.is_overdue`. The two never overlap.

:func:`due_soon_window` gives the same "due soon" set as a range of ``due_at`` instants, so that a database
query can select it with an index (``after < due_at <= until``) instead of computing working time row by row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from service.domain.calendar import WorkingCalendar, to_legal_time
from service.domain.lifecycle import RUNNING

__all__ = [
    "DEFAULT_DUE_SOON_WORKING_HOURS",
    "RUNNING_STATUSES",
    "DeadlineAhead",
    "DueSoonWindow",
    "Urgency",
    "deadline_ahead",
    "due_soon_window",
    "working_hours_left",
]

#: One working day: Decree 61/2018 Art. 19(9) "chậm nhất 01 ngày trước ngày hết hạn".
DEFAULT_DUE_SOON_WORKING_HOURS = 8.0
#: The statuses in which the resolution clock runs (not paused, not finished): the lifecycle's ``RUNNING``.
RUNNING_STATUSES = frozenset(status.value for status in RUNNING)


class Urgency(StrEnum):
    """Where a dossier stands against its deadline."""

    NOT_RUNNING = "not_running"
    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


@dataclass(frozen=True, slots=True)
class DeadlineAhead:
    """A dossier's position against its deadline at one instant."""

    urgency: Urgency
    working_hours_left: float | None

    @property
    def due_soon(self) -> bool:
        return self.urgency is Urgency.DUE_SOON

    @property
    def overdue(self) -> bool:
        return self.urgency is Urgency.OVERDUE


def _running(status: str, due_at: datetime | None) -> bool:
    return str(status) in RUNNING_STATUSES and due_at is not None


def working_hours_left(calendar: WorkingCalendar, now: datetime, *, status: str,
                       due_at: datetime | None) -> float | None:
    """Working hours from ``now`` until ``due_at`` for a running dossier, rounded to the minute (2 decimals
    of an hour are shown); negative when overdue; ``None`` when the clock is not running."""
    if not _running(status, due_at):
        return None
    assert due_at is not None
    minutes = calendar.working_minutes_between(now, due_at)
    return round(minutes / 60, 2)


def deadline_ahead(calendar: WorkingCalendar, now: datetime, *, status: str, due_at: datetime | None,
                   threshold_hours: float = DEFAULT_DUE_SOON_WORKING_HOURS) -> DeadlineAhead:
    """Classify one dossier at ``now`` (see the module's definitions)."""
    if not _running(status, due_at):
        return DeadlineAhead(Urgency.NOT_RUNNING, None)
    assert due_at is not None
    minutes = calendar.working_minutes_between(now, due_at)
    hours = round(minutes / 60, 2)
    if to_legal_time(now) > to_legal_time(due_at):
        return DeadlineAhead(Urgency.OVERDUE, hours)
    if 0 < minutes <= threshold_hours * 60:
        return DeadlineAhead(Urgency.DUE_SOON, hours)
    return DeadlineAhead(Urgency.ON_TRACK, hours)


@dataclass(frozen=True, slots=True)
class DueSoonWindow:
    """Running dossiers with ``after < due_at <= until`` are due soon; those with ``due_at < overdue_before``
    are overdue."""

    after: datetime
    until: datetime
    overdue_before: datetime


def due_soon_window(calendar: WorkingCalendar, now: datetime,
                    threshold_hours: float = DEFAULT_DUE_SOON_WORKING_HOURS) -> DueSoonWindow:
    """The ``due_at`` range that :func:`deadline_ahead` calls due soon at ``now``.

    Working time left is a non-decreasing function of ``due_at`` that stays flat outside office hours, so
    "more than zero" means after the next working instant, and "at most the threshold" means up to the start
    of the session following the instant at which the threshold is used up (a due date at 07:30 the next
    morning has no more working time left than one at 17:00 the evening before).
    """
    local = to_legal_time(now)
    after = calendar.next_working_instant(local)
    used_up = calendar.add_working_minutes(local, threshold_hours * 60)
    until = calendar.next_working_instant(used_up)
    return DueSoonWindow(after=after, until=until, overdue_before=local)
