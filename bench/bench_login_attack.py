"""The anonymous login attack of issue 12 (item 1): memory and ``/health`` latency of one served worker.

Run: ``.venv/bin/python bench/bench_login_attack.py [--source DIR] [--port 8120]``. Serves the app found in
``--source`` (default: this checkout; pass an export of an older commit, e.g. ``git archive <commit> | tar -x -C
/tmp/before``, to measure "before") on SQLite with the production Argon2 cost, as ``motcua serve`` does when the
checkout has it (else plain ``uvicorn``, as before). Then 200 ``POST /auth/token`` with distinct unknown
usernames, 40 at a time, from one address, while ``/health`` is probed every 100 ms. Prints the worker's RSS
before and at its peak, the ``/health`` latency before and during the attack (median, 95th percentile, worst)
and how the logins were answered.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
ATTEMPTS = 200
CONCURRENCY = 40


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def start(source: Path, port: int, database_url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MOTCUA_ENV": "dev", "MOTCUA_DATABASE_URL": database_url,
           "MOTCUA_SECRET_KEY": secrets.token_urlsafe(48), "MOTCUA_ADMIN_USERNAME": "admin",
           "MOTCUA_ADMIN_PASSWORD": "Bench@123456", "PYTHONPATH": str(source)}
    subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=source, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if (source / "service" / "server.py").exists():
        command = [sys.executable, "-m", "service.cli", "serve", "--port", str(port), "--workers", "1"]
    else:
        command = [sys.executable, "-m", "uvicorn", "service.main:app", "--port", str(port)]
    process = subprocess.Popen([*command, "--host", "127.0.0.1"], cwd=source, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("the server did not start")


def probe_health(base: str, stop: threading.Event, samples: list[float]) -> None:
    with httpx.Client(base_url=base, timeout=30) as client:
        while not stop.is_set():
            started = time.perf_counter()
            with contextlib.suppress(httpx.HTTPError):  # a timeout counts as the time waited
                client.get("/health")
            samples.append((time.perf_counter() - started) * 1000)
            stop.wait(0.1)


def watch_rss(pid: int, stop: threading.Event, peak: list[float]) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], rss_mib(pid))
        stop.wait(0.05)


async def attack(base: str) -> dict[int, int]:
    gate = asyncio.Semaphore(CONCURRENCY)
    answers: dict[int, int] = {}
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        async def one(i: int) -> None:
            async with gate:
                response = await client.post("/api/v1/auth/token",
                                             data={"username": f"attacker{i}", "password": "guess"})
                answers[response.status_code] = answers.get(response.status_code, 0) + 1

        await asyncio.gather(*(one(i) for i in range(ATTEMPTS)))
    return answers


def summary(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered):7.1f} ms   p95 {p95:7.1f} ms   worst {ordered[-1]:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=ROOT)
    parser.add_argument("--port", type=int, default=8120)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        process = start(args.source.resolve(), args.port, f"sqlite:///{scratch}/bench.db")
        base = f"http://127.0.0.1:{args.port}"
        try:
            quiet: list[float] = []
            stop_quiet = threading.Event()
            prober = threading.Thread(target=probe_health, args=(base, stop_quiet, quiet))
            prober.start()
            time.sleep(3)
            stop_quiet.set()
            prober.join()
            idle_rss = rss_mib(process.pid)

            during: list[float] = []
            peak = [idle_rss]
            stop = threading.Event()
            threads = [threading.Thread(target=probe_health, args=(base, stop, during)),
                       threading.Thread(target=watch_rss, args=(process.pid, stop, peak))]
            for thread in threads:
                thread.start()
            started = time.perf_counter()
            answers = asyncio.run(attack(base))
            elapsed = time.perf_counter() - started
            stop.set()
            for thread in threads:
                thread.join()
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(f"source: {args.source.resolve()}")
    print(f"login attack: {ATTEMPTS} distinct usernames, {CONCURRENCY} at a time, one address, {elapsed:.1f} s")
    print(f"answers: {dict(sorted(answers.items()))}")
    print(f"worker RSS: idle {idle_rss:.0f} MiB, peak during the attack {peak[0]:.0f} MiB")
    print(f"/health idle:   {summary(quiet)}")
    print(f"/health attack: {summary(during)}")


if __name__ == "__main__":
    main()
