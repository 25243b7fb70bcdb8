"""The outbox: one event row per control-slip row, written in the same transaction, and its CloudEvents form.

Every writer of control-slip rows (the API's operations, the simulator's ledger, the bulk generator) builds the
row with :func:`slip_event_values` so the three write the very same events; the deadline scanner builds warnings
with :func:`warning_event_values`. Event data carries no personal data: codes, statuses and instants only.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from operator import itemgetter
from typing import Any

from psycopg.pq import TransactionStatus
from sqlalchemy import insert, text
from sqlalchemy.event import listens_for
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
_NAMESPACE_BYTES = _NAMESPACE.bytes


def event_id(name: str) -> str:
    """``str(uuid.uuid5(namespace, name))`` without building a :class:`uuid.UUID` (the simulator and the bulk
    generator derive one per control-slip row): the SHA-1 of namespace and name, with RFC 4122's version 5 and
    variant bits, in the 8-4-4-4-12 form."""
    digest = hashlib.sha1(_NAMESPACE_BYTES + name.encode("utf-8"), usedforsecurity=False).digest()
    value = int.from_bytes(digest[:16])
    value = (value & ~(0xF000 << 64) | (5 << 76)) & ~(0xC000 << 48) | (0x8000 << 48)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


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


def slip_event_values(*, dossier_id: int | None, code: str, agency_code: str, procedure_code: str, seq: int,
                      action: str, at: datetime, from_status: str | None, to_status: str,
                      due_at: datetime | None, timeliness: str | None) -> dict[str, Any]:
    """The event of control-slip row ``seq`` of dossier ``code`` (its id is derived from both, so the same row
    always gives the same event id, whoever writes it)."""
    return {
        "event_id": event_id(f"{code}/{seq}"), "type": TYPE_PREFIX + action,
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
        "event_id": event_id(f"{code}/{kind}@{to_legal_time(due_at).isoformat()}"),
        "type": TYPE_PREFIX + kind,
        "dossier_id": dossier_id, "subject": code, "agency_code": agency_code, "seq": None, "time": at,
        "data": event_data(code=code, agency_code=agency_code, procedure_code=procedure_code, action=kind,
                           seq=None, from_status=status, status=status, due_at=due_at, timeliness=None),
        "warning_due_at": due_at,
    }


_INSERT = insert(EVENT_TABLE)
OUTBOX_LOCK = 0x4D6F7443  # "MotC": the advisory lock key of the outbox
_LOCKED = "motcua.outbox_locked"
_PENDING = "motcua.outbox_pending"


def lock(session: Session) -> None:
    """Take the outbox lock for the rest of the transaction, right before inserting events.

    On PostgreSQL, ids are drawn when rows are inserted, not when they commit: a reader could see event 7 before
    event 6 commits and never come back for 6. Writers therefore insert events under one transaction-level
    advisory lock, held until they commit, so ids follow commit order and a reader's cursor (the last id it saw)
    never passes an event still to come. The lock is needed for that guarantee (a sequence alone gives ids in
    insertion order, not commit order); to keep its cost small it is taken as late as possible: the API's
    events are queued (:func:`append`) and inserted at commit, so the lock covers one INSERT and the commit,
    and lock and INSERT are one round trip.
    SQLite writers already take turns (``BEGIN IMMEDIATE``). The API's queued events take the lock within their
    INSERT (:data:`_PG_LOCKED_INSERT`); the batch writers and the scanner call this first."""
    if session.get_bind().dialect.name != "postgresql":
        return
    transaction = session.get_transaction()
    if transaction is not None and session.info.get(_LOCKED) is transaction:
        return  # already held by this transaction (one round trip per transaction, not per event)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": OUTBOX_LOCK})
    if transaction is not None and session.get_nested_transaction() is None:
        session.info[_LOCKED] = transaction


def append(session: Session, values: Mapping[str, Any]) -> None:
    """Queue one event row in the caller's transaction. Queued rows are inserted when it commits, under the
    outbox lock, in one statement (:func:`_insert_queued`); they are dropped if it rolls back. The database
    fills ``id``."""
    transaction = session.get_transaction()
    queued = session.info.get(_PENDING)
    if queued is None or queued[0] is not transaction:
        queued = session.info[_PENDING] = (transaction, [])
    queued[1].append(dict(values))


_PG_LOCKED_INSERT_SQL = (
    f"INSERT INTO event ({', '.join(EVENT_COLUMNS)}) SELECT {', '.join('r.' + c for c in EVENT_COLUMNS)} "
    "FROM json_to_recordset(CAST(:outbox_rows AS json)) AS r(event_id varchar, type varchar, dossier_id integer, "
    "subject varchar, agency_code varchar, seq integer, time timestamptz, data json, warning_due_at timestamptz) "
    "WHERE (SELECT pg_advisory_xact_lock(:outbox_lock)) IS NOT NULL "
    "AND (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL")
_PG_LOCKED_INSERT = text(_PG_LOCKED_INSERT_SQL)
"""PostgreSQL: the outbox lock and every queued event in one round trip. The lock is an uncorrelated sub-query
in the filter, which PostgreSQL runs once before producing the first row (an InitPlan, a one-time filter), so it
is held before any ``id`` is drawn. The same filter makes the transaction's COMMIT return without waiting for
its WAL flush (``synchronous_commit`` off for this transaction only): the lock is held until COMMIT, and with the
flush inside it every writer of the process and of the others queued behind one disk flush at a time (two
workers' actions scaled 1.47×, the waits sampled in ``pg_stat_activity`` were this lock). The flush is awaited
right after COMMIT, outside the lock (:func:`_flush_committed`), before the caller goes on: a caller still never
answers for a change that is not on disk."""


def with_queued_events(statement_sql: str) -> str:
    """PostgreSQL: ``statement_sql`` (a textual statement) preceded by the insert of the transaction's queued
    events (:data:`_PG_LOCKED_INSERT`) as a data-modifying ``WITH``: one round trip for both. PostgreSQL runs a
    data-modifying ``WITH`` to completion whether the statement reads it or not. Run it with the parameters
    :func:`take_queued` gives, only as the transaction's last statement before its commit (it takes the outbox
    lock, held until then)."""
    return f"WITH queued_events AS ({_PG_LOCKED_INSERT_SQL}) {statement_sql}"


def take_queued(session: Session) -> dict[str, Any] | None:
    """PostgreSQL: the parameters of the transaction's queued events for a statement made by
    :func:`with_queued_events`, which the caller runs next; ``None`` when none are queued (or not on
    PostgreSQL), and the caller runs its statement alone. The events are no longer queued: the commit does not
    insert them again, and it waits for their WAL flush as it does for its own insert."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    queued = _take(session)
    if queued is None:
        return None
    session.flush()  # the ORM's pending rows go first, as the commit's own insert would have them (autoflush)
    session.info[_UNFLUSHED] = session.connection()
    return _pg_parameters(queued)


