"""CPU per write on SQLite with the serving process's one writing connection against writers taking turns over a
pool of connections (issue 19, ``service.db.create_sqlite_writer_engine``).

Run::

    .venv/bin/python bench/bench_writer_connection.py [--requests 300] [--pooled 8]

In WAL mode a SQLite connection drops its whole page cache when it begins a transaction after another connection
has committed. The app of ``bench_cpu_per_request.py`` (its world, its request kinds, in-process through
Starlette's ``TestClient``, one request after the other) is served twice, each on a fresh file: as it is, its
writers sharing one connection; and with a ``Database`` whose writers take any of ``--pooled`` pooled
connections, the pool first filled so that they take turns (it hands out the connection returned longest ago).
The two apps alternate round by round. Printed: CPU ms per request (``time.process_time``, the test client's own
work included, so compare the two columns, not absolute values), the median of ``--rounds`` rounds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per round of each kind")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pooled", type=int, default=8, help="pooled connections the writers take turns on")
    return parser.parse_args()


ARGS = arguments()
sys.argv = [sys.argv[0], "--no-calls"]  # bench_cpu_per_request parses its own arguments when imported
sys.path.insert(0, str(BENCH))

import bench_cpu_per_request as world  # noqa: E402

from service.db import Database  # noqa: E402


class Served:
    """One app on a fresh file, its world built and warmed up; ``writer_connection`` false: its writers take any
    of ``--pooled`` pooled connections, in turn."""

    def __init__(self, stack: ExitStack, *, writer_connection: bool) -> None:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = f"sqlite:///{tmp}/bench.db"
        world.migrate(url)
        app = world.create_app(world.settings(url, tmp))
        client = stack.enter_context(world.TestClient(app))
        self.db = app.state.context.db
        if not writer_connection:
            self.db.dispose()
            self.db = app.state.context.db = Database(url, writer_connection=False)
            held = [self.db.engine.connect() for _ in range(ARGS.pooled)]
            for connection in held:
                connection.close()
        self.kinds = dict(world.Kinds(client, world.build_world(client)).order())
        for call in self.kinds.values():  # warm-up: imports, caches, the first dossiers of each step
            for _ in range(30):
                call()
        self.cpu: dict[str, list[float]] = {}

    def round_of(self, name: str) -> None:
        call = self.kinds[name]
        began = time.process_time()
        for _ in range(ARGS.requests):
            call()
        self.cpu.setdefault(name, []).append(1000 * (time.process_time() - began) / ARGS.requests)


def main() -> None:
    with ExitStack() as stack:
        one = Served(stack, writer_connection=True)
        pooled = Served(stack, writer_connection=False)
        for _ in range(ARGS.rounds):  # the two apps alternate round by round: the machine's drift hits both
            for name in one.kinds:
                one.round_of(name)
                pooled.round_of(name)
        print(f"pooled writers used {pooled.db.engine.pool.checkedin()} connections", file=sys.stderr)
    print(f"SQLite, in-process, {ARGS.rounds} × {ARGS.requests} requests per kind, the two apps alternating; "
          "CPU ms per request (median)")
    print(f"{'request':20} {'one connection':>15} {f'{ARGS.pooled} pooled':>12} {'pooled ÷ one':>13}")
    for name in one.cpu:
        a, b = statistics.median(one.cpu[name]), statistics.median(pooled.cpu[name])
        print(f"{name:20} {a:15.2f} {b:12.2f} {b / a:13.3f}")


if __name__ == "__main__":
    main()
