"""Shards of a simulation: independent parts of a scenario, played in turn or in parallel processes, with the same
rows either way.

A scenario is split into *shards* that share no dossier and no officer:

* **the unit** is the set of agencies a procedure's dossiers go through — its competent agency, or the agencies
  of its inter-agency steps. Procedures with the same set form one unit (a commune's own procedures; the land
  register change that goes from the commune to the Department). A dossier never leaves its unit's agencies:
  its processors and approvers are the unit's. Lodging at another desk of the province (Decree 118/2025) only
  names one of that desk's receivers, who have no queue in the model, so it ties no shard to another.
* **teams**: a unit carrying more than ``[staff] team_share`` of the scenario's volume is split into that many
  teams (a big one-stop desk organised in teams): each team receives an equal share of the unit's arrivals
  (independent Poisson draws, which add up to the unit's) and has its own processors and approvers, sized for
  its share (``"auto"``) or an equal part of the desk's explicit numbers. This is the one thing sharding changes
  in the model: a dossier waits in its team's queues, not the whole desk's. ``team_share = 1`` (the default)
  never splits.

Each shard draws from random streams of its own, seeded from the scenario, the seed and the shard's key — never
from a stream consumed in the order events of several shards happen — and numbers what it writes in its own
*lane* (shard ``i`` of ``n``): dossier, shipment and step ids ``first + k·n + i``; an agency's daily dossier
numbers shared by ``m`` of its shards ``j + 1 + k·m`` (:class:`~service.dossiers.numbering.DailyNumbers`);
postal item numbers ``≡ i (mod n)``. So a shard's rows do not depend on the other shards, nor on which process
plays it or when: one process playing the shards in turn and ``N`` processes playing them in parallel write the
same rows (ids included); only the order of rows that number themselves (control-slip rows, notices, outbox
events…) differs, which no reader depends on. ``tests/simulation/test_shards.py`` compares the two.

With ``workers > 1`` the shards are played in a pool of forked processes, largest first; each hands its batches,
already converted to driver values (:meth:`~service.simulation.ledger.Ledger.take`), to the main process, the
one writer of the database (SQLite has one write lock; on PostgreSQL it keeps the transactions as they are).
Signing results writes through the ORM in the shard's own transaction, so a run that signs plays in one process.
"""

from __future__ import annotations

import concurrent.futures
import gc
import math
import multiprocessing
import queue as queues
import sys
import time as timer
import traceback
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import fields
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select, text
from sqlmodel import Session

from service import tablewriter
from service.db import Database
from service.dossiers.numbering import DailyNumbers
from service.events import outbox
from service.settings import Settings
from service.simulation.engine import DatabaseSink, RunResult, Simulation, Sink
from service.simulation.ledger import TABLE, Batch, Ledger, write_batch
from service.simulation.progress import ProgressBar
from service.simulation.scenario import Scenario
from service.simulation.world import Proc, Shard, local_midnight, prepare_world

T = TypeVar("T")

LANED_TABLES = ("dossier", "shipment", "dossier_step")
"""The tables whose ids the ledger hands out itself (children reference them in the same batch)."""


def unit_of(proc: Proc) -> tuple[str, ...]:
    """The agencies a procedure's dossiers go through (see the module docstring)."""
    return tuple(sorted(set(proc.steps or (proc.agency_code,))))


def plan(scenario: Scenario, procs: list[Proc]) -> list[Shard]:
    """The shards of ``scenario`` simulating ``procs``, in a stable order (by unit, then team)."""
    staff = scenario.staff
    units: dict[tuple[str, ...], list[Proc]] = {}
    for proc in procs:
        units.setdefault(unit_of(proc), []).append(proc)
    total = sum(p.weight for p in procs)
    drafts: list[tuple[str, frozenset[str], int, int, dict[str, float]]] = []
    for agencies, procs in sorted(units.items()):
        weight = sum(p.weight for p in procs)
        teams = max(1, math.ceil(weight / total / staff.team_share - 1e-9))
        for code in agencies:  # explicit numbers of officers: at least one of each in every team
            own = staff.for_agency(code)
            teams = min([teams, *(n for n in (own.processors, own.approvers) if isinstance(n, int))])
        for team in range(teams):
            load: dict[str, float] = {}
            for proc in procs:
                for code in proc.steps or (proc.agency_code,):
                    load[code] = load.get(code, 0.0) + proc.weight / teams
            key = "+".join(agencies) + (f"/{team + 1}" if teams > 1 else "")
            drafts.append((key, frozenset(p.code for p in procs), team, max(teams, 1), load))
    return [Shard(index=i, of=len(drafts), key=key, procedures=codes, team=team, teams=teams, load=load)
            for i, (key, codes, team, teams, load) in enumerate(drafts)]


