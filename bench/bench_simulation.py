"""Simulation benchmark: how fast `motcua simulate` plays the province scenario, and whether the cost of a dossier
stays flat as the year fills up. Prints figures and ratios measured in one run.

    .venv/bin/python bench/bench_simulation.py                        # 20,000 then 100,000 dossiers, SQLite
    .venv/bin/python bench/bench_simulation.py --postgres             # the same on PostgreSQL too
    .venv/bin/python bench/bench_simulation.py --sizes 20000 --postgres
    .venv/bin/python bench/bench_simulation.py --sizes 20000 --workers 1,2   # one process, then two

Each size is a fresh database (SQLite file under /tmp, or a PostgreSQL database created next to ``--pg-url``)
and a run of the province scenario (seed 1) cut at the day its N-th dossier arrives (``--limit``). Figures are
the run's own: dossiers per second and control-slip rows per second over the simulation loop (set-up and the
summary excluded), and peak memory of the process. Ratios: per-dossier cost at the larger size over the
smaller (1.0 = linear; the goal is a flat cost, so a year of 500,000 takes minutes), PostgreSQL over SQLite,
one process over two (``--workers 1,2``: the same rows, played in parallel shards; peak memory is the main
process's).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MOTCUA = ROOT / ".venv" / "bin" / "motcua"


def run(url: str, limit: int, workers: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile(suffix=".json") as summary:
        child = subprocess.Popen([str(MOTCUA), "simulate", "--scenario", "province", "--seed", "1", "--limit",
                                  str(limit), "--database-url", url, "--json", summary.name, "--no-progress",
                                  "--workers", str(workers)],
                                 stdout=subprocess.DEVNULL, env={**os.environ, "MOTCUA_ENV": "dev"})
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            raise SystemExit(f"motcua simulate failed with exit status {child.returncode}")
        data = json.loads(Path(summary.name).read_text())
    return {"dossiers": data["submitted"], "seconds": data["seconds"], "events": data["events"],
            "peak_mib": usage.ru_maxrss / 1024}


def pg_database(base: str, name: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(make_url(base).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return str(make_url(base).set(database=name))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="20000,100000", help="comma-separated dossier counts")
    parser.add_argument("--postgres", action="store_true", help="also run on PostgreSQL")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--workers", default="2", help="comma-separated numbers of processes (default 2)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    counts = [int(n) for n in args.workers.split(",")]
    targets = ["sqlite"] + (["postgresql"] if args.postgres else [])
    results: dict[tuple[str, int], dict[str, float]] = {}
    by_workers: dict[tuple[str, int, int], float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for target in targets:
            for size in sizes:
                for workers in counts:
                    url = f"sqlite:///{tmp}/sim-{size}-{workers}.db" if target == "sqlite" else \
                        pg_database(args.pg_url, f"bench_sim_{size}_{workers}")
                    figures = results[(target, size)] = run(url, size, workers)
                    by_workers[(target, size, workers)] = figures["seconds"]
                    print(f"{target:<10} {workers} process(es) {int(figures['dossiers']):>8,} dossiers  "
                          f"{figures['seconds']:8.1f} s  "
                          f"{figures['dossiers'] / figures['seconds']:8.0f} dossiers/s  "
                          f"{figures['events'] / figures['seconds']:8.0f} control-slip rows/s  "
                          f"peak {figures['peak_mib']:.0f} MiB", flush=True)
    print()
    for (target, size, workers), seconds in by_workers.items():
        if workers != counts[0]:
            print(f"{target} {size:,}: {counts[0]} process(es) ÷ {workers} = "
                  f"{by_workers[(target, size, counts[0])] / seconds:.2f}")
    for target in targets:
        if len(sizes) > 1:
            small, large = results[(target, sizes[0])], results[(target, sizes[-1])]
            ratio = (large["seconds"] / large["dossiers"]) / (small["seconds"] / small["dossiers"])
            print(f"{target}: cost per dossier at {sizes[-1]:,} ÷ at {sizes[0]:,} = {ratio:.2f}")
    if args.postgres:
        for size in sizes:
            pg, lite = results[("postgresql", size)], results[("sqlite", size)]
            print(f"{size:,}: PostgreSQL ÷ SQLite wall time per dossier = "
                  f"{(pg['seconds'] / pg['dossiers']) / (lite['seconds'] / lite['dossiers']):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
