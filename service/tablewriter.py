"""Batched writes of plain rows, bypassing the ORM, for generated data (the bulk generator, the simulator's
ledger).

Rows are tuples of plain Python values in a given column order; each column's type decides once how a value is
handed to the driver (what the SQLAlchemy type would do per value): :class:`~service.db.UTCDateTime` stores
UTC, naive, in SQLAlchemy's SQLite text format and aware on PostgreSQL; JSON is serialised; SQLite gets
booleans as integers and dates as ISO text. Inserts are one ``executemany`` on SQLite and
``COPY … FROM STDIN`` on PostgreSQL (psycopg 3); updates are one ``executemany`` keyed on a column. Nothing
here commits: rows go into the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Engine, Table, func, text
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from service.db import UTCDateTime
from service.domain.legal_time import utc_text
from service.models import DailySequence

Converter = Callable[[Any], Any] | None


_INSTANTS: dict[datetime, str] = {}
"""SQLite texts of the instants converted lately: a dossier's instants come back in every batch that updates it,
and a control-slip row's instant is also its event's and its dossier's (emptied when it grows large)."""


def _sqlite_instant(value: datetime) -> str:
    # SQLAlchemy's SQLite DATETIME text ("%Y-%m-%d %H:%M:%S.%f"), of the UTC instant, without the strftime cost:
    # the UTC ISO text (``utc_text``, itself cached: the control slip's hash has usually just made it) less its
    # "T" and "+00:00". Equal instants (in any offset) have one text, so the cache is keyed by the instant; a
    # real-time stamp in UTC (a row's ``recorded_at``), each its own, is not kept (it would only push out the
    # instants that recur).
    text = _INSTANTS.get(value)
    if text is None:
        if value.tzinfo is UTC:
            return value.isoformat(" ", "microseconds")[:-6]
        iso = utc_text(value)
        text = f"{iso[:10]} {iso[11:26]}"
        if len(_INSTANTS) >= 200_000:
            _INSTANTS.clear()
        _INSTANTS[value] = text
    return text


_DUMPS = json.encoder.c_make_encoder(  # type: ignore[attr-defined]
    None, json.JSONEncoder().default, json.encoder.encode_basestring_ascii, None, ": ", ", ", False, False, True) \
    if json.encoder.c_make_encoder is not None else None  # type: ignore[attr-defined]
"""``json.dumps``'s C encoder with its default options, made once rather than at every call (no check for
circular references: a column's value is plain data)."""


def _json(value: Any) -> str:
    """``json.dumps(value)``, as SQLAlchemy's JSON type writes it."""
    if value == {}:  # most control-slip rows carry no data
        return "{}"
    if _DUMPS is None or isinstance(value, str):
        return json.dumps(value)
    return "".join(_DUMPS(value, 0))


def converters(dialect: str, table: Table, columns: Sequence[str]) -> list[Converter]:
    """Per column: how a Python value becomes a driver value on ``dialect`` (``None``: as it is)."""
    out: list[Converter] = []
    for name in columns:
        kind = table.c[name].type
        if isinstance(kind, UTCDateTime):
            out.append(_sqlite_instant if dialect == "sqlite" else None)
        elif isinstance(kind, JSON):
            out.append(_json)
        elif isinstance(kind, Boolean) and dialect == "sqlite":
            out.append(int)
        elif isinstance(kind, Date) and dialect == "sqlite":
            out.append(date.isoformat)
        else:
            out.append(None)
    return out


def convert(rows: Iterable[Sequence[Any]], functions: list[Converter]) -> list[tuple[Any, ...]]:
    """``rows`` with each value converted by its column's function (``None`` stays ``None``)."""
    return _row_converter(tuple(functions))(rows)


@cache
def _row_converter(functions: tuple[Converter, ...]) -> Callable[[Iterable[Sequence[Any]]], list[tuple[Any, ...]]]:
    """One comprehension converting whole rows, written out for these column functions (the simulator and the
    bulk generator convert millions of rows: a loop over the columns of every row cost a third of it)."""
    if all(f is None for f in functions):
        return lambda rows: [tuple(row) for row in rows]
    values = ", ".join(f"r[{i}]" if f is None else f"(None if r[{i}] is None else f{i}(r[{i}]))"
                       for i, f in enumerate(functions))
    names = {f"f{i}": f for i, f in enumerate(functions) if f is not None}
    namespace: dict[str, Any] = {}
    exec(f"def rows_of(rows, {', '.join(names)}):\n    return [({values},) for r in rows]", namespace)
    rows_of = namespace["rows_of"]
    return lambda rows: rows_of(rows, *names.values())


