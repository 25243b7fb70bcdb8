"""Staff list pages of an agency that takes part in inter-agency dossiers (issue 15: staff visibility's third
branch, the dossiers one of whose steps the agency started), on an existing database (e.g. a province
simulation's SQLite file, or a PostgreSQL copy of it).

    .venv/bin/python bench/bench_interagency_page.py --db /path/prov20k.db --agency 000.00.12.H49
    .venv/bin/python bench/bench_interagency_page.py --db postgresql+psycopg://…/db --agency 000.00.61.H49

Prints, per list order (``-received_at``, ``due_at``) and with or without a search text, the median time of the
first page of 50 (``list_page``, without the representation) and of a page three cursors deep, and the page's
inter-agency dossiers; on SQLite also the virtual-machine instructions SQLite ran for each (counted by a progress
handler: the work done, whatever the machine's load). ``--repo DIR`` imports the service from another checkout
(a before/after comparison; the database must have that checkout's schema).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="a SQLite file or a database URL")
    parser.add_argument("--agency", required=True)
    parser.add_argument("--repo", default=str(Path(__file__).resolve().parents[1]))
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--q", default="nguyen", help="the search text of the search probes")
    args = parser.parse_args()
    sys.path.insert(0, args.repo)
    from sqlmodel import col, select

    import service.models  # noqa: F401
    from service.db import Database
    from service.dossiers import queries
    from service.models import User

    db = Database(args.db if "://" in args.db else f"sqlite:///{Path(args.db).resolve()}")
    with db.transaction(read_only=True) as session:
        officer = session.exec(select(User).where(User.agency_code == args.agency, User.role == "processor")
                               .order_by(col(User.id))).first()
        assert officer is not None, "the agency has a processor"
        session.expunge(officer)
    steps = [0]
    if db.engine.dialect.name == "sqlite":
        from sqlalchemy import event

        def count(connection: Any, _record: Any) -> None:
            def tick() -> int:
                steps[0] += 1
                return 0
            connection.set_progress_handler(tick, 100)

        event.listen(db.engine, "connect", count)
        db.engine.dispose()
    now = datetime(2025, 2, 1, tzinfo=UTC)
    for sort in queries.SORTS:
        for q in (None, args.q):
            filters = queries.DossierFilter(sort=sort, q=q)
            first, deep, interagency = [], [], 0
            first_steps = deep_steps = 0
            for _ in range(args.runs):
                with db.transaction(read_only=True) as session:
                    steps[0], started = 0, time.perf_counter()
                    rows, cursor = queries.list_page(session, user=officer, filters=filters, now=now, limit=50,
                                                     cursor=None)
                    first.append((time.perf_counter() - started) * 1e3)
                    first_steps, steps[0] = steps[0], 0
                    interagency = sum(1 for r in rows if r.current_step is not None)
                    started = time.perf_counter()
                    for _ in range(3):
                        if cursor is None:
                            break
                        rows, cursor = queries.list_page(session, user=officer, filters=filters, now=now,
                                                         limit=50, cursor=cursor)
                    deep.append((time.perf_counter() - started) * 1e3 / 3)
                    deep_steps = steps[0] // 3
            vm = f"   SQLite instructions ×100: {first_steps:,} / {deep_steps:,}" if first_steps else ""
            print(f"{sort:13s} q={q or '-':8s} first page {statistics.median(first):7.2f} ms   "
                  f"deeper page {statistics.median(deep):7.2f} ms   inter-agency on the first page "
                  f"{interagency}{vm}")


if __name__ == "__main__":
    main()
