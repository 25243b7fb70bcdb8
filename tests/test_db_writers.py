"""SQLite writers of one process queue on the engine's writer lock (``service.db``): all of them get their turn,
quickly, and a writer that fails gives its turn back — whether writing sessions take any pooled connection or
share the one writing connection of a serving process (``writer_connection``)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func
from sqlmodel import select

from service.db import Database, FifoLock
from service.models import Agency
from service.settings import Settings

NOW = datetime(2026, 3, 10, 1, 30, tzinfo=UTC)


@pytest.fixture(params=[False, True], ids=["pooled", "writer_connection"])
def db(settings: Settings, request: pytest.FixtureRequest) -> Database:
    database = Database(settings.database_url, writer_connection=request.param)
    if database.dialect != "sqlite":
        database.dispose()
        pytest.skip("the writer lock is SQLite's")
    return database


def agencies(db: Database) -> int:
    with db.transaction(read_only=True) as session:
        return session.exec(select(func.count()).select_from(Agency)).one()


def test_concurrent_writers_all_commit_in_turn(db: Database) -> None:
    """Sixteen threads write at once, each holding its transaction open a little: every one commits, none meets
    "database is locked", and waiting writers are woken as soon as the lock is free (no busy-handler sleeps)."""
    errors: list[BaseException] = []
    start = threading.Barrier(16)

    def write(i: int) -> None:
        start.wait()
        try:
            with db.transaction() as session:
                session.add(Agency(code=f"000.00.{i:02d}.H49", name=f"Xã {i}", level="commune", created_at=NOW))
                session.flush()
                time.sleep(0.01)
        except BaseException as exc:  # pragma: no cover - the failure is the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(16)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert agencies(db) == 16
    assert time.monotonic() - began < 10  # 16 × 10 ms of holding, with room for a loaded machine
    db.dispose()


def test_a_failed_writer_gives_its_turn_back(db: Database) -> None:
    with pytest.raises(RuntimeError), db.transaction() as session:
        session.add(Agency(code="000.00.01.H49", name="Xã 1", level="commune", created_at=NOW))
        session.flush()
        raise RuntimeError("the request failed")
    done = threading.Event()

    def write() -> None:
        with db.transaction() as session:
            session.add(Agency(code="000.00.02.H49", name="Xã 2", level="commune", created_at=NOW))
        done.set()

    thread = threading.Thread(target=write)
    thread.start()
    assert done.wait(10), "the next writer is still waiting for the failed writer's turn"
    thread.join()
    assert agencies(db) == 1
    db.dispose()


def test_readers_do_not_wait_for_a_writer(db: Database) -> None:
    with db.transaction() as session:
        session.add(Agency(code="000.00.01.H49", name="Xã 1", level="commune", created_at=NOW))
        session.flush()
        result: list[int] = []
        reader = threading.Thread(target=lambda: result.append(agencies(db)))
        reader.start()
        reader.join(10)
        assert result == [0]  # the reader saw the last committed state, at once
    db.dispose()


def test_writers_of_a_serving_process_share_one_connection_and_readers_keep_theirs(settings: Settings) -> None:
    """Its page cache then outlives each write (a connection drops its cache when another one has committed)."""
    db = Database(settings.database_url, writer_connection=True)
    if db.dialect != "sqlite":
        db.dispose()
        pytest.skip("the writing connection is SQLite's")
    writers, readers = set(), set()
    try:
        for i in range(3):
            with db.transaction() as session:
                session.add(Agency(code=f"000.00.{i:02d}.H49", name=f"Xã {i}", level="commune", created_at=NOW))
                session.flush()
                writers.add(id(session.connection().connection.driver_connection))
                with db.transaction(read_only=True) as reading:  # meanwhile: another connection, not waiting
                    readers.add(id(reading.connection().connection.driver_connection))
                    assert reading.exec(select(func.count()).select_from(Agency)).one() == i
        assert len(writers) == 1
        assert writers.isdisjoint(readers)
        assert agencies(db) == 3
    finally:
        db.dispose()


def wait_until(condition: object, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_the_writer_lock_is_handed_over_in_arrival_order() -> None:
    lock, order = FifoLock(), []
    assert lock.acquire(timeout=1)

    def writer(number: int) -> None:
        assert lock.acquire(timeout=5)
        order.append(number)
        lock.release()

    threads = []
    for number in range(6):
        thread = threading.Thread(target=writer, args=(number,))
        thread.start()
        threads.append(thread)
        wait_until(lambda n=number: lock.waiting == n + 1)
    lock.release()
    for thread in threads:
        thread.join(5)
    assert order == list(range(6))


def test_a_newcomer_does_not_take_the_turn_of_a_waiting_writer() -> None:
    lock, taken = FifoLock(), threading.Event()
    assert lock.acquire(timeout=1)
    waiter = threading.Thread(target=lambda: lock.acquire(timeout=5) and taken.set())
    waiter.start()
    wait_until(lambda: lock.waiting == 1)
    lock.release()
    assert not lock.acquire(timeout=0.05)  # the lock went to the thread that waited, not to this newcomer
    waiter.join(5)
    assert taken.is_set()
    lock.release()
    assert lock.acquire(timeout=0)


def test_a_writer_that_gives_up_waiting_leaves_the_line() -> None:
    lock = FifoLock()
    assert lock.acquire(timeout=1)
    assert not lock.acquire(timeout=0.05)
    assert lock.waiting == 0
    lock.release()
    assert lock.acquire(timeout=0)  # free again: the turn was not handed to the writer that left
