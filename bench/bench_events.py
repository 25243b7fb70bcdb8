"""Events: webhook delivery rate with 1 and 2 workers, the outbox's cost on a submission, commit→webhook
latency under load, and SSE with 100 idle subscribers beside one busy desk.

    .venv/bin/python bench/bench_events.py --pg-url postgresql://postgres@127.0.0.1:5432/motcua_bench_events

About three minutes with the defaults; ``--quick`` for a smoke run; ``MOTCUA_BENCH_PORT`` fixes the ports used.

The PostgreSQL database is scratch: its public schema is dropped first. The outbox's cost is also measured on a
scratch SQLite file. Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _server import PYTHON, ROOT, environment, free_port, fresh_database

from service.db import Database
from service.served import served_copy

DESK = ("tiepnhan", "Demo@123456")  # the demo's desk of xã Tiên Yên
IDLE = ("tiepnhan.stp", "Demo@123456")  # another agency's desk: its feed stays quiet
ADMIN = ("admin", "Admin@123456")  # the demo's admin (loaded before the bootstrap admin)
PROCEDURE = "1.001612.000.00.00.H49"
BODY = {"procedure_code": PROCEDURE, "channel": "counter", "result_delivery": "counter",
        "applicant": {"national_id": "022090001234", "full_name": "Lê Văn Hùng"}, "documents": [{"code": "TP01"}]}
SECRET = "bench-webhook-secret-0123456789"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else float("nan")


def describe(samples: list[float]) -> str:
    return f"p50 {percentile(samples, 0.5):7.1f} ms  p99 {percentile(samples, 0.99):7.1f} ms  n={len(samples)}"


def fresh(url: str) -> None:
    """An empty scratch database, migrated, with the demo data."""
    fresh_database(url)
    subprocess.run([PYTHON, "-m", "service.cli", "demo"], cwd=ROOT, env=environment(url), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def env_for(url: str, **extra: str) -> dict[str, str]:
    return {**environment(url), "MOTCUA_WEBHOOK_ALLOW_PRIVATE": "true", "MOTCUA_WORKER": "false",
            "MOTCUA_WORKER_POLL_SECONDS": "0.1", **extra}


# ------------------------------------------------------------------------------------------ a local receiver


class Arrivals:
    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.by_subject: dict[tuple[str, int | None], float] = {}
        self.lock = threading.Lock()


@contextmanager
def receiver() -> Iterator[tuple[str, Arrivals]]:
    arrivals = Arrivals()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            now = time.time()
            with arrivals.lock:
                arrivals.at.setdefault(event["id"], now)
                arrivals.by_subject.setdefault((event["subject"], event["data"]["seq"]), now)
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", arrivals
    finally:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------------------------------------ processes


@contextmanager
def api(url: str) -> Iterator[str]:
    with served_copy(env_for(url), free_port()) as copy:
        yield copy.base


@contextmanager
def workers(url: str, count: int) -> Iterator[None]:
    processes = [subprocess.Popen([PYTHON, "-m", "service.cli", "worker"], cwd=ROOT, env=env_for(url),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(count)]
    try:
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)


def token(base: str, username: str, password: str) -> dict[str, str]:
    response = httpx.post(f"{base}/api/v1/auth/token", data={"username": username, "password": password})
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def subscribe(base: str, url: str) -> None:
    response = httpx.post(f"{base}/api/v1/subscriptions", json={"url": url, "secret": SECRET},
                          headers=token(base, *ADMIN))
    assert response.status_code == 201, response.text


def count_events(url: str) -> int:
    db = Database(url)
    with db.transaction(read_only=True) as session:
        count = int(session.execute(text("SELECT count(*) FROM event")).scalar_one())
    db.dispose()
    return count


# ------------------------------------------------------------------------------------------ 1. delivery rate


def delivery_rate(url: str, dossiers: int) -> None:
    print(f"\n== webhook delivery rate, PostgreSQL, {dossiers} bulk dossiers per run ==")
    for count in (1, 2):
        with receiver() as (hook, arrivals), api(url) as base:
            subscribe(base, hook)
            before = count_events(url)
            subprocess.run([PYTHON, "-m", "service.bulk", "--database-url", url, "-n", str(dossiers),
                            "--from", "2026-01-05", "--to", "2026-02-27", "--seed", str(count)],
                           cwd=ROOT, env=env_for(url), check=True, stdout=subprocess.DEVNULL)
            expected = count_events(url) - before
            began = time.perf_counter()
            with workers(url, count):
                while len(arrivals.at) < expected:
                    if time.perf_counter() - began > 600:
                        break
                    time.sleep(0.05)
                seconds = time.perf_counter() - began
            print(f"{count} worker(s): {len(arrivals.at)} of {expected} events in {seconds:6.1f} s = "
                  f"{len(arrivals.at) / seconds:7.1f} events/s (worker start-up included)")


# ------------------------------------------------------------------------------------------ 2. outbox cost


def outbox_cost(url: str, label: str, rounds: int, per_round: int) -> None:
    from service.domain.legal_time import to_legal_time as to_local
    from service.dossiers.submission import submit
    from service.events import outbox
    from service.models import User
    from service.schemas.dossiers import DossierIn

    fresh(url)
    db = Database(url)
    data = DossierIn.model_validate(BODY)
    with db.transaction(read_only=True) as session:
        from sqlmodel import select

        user = session.exec(select(User).where(User.username == DESK[0])).one()
    real_append = outbox.append
    rates: dict[str, list[float]] = {"with": [], "without": []}
    now = to_local(datetime.fromisoformat("2026-03-02T08:00:00+07:00"))
    for _ in range(rounds):
        for mode in ("with", "without"):
            # "without": the writers' events are not even queued, so no lock and no INSERT at commit
            outbox.append = real_append if mode == "with" else (lambda session, values: None)  # type: ignore[assignment]
            began = time.perf_counter()
            for _ in range(per_round):
                with db.transaction() as session:
                    submit(session, user=user, data=data, now=now)
            took = time.perf_counter() - began
            rates[mode].append(per_round / took)
    outbox.append = real_append  # type: ignore[assignment]
    db.dispose()
    with_, without = statistics.median(rates["with"]), statistics.median(rates["without"])
    print(f"{label}: counter submissions (submit + receive rows, one transaction each): with the outbox "
          f"{with_:6.1f}/s, without {without:6.1f}/s (medians of {rounds} alternating rounds of {per_round}); "
          f"with/without = {with_ / without:.3f} ({100 * (1 - with_ / without):+.1f} % slower)")


# ------------------------------------------------------------------------------------------ 3. latency, 4. SSE


def desk_load(base: str, clients: int, seconds: float) -> tuple[list[float], dict[str, float], float]:
    """``clients`` threads lodge counter dossiers for ``seconds``: latencies (ms), answer time per code."""
    headers = token(base, *DESK)
    latencies: list[float] = []
    answered: dict[str, float] = {}
    deadline = time.perf_counter() + seconds

    def run() -> None:
        with httpx.Client(base_url=base, timeout=60, headers=headers) as client:
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                response = client.post("/api/v1/dossiers", json=BODY)
                if response.status_code == 201:
                    answered[response.json()["code"]] = time.time()
                    latencies.append((time.perf_counter() - began) * 1000)

    threads = [threading.Thread(target=run) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, answered, time.perf_counter() - began


def wait_for(arrived: Any, seconds: float) -> float:
    """Poll ``arrived()`` until true or ``seconds`` pass; returns the time waited."""
    began = time.perf_counter()
    while not arrived() and time.perf_counter() - began < seconds:
        time.sleep(0.05)
    return time.perf_counter() - began


def latency(url: str, seconds: float, clients: int, tail_seconds: float) -> None:
    print(f"\n== commit → webhook arrival, PostgreSQL, {clients} desk clients for {seconds:.0f} s, 1 API process, "
          "1 worker process (poll 0.1 s) ==")
    fresh(url)
    with receiver() as (hook, arrivals), api(url) as base, workers(url, 1):
        subscribe(base, hook)
        _, warm, _ = desk_load(base, clients, min(3.0, seconds))  # warm-up: connections, caches, the worker
        wait_for(lambda: all((code, 2) in arrivals.by_subject for code in warm), tail_seconds)
        latencies, answered, took = desk_load(base, clients, seconds)
        waited = wait_for(lambda: all((code, 2) in arrivals.by_subject for code in answered), tail_seconds)
    delays = [(arrivals.by_subject[(code, 2)] - at) * 1000 for code, at in answered.items()
              if (code, 2) in arrivals.by_subject]
    print(f"{len(answered) / took:6.1f} submissions/s; submit {describe(latencies)}")
    print(f"HTTP answer → its 'receive' event at the webhook: {describe(delays)}; max {max(delays, default=0):.0f} ms "
          f"({len(delays)} of {len(answered)} arrived; the tail took {waited:.1f} s after the load, bound "
          f"{tail_seconds:.0f} s)")


class Stream(threading.Thread):
    def __init__(self, url: str, headers: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.url, self.headers = url, headers
        self.seen: dict[str, float] = {}
        self.connected = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.stream("GET", self.url, headers=self.headers, timeout=None) as response:
            self.connected.set()
            for line in response.iter_lines():
                if self.stop.is_set():
                    return
                if line.startswith("data: "):
                    event = json.loads(line[6:])
                    if event["data"]["seq"] == 2:
                        self.seen[event["subject"]] = time.time()


def idle_subscribers(base: str, count: int) -> None:
    """Child process: ``count`` streams of another agency's desk, held open until killed."""
    quiet = token(base, *IDLE)
    streams = [Stream(f"{base}/api/v1/events/stream", quiet) for _ in range(count)]
    for stream in streams:
        stream.start()
    for stream in streams:
        stream.connected.wait(120)
    print(sum(s.connected.is_set() for s in streams), flush=True)
    while True:
        time.sleep(1)
        if any(stream.seen for stream in streams):
            print("an idle stream received an event", file=sys.stderr, flush=True)