def number_lanes(shards: list[Shard], procs: list[Proc]) -> list[dict[str, tuple[int, int]]]:
    """Per shard: its lane of each competent agency's daily dossier numbers, among the shards lodging that
    agency's procedures."""
    agency_of = {p.code: p.agency_code for p in procs}
    sharing: dict[str, list[int]] = {}
    for shard in shards:
        for code in sorted({agency_of[c] for c in shard.procedures}):
            sharing.setdefault(code, []).append(shard.index)
    return [{code: (indexes.index(shard.index), len(indexes)) for code, indexes in sharing.items()
             if shard.index in indexes} for shard in shards]


class LaneIds:
    """Ids ``first + k·lanes + lane`` (k = 0, 1, …): a shard's own, whoever writes first."""

    def __init__(self, first: int, lane: int, lanes: int) -> None:
        self.next_id, self.lanes = first + lane, lanes

    def next(self) -> int:
        value, self.next_id = self.next_id, self.next_id + self.lanes
        return value


# ---------------------------------------------------------------------------------------------------- the run


def simulate(db: Database, scenario: Scenario, *, seed: int | None = None, limit: int | None = None,
             sign_results: bool = False, batch_size: int = 5000, progress: ProgressBar | None = None,
             force: bool = False, settings: Settings | None = None, workers: int = 1) -> RunResult:
    """Play ``scenario`` on ``db`` (a migrated, empty database) shard by shard in ``workers`` processes, write
    every row, set the simulated clock (``sim_clock``) to the end of the period; the merged :class:`RunResult`.
    The same scenario and seed give the same rows with any ``workers``. ``settings`` (the serving app's) sign the
    results with ``sign_results``. ``limit``: arrivals stop at the ``limit``-th of all shards (in time order) and
    the run ends with that day."""
    merged, _ = _simulate(db, scenario, None, seed=seed, limit=limit, sign_results=sign_results,
                          batch_size=batch_size, progress=progress, force=force, settings=settings, workers=workers)
    return merged


def simulate_and_read(db: Database, scenario: Scenario, read: Callable[[Database, RunResult], T], *,
                      seed: int | None = None, limit: int | None = None, sign_results: bool = False,
                      batch_size: int = 5000, progress: ProgressBar | None = None, force: bool = False,
                      settings: Settings | None = None, workers: int = 1) -> tuple[RunResult, T]:
    """:func:`simulate`, then ``read(database, run)``, a read-only function of the written rows and the run's
    period (:func:`service.simulation.summary.read_statistics`): the run and what ``read`` returned.

    On SQLite the bulk tables' secondary indexes are rebuilt once the rows are written (one core, half a minute
    for the province year), and ``read`` needs none of them (it scans): so it runs meanwhile, in a thread of its
    own, on a database of its own (the same file, another engine) — SQLite lets go of Python's lock while it
    works, so the two share the machine's cores. For that the file goes back to WAL (its mode after the run
    anyway) before the rebuild: the reader then sees the rows as they were when it began and never holds up the
    rebuild's commit; its engine is not :func:`~service.simulation.engine.tuned_sqlite`'s, whose new connections
    would take the file out of WAL again. Elsewhere (PostgreSQL, an in-memory file, or a run that signs, which
    keeps its indexes) ``read`` runs on ``db`` after the run, as it would."""
    return _simulate(db, scenario, read, seed=seed, limit=limit, sign_results=sign_results,
                     batch_size=batch_size, progress=progress, force=force, settings=settings, workers=workers)


