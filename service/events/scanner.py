"""The deadline scanner: raises ``due_soon`` and ``overdue`` events as the legal clock passes each threshold.

It runs every ``MOTCUA_SCAN_INTERVAL_SECONDS`` (2 s) of real time in whichever process works (the app with
``MOTCUA_WORKER=true``, or ``motcua worker``) and reads "now" from the legal clock, so a jump of the simulated clock
is seen at the next scan. Which dossier is owed which warning is :func:`service.domain.deadline_watch.warning_for`;
a unique key on (dossier, type, due date) makes each warning at most once per due date, whatever the number of
scanners; on PostgreSQL the candidates are locked with ``SKIP LOCKED`` so two scanners share them and an action on
the dossier cannot change its due date under a scanner.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, or_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from service.domain import lifecycle
from service.domain.deadline_watch import warning_for
from service.dossiers.persist import state_of
from service.events import outbox
from service.models import Dossier, OutboxEvent
from service.operations.calendars import calendar_for

BATCH = 1000
RUNNING = [s.value for s in lifecycle.RUNNING]


def _warned(kind: str) -> object:
    return exists().where(OutboxEvent.dossier_id == Dossier.id, OutboxEvent.type == outbox.TYPE_PREFIX + kind,
                          OutboxEvent.warning_due_at == Dossier.due_at)


def scan(session: Session, now: datetime, *, due_soon_working_hours: float) -> int:
    """Raise every warning owed at legal instant ``now`` (up to :data:`BATCH` dossiers); returns how many."""
    agencies = list(session.exec(select(Dossier.agency_code).distinct().where(
        col(Dossier.status).in_(RUNNING), col(Dossier.due_at).is_not(None))))
    if not agencies:
        return 0
    bound = max(calendar_for(session, a).add_working_minutes(now, due_soon_working_hours * 60) for a in agencies)
    query = (select(Dossier)
             .where(col(Dossier.status).in_(RUNNING), col(Dossier.due_at).is_not(None),
                    col(Dossier.due_at) <= bound + timedelta(days=1), ~_warned("overdue"),  # type: ignore[operator]
                    or_(col(Dossier.due_at) < now, ~_warned("due_soon")))  # type: ignore[operator]
             .order_by(col(Dossier.due_at)).limit(BATCH))
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        query = query.with_for_update(skip_locked=True)
    rows = []
    for dossier in session.exec(query):
        warning = warning_for(state_of(dossier), now, calendar_for(session, dossier.agency_code),
                              due_soon_working_hours=due_soon_working_hours, changed_at=dossier.updated_at)
        if warning is None:
            continue
        rows.append(outbox.warning_event_values(
            dossier_id=dossier.id, code=dossier.code, agency_code=dossier.agency_code,  # type: ignore[arg-type]
            procedure_code=dossier.procedure_code, kind=warning.standing.value, at=warning.at,
            status=dossier.status, due_at=warning.due_at))
    if rows:
        outbox.lock(session)
        insert = pg_insert if postgresql else sqlite_insert
        session.execute(insert(outbox.EVENT_TABLE).on_conflict_do_nothing(), rows)
    return len(rows)


__all__ = ["scan"]
