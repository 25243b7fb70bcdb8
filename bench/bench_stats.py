"""Statistics benchmark: the yearly and quarterly processing report and the Decision 766 index at 100,000 and
1,000,000 dossiers, on SQLite and PostgreSQL. Prints figures and the 1M/100k ratios.

    .venv/bin/python bench/bench_stats.py                      # both sizes, both databases
    .venv/bin/python bench/bench_stats.py --sizes 100k --repeat 3

Data: ``service.bulk`` generates each size once into ``/tmp/stats-bench-<size>.db`` (dossiers submitted over
2025, histories played to 31/01/2026; 1M takes a while), and the same rows are copied into the PostgreSQL
database ``<--pg-prefix>_<size>`` (created, migrated, filled with COPY, VACUUM ANALYZE), so both databases
hold identical data. Existing files/databases are reused; ``--regenerate`` rebuilds them.

Each figure is the median (and minimum) wall time of ``--repeat`` runs after one warm-up run, measured around
``service.operations.statistics`` (the SQL plus the assembly; HTTP adds a few milliseconds for these small
bodies). The goal of issue 7: the yearly report over 1,000,000 dossiers under 2 s on PostgreSQL, and a cost no
worse than linear in the period's dossiers (1M/100k ratio ≤ 10).
"""

from __future__ import annotations

import argparse
import os
import statistics as pystats
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Boolean, Date, LargeBinary, create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from service.db import Database, UTCDateTime, metadata, normalize_database_url  # noqa: E402
from service.models import User  # noqa: E402
from service.operations import statistics as ops  # noqa: E402

SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
FIRST, LAST = date(2025, 1, 1), date(2025, 12, 31)
UNTIL = "2026-01-31T00:00:00+07:00"
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
        s, user=ADMIN, first=FIRST, last=LAST, agency_code=None, now=NOW)),
    ("quarterly (Q2) 766 index", lambda s: ops.service_index(
        s, user=ADMIN, first=date(2025, 4, 1), last=date(2025, 6, 30), agency_code=None, now=NOW)),
]


def migrate(url: str) -> None:
    env = {**os.environ, "MOTCUA_DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=env, check=True,
                   capture_output=True)


def sqlite_path(size: str) -> Path:
    return Path(f"/tmp/stats-bench-{size}.db")


def ensure_sqlite(size: str, regenerate: bool, workers: int) -> str:
    from service import bulk

    path = sqlite_path(size)
    url = f"sqlite:///{path}"
    if path.exists() and not regenerate:
        return url
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    migrate(url)
    print(f"generating {SIZES[size]:,} dossiers into {path} …", file=sys.stderr)
    result = bulk.generate(url, SIZES[size], first=FIRST, last=LAST, until=datetime.fromisoformat(UNTIL),
                           seed=1, batch_size=10_000, workers=workers)
    print(f"  {result.as_dict()}", file=sys.stderr)
    return url


def copy_sqlite_to_postgres(source: str, target: str) -> None:
    """Copy every table, row for row, from the SQLite file into the migrated, emptied PostgreSQL database."""
    import sqlite3

    import psycopg

    src = sqlite3.connect(make_url(source).database)
    pg_url = make_url(normalize_database_url(target)).set(drivername="postgresql")
    tables = [t for t in metadata.sorted_tables if t.name != "alembic_version"]
    with psycopg.connect(pg_url.render_as_string(hide_password=False)) as conn:
        with conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
            cur.execute("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " RESTART IDENTITY CASCADE")
            for table in tables:
                # The schema may have grown since the file was generated: copy what both sides have.
                present = {r[1] for r in src.execute(f'PRAGMA table_info("{table.name}")')}
                columns = [c for c in table.columns if c.name in present]
                if not columns:
                    continue
                names = [c.name for c in columns]
                kinds = [c.type for c in columns]
                rows = src.execute(f'SELECT {", ".join(names)} FROM "{table.name}"')
                started, count = time.perf_counter(), 0
                with cur.copy(f'COPY "{table.name}" ({", ".join(names)}) FROM STDIN') as copy:
                    while batch := rows.fetchmany(50_000):
                        for row in batch:
                            copy.write_row([_pg_value(v, k) for v, k in zip(row, kinds, strict=True)])
                        count += len(batch)
                if count:
                    print(f"  {table.name}: {count:,} rows in {time.perf_counter() - started:.1f} s",
                          file=sys.stderr)
                if "id" in names and table.c.id.autoincrement is not False and table.c.id.primary_key:
                    cur.execute(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                f"coalesce((SELECT max(id) FROM \"{table.name}\"), 0) + 1, false)")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    src.close()


def _pg_value(value: Any, kind: Any) -> Any:
    if value is None:
        return None
    if isinstance(kind, UTCDateTime):
        return f"{value}+00"
    if isinstance(kind, Boolean):
        return bool(value)
    if isinstance(kind, LargeBinary):
        return bytes(value)
    if isinstance(kind, Date):
        return value
    return value


def ensure_postgres(size: str, source: str, server: str, prefix: str, regenerate: bool) -> str:
    name = f"{prefix}_{size}"
    admin = create_engine(normalize_database_url(f"{server}/postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = f"{server}/{name}"
    if exists and not regenerate:
        db = Database(url)
        with db.engine.connect() as conn:
            filled = conn.execute(text("SELECT count(*) FROM dossier")).scalar()
        db.dispose()
        if filled:
            return url
    migrate(url)
    print(f"copying {source} into {name} …", file=sys.stderr)
    copy_sqlite_to_postgres(source, url)
    return url


def measure(url: str, repeat: int) -> dict[str, tuple[float, float]]:
    db = Database(url)
    out: dict[str, tuple[float, float]] = {}
    try:
        for label, run in REPORTS:
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


def dossier_count(url: str) -> int:
    db = Database(url)
    with db.engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM dossier")).scalar()
    db.dispose()
    return int(count or 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100k,1m")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--pg-server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--pg-prefix", default="motcua_stats7_bench")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="generator processes")
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    sizes = [s for s in args.sizes.split(",") if s]
    databases = [d for d in args.databases.split(",") if d]

    results: dict[tuple[str, str], dict[str, tuple[float, float]]] = {}
    for size in sizes:
        source = ensure_sqlite(size, args.regenerate, args.workers)
        urls = {"sqlite": source}
        if "postgresql" in databases:
            urls["postgresql"] = ensure_postgres(size, source, args.pg_server, args.pg_prefix,
                                                 args.regenerate)
        for database in databases:
            count = dossier_count(urls[database])
            print(f"measuring {database} {size} ({count:,} dossiers) …", file=sys.stderr)
            results[(database, size)] = measure(urls[database], args.repeat)

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
            line = f"  {label:<28}"
            for size in sizes:
                median, best = results[(database, size)][label]
                line += f"{median:>11.3f} s ({best:.3f})"
            if len(sizes) == 2:
                a, b = (results[(database, s)][label][0] for s in sizes)
                line += f"{b / a:>18.1f}"
            print(line)
    if "postgresql" in databases and "1m" in sizes:
        yearly = results[("postgresql", "1m")]["yearly by agency"][0]
        print(f"\ngoal: yearly report over 1,000,000 dossiers on PostgreSQL < 2 s: {yearly:.3f} s — "
              f"{'met' if yearly < 2 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
