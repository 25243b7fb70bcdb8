"""A serving process's SQLite WAL checkpoints, in a thread of their own rather than in a writer's turn.

In WAL mode a commit appends pages to the ``-wal`` file, and a *checkpoint* copies them back into the database
file. By default the connection whose commit takes the WAL past 1,000 pages checkpoints right after its COMMIT,
before its connection goes back: in a serving process that is still the writer's turn (the writer lock,
:class:`service.db.FifoLock`, is held until then), so every writer in line waited for the copy and the file's
syncs while the process sat partly idle (issue 19; "Twelfth session" in bench/README.md measures the change).

:class:`WalCheckpointer` moves that work out of the turns. Its thread checkpoints ``PASSIVE`` every
:data:`INTERVAL_SECONDS` on a connection of its own: it copies what no reader still needs and takes no lock a
writer waits for, and ``sqlite3`` releases the GIL while SQLite works, so the copy runs beside the requests. Under
steady writes a passive checkpoint never catches the last commits, and SQLite starts the WAL over from its
beginning only when all of it has been copied; so once the WAL is past :data:`RESTART_FRAMES` the thread takes a
turn in the writers' line and checkpoints again, with no writer adding pages: only the few pages written during
the first pass are left, and the next writer starts the WAL over. The writing connection keeps a checkpoint of
its own past :data:`service.db.SQLITE_WRITER_AUTOCHECKPOINT_PAGES`, in case this thread falls behind (or is not
running: a process without the app's lifespan).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import NamedTuple, Protocol

__all__ = ["INTERVAL_SECONDS", "RESTART_FRAMES", "TURN_TIMEOUT_SECONDS", "Checkpoint", "WalCheckpointer",
           "WriterTurns", "checkpoint"]

log = logging.getLogger("motcua.wal")

INTERVAL_SECONDS = 0.25
"""How often the thread checkpoints (a checkpoint with nothing to copy reads the WAL's index and returns)."""
RESTART_FRAMES = 8000
"""Past this many pages in the WAL (~32 MB), the thread finishes a checkpoint in the writers' line, so that the
WAL starts over. That checkpoint copies only the pages written during the passive one before it, but syncs the WAL
and the database file, in the turn: so it comes every 8,000 pages, where SQLite's own came every 1,000."""
TURN_TIMEOUT_SECONDS = 1.0
"""How long the thread waits in the writers' line; past it, the next round tries again."""


class WriterTurns(Protocol):
    """The writers' line of a process (:class:`service.db.FifoLock`)."""

    def acquire(self, timeout: float) -> bool: ...

    def release(self) -> None: ...


class Checkpoint(NamedTuple):
    """What ``PRAGMA wal_checkpoint`` answers."""

    blocked: int
    """1 when another checkpoint was running (nothing was done), else 0."""
    wal_frames: int
    """The pages in the WAL."""
    copied_frames: int
    """The WAL's pages copied into the database file (by this checkpoint or earlier ones)."""


class WalCheckpointer:
    """Checkpoints the WAL of the SQLite file at ``path`` in a thread (:meth:`start`, :meth:`stop`), passively,
    finishing in a turn of ``turns`` once the WAL holds :data:`RESTART_FRAMES` pages."""

    def __init__(self, path: str, turns: WriterTurns, *, interval: float = INTERVAL_SECONDS,
                 restart_frames: int = RESTART_FRAMES, turn_timeout: float = TURN_TIMEOUT_SECONDS) -> None:
        self.path = path
        self.turns = turns
        self.interval = interval
        self.restart_frames = restart_frames
        self.turn_timeout = turn_timeout
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the thread (once; again after :meth:`stop`)."""
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="wal-checkpointer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread after its current checkpoint (at most one more turn's wait)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stop.wait(self.interval):
                try:
                    self.round(connection)
                except sqlite3.Error:  # e.g. the file went away under a test; the next round tries again
                    log.warning("WAL checkpoint of %s failed", self.path, exc_info=True)
        finally:
            connection.close()

    def round(self, connection: sqlite3.Connection) -> Checkpoint:
        """One round: a passive checkpoint, then, if the WAL is long, another in a writer's turn; the last
        checkpoint's answer."""
        done = checkpoint(connection)
        if done.wal_frames < self.restart_frames or not self.turns.acquire(timeout=self.turn_timeout):
            return done
        try:
            return checkpoint(connection)
        finally:
            self.turns.release()


def checkpoint(connection: sqlite3.Connection) -> Checkpoint:
    """A passive checkpoint on ``connection``: it copies the pages no reader still needs, and waits for no one."""
    row = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return Checkpoint(*row)