def _simulate(db: Database, scenario: Scenario, read: Callable[[Database, RunResult], T] | None, *,
              seed: int | None, limit: int | None, sign_results: bool, batch_size: int,
              progress: ProgressBar | None, force: bool, settings: Settings | None,
              workers: int) -> tuple[RunResult, T | None]:
    from service.bootstrap import compose_effects
    from service.clock import LegalClock

    began = timer.perf_counter()
    effects = compose_effects(settings)
    seed = scenario.seed if seed is None else seed
    with db.transaction() as session:
        world = prepare_world(session, scenario, seed, force=force)
        shards = plan(scenario, world.procs)
        firsts = {name: (session.execute(select(func.max(TABLE[name].c.id))).scalar() or 0) + 1
                  for name in LANED_TABLES}
        lanes = number_lanes(shards, world.procs)
        taken: dict[tuple[str, str], int] = {}
        simulations = []
        for shard in shards:
            simulation = Simulation(world, shard, sign_results=sign_results, batch_size=batch_size, effects=effects)
            simulation.setup(session, taken,
                             ids={name: LaneIds(firsts[name], shard.index, shard.of) for name in LANED_TABLES},
                             numbers=DailyNumbers(world.numbers, lanes=lanes[shard.index]))
            simulations.append(simulation)
    setup_seconds = timer.perf_counter() - began
    last, caps = scenario.last_day, None
    if limit is not None:
        last, caps = _day_of(limit, simulations, scenario.first_day, scenario.last_day)
    for simulation, cap in zip(simulations, caps or [None] * len(simulations), strict=True):
        simulation.last_day_cap = cap
    started = timer.perf_counter()
    tracker = _Progress(progress, [simulation.shard.weight for simulation in simulations], scenario.first_day, last)
    # The bulk tables' secondary indexes are built once at the end rather than kept through millions of writes
    # (SQLite). Not when results are signed: the signing effect reads through the ORM during the run.
    set_aside = [] if sign_results else tablewriter.set_aside_indexes(db.engine, [*TABLE, outbox.EVENT_TABLE.name])
    try:
        if workers > 1 and len(simulations) > 1 and not sign_results:
            results = _in_processes(db, simulations, last, workers, tracker)
        else:
            results = [simulation.play(last, DatabaseSink(db), tracker.on_day(i, simulation))
                       for i, simulation in enumerate(simulations)]
    except BaseException:
        tablewriter.restore_indexes(db.engine, set_aside)
        raise
    merged = merge(results, scenario, seed, scenario.first_day, last, db.dialect)
    merged.limited, merged.setup_seconds = caps is not None, setup_seconds
    reading: concurrent.futures.Future[T] | None = None
    with ExitStack() as stack:
        if read is not None and set_aside and db.engine.url.database not in (None, "", ":memory:") and _wal(db):
            reader = Database(db.engine.url.render_as_string(hide_password=False))
            stack.callback(reader.dispose)
            pool = stack.enter_context(concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="read"))
            reading = pool.submit(read, reader, merged)
        tablewriter.restore_indexes(db.engine, set_aside)
        with db.transaction() as session:
            LegalClock(simulation=True).set(session, merged.end)
            _continue_sequences(session)
        tracker.close(last, merged.submitted)
        merged.seconds = timer.perf_counter() - started
        # Sampled statistics: on the province year's 3.8 GB file a full ANALYZE took 3.6 s of CPU, a sampled one
        # 0.1 s, and the summary's reports then ran no slower (13.1 s of CPU against 16.2 s).
        tablewriter.analyze(db.engine, list(TABLE), sqlite_rows=1000)
        if reading is not None:
            return merged, reading.result()
    return merged, (read(db, merged) if read is not None else None)


def _wal(db: Database) -> bool:
    """Put the SQLite file back in WAL mode (from the run's journal in memory, :func:`~service.simulation.engine.
    tuned_sqlite`); whether it is."""
    connection = db.engine.raw_connection()  # outside a transaction (the engine's connections begin their own)
    try:
        return connection.driver_connection.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    finally:
        connection.close()


