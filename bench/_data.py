"""Bulk data sets the database benchmarks share (``bench_search.py``, ``bench_stats.py``): each size generated once
by :mod:`service.bulk` into a SQLite file, and the same rows copied into a PostgreSQL database, so both databases
hold identical data and every benchmark reads the same sets. Not a benchmark itself (the leading underscore keeps
it out of ``bench/*.py`` listings).

Files: ``<data dir>/bench-<size>.db`` (default ``data/`` in the repository); PostgreSQL databases
``<prefix>_<size>`` on the given server. Existing files and databases are reused; ``regenerate`` rebuilds them.
The data: dossiers submitted over 2025, their histories played to 31/01/2026, seed 1.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, LargeBinary, create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from service.db import Database, UTCDateTime, metadata, normalize_database_url  # noqa: E402

SIZES = {"10k": 10_000, "100k": 100_000, "300k": 300_000, "400k": 400_000, "1m": 1_000_000}
FIRST, LAST = date(2025, 1, 1), date(2025, 12, 31)
UNTIL = "2026-01-31T00:00:00+07:00"
SEED = 1
BATCH = 10_000
DATA_DIR = ROOT / "data"
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
PG_PREFIX = "motcua_bench"


def migrate(url: str) -> None:
    env = {**os.environ, "MOTCUA_DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=env, check=True,
                   capture_output=True)


def sqlite_path(size: str, data_dir: Path = DATA_DIR) -> Path:
    return data_dir / f"bench-{size}.db"


def ensure_sqlite(size: str, *, regenerate: bool = False, workers: int = 2, data_dir: Path = DATA_DIR) -> str:
    """The SQLite file of ``size`` (generated if missing, migrated to the head revision if older)."""
    from service import bulk

    path = sqlite_path(size, data_dir)
    url = f"sqlite:///{path}"
    if path.exists() and not regenerate:
        before = _revision(path)
        migrate(url)  # a newer revision may add (and fill) search or statistics tables
        if _revision(path) != before or not _analyzed(path):
            _analyze(path)  # planner statistics for the new tables (or a generation that was stopped)
        return url
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    migrate(url)
    print(f"generating {SIZES[size]:,} dossiers into {path} …", file=sys.stderr)
    started = time.perf_counter()
    result = bulk.generate(url, SIZES[size], first=FIRST, last=LAST, until=datetime.fromisoformat(UNTIL),
                           seed=SEED, batch_size=BATCH, workers=workers)
    print(f"  {result.as_dict()} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return url


def _revision(path: Path) -> str | None:
    import sqlite3

    with contextlib.closing(sqlite3.connect(path)) as conn:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


def _analyzed(path: Path) -> bool:
    import sqlite3

    with contextlib.closing(sqlite3.connect(path)) as conn:
        return bool(conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone())


def _analyze(path: Path) -> None:
    import sqlite3

    print(f"ANALYZE {path} …", file=sys.stderr)
    with contextlib.closing(sqlite3.connect(path, timeout=60)) as conn:
        conn.execute("ANALYZE")
        conn.commit()


def copy_sqlite_to_postgres(source: str, target: str) -> None:
    """Copy every table, row for row, from the SQLite file into the migrated, emptied PostgreSQL database."""
    import sqlite3

    import psycopg

    src = sqlite3.connect(make_url(source).database)
    pg_url = make_url(normalize_database_url(target)).set(drivername="postgresql")
    # Not copied: the schema's version, and the reference data's token, which the copy of the reference tables
    # renews on PostgreSQL itself (triggers of migration 0131; copied, its row would be a duplicate key).
    tables = [t for t in metadata.sorted_tables if t.name not in ("alembic_version", "reference_revision")]
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
    return value


def ensure_postgres(size: str, source: str, *, server: str = PG_SERVER, prefix: str = PG_PREFIX,
                    regenerate: bool = False) -> str:
    """The PostgreSQL database ``<prefix>_<size>`` holding the rows of ``source`` (created and filled if missing
    or empty)."""
    name = f"{prefix}_{size}"
    admin = create_engine(normalize_database_url(f"{server}/postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if regenerate:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = f"{server}/{name}"
    migrate(url)
    if exists and dossier_count(url):
        return url
    print(f"copying {source} into {name} …", file=sys.stderr)
    copy_sqlite_to_postgres(source, url)
    return url


def dossier_count(url: str) -> int:
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM dossier")).scalar() or 0)
    finally:
        db.dispose()


def add_arguments(parser: Any) -> None:
    """The data options every database benchmark takes."""
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="where the SQLite files live")
    parser.add_argument("--pg-server", default=PG_SERVER)
    parser.add_argument("--pg-prefix", default=PG_PREFIX, help="PostgreSQL databases are <prefix>_<size>")
    parser.add_argument("--workers", type=int, default=2, help="processes of the bulk generator")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the data sets")


def ensure(size: str, databases: list[str], args: Any) -> dict[str, str]:
    """URLs of the data set ``size`` on each of ``databases`` (``sqlite``, ``postgresql``)."""
    source = ensure_sqlite(size, regenerate=args.regenerate, workers=args.workers, data_dir=args.data_dir)
    urls = {"sqlite": source}
    if "postgresql" in databases:
        urls["postgresql"] = ensure_postgres(size, source, server=args.pg_server, prefix=args.pg_prefix,
                                             regenerate=args.regenerate)
    return {d: urls[d] for d in databases}
