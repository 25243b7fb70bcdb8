"""The simulator's shards: one process playing them in turn and two playing them in parallel write the same rows.

A small province over three weeks: two communes and the land Department, with an inter-agency procedure (the
commune, then the Department), counter dossiers lodged at another desk, postal results, and the busiest commune
desk organised in two teams — so every way a dossier could reach another shard is exercised.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import pytest
from sqlalchemy import inspect, select

from service.db import Database
from service.events import outbox
from service.simulation import loads, simulate, tuned_sqlite
from service.simulation.ledger import TABLE
from service.simulation.shards import LANED_TABLES, plan, simulate_and_read
from service.simulation.summary import read_statistics, summarize
from service.simulation.world import Proc
from tests.conftest import empty_tables

PROVINCE = """
name = "small-province"
year = 2025
start = "2025-03-03"
end = "2025-03-23"
dossiers_per_year = 9000
seed = 5
agencies = ["000.00.61.H49", "000.00.62.H49", "000.00.12.H49"]
citizens = 60

[procedures]
default = 1.0
"1.004227.000.00.00.H49" = 3.0
"2.000815.000.00.00.H49" = 6.0

[channels]
online = 0.4
postal = 0.1
lodged_elsewhere = 0.4

[results]
postal = 0.3

[staff]
team_share = 0.5
approvers = "auto"
processor_capacity = 8.0

[behaviour]
supplement = 0.15
return_for_correction = 0.3
rating = 0.5

[postal]
failure_rate = 0.2
"""

SPEED = ("seconds", "setup_seconds", "dossiers_per_second", "actions_per_second")
REAL_TIME = {"recorded_at", "tracking_secret_hash", "event_id"}
"""Columns the simulation does not decide: when the row was written, the tracking secret, the outbox event's
uuid."""


def _rows(session: Any, table: Any) -> list[tuple[Any, ...]]:
    own_ids = table.name in LANED_TABLES  # the others number their rows in the order they are written
    columns = [c for c in table.columns if c.name not in REAL_TIME and (c.name != "id" or own_ids)]
    return sorted((tuple(row) for row in session.execute(select(*columns)).all()), key=repr)


def _indexes(db: Database) -> dict[str, Any]:
    """Every index of the tables the simulator writes, as the database describes it (SQLite: the statement)."""
    if db.dialect == "sqlite":
        with db.engine.connect() as conn:
            return {name: sql for name, sql in conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index'").all()}
    inspector = inspect(db.engine)
    return {table: inspector.get_indexes(table) for table in [*TABLE, outbox.EVENT_TABLE.name]}


def _journal_mode(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return conn.exec_driver_sql("PRAGMA journal_mode").scalar()


def _play(url: str, workers: int) -> tuple[dict[str, Any], dict[str, list[tuple[Any, ...]]]]:
    empty_tables(url)
    db = Database(url)
    try:
        before = _indexes(db)
        # Two processes play as `motcua simulate` does: on SQLite with the journal in memory while the run owns
        # the file, WAL again after it (the server expects it), and the summary's statistics read while the run
        # rebuilds its indexes (back in WAL for that); one process plays, then the summary reads.
        with tuned_sqlite(db) if workers > 1 else nullcontext():
            if workers > 1:
                assert db.dialect != "sqlite" or _journal_mode(db) == "memory"
                result, statistics = simulate_and_read(db, loads(PROVINCE), read_statistics, workers=workers)
            else:
                result, statistics = simulate(db, loads(PROVINCE), workers=workers), None
            played = _journal_mode(db) if db.dialect == "sqlite" else None
        if db.dialect == "sqlite":
            assert (played, _journal_mode(db)) == ("wal", "wal")
        # The run may build the bulk tables' indexes after their rows: the schema ends as it began.
        assert _indexes(db) == before
        summary = {k: v for k, v in summarize(db, result, statistics).as_dict().items() if k not in SPEED}
        with db.transaction(read_only=True) as session:
            rows = {name: _rows(session, table) for name, table in
                    [*TABLE.items(), ("outbox", outbox.EVENT_TABLE)]}
    finally:
        db.dispose()
    return summary, rows


@pytest.fixture(scope="module")
def played(database_url: str) -> dict[int, Any]:
    return {workers: _play(database_url, workers) for workers in (1, 2)}


def test_one_and_two_processes_write_the_same_rows(played: dict[int, Any]) -> None:
    (one, one_rows), (two, two_rows) = played[1], played[2]
    assert one == two
    for table in one_rows:
        assert one_rows[table] == two_rows[table], table
    # The run exercised what could tie shards together.
    dossiers = one_rows["dossier"]
    assert len(dossiers) > 150
    columns = [c.name for c in TABLE["dossier"].columns if c.name != "tracking_secret_hash"]
    agency, lodged_by = columns.index("agency_code"), columns.index("received_by_agency_code")
    assert any(d[lodged_by] not in (None, d[agency]) for d in dossiers)  # lodged at another desk
    assert {row[3] for row in one_rows["dossier_step"]} == {"000.00.61.H49", "000.00.12.H49"}
    assert one_rows["shipment"] and one_rows["rating"]
    assert one["staff"]["000.00.61.H49"]["processor"] > 1  # the commune's desk in two teams
    assert one["invariant_holds"], one["invariant_failures"]
    codes = [d[columns.index("code")] for d in dossiers]
    assert len(set(codes)) == len(codes)


def _proc(code: str, agency: str, weight: float, steps: tuple[str, ...] = ()) -> Proc:
    return Proc(index=0, code=code, name=code, agency_code=agency, service_level=3, fee_vnd=0,
                postal_allowed=True, mandatory=(), optional=(), weight=weight, slow=0.0, obligation=0.0,
                supplement=0.0, steps=steps)


def test_shards_are_the_agencies_a_dossier_goes_through_and_a_busy_desk_works_in_teams() -> None:
    procs = [_proc("a", "C1", 6.0), _proc("b", "C1", 1.0), _proc("c", "C2", 1.0),
             _proc("land", "D", 2.0, steps=("C1", "D"))]
    shards = plan(loads(PROVINCE), procs)
    assert [(s.key, sorted(s.procedures)) for s in shards] == [
        ("C1/1", ["a", "b"]), ("C1/2", ["a", "b"]), ("C1+D", ["land"]), ("C2", ["c"])]
    # Each procedure's arrivals are shared out whole; the land dossiers load both agencies of their steps.
    for proc in procs:
        assert sum(s.share(proc) for s in shards) == 1.0
    assert shards[0].load == shards[1].load == {"C1": 3.5}
    assert shards[2].load == {"C1": 2.0, "D": 2.0}