def insert_rows(session: Session, table: Table, columns: Sequence[str],
                rows: Sequence[Sequence[Any]], *, converted: bool = False) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table``; ``converted``: the rows already hold driver
    values (:func:`convert` was applied, e.g. in a worker process)."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect.name
    values = rows if converted else convert(rows, converters(dialect, table, columns))
    if dialect == "postgresql":
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(  # type: ignore[union-attr]
                f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", values)


def update_rows(session: Session, table: Table, key: str, columns: Sequence[str],
                rows: Sequence[Sequence[Any]], *, converted: bool = False) -> None:
    """``UPDATE table SET columns… WHERE key = …`` for each row: ``columns`` values, then the key's;
    ``converted`` as for :func:`insert_rows`."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect.name
    mark = "%s" if dialect == "postgresql" else "?"
    values = rows if converted else convert(rows, converters(dialect, table, [*columns, key]))
    assignments = ", ".join(f"{name} = {mark}" for name in columns)
    connection.exec_driver_sql(f"UPDATE {table.name} SET {assignments} WHERE {key} = {mark}", values)


class IdAllocator:
    """Primary keys handed out before the rows are written (children reference them in the same batch): from
    the table's sequence on PostgreSQL, in blocks; on SQLite after the largest id (the caller is the only
    writer)."""

    def __init__(self, table: Table, block: int = 1000) -> None:
        self.table, self.block = table, block
        self._free: list[int] = []
        self._next_sqlite: int | None = None

    def next(self, session: Session) -> int:
        if session.get_bind().dialect.name == "postgresql":
            if not self._free:
                self._free = list(reversed(session.execute(text(
                    f"SELECT nextval(pg_get_serial_sequence('{self.table.name}', 'id')) "
                    "FROM generate_series(1, :n)"), {"n": self.block}).scalars().all()))
            return self._free.pop()
        if self._next_sqlite is None:
            self._next_sqlite = (session.execute(sa_select(func.max(self.table.c.id))).scalar() or 0) + 1
        value, self._next_sqlite = self._next_sqlite, self._next_sqlite + 1
        return value


def store_daily_sequences(session: Session, last: dict[tuple[str, date], int]) -> None:
    """Upsert the agencies' daily dossier numbers, keeping the larger of the stored and the given number."""
    if not last:
        return
    dialect = session.get_bind().dialect.name
    table = DailySequence.__table__  # type: ignore[attr-defined]
    upsert = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    larger = func.greatest if dialect == "postgresql" else func.max
    session.execute(upsert.on_conflict_do_update(
        index_elements=["agency_code", "day"], set_={"last": larger(upsert.excluded.last, table.c.last)}),
        [{"agency_code": a, "day": d, "last": n} for (a, d), n in sorted(last.items())])


def set_aside_indexes(engine: Engine, tables: Sequence[str]) -> list[tuple[str, str]]:
    """On SQLite, drop the secondary indexes of ``tables`` before a bulk load into a fresh database and return
    them (name, the ``CREATE INDEX`` statement SQLite kept) for :func:`restore_indexes` after it: building an
    index once over the loaded rows is much cheaper than keeping it in order through millions of inserts and
    updates at random places. Unique indexes stay (they check the rows as they come), and so do the primary keys
    and the indexes of constraints (SQLite keeps no statement for those). Nothing on PostgreSQL (``[]``)."""
    if engine.dialect.name != "sqlite":
        return []
    marks = ", ".join("?" for _ in tables)
    with engine.begin() as conn:
        found = [(name, sql) for name, sql in conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({marks}) ORDER BY tbl_name, name", tuple(tables)).all()
            if not sql.lstrip().upper().startswith("CREATE UNIQUE")]
        for name, _ in found:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
    return found


def restore_indexes(engine: Engine, indexes: Sequence[tuple[str, str]]) -> None:
    """Create again the indexes :func:`set_aside_indexes` dropped, with the very statements that made them.

    Their sorts use temporary files (``temp_store=FILE``) even on a connection that keeps temporary data in
    memory: rebuilding the indexes of a 50,000-dossier simulation took 3.7–5.6 s of CPU with
    ``temp_store=MEMORY`` against 2.6–3.4 s with files (which stay in the operating system's cache; SQLite's
    in-memory temporary files are chains of small chunks in this build, probably the difference)."""
    if not indexes:
        return
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None
        (kept,) = driver.execute("PRAGMA temp_store").fetchone()
        driver.execute("PRAGMA temp_store=FILE")  # not within a transaction: SQLite refuses it there
        try:
            with conn.begin():
                for _, sql in indexes:
                    conn.exec_driver_sql(sql)
        finally:
            driver.execute(f"PRAGMA temp_store={int(kept)}")


def analyze(engine: Engine, tables: Sequence[str], *, sqlite_rows: int | None = None) -> None:
    """Refresh the query planner's statistics after a bulk load (on SQLite, for the whole file): without them a
    fresh database's first reports scan the wrong index (measured: the yearly report over a simulated province
    year took 9.1 s before, 2.0 s after). ``sqlite_rows``: SQLite estimates each index's statistics from about
    that many rows (``PRAGMA analysis_limit``) instead of reading all of it."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for table in tables:
                conn.execute(text(f"ANALYZE {table}"))
        else:
            if sqlite_rows is not None:
                conn.exec_driver_sql(f"PRAGMA analysis_limit={int(sqlite_rows)}")
            conn.exec_driver_sql("ANALYZE")