def sse(url: str, seconds: float, idle: int, clients: int, rounds: int) -> None:
    print(f"\n== SSE: one busy desk ({clients} clients), alone and beside {idle} idle subscribers (another agency, "
          f"in a separate client process), alternating {rounds} rounds, PostgreSQL ==")
    fresh(url)
    phase = max(3.0, seconds / rounds)
    rates: dict[str, list[float]] = {"alone": [], "beside": []}
    latencies: dict[str, list[float]] = {"alone": [], "beside": []}
    with api(url) as base:
        desk_load(base, clients, min(3.0, seconds))  # warm-up
        busy = Stream(f"{base}/api/v1/events/stream", token(base, *DESK))
        busy.start()
        busy.connected.wait(60)
        answered_all: dict[str, float] = {}
        for _ in range(rounds):
            for mode in ("alone", "beside"):
                child = None
                if mode == "beside":
                    child = subprocess.Popen([PYTHON, __file__, "--subscribers-of", base, "--idle", str(idle)],
                                             cwd=ROOT, stdout=subprocess.PIPE, text=True)
                    assert child.stdout is not None
                    connected = int(child.stdout.readline() or 0)
                    if connected < idle:
                        print(f"  only {connected} of {idle} idle streams connected")
                try:
                    done, answered, took = desk_load(base, clients, phase)
                finally:
                    if child is not None:
                        child.kill()
                        child.wait()
                rates[mode].append(len(done) / took)
                latencies[mode] += done
                answered_all.update(answered)
        wait_for(lambda: all(code in busy.seen for code in answered_all), 30)
        busy.stop.set()
    alone, beside = statistics.median(rates["alone"]), statistics.median(rates["beside"])
    print(f"alone:  {alone:6.1f} submissions/s (median of {rounds}); submit {describe(latencies['alone'])}")
    print(f"beside: {beside:6.1f} submissions/s (median of {rounds}); submit {describe(latencies['beside'])}; "
          f"beside/alone = {beside / alone:.3f}")
    delays = [(busy.seen[code] - at) * 1000 for code, at in answered_all.items() if code in busy.seen]
    print(f"the desk's own stream: answer → 'receive' event on SSE {describe(delays)} "
          f"({len(delays)} of {len(answered_all)} seen)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", default=os.environ.get("MOTCUA_BENCH_POSTGRES_URL",
                                                           "postgresql://postgres@127.0.0.1:5432/motcua_bench_events"))
    parser.add_argument("--dossiers", type=int, default=300, help="bulk dossiers per delivery-rate run")
    parser.add_argument("--seconds", type=float, default=12, help="length of each load phase")
    parser.add_argument("--clients", type=int, default=4, help="desk clients lodging dossiers in a load phase")
    parser.add_argument("--tail-seconds", type=float, default=60,
                        help="how long to wait for the last webhooks after the load")
    parser.add_argument("--idle", type=int, default=100, help="idle SSE subscribers")
    parser.add_argument("--rounds", type=int, default=10, help="alternating with/without rounds of the outbox cost")
    parser.add_argument("--per-round", type=int, default=20, help="submissions per round")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of every part")
    parser.add_argument("--sse-rounds", type=int, default=3, help="alternating alone/beside rounds of the SSE part")
    parser.add_argument("--only", choices=["rate", "cost", "latency", "sse"], action="append")
    parser.add_argument("--subscribers-of", help=argparse.SUPPRESS)  # the SSE part's child process
    args = parser.parse_args()
    if args.subscribers_of:
        idle_subscribers(args.subscribers_of, args.idle)
        return
    if args.quick:
        args.dossiers, args.seconds, args.idle, args.rounds, args.per_round = 50, 4, 20, 2, 10
    only = set(args.only or ["cost", "rate", "latency", "sse"])
    os.system("uptime")
    if "cost" in only:
        print("== the outbox's cost on a submission (in-process, same run) ==")
        with tempfile.TemporaryDirectory() as tmp:
            outbox_cost(f"sqlite:///{tmp}/bench.db", "SQLite", args.rounds, args.per_round)
        outbox_cost(args.pg_url, "PostgreSQL", args.rounds, args.per_round)
    if "rate" in only:
        fresh(args.pg_url)
        delivery_rate(args.pg_url, args.dossiers)
    if "latency" in only:
        latency(args.pg_url, args.seconds, args.clients, args.tail_seconds)
    if "sse" in only:
        sse(args.pg_url, args.seconds, args.idle, args.clients, args.sse_rounds)
    os.system("uptime")


if __name__ == "__main__":
    main()
