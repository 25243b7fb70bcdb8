"""Dossier codes: ``<agency>-YYMMDD-NNNN`` (Circular 01/2018/TT-VPCP Art. 19), a daily sequence per agency."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from service import tablewriter
from service.domain.legal_time import to_legal_time
from service.models import DailySequence


def format_code(agency_code: str, day: date, number: int) -> str:
    # The date written out rather than with strftime ("%y%m%d"), which cost more than the rest of a submission's
    # code: the C library's strftime looks at the time zone on every call.
    return f"{agency_code}-{day.year % 100:02d}{day.month:02d}{day.day:02d}-{number:04d}"


def next_code(session: Session, agency_code: str, now: datetime) -> str:
    """The next code of the agency's local day, drawn with one atomic upsert so concurrent submissions never
    share a number.

    On PostgreSQL the number is drawn in a short transaction of its own: the upsert locks the agency's row of the
    day until its transaction ends, and inside the submission's transaction every other submission to the agency
    waited for the whole rest of it (its rows, its representation, its commit). A submission that fails after drawing
    leaves its number unused (a gap in the day's sequence, never a duplicate), and so does a repeat of an answered
    ``Idempotency-Key`` (its work is done, then rolled back: :mod:`service.operations.idempotency`). That
    transaction commits without waiting for its WAL flush: the submission's commit lies later in the WAL, and the
    submission answers only once the WAL is flushed past it (:func:`service.events.outbox._flush_committed`), so a
    number a stored dossier carries is never lost. That transaction is the single statement :data:`_PG_DRAW` on a
    pooled connection in autocommit mode: one round trip, where ``BEGIN``, ``SET LOCAL``, the upsert and ``COMMIT``
    were four. SQLite writers take turns anyway (``BEGIN IMMEDIATE``): there the number is drawn in the
    submission's transaction, without gaps."""
    day = to_legal_time(now).date()
    bind = session.get_bind()
    number: int
    if bind.dialect.name == "postgresql" and isinstance(bind, Engine):
        number = _draw_on_its_own(bind, agency_code, day)
    else:
        statement = _PG_DRAW_IN_TRANSACTION if bind.dialect.name == "postgresql" else _SQLITE_DRAW
        number = session.connection().execute(statement, {"agency_code": agency_code, "day": day}).scalar_one()
    return format_code(agency_code, day, number)


def _draw(insert: Any) -> Any:
    return (insert(DailySequence)
            .values(agency_code=bindparam("agency_code"), day=bindparam("day"), last=1)
            .on_conflict_do_update(index_elements=["agency_code", "day"], set_={"last": DailySequence.last + 1})
            .returning(col(DailySequence.last)))


_SQLITE_DRAW = _draw(sqlite_insert)
"""The day's next number in the caller's transaction (built once: building it cost as much as running it)."""
_PG_DRAW_IN_TRANSACTION = _draw(pg_insert)
"""The same on PostgreSQL when the session is bound to a connection (a test's transaction), not the engine."""


_PG_DRAW = (
    "INSERT INTO daily_sequence (agency_code, day, last) "
    "SELECT CAST(%(agency_code)s AS varchar), CAST(%(day)s AS date), 1 "
    "WHERE (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL "
    "ON CONFLICT (agency_code, day) DO UPDATE SET last = daily_sequence.last + 1 RETURNING last")
"""PostgreSQL: the day's next number as a transaction of one statement (sent in autocommit mode, it commits on
its own). ``synchronous_commit`` is off for that transaction only (``set_config``'s ``is_local``: the implicit
transaction of the statement), so its COMMIT does not wait for the WAL flush while it holds the agency's row of
the day; the filter is an uncorrelated sub-query, run once before the row is produced."""


def _draw_on_its_own(engine: Engine, agency_code: str, day: date) -> int:
    """Draw on a pooled connection of its own, through the driver: switched to autocommit for the one statement
    and back before it returns to the pool."""
    pooled = engine.raw_connection()
    try:
        driver: Any = pooled.driver_connection
        driver.autocommit = True
        try:
            row = driver.execute(_PG_DRAW, {"agency_code": agency_code, "day": day}).fetchone()
        finally:
            driver.autocommit = False
    finally:
        pooled.close()
    number: int = row[0]
    return number


class DailyNumbers:
    """The agencies' daily dossier numbers drawn in memory, for writers that bypass :func:`next_code` (the bulk
    generator, the simulator's ledger) and are the database's only writer: they continue the stored sequences
    and :meth:`store` writes back the ones drawn from.

    ``lanes``: agency code → (lane, number of lanes), for writers that share an agency's sequence without
    talking to each other (the simulator's shards, :mod:`service.simulation.shards`): lane ``i`` of ``n`` draws
    the day's numbers ``i + 1``, ``i + 1 + n``, … after the stored one, so the codes are unique and do not depend
    on which writer ran first; the day's sequence then has gaps where a lane drew fewer numbers than another
    (as it has where a failed submission drew one, :func:`next_code`)."""

    def __init__(self, last: dict[tuple[str, date], int], lanes: dict[str, tuple[int, int]] | None = None) -> None:
        self.last = dict(last)
        self.lanes = lanes or {}
        self._stored = dict(last)
        self._drawn: dict[tuple[str, date], int] = {}
        self._touched: set[tuple[str, date]] = set()

    @classmethod
    def load(cls, session: Session) -> DailyNumbers:
        return cls({(r.agency_code, r.day): r.last for r in session.exec(select(DailySequence))})

    def next(self, agency_code: str, now: datetime) -> str:
        key = (agency_code, to_legal_time(now).date())
        lane, lanes = self.lanes.get(agency_code, (0, 1))
        drawn = self._drawn[key] = self._drawn.get(key, 0) + 1
        number = self.last[key] = self._stored.get(key, 0) + (drawn - 1) * lanes + lane + 1
        self._touched.add(key)
        return format_code(agency_code, key[1], number)

    def take(self) -> dict[tuple[str, date], int]:
        """The numbers drawn from since the last call, to store (:func:`tablewriter.store_daily_sequences`)."""
        touched = {key: self.last[key] for key in self._touched}
        self._touched.clear()
        return touched

    def store(self, session: Session) -> None:
        tablewriter.store_daily_sequences(session, self.take())
