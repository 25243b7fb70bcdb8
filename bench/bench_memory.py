"""Memory: a worker's resident set after 1,000 requests and after ``--requests`` (100,000), on one server.

Run (``make bench-memory`` installs Debian's ``wrk`` first)::

    .venv/bin/python bench/bench_memory.py [--requests 100000] [--pg-url postgresql://…/speed_bench]

One ``motcua serve`` worker (as in ``bench/bench_hotpath.py``: a fresh database, ``MOTCUA_WORKER=false``) serves
a desk's mixed traffic from ``wrk`` (16 connections): 45 % ``GET /dossiers/{code}`` over the dossiers lodged so
far, 20 % list pages (``GET /dossiers?limit=50``), 25 % ``GET /health`` and 10 % counter submissions.

The first 1,000 requests are counted out in those shares (``wrk`` stops each kind after its count; submissions
first, so that there are dossiers to look up); then rounds of ``--round-seconds`` (30) follow, each kind for its
share of the time (wrk runs for a time; each round's requests/s and worker CPU ms per request, per kind, are shown
beside its reading). The requests a reading follows are the responses the worker sent, counted in its access log
(uvicorn's, one line a response; the set-up's few requests included), once the count has stopped moving — not what
wrk counted, which misses the answers in flight when a counted run stops. Each reading shows the worker's RSS from
``/proc/<pid>/status`` with its anonymous (heap: Python objects, SQLite page caches, malloc arenas, thread stacks)
and file-backed (mapped code and libraries) parts, and its threads. The goal is the last reading within 10 % of the
first (no leak: caches are bounded, nothing grows per request).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_hotpath import SOURCE, SUBMISSION, Figures, build_world, fresh_database, run_wrk, saved_codes, serve

MIX = (("lookup", 0.45), ("list", 0.20), ("health", 0.25), ("submit", 0.10))
FIRST_READING = 1_000
RESPONSE_LINE = re.compile(rb'" [1-5][0-9][0-9]\b')


def answered(access_log: Path) -> int:
    """Responses the worker has sent: the lines of its access log."""
    return len(RESPONSE_LINE.findall(access_log.read_bytes()))


def settled(access_log: Path) -> int:
    """The responses sent, once the worker has finished what the last run left in flight (the count stands still
    for a second: on a loaded machine a queued submission can take half of one)."""
    count, still = answered(access_log), 0
    while still < 4:
        time.sleep(0.25)
        now = answered(access_log)
        still = still + 1 if now == count else 0
        count = now
    return count


def cpu_ms(figures: Figures) -> float:
    """The worker's CPU time per answered request of a run, in ms (load-independent, unlike requests/s)."""
    return 10 * figures.cpu[0] * figures.seconds / figures.ok if figures.ok else 0.0


def memory(pid: int) -> dict[str, float]:
    """RSS, its anonymous and file-backed parts (MiB), and the threads of a process."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
            fields[key] = int(value.split()[0]) / 1024
        elif key == "Threads":
            fields[key] = int(value)
    return fields


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000, help="requests in all")
    parser.add_argument("--round-seconds", type=float, default=30, help="length of a round after the first 1,000")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--pg-url", help="a scratch PostgreSQL database instead of SQLite (its schema is dropped)")
    parser.add_argument("--source", type=Path, help="serve the code of this checkout instead (the 'before' figures)")
    args = parser.parse_args()
    SOURCE["dir"] = args.source.resolve() if args.source else None
    print("command: " + " ".join([Path(sys.executable).name, *sys.argv]))
    print(f"machine: {os.cpu_count()} CPUs; load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as name:
        tmp = Path(name)
        url = args.pg_url or f"sqlite:///{tmp / 'memory.db'}"
        access_log = tmp / "access.log"
        fresh_database(url)
        with serve(url, access_log=access_log) as server:
            tokens = build_world(server.base)
            pid = server.processes()[0]
            codes: list[str] = []
            readings: list[tuple[int, float]] = []

            def run(kind: str, **common: Any) -> Figures:
                if kind == "submit":
                    lodged = tmp / "lodged-"
                    figures = run_wrk(server, kind, method="POST", path="/api/v1/dossiers", body=SUBMISSION,
                                      save=lodged, **common)
                    codes.extend(saved_codes(lodged))
                elif kind == "lookup":
                    figures = run_wrk(server, kind, path="/api/v1/dossiers/{code}", codes=codes,
                                      **({"count": 10**9} | common))
                elif kind == "list":
                    figures = run_wrk(server, kind, path="/api/v1/dossiers?limit=50", **common)
                else:
                    figures = run_wrk(server, kind, **common)
                if figures.other:
                    raise SystemExit(f"{kind}: {figures.other} answers were not 2xx")
                return figures

            def reading(rates: str = "") -> None:
                sent = settled(access_log)
                figures = memory(pid)
                readings.append((sent, figures["VmRSS"]))
                print(f"after {sent:>7,} requests: RSS {figures['VmRSS']:6.1f} MiB (anonymous "
                      f"{figures['RssAnon']:6.1f}, file {figures['RssFile']:5.1f}, shared memory "
                      f"{figures['RssShmem']:4.1f}); {figures['Threads']} threads{rates}", flush=True)

            common = {"connections": args.connections, "tmp": tmp, "bearer": tokens["receiver"]}
            while (left := FIRST_READING - settled(access_log)) > 0:
                # Submissions first (the lookups need dossiers); each kind stops after its count.
                for kind, share in sorted(MIX, key=lambda item: item[0] != "submit"):
                    count = max(1, round(left * share))
                    if kind != "lookup" or codes:
                        run(kind, count=count, seconds=max(2.0, count / 40), **common)
            reading()
            while readings[-1][0] < args.requests:
                rates = [run(kind, seconds=max(1.0, args.round_seconds * share), **common) for kind, share in MIX]
                reading("; req/s (ms of worker CPU each) " + ", ".join(
                    f"{figures.name} {figures.rate:.0f} ({cpu_ms(figures):.1f})" for figures in rates))
    (first_sent, first), (last_sent, last) = readings[0], readings[-1]
    change = 100 * (last - first) / first
    print(f"\nRSS after {last_sent:,} ÷ after {first_sent:,}: {last / first:.3f} ({change:+.1f} %; "
          f"goal within ±10 %) {'ok' if abs(change) <= 10 else 'OVER GOAL'}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"total run time {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
