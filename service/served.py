"""A served copy of the app: ``uvicorn service.main:app`` in a child process, ready once ``/health`` answers.

The one starter used by the HTTP benchmarks (``bench/_server.py``, ``bench/bench_events.py``) and the browser
tests (``tests/e2e``): each passes its own environment (database, secrets, settings) and port. Also the one way
the benchmarks and the test suite empty a scratch database before migrating it (:func:`empty_database`).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def empty_database(url: str) -> None:
    """A PostgreSQL scratch database loses its public schema (and every table in it), so that ``alembic upgrade
    head`` builds it afresh; a SQLite URL names a new file and needs nothing."""
    from sqlalchemy import text

    from service.db import create_db_engine, normalize_database_url

    if not normalize_database_url(url).startswith("postgresql"):
        return
    engine = create_db_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@dataclass(frozen=True)
class ServedCopy:
    base: str
    """``http://127.0.0.1:<port>``"""
    pid: int


@contextmanager
def served_copy(env: Mapping[str, str], port: int, *, workers: int = 1, access_log: bool = False,
                start_seconds: float = 60) -> Iterator[ServedCopy]:
    """Serve the app on ``127.0.0.1:port`` with ``env``; yields its base URL and process id; stops it (SIGTERM)
    on exit."""
    command = [sys.executable, "-m", "uvicorn", "service.main:app", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers), "--log-level", "warning"]
    if not access_log:
        command.append("--no-access-log")
    process = subprocess.Popen(command, cwd=ROOT, env=dict(env))
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_seconds
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                raise RuntimeError(f"the served copy exited during start-up (status {process.returncode})")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the served copy did not answer /health within {start_seconds:.0f} s")
            time.sleep(0.2)
        yield ServedCopy(base, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
