"""Memory: a worker's resident set after 1,000 requests and after ``--requests`` (100,000), on one server.

Run (``make bench-memory`` installs Debian's ``wrk`` first)::

    .venv/bin/python bench/bench_memory.py [--requests 100000] [--pg-url postgresql://…/speed_bench]

One ``motcua serve`` worker (as in ``bench/bench_hotpath.py``: a fresh database, ``MOTCUA_WORKER=false``) serves
rounds of a desk's mixed traffic from ``wrk`` (16 connections): 45 % ``GET /dossiers/{code}`` over the dossiers
lodged so far, 20 % list pages (``GET /dossiers?limit=50``), 25 % ``GET /health`` and 10 % counter submissions.
(in time shares: wrk runs for a time). The worker's RSS (``/proc/<pid>/status``) is read once 1,000 requests
were answered and then after every round (``--round-seconds``, 30); the
goal is the last reading within 10 % of the first (no leak: caches are bounded, nothing grows per request).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from bench_hotpath import SUBMISSION, build_world, fresh_database, rss_mib, run_wrk, saved_codes, serve

MIX = (("lookup", 0.45), ("list", 0.20), ("health", 0.25), ("submit", 0.10))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000, help="requests in all")
    parser.add_argument("--round-seconds", type=float, default=30, help="length of a round after the first 1,000")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--pg-url", help="a scratch PostgreSQL database instead of SQLite (its schema is dropped)")
    args = parser.parse_args()
    print("command: " + " ".join([Path(sys.executable).name, *sys.argv]))
    print(f"machine: {os.cpu_count()} CPUs; load average before: {os.getloadavg()[0]:.2f}")
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as name:
        tmp = Path(name)
        url = args.pg_url or f"sqlite:///{tmp / 'memory.db'}"
        fresh_database(url)
        with serve(url) as server:
            tokens = build_world(server.base)
            pid = server.processes()[0]
            codes: list[str] = []
            sent, readings = 0, []

            def round_of(seconds: float) -> None:
                """One round of the mix, each kind for its share of ``seconds`` (wrk runs for a time, not a
                count: the requests answered are counted)."""
                nonlocal sent
                for kind, share in MIX:
                    common = {"seconds": max(1.0, seconds * share), "connections": args.connections, "tmp": tmp,
                              "bearer": tokens["receiver"]}
                    if kind == "submit":
                        lodged = tmp / "lodged-"
                        figures = run_wrk(server, kind, method="POST", path="/api/v1/dossiers", body=SUBMISSION,
                                          save=lodged, **common)
                        codes.extend(saved_codes(lodged))
                    elif kind == "lookup" and codes:
                        figures = run_wrk(server, kind, path="/api/v1/dossiers/{code}", codes=codes,
                                          count=10**9, **common)
                    elif kind == "list":
                        figures = run_wrk(server, kind, path="/api/v1/dossiers?limit=50", **common)
                    else:
                        figures = run_wrk(server, kind, **common)
                    sent += figures.ok + figures.other
                    if figures.other:
                        raise SystemExit(f"{kind}: {figures.other} answers were not 2xx")

            while sent < 1_000:
                round_of(4)
            readings.append((sent, rss_mib(pid)))
            print(f"after {sent:>7,} requests: RSS {readings[-1][1]:7.1f} MiB", flush=True)
            while sent < args.requests:
                round_of(args.round_seconds)
                readings.append((sent, rss_mib(pid)))
                print(f"after {sent:>7,} requests: RSS {readings[-1][1]:7.1f} MiB", flush=True)
    first, last = readings[0][1], readings[-1][1]
    change = 100 * (last - first) / first
    print(f"\nRSS after {readings[-1][0]:,} ÷ after {readings[0][0]:,}: {last / first:.3f} ({change:+.1f} %; "
          f"goal within ±10 %) {'ok' if abs(change) <= 10 else 'OVER GOAL'}")
    print(f"load average after: {os.getloadavg()[0]:.2f}; total run time {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