def _take(session: OrmSession) -> list[dict[str, Any]] | None:
    """The event rows queued in the session's current transaction, no longer queued; ``None`` when there are
    none."""
    queued = session.info.pop(_PENDING, None)
    if not (queued and queued[1] and queued[0] is session.get_transaction()):
        return None
    return queued[1]  # type: ignore[no-any-return]


def _pg_parameters(queued: list[dict[str, Any]]) -> dict[str, Any]:
    """The parameters of :data:`_PG_LOCKED_INSERT`: the rows as the JSON it reads, and the lock's key."""
    rows = [{c: _json_value(values[c]) for c in EVENT_COLUMNS} for values in queued]
    return {"outbox_rows": json.dumps(rows, ensure_ascii=False), "outbox_lock": OUTBOX_LOCK}


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


@listens_for(OrmSession, "before_commit")
def _insert_queued(session: OrmSession) -> None:
    queued = _take(session)
    if queued is None:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_PG_LOCKED_INSERT, _pg_parameters(queued))
        session.info[_UNFLUSHED] = session.connection()
    else:
        # SQLite: writers already take turns (BEGIN IMMEDIATE). On the connection: through the session, a list of
        # rows took the ORM's bulk-insert path (its cache key and result handling cost more than the insert).
        session.connection().execute(_INSERT, queued)


_UNFLUSHED = "motcua.outbox_unflushed"


@listens_for(OrmSession, "after_commit")
def _flush_committed(session: OrmSession) -> None:
    """Wait until the transaction committed without its WAL flush (:data:`_PG_LOCKED_INSERT`) is on disk: a
    transaction of its own that takes an id commits with a synchronous flush of the WAL up to its own commit
    record, which lies after ours. Run on the same connection before it goes back to the pool (after COMMIT: no
    lock is held any more, and concurrent commits share their flushes). That transaction is one statement sent
    in autocommit mode (it commits on its own: one round trip, not ``BEGIN``, the statement and ``COMMIT``)."""
    driver = _ended(session)
    if driver is None:
        return
    driver.autocommit = True
    try:
        driver.execute("SELECT pg_current_xact_id()")
    finally:
        driver.autocommit = False


def _ended(session: OrmSession) -> Any:
    """The DBAPI connection of a transaction that committed without its flush, once that transaction is over on
    the server (a savepoint's commit or rollback leaves it running: nothing to do yet); forgets it."""
    connection = session.info.get(_UNFLUSHED)
    if connection is None:
        return None
    driver = connection.connection.driver_connection
    if driver.info.transaction_status != TransactionStatus.IDLE:
        return None
    del session.info[_UNFLUSHED]
    return driver


@listens_for(OrmSession, "after_rollback")
def _drop_queued(session: OrmSession) -> None:
    session.info.pop(_PENDING, None)
    _ended(session)  # rolled back: nothing of it to flush


_IN_COLUMN_ORDER = itemgetter(*EVENT_COLUMNS)


def row_tuple(values: Mapping[str, Any]) -> tuple[Any, ...]:
    """The values in :data:`EVENT_COLUMNS` order, for the batch writers (:mod:`service.tablewriter`)."""
    row: tuple[Any, ...] = _IN_COLUMN_ORDER(values)
    return row


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
