"""Statistics benchmark: the processing report, the service indexes (portal and Decision 766) and the rankings
at 100,000 and 1,000,000 dossiers, on SQLite and PostgreSQL. Prints figures and the 1M/100k ratios.

    .venv/bin/python bench/bench_stats.py                      # both sizes, both databases
    .venv/bin/python bench/bench_stats.py --sizes 100k --repeat 3
    .venv/bin/python bench/bench_stats.py --sizes 100k,1m --databases postgresql --pg-prefix scale_bench

Data: the shared bulk data sets of ``bench/_data.py`` (generated once per size by ``service.bulk``, the same rows
on both databases; existing files and databases are reused, ``--regenerate`` rebuilds them).

Each figure is the median (and minimum) wall time of ``--repeat`` runs after one warm-up run, measured around
``service.operations.statistics`` (the SQL plus the assembly; HTTP adds a few milliseconds for these small
bodies). The goal of issue 17: each report, index and ranking over 1,000,000 dossiers under 2 s on PostgreSQL,
and a cost no worse than linear in the period's dossiers (1M/100k ratio ≤ 10).
"""

from __future__ import annotations

import argparse
import os
import statistics as pystats
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data
from _data import FIRST, LAST

from service.db import Database
from service.models import User
from service.operations import statistics as ops

NOW = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)  # every benchmarked period has ended: reports are final
ADMIN = User(id=0, username="bench", password_hash="", full_name="bench", role="admin",
             created_at=datetime(2026, 1, 1, tzinfo=UTC))

REPORTS: list[tuple[str, Callable[[Any], Any]]] = [
    ("yearly by agency", lambda s: ops.processing_report(
        s, user=ADMIN, first=FIRST, last=LAST, agency_code=None, group_by="agency", now=NOW)),
    ("yearly by month", lambda s: ops.processing_report(
        s, user=ADMIN, first=FIRST, last=LAST, agency_code=None, group_by="month", now=NOW)),
    ("yearly by procedure", lambda s: ops.processing_report(
        s, user=ADMIN, first=FIRST, last=LAST, agency_code=None, group_by="procedure", now=NOW)),
    ("quarterly (Q2) by agency", lambda s: ops.processing_report(
        s, user=ADMIN, first=date(2025, 4, 1), last=date(2025, 6, 30), agency_code=None, group_by="agency",
        now=NOW)),
    ("quarterly (Q4) by month", lambda s: ops.processing_report(
        s, user=ADMIN, first=date(2025, 10, 1), last=date(2025, 12, 31), agency_code=None, group_by="month",
        now=NOW)),
    ("yearly 766 index", lambda s: ops.service_index(
        s, user=ADMIN, first=FIRST, last=LAST, agency_code=None, now=NOW, scheme="qd766-2022")),
    ("quarterly (Q2) 766 index", lambda s: ops.service_index(
        s, user=ADMIN, first=date(2025, 4, 1), last=date(2025, 6, 30), agency_code=None, now=NOW,
        scheme="qd766-2022")),
    ("yearly portal index", lambda s: ops.service_index(
        s, user=ADMIN, first=FIRST, last=LAST, agency_code=None, now=NOW, scheme="portal-2025")),
    ("yearly ranking (and 2024)", lambda s: ops.ranking(
        s, user=ADMIN, first=FIRST, last=LAST, previous=(date(2024, 1, 1), date(2024, 12, 31)),
        parent_code=None, now=NOW)),
    ("monthly ranking (Dec, Nov)", lambda s: ops.ranking(
        s, user=ADMIN, first=date(2025, 12, 1), last=LAST, previous=(date(2025, 11, 1), date(2025, 11, 30)),
        parent_code=None, now=NOW)),
]


def measure(url: str, repeat: int, only: str | None = None,
            sqlite_cache_mib: int | None = None) -> dict[str, tuple[float, float]]:
    db = Database(url)
    if sqlite_cache_mib and db.engine.dialect.name == "sqlite":  # an A/B of the page cache and in-memory sorts
        from sqlalchemy import event

        @event.listens_for(db.engine, "connect")
        def _cache(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute(f"PRAGMA cache_size=-{sqlite_cache_mib * 1024}")
            dbapi_connection.execute("PRAGMA temp_store=MEMORY")
    out: dict[str, tuple[float, float]] = {}
    try:
        for label, run in REPORTS:
            if only and only not in label:
                continue
            times = []
            for attempt in range(repeat + 1):
                with db.transaction(read_only=True) as session:
                    started = time.perf_counter()
                    result = run(session)
                    elapsed = time.perf_counter() - started
                if attempt:
                    times.append(elapsed)
                if attempt == 0 and isinstance(result, ops.ProcessingReport):
                    assert all(r.counts.invariant_holds() for r in result.rows)
                    assert result.total.invariant_holds()
            out[label] = (pystats.median(times), min(times))
    finally:
        db.dispose()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100k,1m")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", default=None, help="time only the reports whose label contains this")
    parser.add_argument("--sqlite-cache-mib", type=int, default=None,
                        help="SQLite: this page cache and in-memory temporary sorts (default: as served)")
    _data.add_arguments(parser)
    args = parser.parse_args()
    sizes = [s for s in args.sizes.split(",") if s]
    databases = [d for d in args.databases.split(",") if d]

    results: dict[tuple[str, str], dict[str, tuple[float, float]]] = {}
    for size in sizes:
        urls = _data.ensure(size, databases, args)
        for database in databases:
            count = _data.dossier_count(urls[database])
            print(f"measuring {database} {size} ({count:,} dossiers) …", file=sys.stderr)
            results[(database, size)] = measure(urls[database], args.repeat, args.only, args.sqlite_cache_mib)

    load = os.getloadavg()
    print(f"\nStatistics benchmark — median (min) of {args.repeat} runs after a warm-up; "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs")
    for database in databases:
        print(f"\n{database}")
        header = f"  {'report':<28}" + "".join(f"{size:>20}" for size in sizes)
        if len(sizes) == 2:
            header += f"{'ratio ' + sizes[1] + '/' + sizes[0]:>18}"
        print(header)
        for label, _ in REPORTS:
            if args.only and args.only not in label:
                continue
            line = f"  {label:<28}"
            for size in sizes:
                median, best = results[(database, size)][label]
                line += f"{median:>11.3f} s ({best:.3f})"
            if len(sizes) == 2:
                a, b = (results[(database, s)][label][0] for s in sizes)
                line += f"{b / a:>18.1f}"
            print(line)
    if "postgresql" in databases and "1m" in sizes and not args.only:
        slowest = max(REPORTS, key=lambda r: results[("postgresql", "1m")][r[0]][0])[0]
        worst = results[("postgresql", "1m")][slowest][0]
        print(f"\ngoal: every report, index and ranking over 1,000,000 dossiers on PostgreSQL < 2 s: the slowest, "
              f"{slowest}, {worst:.3f} s — {'met' if worst < 2 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
