"""Search benchmark: ``GET /dossiers?q=`` at a small and a large dossier table, on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_search.py                                   # 10k and 1M, both databases
    .venv/bin/python bench/bench_search.py --sizes 10k 300k --no-postgres    # what fits in your time

A generation stopped part-way (the machine's time ran out) leaves a coherent, smaller table: the counts printed
are the rows actually present.

Data: ``service.bulk`` generates each size once into ``/tmp/search-bench-<size>.db`` (dossiers submitted over
2025, histories played to 31/01/2026), and the same rows are copied into the PostgreSQL database
``<--pg-prefix>_<size>`` (see ``bench_stats.py``), so both databases hold identical data. Existing files and
databases are reused; ``--regenerate`` rebuilds them.

Each search runs as a desk officer of the busiest agency (visibility is part of the query), through
``service.dossiers.queries.list_page`` and ``service.dossiers.presenter.present`` (the SQL and the
representation; HTTP adds the same few milliseconds at every size). Searches: a full name typed without
diacritics, a family name alone (common), a code fragment (the agency's dossiers of one day), an exact national
id, and the first page sorted by due date.
Prints the p50 and p90 of ``--probes`` runs per search and size (after a warm-up), and the large ÷ small ratio
of the p50s (goal ≤ 1.5).
"""

from __future__ import annotations

import argparse
import random
import statistics as pystats
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_stats import FIRST, LAST, UNTIL, copy_sqlite_to_postgres, migrate  # noqa: E402
from sqlalchemy import create_engine, func, text  # noqa: E402
from sqlmodel import select  # noqa: E402

from service.db import Database, normalize_database_url  # noqa: E402
from service.dossiers import presenter  # noqa: E402
from service.dossiers import queries as ops  # noqa: E402
from service.models import Dossier, User  # noqa: E402

SIZES = {"10k": 10_000, "100k": 100_000, "300k": 300_000, "1m": 1_000_000}
NOW = datetime(2026, 1, 31, 3, 0, tzinfo=UTC)


def sqlite_url(size: str, regenerate: bool, workers: int) -> str:
    from service import bulk

    path = Path(f"/tmp/search-bench-{size}.db")
    url = f"sqlite:///{path}"
    if path.exists() and not regenerate:
        return url
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    migrate(url)
    print(f"generating {SIZES[size]:,} dossiers into {path} …", file=sys.stderr)
    started = time.perf_counter()
    bulk.generate(url, SIZES[size], first=FIRST, last=LAST, until=datetime.fromisoformat(UNTIL), seed=1,
                  batch_size=10_000, workers=workers)
    print(f"  done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return url


def postgres_url(size: str, source: str, server: str, prefix: str, regenerate: bool) -> str:
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
    if exists:
        return url
    migrate(url)
    print(f"copying {source} into {name} …", file=sys.stderr)
    copy_sqlite_to_postgres(source, url)
    return url


def officer_and_samples(db: Database) -> tuple[User, dict[str, list[str]]]:
    """A receiver of the agency with the most dossiers, and sample search terms drawn from its rows."""
    with db.transaction(read_only=True) as session:
        agency = session.exec(select(Dossier.agency_code, func.count()).group_by(Dossier.agency_code)
                              .order_by(func.count().desc()).limit(1)).one()[0]
        officer = session.exec(select(User).where(User.agency_code == agency, User.role == "receiver")).first()
        rows = session.exec(select(Dossier.code, Dossier.applicant_full_name, Dossier.applicant_national_id)
                            .where(Dossier.agency_code == agency).order_by(Dossier.id).limit(2000)).all()
        assert officer is not None, f"no receiver at {agency}"
        session.expunge(officer)
    from service.domain.names import fold_name

    rng = random.Random(3)
    picked = [rows[rng.randrange(len(rows))] for _ in range(50)]
    return officer, {
        "full name, no diacritics": [fold_name(r[1]) for r in picked],
        "family name only": [r[1].split()[0] for r in picked],
        "code fragment (one day)": [r[0].rsplit("-", 1)[0][-6:] + "-" for r in picked],
        "exact national id": [r[2] for r in picked],
    }


def measure(urls: dict[str, str], probes: int) -> dict[str, dict[str, list[float]]]:
    """Per size and search: the query's times (``name``) and the query plus the representation
    (``name + present``). The sizes alternate probe by probe, so that load on a shared machine hits both alike."""
    dbs = {size: Database(url) for size, url in urls.items()}
    out: dict[str, dict[str, list[float]]] = {size: {} for size in urls}
    try:
        setups = {size: officer_and_samples(db) for size, db in dbs.items()}
        names = [*setups[next(iter(setups))][1], "first page by due date"]
        for name in names:
            for i in range(probes + 5):
                for size, db in dbs.items():
                    officer, terms = setups[size]
                    filters = (ops.DossierFilter(sort="due_at") if name == "first page by due date"
                               else ops.DossierFilter(q=terms[name][i % len(terms[name])]))
                    with db.transaction(read_only=True) as session:
                        started = time.perf_counter()
                        rows, _ = ops.list_page(session, user=officer, filters=filters, now=NOW, limit=50,
                                                cursor=None)
                        searched = time.perf_counter()
                        presenter.present(session, rows, now=NOW, due_soon_hours=8)
                        ended = time.perf_counter()
                    if i >= 5:
                        out[size].setdefault(name, []).append((searched - started) * 1000)
                        out[size].setdefault(f"{name} + present", []).append((ended - started) * 1000)
    finally:
        for db in dbs.values():
            db.dispose()
    return out


def p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def dossier_count(url: str) -> int:
    db = Database(url)
    with db.transaction(read_only=True) as session:
        count = session.execute(select(func.count()).select_from(Dossier)).scalar_one()
    db.dispose()
    return int(count)


def report(backend: str, small: str, large: str, results: dict[str, dict[str, list[float]]],
           counts: dict[str, int]) -> None:
    print(f"\n== search on {backend}: {counts[small]:,} vs {counts[large]:,} dossiers (ms, p50 / p90) ==")
    for name in results[small]:
        a, b = results[small][name], results[large][name]
        print(f"{name:28s} {small:>5s} {pystats.median(a):8.1f} / {p(a, 0.9):7.1f}   "
              f"{large:>5s} {pystats.median(b):8.1f} / {p(b, 0.9):7.1f}   "
              f"ratio {pystats.median(b) / pystats.median(a):5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs=2, default=["10k", "1m"], choices=sorted(SIZES))
    parser.add_argument("--probes", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2, help="processes of the bulk generator")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--pg-server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--pg-prefix", default="motcua_search_bench")
    args = parser.parse_args()
    small, large = args.sizes
    sources = {size: sqlite_url(size, args.regenerate, args.workers) for size in (small, large)}
    counts = {size: dossier_count(url) for size, url in sources.items()}
    if not args.no_sqlite:
        report("SQLite", small, large, measure(sources, args.probes), counts)
    if not args.no_postgres:
        urls = {size: postgres_url(size, sources[size], args.pg_server, args.pg_prefix, args.regenerate)
                for size in (small, large)}
        report("PostgreSQL", small, large, measure(urls, args.probes), counts)


if __name__ == "__main__":
    main()
