"""Units of work that write take a slot of the process (``MOTCUA_CONCURRENT_WRITES``, ``service.deps.get_session``):
a burst of writes larger than the handler threads is served in full, writers wait on the event loop beyond the
slots, and reads never wait for them.

The requests run concurrently in one event loop (``httpx.ASGITransport``), as uvicorn runs them, on anyio's worker
threads."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.deps import SessionDep
from service.main import create_app
from tests.builders import build_world, dossier_body
from tests.conftest import empty_tables, make_settings

BURST = 12


def _app(database_url: str, tmp_path: Path, **overrides: Any) -> FastAPI:
    empty_tables(database_url)
    return create_app(make_settings(database_url, tmp_path, **overrides))


async def _all_at_once(app: FastAPI, requests: list[tuple[str, str, dict[str, Any]]], *,
                       threads: int | None = None) -> list[httpx.Response]:
    if threads is not None:  # the server's handler threads, fewer than anyio's 40 so that a burst outnumbers them
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        with anyio.fail_after(25):  # a writer left without a thread waits SQLITE_BUSY_SECONDS (30 s) in vain
            return await asyncio.gather(*(client.request(method, path, **kwargs) for method, path, kwargs in requests))


def test_a_burst_of_submissions_larger_than_the_handler_threads_is_served_in_full(
        database_url: str, tmp_path: Path) -> None:
    # No kept accounts: each submission reads its officer's account on its own write connection, then goes back
    # to the event loop and on to its handler in another worker thread (on SQLite, holding the write lock).
    app = _app(database_url, tmp_path, account_cache_seconds=0, concurrent_writes=3)
    with TestClient(app) as client:
        world = build_world(client)
        headers = world.as_("receiver")
        burst = [("POST", "/api/v1/dossiers", {"json": dossier_body(), "headers": headers}) for _ in range(BURST)]
        answers = asyncio.run(_all_at_once(app, burst, threads=4))
        assert [a.status_code for a in answers] == [201] * BURST, [a.text for a in answers if a.status_code != 201]
        codes = {a.json()["code"] for a in answers}
        listed = client.get("/api/v1/dossiers", params={"limit": 50}, headers=world.as_("admin")).json()["items"]
        assert codes == {d["code"] for d in listed} and len(codes) == BURST


class _InFlight:
    """How many handlers run at once, at most."""

    def __init__(self) -> None:
        self._lock, self.now, self.most = threading.Lock(), 0, 0

    def visit(self) -> None:
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(0.05)
        with self._lock:
            self.now -= 1


def _probed_app(database_url: str, tmp_path: Path, slots: int) -> tuple[FastAPI, _InFlight, _InFlight]:
    app = _app(database_url, tmp_path, concurrent_writes=slots)
    writes, reads = _InFlight(), _InFlight()

    @app.post("/probe")
    def write(session: SessionDep) -> None:
        writes.visit()

    @app.get("/probe")
    def read(session: SessionDep) -> None:
        reads.visit()

    return app, writes, reads


def test_writers_beyond_the_slots_wait_and_readers_do_not(database_url: str, tmp_path: Path) -> None:
    app, writes, reads = _probed_app(database_url, tmp_path, slots=2)
    answers = asyncio.run(_all_at_once(app, [("POST", "/probe", {})] * 8 + [("GET", "/probe", {})] * 8))
    assert [a.status_code for a in answers] == [200] * 16
    assert writes.most == 2
    assert reads.most > 2  # eight reads side by side (on anyio's 40 threads), whatever the writers do


def test_one_slot_makes_writers_take_turns(database_url: str, tmp_path: Path) -> None:
    app, writes, _ = _probed_app(database_url, tmp_path, slots=1)
    answers = asyncio.run(_all_at_once(app, [("POST", "/probe", {})] * 6))
    assert [a.status_code for a in answers] == [200] * 6
    assert writes.most == 1
