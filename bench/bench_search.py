"""Search benchmark: ``GET /dossiers?q=`` at a small and a large dossier table, on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_search.py                                   # 10k and 1M, both databases
    .venv/bin/python bench/bench_search.py --sizes 10k 100k --no-postgres    # what fits in your time

A generation stopped part-way (the machine's time ran out) leaves a coherent, smaller table: the counts printed
are the rows actually present.

Data: the shared bulk data sets of ``bench/_data.py`` (generated once per size by ``service.bulk``, the same rows
on both databases; existing files and databases are reused, ``--regenerate`` rebuilds them).

Each search runs as a desk officer of the busiest agency (visibility is part of the query), through
``service.dossiers.queries.list_page`` and ``service.dossiers.presenter.present`` (the SQL and the
representation; HTTP adds the same few milliseconds at every size). Searches: a full name typed without
diacritics, a family name alone (common), a code fragment (the agency's dossiers of one day), an exact national
id, and the first page sorted by due date. Besides (issue 19), as the same officer: a dossier by code
(``service.dossiers.visibility.load_visible``), the first list page of 100 (newest received first), and the
worklist (``service.operations.worklist.worklist``: its counts and first page of 50, all buckets).
Prints the p50 and p90 of ``--probes`` runs per probe and size (after a warm-up), and the large ÷ small ratio
of the p50s (goal ≤ 1.5). ``name + present`` adds the representation of the page. ``rows`` is the median number
of dossiers a run gave at each size: a rare term fills part of a page at 10k and the whole page at 1M, so part of
a ratio is the cost of the larger page, not of the larger table.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics as pystats
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from collections.abc import Callable

import _data
from sqlalchemy import func
from sqlmodel import Session, select

from service.db import Database
from service.dossiers import presenter
from service.dossiers import queries as ops
from service.dossiers.visibility import load_visible
from service.models import Dossier, User
from service.operations.worklist import worklist

NOW = datetime(2026, 1, 31, 3, 0, tzinfo=UTC)
DUE_SOON_HOURS = 8.0  # the default of MOTCUA_DUE_SOON_WORKING_HOURS


Probe = Callable[[Session, User, str], list[Dossier]]
"""One timed read: the session, the officer, a sample term; the dossiers it gives (to be presented)."""


def search(session: Session, officer: User, term: str) -> list[Dossier]:
    return ops.list_page(session, user=officer, filters=ops.DossierFilter(q=term), now=NOW, limit=50,
                         cursor=None)[0]


def first_page_by_due_date(session: Session, officer: User, term: str) -> list[Dossier]:
    return ops.list_page(session, user=officer, filters=ops.DossierFilter(sort="due_at"), now=NOW, limit=50,
                         cursor=None)[0]


def first_page_of_100(session: Session, officer: User, term: str) -> list[Dossier]:
    return ops.list_page(session, user=officer, filters=ops.DossierFilter(), now=NOW, limit=100, cursor=None)[0]


def lookup(session: Session, officer: User, code: str) -> list[Dossier]:
    return [load_visible(session, officer, code)]


def desk_worklist(session: Session, officer: User, term: str) -> list[Dossier]:
    return worklist(session, user=officer, now=NOW, bucket=None, limit=50, cursor=None,
                    due_soon_hours=DUE_SOON_HOURS).items


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
        "lookup by code": [r[0] for r in picked],
    }


PROBES: dict[str, tuple[str | None, Probe]] = {
    "full name, no diacritics": ("full name, no diacritics", search),
    "family name only": ("family name only", search),
    "code fragment (one day)": ("code fragment (one day)", search),
    "exact national id": ("exact national id", search),
    "first page by due date": (None, first_page_by_due_date),
    "lookup by code": ("lookup by code", lookup),
    "first page of 100": (None, first_page_of_100),
    "worklist": (None, desk_worklist),
}
"""Each probe: the samples it draws its term from (none: always the same read), and the read."""


def measure(urls: dict[str, str], probes: int,
            clock: Callable[[], float] = time.perf_counter) -> dict[str, dict[str, list[float]]]:
    """Per size and search: the query's times (``name``), the query plus the representation
    (``name + present``) and the number of dossiers each run gave (``name rows``). The sizes alternate probe by
    probe, so that load on a shared machine hits both alike."""
    dbs = {size: Database(url) for size, url in urls.items()}
    out: dict[str, dict[str, list[float]]] = {size: {} for size in urls}
    try:
        setups = {size: officer_and_samples(db) for size, db in dbs.items()}
        for name, (sampled, read) in PROBES.items():
            for i in range(probes + 5):
                for size, db in dbs.items():
                    officer, terms = setups[size]
                    term = terms[sampled][i % len(terms[sampled])] if sampled else ""
                    with db.transaction(read_only=True) as session:
                        started = clock()
                        rows = read(session, officer, term)
                        searched = clock()
                        presenter.present(session, rows, now=NOW, due_soon_hours=DUE_SOON_HOURS)
                        ended = clock()
                    if i >= 5:
                        out[size].setdefault(name, []).append((searched - started) * 1000)
                        out[size].setdefault(f"{name} + present", []).append((ended - started) * 1000)
                        out[size].setdefault(f"{name} rows", []).append(len(rows))
    finally:
        for db in dbs.values():
            db.dispose()
    return out


def p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(backend: str, small: str, large: str, results: dict[str, dict[str, list[float]]],
           counts: dict[str, int]) -> None:
    print(f"\n== search on {backend}: {counts[small]:,} vs {counts[large]:,} dossiers (ms, p50 / p90; "
          f"rows: the median number of dossiers a run gave) ==")
    for name in results[small]:
        if name.endswith(" rows"):
            continue
        a, b = results[small][name], results[large][name]
        rows = results[small].get(f"{name} rows")
        given = (f"   rows {pystats.median(rows):4.0f} / {pystats.median(results[large][f'{name} rows']):4.0f}"
                 if rows else "")
        print(f"{name:28s} {small:>5s} {pystats.median(a):8.1f} / {p(a, 0.9):7.1f}   "
              f"{large:>5s} {pystats.median(b):8.1f} / {p(b, 0.9):7.1f}   "
              f"ratio {pystats.median(b) / pystats.median(a):5.2f}{given}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", nargs=2, default=["10k", "1m"], choices=sorted(_data.SIZES))
    parser.add_argument("--probes", type=int, default=100)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall: elapsed time (the goal's measure, on a quiet machine); cpu: this thread's CPU "
                             "time, which a loaded machine does not inflate — on SQLite the whole search runs in "
                             "this thread, so it is the search's cost; PostgreSQL's server time is not in it "
                             "(refused with PostgreSQL)")
    _data.add_arguments(parser)
    args = parser.parse_args()
    small, large = args.sizes
    databases = [d for d, skip in (("sqlite", args.no_sqlite), ("postgresql", args.no_postgres)) if not skip]
    if args.clock == "cpu" and "postgresql" in databases:
        parser.error("--clock cpu measures this process only: add --no-postgres")
    clock = time.thread_time if args.clock == "cpu" else time.perf_counter
    urls = {size: _data.ensure(size, databases, args) for size in (small, large)}
    counts = {size: _data.dossier_count(urls[size][databases[0]]) for size in (small, large)}
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs at the start; "
          f"clock: {args.clock}")
    for database in databases:
        report(database, small, large, measure({size: urls[size][database] for size in (small, large)},
                                               args.probes, clock), counts)
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at the end")


if __name__ == "__main__":
    main()
