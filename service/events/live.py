"""The live feed of one API process: one database reader shared by every Server-Sent Events stream it serves.

Each stream used to poll the database on its own; a hundred idle subscribers then cost a hundred queries every
poll interval. Here one :class:`LiveFeed` per process polls the event table (all events, no filter) and hands each
batch to every stream, which keeps only what its reader may see (:func:`service.events.feed.admits`, the same rule
as ``GET /events``; a citizen's batch costs one query for the dossiers among it, and only when it holds events of
dossiers the citizen might own). An idle subscriber therefore costs no query at all.

Guarantees kept from the per-stream reader:

* Order and completeness: batches are contiguous ranges of the feed (``start < id <= end``); a stream that is
  behind (a ``Last-Event-ID`` from long ago, or too slow to take its batches) catches up with its own reads
  (:func:`service.events.feed.page`) before it takes shared batches again, so no event is skipped or repeated.
* Several API processes: each process has its own live feed reading the database, so a stream sees the events
  committed by any process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import col, select

from service.db import Database
from service.events import feed
from service.events.outbox import cloud_event
from service.models import OutboxEvent

BATCH = 500
MAX_PENDING_EVENTS = 5000
"""A stream holding more events than this is dropped from the fan-out and catches up alone."""
_EXTRAS_KEY = "live_feed"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Batch:
    """The events with ``start < id <= end``, all of them, in id order."""

    start: feed.Position
    end: feed.Position
    events: tuple[OutboxEvent, ...]


@dataclass(eq=False)
class Listener:
    """One stream's place in the fan-out: the range of the batches handed to it since it last took them
    (``start < id <= end``) and, of their events, those it might show (``wants``: its filters and, for staff,
    their agency). A batch with nothing it wants only moves ``end``: the stream is not even woken."""

    wants: Callable[[OutboxEvent], bool]
    events: list[OutboxEvent] = field(default_factory=list)
    start: feed.Position | None = None
    end: feed.Position | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: bool = False

    def offer(self, batch: Batch) -> None:
        if self.start is None:
            self.start = batch.start
        self.end = batch.end
        wanted = [e for e in batch.events if self.wants(e)]
        if not wanted:
            return
        if len(self.events) + len(wanted) > MAX_PENDING_EVENTS:
            self.events, self.start, self.end = [], None, None
            self.dropped = True  # too slow to keep up: the stream catches up alone, then joins again
        else:
            self.events.extend(wanted)
        self.wake.set()

    def take(self) -> tuple[list[OutboxEvent], feed.Position | None]:
        events, end = self.events, self.end
        self.events, self.start, self.end = [], None, None
        return events, end


class LiveFeed:
    """Polls the event table every ``poll_seconds`` while at least one stream listens, and fans batches out."""

    def __init__(self, db: Database, poll_seconds: float) -> None:
        self.db = db
        self.poll_seconds = poll_seconds
        self.listeners: set[Listener] = set()
        self.position: feed.Position | None = None
        self.reads = 0
        """Database reads done by the poller (for tests and the benchmark)."""
        self._task: asyncio.Task[None] | None = None

    def join(self, wants: Callable[[OutboxEvent], bool]) -> Listener:
        listener = Listener(wants)
        self.listeners.add(listener)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._poll())
        return listener

    def leave(self, listener: Listener) -> None:
        self.listeners.discard(listener)

    def _read_head(self) -> feed.Position:
        with self.db.transaction(read_only=True) as session:
            return feed.head(session)

    def _read_after(self, after: feed.Position) -> list[OutboxEvent]:
        self.reads += 1
        with self.db.transaction(read_only=True) as session:
            return list(session.exec(select(OutboxEvent).where(feed.after_condition(after))
                                     .order_by(col(OutboxEvent.id)).limit(BATCH)))

    async def _poll(self) -> None:
        """Never touches the database on the event loop's thread (a wait for a pooled connection there would
        stall every request of the process)."""
        while self.listeners:
            try:
                if self.position is None:
                    self.position = await asyncio.to_thread(self._read_head)
                events = await asyncio.to_thread(self._read_after, self.position)
            except Exception:  # a database hiccup: the streams wait, the next poll tries again
                log.warning("live feed: reading events failed", exc_info=True)
                events = []
            if events and self.position is not None:
                batch = Batch(self.position, feed.Position.of(events[-1]), tuple(events))
                self.position = batch.end
                for listener in list(self.listeners):
                    listener.offer(batch)
                if len(events) == BATCH:
                    continue
            await asyncio.sleep(self.poll_seconds)


def live_feed(extras: dict[str, Any], db: Database, poll_seconds: float) -> LiveFeed:
    """The process's live feed (kept in the app context's ``extras``)."""
    current = extras.get(_EXTRAS_KEY)
    if current is None:
        current = extras[_EXTRAS_KEY] = LiveFeed(db, poll_seconds)
    return current


async def wait(listener: Listener, seconds: float) -> None:
    """Until a batch arrives for ``listener`` or ``seconds`` pass."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(listener.wake.wait(), timeout=seconds)
    listener.wake.clear()