def _day_of(limit: int, simulations: list[Simulation], first: date,
            last: date) -> tuple[date, list[int] | None]:
    """The day the ``limit``-th dossier of all shards arrives, and how many of that day's arrivals each shard
    takes (the earliest of all shards', ties in shard order); ``None`` when fewer arrive in the period. Each
    shard's arrivals are drawn afresh: its run draws the same."""
    models = [simulation.arrivals() for simulation in simulations]
    count, day = 0, first
    while day <= last:
        arrivals = [(arrival.at, index) for index, model in enumerate(models) for arrival in model.day(day)]
        if count + len(arrivals) >= limit:
            caps = [0] * len(models)
            for _, index in sorted(arrivals)[:limit - count]:
                caps[index] += 1
            return day, caps
        count += len(arrivals)
        day += timedelta(days=1)
    return last, None


def merge(results: list[RunResult], scenario: Scenario, seed: int, first: date, last: date,
          dialect: str) -> RunResult:
    """The shards' results as one run's: counts added up, the desks' officers counted once (receivers serve
    every team)."""
    merged = RunResult(scenario, seed, first, last, local_midnight(last + timedelta(days=1)), dialect)
    counted = [f.name for f in fields(RunResult) if f.type in ("int", "float") and f.name not in (
        "seed", "seconds", "setup_seconds")]
    for result in results:
        for name in counted:
            setattr(merged, name, getattr(merged, name) + getattr(result, name))
        for code, staff in result.staff.items():
            into = merged.staff.setdefault(code, {"receiver": 0, "processor": 0, "approver": 0})
            into["receiver"] = max(into["receiver"], staff["receiver"])
            into["processor"] += staff["processor"]
            into["approver"] += staff["approver"]
    merged.staff = dict(sorted(merged.staff.items()))
    merged.signing, merged.skipped_effects = results[0].signing, results[0].skipped_effects
    return merged


def _continue_sequences(session: Session) -> None:
    """On PostgreSQL, move the laned tables' id sequences past the ids the shards handed out."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for name in LANED_TABLES:
        session.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                             f"COALESCE((SELECT max(id) FROM {name}), 0) + 1, false)"))


class _Progress:
    """One progress bar over every shard's days, each shard's counting for its share of the dossiers."""

    def __init__(self, bar: ProgressBar | None, weights: list[float], first: date, last: date) -> None:
        self.bar, self.first = bar, first
        days = (last - first).days + 1
        total = sum(weights) or 1.0
        self.weights = [1000 * weight / total for weight in weights]  # per mille of the run, a day at a time
        self.total = 1000 * days
        self.done = [0.0] * len(weights)
        self.counted = [0] * len(weights)

    def on_day(self, shard: int, simulation: Simulation) -> Callable[[date], None]:
        def update(day: date) -> None:
            self.advance(shard, day, simulation.result.submitted - self.counted[shard])
        return update

    def advance(self, shard: int, day: date, dossiers: int) -> None:
        self.done[shard] = ((day - self.first).days + 1) * self.weights[shard]
        self.counted[shard] += dossiers
        if self.bar:
            self.bar.update(sum(self.done), self.total, label=f"{day:%d/%m/%Y}", dossiers=sum(self.counted))

    def close(self, last: date, dossiers: int) -> None:
        if self.bar:
            self.bar.update(1, 1, label=f"{last:%d/%m/%Y}", dossiers=dossiers, force=True)
            self.bar.close()


# ------------------------------------------------------------------------------------------------ in processes

_SHARED: dict[str, Any] = {}
"""The shards and the queue, set before the worker processes fork (they inherit them)."""


class _QueueSink(Sink):
    """A worker's rows go to the main process, one batch per commit."""

    def __init__(self, shard: int, into: Any, dialect: str) -> None:
        self.shard, self.into, self.dialect = shard, into, dialect
        self.day: date | None = None

    def commit(self, ledger: Ledger) -> None:
        self.into.put(("batch", self.shard, (self.day, ledger.take(self.dialect))))


PLAYER_GC_THRESHOLD = (50_000, 20, 100)
"""A player's garbage-collector thresholds (Python's defaults are 700, 10, 10)."""


