"""Event workers run in threads for the tests (each its own event loop and database handle, as a process)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from service.clock import LegalClock
from service.db import Database
from service.events.worker import EventWorker
from service.settings import Settings


class WorkerThread:
    def __init__(self, settings: Settings) -> None:
        self.db = Database(settings.database_url)
        self.worker = EventWorker(self.db, LegalClock(simulation=settings.simulation), settings)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True)

    def _main(self) -> None:
        async def main() -> None:
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
            await asyncio.to_thread(self.worker.prepare)
            self._ready.set()
            await self.worker.run(self._stop)

        asyncio.run(main())

    def start(self) -> WorkerThread:
        self._thread.start()
        self._ready.wait(5)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)
        self.db.dispose()


@contextmanager
def workers(settings: Settings, count: int = 1) -> Iterator[list[WorkerThread]]:
    running = [WorkerThread(settings).start() for _ in range(count)]
    try:
        yield running
    finally:
        for worker in running:
            worker.stop()
