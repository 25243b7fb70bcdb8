"""Where a running dossier stands against its due date as of a legal instant: due soon, overdue, or neither.

Which dossier is due soon or overdue is decided by :func:`service.domain.deadlines_ahead.deadline_ahead`, the one
definition used by the warning events (``motcua.dossier.due_soon`` / ``motcua.dossier.overdue``,
raised by the scanner in :mod:`service.events.scanner`) and by anything that shows the same buckets (the staff
worklist's ``due_soon`` and ``overdue`` counts, the dossier's ``due_soon`` and ``working_hours_left``), so that a
dossier is never counted in a bucket whose event it did not get.

Legal basis
-----------
* Decree 61/2018/NĐ-CP Art. 19(9) (as amended by Decree 107/2021): an agency that sees it cannot resolve a dossier
  by its due date must apologise and re-schedule *before* the due date (the extension action needs at least one
  working day, ``extend``): a warning while working time is still left is what lets it do so. The threshold
  (``MOTCUA_DUE_SOON_WORKING_HOURS``, 8 working hours = one working day by default) is a setting, not a rule of
  law: no text fixes how early an officer must be warned (uncertain basis; chosen to match the extension window).
* Circular 01/2018/TT-VPCP Art. 13 and Decision 766/QĐ-TTg indicator 2.1: a dossier is late once the instant
  ``due_at`` has passed unfinished (``now > due_at``; finishing at ``due_at`` itself is on time), see
  :mod:`service.domain.timeliness`.
* Only a *running* dossier (received or processing) is watched: while the clock is stopped for a supplement or a
  payment (Decree 61/2018 Art. 19(4), Art. 20) no working time is consumed, so neither warning applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from service.domain.calendar import WorkingCalendar, to_legal_time
from service.domain.deadlines_ahead import Urgency, deadline_ahead
from service.domain.lifecycle import DossierState

__all__ = ["DeadlineWarning", "due_soon_since", "warning_for"]


def due_soon_since(due_at: datetime, calendar: WorkingCalendar, due_soon_working_hours: float) -> datetime:
    """The legal instant from which a dossier due at ``due_at`` has at most ``due_soon_working_hours`` of
    working time left (the time stamped on its ``due_soon`` event, unless the dossier changed after it)."""
    return calendar.add_working_minutes(due_at, -due_soon_working_hours * 60)


@dataclass(frozen=True)
class DeadlineWarning:
    """A warning to raise: which (``DUE_SOON`` or ``OVERDUE``), about which due date, and the legal instant the
    threshold was crossed."""

    standing: Urgency
    due_at: datetime
    at: datetime


def warning_for(state: DossierState, now: datetime, calendar: WorkingCalendar, *, due_soon_working_hours: float,
                changed_at: datetime) -> DeadlineWarning | None:
    """The warning a running dossier is owed at ``now`` — due soon or overdue exactly as
    :func:`service.domain.deadlines_ahead.deadline_ahead` says (the one definition) — stamped with the instant its
    threshold was crossed: ``due_at`` for an overdue one, :func:`due_soon_since` for a due-soon one — never before
    ``changed_at``, the dossier's last change (a dossier received with less time than the threshold is due soon
    on receipt)."""
    standing = deadline_ahead(calendar, now, status=state.status, due_at=state.due_at,
                              threshold_hours=due_soon_working_hours).urgency
    if standing not in (Urgency.DUE_SOON, Urgency.OVERDUE):
        return None
    assert state.due_at is not None
    crossed = state.due_at if standing is Urgency.OVERDUE else \
        due_soon_since(state.due_at, calendar, due_soon_working_hours)
    return DeadlineWarning(standing, state.due_at, max(to_legal_time(crossed), to_legal_time(changed_at)))