async def server_sent_events(*, live: LiveFeed, db: Database, user: Any, start: feed.Position,
                             filters: feed.EventFilter, heartbeat_seconds: float,
                             disconnected: Callable[[], Any]) -> Any:
    """The bytes of one ``text/event-stream``: ``id:`` the cursor, ``event:`` the type, ``data:`` the CloudEvent;
    a comment line as a heart-beat after ``heartbeat_seconds`` of silence. Starts after ``start``."""
    position = start

    def read_alone(after: feed.Position) -> tuple[list[OutboxEvent], feed.Position]:
        with db.transaction(read_only=True) as session:
            return feed.page(session, user=user, after=after, filters=filters, limit=SSE_PAGE)

    def own_dossiers(ids: set[int]) -> set[int]:
        with db.transaction(read_only=True) as session:
            return feed.visible_dossier_ids(session, user, ids)

    needs_dossiers = feed.needs_dossier_check(user)
    listener = live.join(lambda e: feed.matches(e, filters) and (needs_dossiers or feed.visible_without_query(
        user, e)))
    try:
        yield b"retry: 2000\n\n"
        quiet_since = asyncio.get_running_loop().time()
        while not await disconnected():
            full = False
            if listener.dropped or _behind(listener, live, position):
                listener.dropped = False
                events, position = await asyncio.to_thread(read_alone, position)
                full = len(events) == SSE_PAGE
            else:
                events, position = await _take(listener, position, user, own_dossiers)
            for event in events:
                yield message(event)
            now = asyncio.get_running_loop().time()
            if events:
                quiet_since = now
                if full:
                    continue
            elif now - quiet_since >= heartbeat_seconds:
                yield b": heart-beat\n\n"
                quiet_since = now
            if not listener.events and not listener.dropped and not _behind(listener, live, position):
                # until a batch it wants, or the next heart-beat (a client that leaves is noticed by Starlette,
                # which cancels this generator)
                await wait(listener, max(0.05, heartbeat_seconds - (now - quiet_since)))
    finally:
        live.leave(listener)


SSE_PAGE = 200


def message(event: OutboxEvent) -> bytes:
    data = json.dumps(cloud_event(event), ensure_ascii=False, separators=(",", ":"))
    return f"id: {feed.Position.of(event).encode()}\nevent: {event.type}\ndata: {data}\n\n".encode()


def _behind(listener: Listener, live: LiveFeed, position: feed.Position) -> bool:
    """Whether events between ``position`` and the shared batches were fanned out before this stream joined
    (or while it was dropped): it must read them alone first."""
    if listener.start is not None:
        return listener.start > position
    return live.position is not None and position < live.position


async def _take(listener: Listener, position: feed.Position, user: Any,
                own_dossiers: Callable[[set[int]], set[int]]) -> tuple[list[OutboxEvent], feed.Position]:
    """The handed events after ``position`` that the stream's reader may see, and the new position (a citizen's
    events are checked against their dossiers: one query, only when some are handed)."""
    events, end = listener.take()
    if end is None or end <= position:
        return [], position
    kept = [e for e in events if feed.Position.of(e) > position]
    if kept and feed.needs_dossier_check(user):
        visible = await asyncio.to_thread(own_dossiers, {e.dossier_id for e in kept})
        kept = [e for e in kept if e.dossier_id in visible]
    return kept, end
