"""The outbox: one event row per control-slip row, written in the same transaction, and its CloudEvents form.

Every writer of control-slip rows (the API's operations, the simulator's ledger, the bulk generator) builds the
row with :func:`slip_event_values` so the three write the very same events; the deadline scanner builds warnings
with :func:`warning_event_values`. Event data carries no personal data: codes, statuses and instants only.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import event, insert, text
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from service.domain.legal_time import to_legal_time
from service.domain.lifecycle import NATIONAL_STATUS_CODE, Status
from service.models.events import OutboxEvent

EVENT_TABLE = OutboxEvent.__table__  # type: ignore[attr-defined]
EVENT_COLUMNS = ("event_id", "type", "dossier_id", "subject", "agency_code", "seq", "time", "data",
                 "warning_due_at")
"""What a writer supplies; ``id`` is the database's."""
TYPE_PREFIX = "motcua.dossier."
WARNING_TYPES = (f"{TYPE_PREFIX}due_soon", f"{TYPE_PREFIX}overdue")
_NAMESPACE = uuid.UUID("6f1b7c52-3f0e-4a8e-9d51-6d6f74637561")


def _iso(moment: datetime | None) -> str | None:
    return to_legal_time(moment).isoformat() if moment is not None else None


def event_data(*, code: str, agency_code: str, procedure_code: str, action: str, seq: int | None,
               from_status: str | None, status: str, due_at: datetime | None,
               timeliness: str | None) -> dict[str, Any]:
    """The contract's ``data``: what happened to which dossier, never who the applicant is."""
    return {"code": code, "agency_code": agency_code, "procedure_code": procedure_code, "action": action,
            "seq": seq, "from_status": from_status, "status": status,
            "national_status_code": NATIONAL_STATUS_CODE[Status(status)], "due_at": _iso(due_at),
            "timeliness": timeliness}


def slip_event_values(*, dossier_id: int, code: str, agency_code: str, procedure_code: str, seq: int,
                      action: str, at: datetime, from_status: str | None, to_status: str,
                      due_at: datetime | None, timeliness: str | None) -> dict[str, Any]:
    """The event of control-slip row ``seq`` of dossier ``code`` (its id is derived from both, so the same row
    always gives the same event id, whoever writes it)."""
    return {
        "event_id": str(uuid.uuid5(_NAMESPACE, f"{code}/{seq}")), "type": TYPE_PREFIX + action,
        "dossier_id": dossier_id, "subject": code, "agency_code": agency_code, "seq": seq, "time": at,
        "data": event_data(code=code, agency_code=agency_code, procedure_code=procedure_code, action=action,
                           seq=seq, from_status=from_status, status=to_status, due_at=due_at,
                           timeliness=timeliness),
        "warning_due_at": None,
    }


def warning_event_values(*, dossier_id: int, code: str, agency_code: str, procedure_code: str, kind: str,
                         at: datetime, status: str, due_at: datetime) -> dict[str, Any]:
    """A ``due_soon`` / ``overdue`` warning about ``due_at`` (once per kind, dossier and due date)."""
    return {
        "event_id": str(uuid.uuid5(_NAMESPACE, f"{code}/{kind}@{to_legal_time(due_at).isoformat()}")),
        "type": TYPE_PREFIX + kind,
        "dossier_id": dossier_id, "subject": code, "agency_code": agency_code, "seq": None, "time": at,
        "data": event_data(code=code, agency_code=agency_code, procedure_code=procedure_code, action=kind,
                           seq=None, from_status=status, status=status, due_at=due_at, timeliness=None),
        "warning_due_at": due_at,
    }


_INSERT = insert(EVENT_TABLE)
OUTBOX_LOCK = 0x4D6F7443  # "MotC": the advisory lock key of the outbox
_LOCKED = "motcua.outbox_locked"


def lock(session: Session) -> None:
    """Take the outbox lock for the rest of the transaction, before inserting events.

    On PostgreSQL, ids are drawn when rows are inserted, not when they commit: a reader could see event 7 before
    event 6 commits and never come back for 6. Writers therefore insert events under one transaction-level
    advisory lock, held until they commit, so ids follow commit order and a reader's cursor (the last id it saw)
    never passes an event still to come. It serialises only the end of writing transactions (their last rows
    and the commit). SQLite writers already take turns (``BEGIN IMMEDIATE``)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    transaction = session.get_transaction()
    if transaction is not None and session.info.get(_LOCKED) is transaction:
        return  # already held by this transaction (one round trip per transaction, not per event)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": OUTBOX_LOCK})
    if transaction is not None and session.get_nested_transaction() is None:
        session.info[_LOCKED] = transaction


def append(session: Session, values: Mapping[str, Any]) -> None:
    """Insert one event row into the caller's transaction, under the outbox lock (the database fills ``id``)."""
    lock(session)
    session.execute(_INSERT, dict(values))


_PENDING = "motcua.outbox_pending"


def append_at_commit(session: Session, values: Mapping[str, Any]) -> None:
    """Queue one event row for the end of the caller's transaction: the queued rows are inserted (under the
    outbox lock, in the order queued) as the session commits, in the same transaction; a rollback drops them.

    On PostgreSQL the outbox lock then covers only that insert and the COMMIT, not the rest of the request (the
    representation, the idempotency record): concurrent writers wait on each other for much less."""
    session.info.setdefault(_PENDING, []).append(dict(values))


@event.listens_for(OrmSession, "before_commit")
def _insert_queued(session: Session) -> None:
    queued = session.info.pop(_PENDING, None)
    if queued:
        lock(session)
        session.execute(_INSERT, queued)


@event.listens_for(OrmSession, "after_rollback")
def _drop_queued(session: Session) -> None:
    session.info.pop(_PENDING, None)


def row_tuple(values: Mapping[str, Any]) -> tuple[Any, ...]:
    """The values in :data:`EVENT_COLUMNS` order, for the batch writers (:mod:`service.tablewriter`)."""
    return tuple(values[c] for c in EVENT_COLUMNS)


def cloud_event(event: OutboxEvent) -> dict[str, Any]:
    """The CloudEvents 1.0 structured-mode JSON of a stored event (the contract's fields, in its order)."""
    return {
        "specversion": "1.0",
        "id": event.event_id,
        "source": f"/api/v1/dossiers/{event.subject}",
        "type": event.type,
        "subject": event.subject,
        "time": _iso(event.time),
        "datacontenttype": "application/json",
        "data": event.data,
    }