def _tune_player_gc() -> None:
    """Spare a player most of the cyclic garbage collector's work. Everything it inherited at the fork (the world,
    the ORM's mappers, the modules) lives until it ends: frozen, it is never scanned again. Then young objects are
    collected after 50,000 allocations rather than 700: a shard keeps its open dossiers in memory and allocates a
    few dozen objects per action, nearly none of them in reference cycles, so the default thresholds scanned
    millions of live objects over and over for little garbage (the garbage of cycles is still collected, and
    the memory it holds stays bounded by the threshold)."""
    gc.freeze()
    gc.set_threshold(*PLAYER_GC_THRESHOLD)


def _play(index: int) -> None:
    simulation: Simulation = _SHARED["simulations"][index]
    _tune_player_gc()
    into = _SHARED["queue"]
    sink = _QueueSink(index, into, _SHARED["dialect"])

    def on_day(day: date) -> None:
        sink.day = day

    try:
        result = simulation.play(_SHARED["last"], sink, on_day)
    except BaseException:
        into.put(("failed", index, traceback.format_exc()))
        raise
    into.put(("done", index, result))


def _in_processes(db: Database, simulations: list[Simulation], last: date, workers: int,
                  tracker: _Progress) -> list[RunResult]:
    """Play the shards in ``workers`` forked processes, largest first; write their batches here, as they come."""
    context = multiprocessing.get_context("fork")
    into = context.Queue(maxsize=2 * workers)
    _SHARED.update(simulations=simulations, queue=into, last=last, dialect=db.dialect)
    db.dispose()  # no connection crosses the fork
    results: dict[int, RunResult] = {}
    order = sorted(range(len(simulations)), key=lambda i: (-simulations[i].shard.weight, i))
    writer = _Writer(db)
    try:
        with context.Pool(min(workers, len(simulations))) as pool:
            pending = pool.map_async(_play, order, chunksize=1)
            while len(results) < len(simulations):
                try:
                    kind, index, payload = into.get(timeout=5)
                except queues.Empty:
                    if pending.ready():
                        pending.get()  # a worker died: raise its error
                        raise RuntimeError("a simulation worker ended without its result") from None
                    continue
                if kind == "batch":
                    day, batch = payload
                    writer.write(batch)
                    if day is not None:
                        tracker.advance(index, day, _dossiers(batch))
                elif kind == "done":
                    results[index] = payload
                else:
                    raise RuntimeError(f"shard {simulations[index].shard.key} failed:\n{payload}")
            pending.get()
        writer.close()
    finally:
        writer.abandon()
        _SHARED.clear()
    return [results[i] for i in range(len(simulations))]


class _Writer:
    """The main process's writing of the workers' batches: several batches to a transaction, committed once at
    least ``rows_per_commit`` control-slip rows are in it (and at the end). Each commit writes every page the
    transaction changed — with random keys (event ids, blob hashes, search keys) nearly one page per row — so
    fewer, larger commits write the same rows with fewer page writes. The rows do not depend on it."""

    def __init__(self, db: Database, rows_per_commit: int = 50_000) -> None:
        self.db, self.rows_per_commit = db, rows_per_commit
        self._stack: ExitStack | None = None
        self._session: Session | None = None
        self._rows = 0

    def write(self, batch: Batch) -> None:
        if self._session is None:
            self._stack = ExitStack()
            self._session = self._stack.enter_context(self.db.transaction())
        write_batch(self._session, batch)
        self._rows += sum(len(rows) for kind, table, _, rows in batch.writes
                          if kind == "insert" and table == "dossier_event")
        if self._rows >= self.rows_per_commit:
            self.close()

    def close(self) -> None:
        """Commit what was written."""
        stack, self._stack, self._session, self._rows = self._stack, None, None, 0
        if stack is not None:
            stack.close()

    def abandon(self) -> None:
        """Roll back what was not committed (after a failure)."""
        stack, self._stack, self._session, self._rows = self._stack, None, None, 0
        if stack is not None:
            stack.__exit__(*sys.exc_info())


def _dossiers(batch: Batch) -> int:
    return sum(len(rows) for kind, table, _, rows in batch.writes if kind == "insert" and table == "dossier")
