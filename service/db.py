"""Engines, sessions and the one datetime column type.

SQLite is the embedded default and PostgreSQL the production database; both are reached through
synchronous SQLAlchemy (stdlib ``sqlite3`` and psycopg 3).
"""

from __future__ import annotations

import json
import select
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel

from service.wal_checkpointer import WalCheckpointer

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata


def _aware_in_utc(value: datetime | None) -> datetime | None:
    """An instant to store: ``None``, or the aware ``value`` in UTC (a naive one is refused)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime refused: store aware instants only")
    return value.astimezone(UTC)


def stored_in_utc(value: datetime | None) -> datetime | None:
    """A stored instant read back: aware, in UTC (SQLite's have no offset: they are UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores every instant as UTC and gives it back aware.

    SQLite has no time zones: ``DateTime(timezone=True)`` silently drops the offset. This type refuses naive
    values, converts to UTC before storing, and attaches UTC on the way out, so a ``+07:00`` instant reads back
    as the same instant on both databases.

    Its processors are one function each (:meth:`bind_processor`, :meth:`result_processor`): a TypeDecorator
    otherwise calls the dialect's processor and its own method for each value, and SQLite's DATETIME bind
    processor builds its text field by field in Python. A list page of 50 dossiers converts ~600 stored instants.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        value = _aware_in_utc(value)
        return value.replace(tzinfo=None) if value is not None and dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return stored_in_utc(value)

    def bind_processor(self, dialect: Any) -> Callable[[datetime | None], Any]:
        """SQLite: SQLAlchemy's DATETIME text of the UTC instant (``2026-01-31 03:00:00.000000``, what its own
        processor writes); PostgreSQL: the instant in UTC."""
        if dialect.name != "sqlite":
            return _aware_in_utc

        def as_text(value: datetime | None) -> str | None:
            value = _aware_in_utc(value)
            return None if value is None else value.replace(tzinfo=None).isoformat(" ", "microseconds")

        return as_text

    def result_processor(self, dialect: Any, coltype: Any) -> Callable[[Any], datetime | None]:
        """The stored instant, aware, in UTC (SQLite: parsed from its text)."""
        if dialect.name != "sqlite":
            return stored_in_utc

        def from_text(value: str | None) -> datetime | None:
            return None if value is None else stored_in_utc(datetime.fromisoformat(value))

        return from_text


class RawJSON(str):
    """JSON text already serialised (an answer's body as it was sent): a JSON column stores it as it is, where a
    value would be serialised again (:func:`json_text`, every engine's JSON serialiser)."""

    __slots__ = ()


def json_text(value: Any) -> str:
    """The text a JSON column stores: :class:`RawJSON` as it is, any other value as ``json.dumps`` writes it
    (SQLAlchemy's and psycopg's default)."""
    return value if isinstance(value, RawJSON) else json.dumps(value)


def normalize_database_url(url: str) -> str:
    """Accept plain ``sqlite:///…`` and ``postgresql://…`` URLs and pick our drivers."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+pysqlite")
    return parsed.render_as_string(hide_password=False)


READ_ONLY = "motcua_read_only"
SQLITE_BUSY_SECONDS = 30
SQLITE_POOL_SIZE = 8
"""SQLite connections kept per process (at most; as many again for a burst): writers take turns anyway, and each
connection keeps a page cache of its own (:data:`SQLITE_PAGE_CACHE_KIB`), so 40 of them only held memory."""
SQLITE_PAGE_CACHE_KIB = 512
"""The page cache of each SQLite connection (SQLite's default is 2,000 KiB). In WAL mode a connection drops its
whole cache when it begins a read after any other connection committed, so on a server that writes every few
hundred milliseconds a cache serves one transaction and little more, while each of up to 16 connections kept
2 MiB of pages from its last read-only stretch (16 connections × 2 MiB against a ~150 MiB worker). A miss costs a
read from the operating system's file cache, which holds the file once for every connection."""


SQLITE_WRITER_CACHE_KIB = 2000
"""The page cache of a SQLite database's writing connection (:func:`create_sqlite_writer_engine`): SQLite's
default. That connection's cache outlives its transactions (no other connection of the process writes), so it
holds the pages every write goes through (the roots and inner pages of the tables and indexes written)."""


SQLITE_WRITER_AUTOCHECKPOINT_PAGES = 10_000
"""The writing connection checkpoints the WAL itself (SQLite's automatic checkpoint, in its turn) only once the WAL
holds this many pages (~40 MB; SQLite's default is 1,000): a serving process's :class:`WalCheckpointer` keeps it
shorter, outside the writers' turns; this bounds it if that thread falls behind or does not run."""


def create_db_engine(url: str, *, writer_lock: FifoLock | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url``; ``pool_size`` (default 10; at most :data:`SQLITE_POOL_SIZE` on SQLite) connections
    are kept, and as many again may be opened for a burst. On SQLite its writers queue on ``writer_lock`` (a new
    one by default; :func:`_configure_sqlite`)."""
    url = normalize_database_url(url)
    parsed = make_url(url)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", kwargs["pool_size"])
    if parsed.get_backend_name() == "sqlite":
        kwargs["pool_size"] = min(kwargs["pool_size"], SQLITE_POOL_SIZE)
        kwargs["max_overflow"] = min(kwargs["max_overflow"], kwargs["pool_size"])
        if is_sqlite_file(url):
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        else:  # one connection per thread (SingletonThreadPool): no overflow
            kwargs.pop("max_overflow")
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS},
                               json_serializer=json_text, **kwargs)
        _configure_sqlite(engine, writer_lock or FifoLock())
        return engine
    engine = create_engine(url, json_serializer=json_text, **kwargs)
    # Rows inserted together (a new dossier's slip rows, its search keys and words) go as one multi-row INSERT:
    # one statement, where psycopg's executemany opened a pipeline, sent one per row and synced (its pipeline
    # bookkeeping in Python cost more CPU than the rows). SQLAlchemy does the same for psycopg2 by default.
    engine.dialect.use_insertmanyvalues_wo_returning = True
    _configure_postgresql(engine)
    return engine


def _configure_postgresql(engine: Engine) -> None:
    """A pooled connection the server has closed is replaced at checkout, without a round trip.

    ``pool_pre_ping`` sent a ``SELECT 1`` at every checkout (a round trip, and about a hundred Python calls in
    psycopg and SQLAlchemy: a submission checks out twice). An idle connection receives nothing unasked (no
    ``LISTEN`` here), so its socket polled without waiting says enough: readable or hung up means the server sent
    its goodbye (a restart, ``pg_terminate_backend``, an idle timeout) or went away, and the pool opens a new
    connection instead (``DisconnectionError`` from the checkout event). A server that vanished without a word is
    found by the first statement, as it was by the ping."""

    @event.listens_for(engine, "checkout")
    def _refuse_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if _closed_by_server(dbapi_connection):
            raise exc.DisconnectionError("the server closed this pooled connection")


def _closed_by_server(driver: Any) -> bool:
    if driver.closed or driver.broken:
        return True
    poller = select.poll()
    poller.register(driver.fileno(), select.POLLIN)
    return bool(poller.poll(0))


_HOLDS_WRITER_LOCK = "motcua_holds_writer_lock"


class FifoLock:
    """A lock granted in the order it was asked for: :meth:`release` hands it to the longest waiter.

    ``threading.Lock`` lets a newcomer take a lock just released while the waiter that was woken still waits for
    the GIL, so under a queue of writers some lost turn after turn: a submission's p99 at 16 connections was
    2.3× its median (252 against 111 ms) with every writer doing the same work. Handed over in order, a writer
    waits for the ones ahead of it, no more."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiters: deque[threading.Lock] = deque()

    def acquire(self, timeout: float) -> bool:
        """Take the lock, waiting at most ``timeout`` seconds in line; whether it was taken."""
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        if turn.acquire(timeout=timeout):
            return True  # handed over by release(): the lock stayed held
        with self._mutex:
            if turn in self._waiters:
                self._waiters.remove(turn)
                return False
        return True  # handed over between the timeout and the mutex

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._held = False

    @property
    def waiting(self) -> int:
        """How many threads wait in line."""
        return len(self._waiters)


def is_sqlite_file(url: str) -> bool:
    """Whether ``url`` names a SQLite database in a file (not in memory)."""
    parsed = make_url(normalize_database_url(url))
    return parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")


def create_sqlite_writer_engine(url: str, writer_lock: FifoLock) -> Engine:
    """The engine of a SQLite file's writing sessions: one connection (:class:`WriterPool`), handed to one writer
    at a time in arrival order under ``writer_lock``, the lock of the engine that reads
    (:func:`create_db_engine`), so that one's writers (migrations, bulk loads) and these take turns.

    Why one connection: in WAL mode a connection drops its whole page cache when it begins a transaction after
    any other connection committed. With writers spread over the pool's connections every write found a cold
    cache and read again each page it went through, in C, under the lock: measured in-process
    (``bench/bench_writer_connection.py``), a write cost 2–8 % more CPU with 8 connections taking turns than
    with one (a counter submission 4.93–5.13 against 4.70–4.73 ms). Writers take turns anyway, so one
    connection costs no concurrency; readers keep their pool."""
    pool_class = type("WriterPool", (WriterPool,), {"writer_lock": writer_lock})  # create_engine passes no lock
    engine = create_engine(normalize_database_url(url), poolclass=pool_class,
                           connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS},
                           json_serializer=json_text)
    _configure_sqlite(engine, writer_lock, locked_by_pool=True, cache_kib=SQLITE_WRITER_CACHE_KIB,
                      autocheckpoint_pages=SQLITE_WRITER_AUTOCHECKPOINT_PAGES)
    return engine


class WriterPool(QueuePool):
    """One connection, checked out by one thread at a time, in arrival order: :meth:`_do_get` waits for the
    writer lock (a :class:`FifoLock`) before taking the connection, and its return hands the lock on. The lock
    is taken before the checkout, not at ``BEGIN``: the pool's own queue lets a newcomer take a connection just
    given back while a woken waiter still waits for the GIL (the unfairness :class:`FifoLock` removes).
    :func:`create_sqlite_writer_engine` makes a subclass holding its engine's lock (``create_engine`` hands a
    pool class no argument of its own; :meth:`recreate`, on ``dispose``, keeps the class)."""

    writer_lock: FifoLock

    def __init__(self, creator: Any, **kwargs: Any) -> None:
        kwargs.update(pool_size=1, max_overflow=0)
        super().__init__(creator, **kwargs)

    def _do_get(self) -> ConnectionPoolEntry:
        if not self.writer_lock.acquire(timeout=SQLITE_BUSY_SECONDS):
            raise exc.TimeoutError(f"no turn to write within {SQLITE_BUSY_SECONDS} s")
        try:
            return super()._do_get()
        except BaseException:
            self.writer_lock.release()
            raise

    def _do_return_conn(self, record: ConnectionPoolEntry) -> None:
        try:
            super()._do_return_conn(record)
        finally:
            self.writer_lock.release()


def _configure_sqlite(engine: Engine, writer_lock: FifoLock, *, locked_by_pool: bool = False,
                      cache_kib: int = SQLITE_PAGE_CACHE_KIB, autocheckpoint_pages: int | None = None) -> None:
    """WAL, busy timeout, foreign keys; write transactions begin IMMEDIATE so writers queue, never deadlock.

    Writers of the same process queue on a lock of the engine before ``BEGIN IMMEDIATE`` and keep it until their
    connection goes back to the pool (after COMMIT or ROLLBACK). Without it they queued inside SQLite, whose busy
    handler sleeps between tries (up to 100 ms a try): under load a writer could sleep on through many free turns
    (p99 of seconds) while the lock sat unused. Work a request does before its first statement (parsing, the
    token, validation) happens outside the lock. Other processes still meet SQLite's own lock and busy timeout.
    The lock is handed over in arrival order (:class:`FifoLock`), so no writer waits behind later ones. With
    ``locked_by_pool`` the engine's pool takes the lock at checkout (:class:`WriterPool`), and ``BEGIN IMMEDIATE``
    is sent without it."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA cache_size=-{cache_kib}")
        if autocheckpoint_pages is not None:
            cursor.execute(f"PRAGMA wal_autocheckpoint={autocheckpoint_pages}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Sent on the driver's connection: through ``exec_driver_sql`` SQLAlchemy's execution context cost ~150
        # function calls per transaction for a statement with no parameters and no result.
        driver = connection.connection.driver_connection
        if connection.get_execution_options().get(READ_ONLY, False):
            driver.execute("BEGIN")
            return
        if locked_by_pool:
            driver.execute("BEGIN IMMEDIATE")
            return
        # Bounded like SQLite's busy timeout: past it, SQLite's own lock decides (as before this lock existed).
        if not connection.info.get(_HOLDS_WRITER_LOCK) and writer_lock.acquire(timeout=SQLITE_BUSY_SECONDS):
            connection.info[_HOLDS_WRITER_LOCK] = True
        try:
            driver.execute("BEGIN IMMEDIATE")
        except BaseException:
            if connection.info.pop(_HOLDS_WRITER_LOCK, False):
                writer_lock.release()
            raise

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record.info.pop(_HOLDS_WRITER_LOCK, False):
            writer_lock.release()


class Database:
    """Owns the engine and hands out sessions; the caller of :meth:`transaction` is the unit of work."""

    def __init__(self, url: str, *, writer_connection: bool = False, **engine_kwargs: Any) -> None:
        """``writer_connection``: on a SQLite file, writing sessions share one connection
        (:func:`create_sqlite_writer_engine`; a serving process's choice). Batch jobs keep one pool: they write
        from one thread, and switch the file's journal mode, which needs no other connection open."""
        from service.operations.reference import SESSION_KEY, ReferenceCache  # imports the models, which import this

        writer_lock = FifoLock()
        self.engine = create_db_engine(url, writer_lock=writer_lock, **engine_kwargs)
        """Reading sessions' engine, and the one for work outside sessions (migrations, bulk loads)."""
        self.write_engine = (create_sqlite_writer_engine(url, writer_lock)
                             if writer_connection and is_sqlite_file(url) else self.engine)
        """Writing sessions' engine: :attr:`engine`, or with ``writer_connection`` on a SQLite file one connection
        of its own."""
        self.checkpointer = (WalCheckpointer(self.write_engine.url.database or "", writer_lock)
                             if self.write_engine is not self.engine else None)
        """With its own writing connection, the WAL's checkpoints in a thread (:mod:`service.wal_checkpointer`),
        which the app's lifespan starts; ``None`` otherwise."""
        self.reference = ReferenceCache()
        """The reference data this process keeps (:mod:`service.operations.reference`), its sessions' to use."""
        info = {SESSION_KEY: self.reference}
        self._writer = sessionmaker(self.write_engine, expire_on_commit=False, class_=Session, info=info)
        self._reader = sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False, class_=Session, info=info,
        )

    def ping(self) -> None:
        """One round trip to the database (raises when it does not answer)."""
        with self.transaction(read_only=True) as session:
            session.execute(text("SELECT 1"))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self, *, read_only: bool = False) -> Session:
        """A new session (no connection until its first statement); :meth:`finish` or :meth:`abandon` ends it."""
        return (self._reader if read_only else self._writer)()

    @staticmethod
    def finish(session: Session, *, commit: bool) -> None:
        """Commit (``commit``; a failed commit rolls back) and close. Closing alone returns the connection without
        expiring the rows read, which the caller may still use."""
        try:
            if commit:
                session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @staticmethod
    def abandon(session: Session) -> None:
        """Roll back and close."""
        try:
            session.rollback()
        finally:
            session.close()

    @contextmanager
    def transaction(self, *, read_only: bool = False) -> Iterator[Session]:
        """One transaction: commit when the block succeeds, roll back on any exception."""
        session = self.session(read_only=read_only)
        try:
            yield session
        except BaseException:
            self.abandon(session)
            raise
        self.finish(session, commit=not read_only)

    @property
    def engines(self) -> tuple[Engine, ...]:
        """The engines of this database: one, or on a SQLite file the reading and the writing one."""
        return (self.engine,) if self.write_engine is self.engine else (self.engine, self.write_engine)

    def dispose(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
        for engine in self.engines:
            engine.dispose()
