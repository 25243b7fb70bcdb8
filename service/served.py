"""A served copy of the app: ``uvicorn service.main:app`` in a child process, ready once ``/health`` answers.

The one starter used by the HTTP benchmarks (``bench/_server.py``, ``bench/bench_events.py``) and the browser
tests (``tests/e2e``): each passes its own environment (database, secrets, settings) and port.
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
