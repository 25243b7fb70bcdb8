"""What the HTTP benchmarks share: a scratch environment, the real app under uvicorn on a free port, and two
client helpers. Not a benchmark itself (the leading underscore keeps it out of ``bench/*.py`` listings)."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from service.served import empty_database, served_copy

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
ADMIN = ("admin", "Bench@123456")
PASSWORD = "Bench@123456"


_next_port = [int(os.environ.get("MOTCUA_BENCH_PORT", "0"))]


def free_port() -> int:
    """The next port from ``MOTCUA_BENCH_PORT`` on (a shared machine's own range), else one the system picks."""
    if _next_port[0]:
        _next_port[0] += 1
        return _next_port[0] - 1
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(database_url: str) -> dict[str, str]:
    """Development secrets made up for the run, the simulated clock, a bootstrap admin."""
    return {**os.environ, "MOTCUA_ENV": "dev", "MOTCUA_DATABASE_URL": database_url,
            "MOTCUA_SECRET_KEY": secrets.token_urlsafe(48), "MOTCUA_CA_KEY_PASSPHRASE": secrets.token_urlsafe(24),
            "MOTCUA_SIMULATION": "true", "MOTCUA_ADMIN_USERNAME": ADMIN[0], "MOTCUA_ADMIN_PASSWORD": ADMIN[1],
            "PYTHONPATH": str(ROOT)}


def migrate(database_url: str) -> None:
    subprocess.run([PYTHON, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=environment(database_url),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def fresh_database(database_url: str) -> None:
    """An empty scratch database (PostgreSQL: its public schema dropped), migrated to the head revision."""
    empty_database(database_url)
    migrate(database_url)


@dataclass(frozen=True)
class Server:
    base: str
    pid: int


@contextmanager
def app_server(database_url: str) -> Iterator[Server]:
    """``uvicorn service.main:app`` with one worker on a migrated database, up once ``/health`` answers."""
    with served_copy(environment(database_url), free_port()) as copy:
        yield Server(copy.base, copy.pid)


def ok(response: httpx.Response, status: int = 200) -> Any:
    if response.status_code != status:
        raise SystemExit(f"{response.request.method} {response.request.url} → {response.status_code}: "
                         f"{response.text[:500]}")
    return response.json() if response.content else None


def token(client: httpx.Client, username: str, password: str) -> dict[str, str]:
    body = ok(client.post("/api/v1/auth/token", data={"username": username, "password": password}))
    return {"Authorization": f"Bearer {body['access_token']}"}
