"""The event worker: webhook delivery, the deadline scanner and the notice senders, as asyncio tasks.

With ``MOTCUA_WORKER=true`` (the default) the app runs one inside its own event loop, so ``make run`` needs
nothing else; ``motcua worker`` runs one as a process of its own (``MOTCUA_WORKER=false`` on the API processes).
Any number may run against one database: they share the work through the database (see
:mod:`service.events.delivery`), never through memory.

Database work runs in threads (the database layer is synchronous); webhook POSTs run concurrently on one
``httpx.AsyncClient`` — at most ``MOTCUA_WEBHOOK_CONCURRENCY`` at once and at most :data:`PER_SUBSCRIPTION` per
subscription — so a receiver that hangs holds only its own slots for at most the 10 s timeout, never a request
of the API nor another subscription's deliveries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable

import httpx

from service.clock import LegalClock
from service.db import Database
from service.domain.legal_time import utc_now
from service.events import delivery, notices, scanner
from service.settings import Settings

log = logging.getLogger("motcua.worker")
PER_SUBSCRIPTION = 8


class EventWorker:
    def __init__(self, db: Database, clock: LegalClock, settings: Settings) -> None:
        self.db, self.clock, self.settings = db, clock, settings
        self.delivered = 0
        self.failed = 0

    def prepare(self) -> None:
        """Start-up work: with a notice sender configured, notices recorded before now are history, not sent."""
        if notices.channels(self.settings):
            with self.db.transaction() as session:
                notices.start(session, utc_now())

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set; in-flight POSTs are then abandoned (their leases run out)."""
        await asyncio.to_thread(self.prepare)
        loops = [self._deliveries(stop), self._every(stop, self.settings.scan_interval_seconds, self.scan_once)]
        if notices.channels(self.settings):
            loops.append(self._every(stop, self.settings.worker_poll_seconds * 2, self.send_notices_once))
        await asyncio.gather(*loops)

    # -- the deadline scanner -----------------------------------------------------------------------------

    def scan_once(self) -> int:
        raised = 0
        while True:
            with self.db.transaction() as session:
                count = scanner.scan(session, self.clock.now(session),
                                     due_soon_working_hours=self.settings.due_soon_working_hours)
            raised += count
            if count < scanner.BATCH:
                return raised

    # -- notices -------------------------------------------------------------------------------------------

    def send_notices_once(self) -> int:
        configured = notices.channels(self.settings)
        with self.db.transaction() as session:
            outgoing = notices.claim(session, utc_now(), configured)
        with httpx.Client() as client:
            for item in outgoing:
                error = notices.send(self.settings, client, item)
                with self.db.transaction() as session:
                    notices.record(session, item, error, utc_now())
                if error:
                    log.warning("notice %s by %s failed: %s", item.id, item.channel, error)
        return len(outgoing)

    # -- webhooks ------------------------------------------------------------------------------------------

    def fan_out_once(self) -> int:
        with self.db.transaction() as session:
            return delivery.fan_out(session, utc_now())

    def _claim(self, limit: int, busy: frozenset[int]) -> list[delivery.Claimed]:
        with self.db.transaction() as session:
            return delivery.claim(session, utc_now(), limit=limit, busy_subscriptions=busy)

    def _record(self, item: delivery.Claimed, outcome: delivery.Outcome) -> None:
        with self.db.transaction() as session:
            delivery.record(session, item, outcome, utc_now(),
                            retry_base_seconds=self.settings.webhook_retry_base_seconds)

    async def _attempt(self, client: httpx.AsyncClient, item: delivery.Claimed) -> None:
        outcome = await delivery.post(client, item, allow_private=self.settings.webhook_allow_private,
                                      timeout=self.settings.webhook_timeout_seconds)
        await asyncio.to_thread(self._record, item, outcome)
        if outcome.delivered:
            self.delivered += 1
        else:
            self.failed += 1

    async def _deliveries(self, stop: asyncio.Event) -> None:
        limit = self.settings.webhook_concurrency
        in_flight: dict[asyncio.Task[None], int] = {}
        per_subscription: Counter[int] = Counter()
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=limit)) as client:
            try:
                while not stop.is_set():
                    try:
                        while await asyncio.to_thread(self.fan_out_once) == delivery.FAN_OUT_BATCH:
                            pass
                        free = limit - len(in_flight)
                        if free > 0:
                            busy = frozenset(s for s, n in per_subscription.items() if n >= PER_SUBSCRIPTION)
                            for item in await asyncio.to_thread(self._claim, free, busy):
                                task = asyncio.create_task(self._attempt(client, item))
                                in_flight[task] = item.subscription_id
                                per_subscription[item.subscription_id] += 1
                    except Exception:
                        log.exception("webhook delivery cycle failed; retrying")
                    waiters: set[asyncio.Future[object]] = {*in_flight, asyncio.ensure_future(stop.wait())}
                    done, _ = await asyncio.wait(waiters, timeout=self.settings.worker_poll_seconds,
                                                 return_when=asyncio.FIRST_COMPLETED)
                    for waiter in waiters - set(in_flight):
                        waiter.cancel()
                    for task in [t for t in in_flight if t.done()]:
                        per_subscription[in_flight.pop(task)] -= 1
                        if task.exception() is not None:
                            log.error("webhook attempt failed", exc_info=task.exception())
                    del done
            finally:
                for task in in_flight:
                    task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.gather(*in_flight, return_exceptions=True)

    async def _every(self, stop: asyncio.Event, seconds: float, job: Callable[[], int]) -> None:
        while not stop.is_set():
            try:
                await asyncio.to_thread(job)
            except Exception:
                log.exception("%s failed; retrying", getattr(job, "__name__", job))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=seconds)


def run_forever(settings: Settings, on_ready: Callable[[EventWorker], Awaitable[None]] | None = None) -> None:
    """``motcua worker``: work until SIGINT or SIGTERM."""
    import signal

    async def main() -> None:
        db = Database(settings.database_url)
        worker = EventWorker(db, LegalClock(simulation=settings.simulation), settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if on_ready is not None:
            await on_ready(worker)
        log.info("event worker started (database %s)", db.dialect)
        try:
            await worker.run(stop)
        finally:
            db.dispose()
            log.info("event worker stopped: %d delivered, %d failed attempts", worker.delivered, worker.failed)

    asyncio.run(main())
