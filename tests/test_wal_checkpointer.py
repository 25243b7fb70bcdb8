"""A serving process's WAL checkpoints (``service.wal_checkpointer``): the WAL is copied into the database outside
the writers' turns, and still starts over instead of growing while writes go on."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from service.db import SQLITE_WRITER_AUTOCHECKPOINT_PAGES, Database, FifoLock
from service.main import create_app
from service.settings import Settings
from service.wal_checkpointer import WalCheckpointer, checkpoint


class CountedTurns(FifoLock):
    """The writers' line, counting the turns taken."""

    def __init__(self) -> None:
        super().__init__()
        self.taken = 0

    def acquire(self, timeout: float) -> bool:
        taken = super().acquire(timeout)
        self.taken += taken
        return taken


@pytest.fixture
def wal_file(tmp_path: Path) -> Iterator[tuple[str, sqlite3.Connection]]:
    """A SQLite file in WAL mode whose connection never checkpoints by itself, and a table to write."""
    path = str(tmp_path / "wal.db")
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)")
    yield path, writer
    writer.close()


def write(writer: sqlite3.Connection, commits: int) -> None:
    for i in range(commits):
        writer.execute("INSERT INTO note (body) VALUES (?)", ("x" * 3000 + str(i),))  # about a page each


def wal_frames(path: str) -> int:
    """The WAL's length in pages, as a new connection sees it (its passive checkpoint copies, never truncates)."""
    with sqlite3.connect(path, isolation_level=None) as other:
        return checkpoint(other).wal_frames


def test_a_short_wal_is_copied_without_a_writers_turn(wal_file: tuple[str, sqlite3.Connection]) -> None:
    path, writer = wal_file
    turns = CountedTurns()
    write(writer, 20)
    with sqlite3.connect(path, isolation_level=None) as connection:
        done = WalCheckpointer(path, turns, restart_frames=1000).round(connection)
    assert done.wal_frames >= 20
    assert done.copied_frames == done.wal_frames  # nothing was being written: all of it copied
    assert turns.taken == 0


def test_a_long_wal_is_finished_in_a_turn_and_then_starts_over(wal_file: tuple[str, sqlite3.Connection]) -> None:
    path, writer = wal_file
    turns = CountedTurns()
    write(writer, 120)
    long = wal_frames(path)
    assert long >= 120
    with sqlite3.connect(path, isolation_level=None) as connection:
        done = WalCheckpointer(path, turns, restart_frames=100).round(connection)
    assert turns.taken == 1
    assert done.copied_frames == done.wal_frames
    write(writer, 1)  # the next writer starts the WAL over: it holds that one commit
    assert wal_frames(path) < 10 < long
    assert [row[0] for row in writer.execute("SELECT count(*) FROM note")] == [121]


def test_the_finishing_checkpoint_waits_for_the_writer_in_turn(wal_file: tuple[str, sqlite3.Connection]) -> None:
    """While a writer holds its turn the thread does not take one; it gives up after its wait, and the next round
    tries again."""
    path, writer = wal_file
    turns = CountedTurns()
    write(writer, 120)
    assert turns.acquire(timeout=1)  # a writer's turn
    checkpointer = WalCheckpointer(path, turns, restart_frames=100, turn_timeout=0.05)
    with sqlite3.connect(path, isolation_level=None) as connection:
        done = checkpointer.round(connection)
        assert turns.taken == 1  # the writer's own
        assert done.copied_frames == done.wal_frames  # the passive checkpoint copied what it could
        turns.release()
        checkpointer.round(connection)
    assert turns.taken == 2


def test_the_thread_keeps_the_wal_short_while_writes_go_on(wal_file: tuple[str, sqlite3.Connection]) -> None:
    path, writer = wal_file
    turns = FifoLock()
    checkpointer = WalCheckpointer(path, turns, interval=0.005, restart_frames=50)
    checkpointer.start()
    try:
        for _ in range(400):
            assert turns.acquire(timeout=5)
            try:
                write(writer, 1)
            finally:
                turns.release()
            time.sleep(0.001)  # requests come and go: the thread gets the CPU now and then, even on a busy machine
    finally:
        checkpointer.stop()
    assert not checkpointer.running
    # Without the thread the WAL would hold all 400 commits; it starts over once past 50 pages.
    assert wal_frames(path) < 200


def test_a_serving_process_checkpoints_while_its_app_runs(settings: Settings) -> None:
    app = create_app(settings)
    db: Database = app.state.context.db
    if db.checkpointer is None:
        pytest.skip("PostgreSQL has no WAL file to checkpoint")
    assert not db.checkpointer.running
    with TestClient(app):
        assert db.checkpointer.running
    assert not db.checkpointer.running


@pytest.mark.parametrize("writer_connection", [False, True], ids=["pooled", "writer_connection"])
def test_the_writing_connection_leaves_the_copy_to_the_thread(tmp_path: Path, writer_connection: bool) -> None:
    """SQLite's own checkpoint once the WAL passes 1,000 pages would copy them in a writer's turn: a serving
    process's writing connection leaves that to the thread (its own waits for
    :data:`SQLITE_WRITER_AUTOCHECKPOINT_PAGES`, should the thread fall behind); a batch job's pool keeps
    SQLite's default."""
    path = tmp_path / "w.db"
    db = Database(f"sqlite:///{path}", writer_connection=writer_connection)
    try:
        assert (db.checkpointer is not None) is writer_connection
        with db.transaction() as session:
            session.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"))
        with db.transaction() as session:  # ~1,100 pages in one commit
            session.execute(text("INSERT INTO note (body) VALUES (:body)"),
                            [{"body": "x" * 3000 + str(i)} for i in range(1100)])
        with db.transaction() as session:  # after a checkpoint of all of it, this one would start the WAL over
            session.execute(text("INSERT INTO note (body) VALUES ('y')"))
        frames = wal_frames(str(path))
    finally:
        db.dispose()
    assert SQLITE_WRITER_AUTOCHECKPOINT_PAGES > 1100
    assert (frames > 1100) is writer_connection
