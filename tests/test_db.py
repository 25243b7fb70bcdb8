"""The one datetime column type: an instant stored with +07:00 reads back as the same instant, on both databases."""

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlmodel import select

from service.db import SQLITE_PAGE_CACHE_KIB, SQLITE_POOL_SIZE, Database
from service.models import Agency


def test_offset_instant_round_trips(settings) -> None:  # type: ignore[no-untyped-def]
    db = Database(settings.database_url)
    local = datetime(2026, 2, 12, 9, 30, tzinfo=timezone(timedelta(hours=7)))
    with db.transaction() as session:
        session.add(Agency(code="000.00.00.H49", name="UBND tỉnh Quảng Ninh", level="province", created_at=local))
    with db.transaction(read_only=True) as session:
        stored = session.exec(select(Agency)).one().created_at
    db.dispose()
    assert stored == local
    assert stored.tzinfo is not None
    assert stored.astimezone(UTC).hour == 2


def test_naive_datetime_is_refused(settings) -> None:  # type: ignore[no-untyped-def]
    db = Database(settings.database_url)
    with pytest.raises(Exception, match="naive"), db.transaction() as session:
        session.add(Agency(code="000.00.00.H49", name="X", level="province", created_at=datetime(2026, 1, 1)))  # noqa: DTZ001
        session.flush()
    db.dispose()


def test_sqlite_keeps_few_connections_whatever_the_pool_setting(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Writers take turns on SQLite, and every pooled connection holds its own page cache (issue 19's memory goal).
    db = Database(f"sqlite:///{tmp_path / 'pool.db'}", pool_size=40)
    try:
        assert db.engine.pool.size() == SQLITE_POOL_SIZE  # type: ignore[attr-defined]
    finally:
        db.dispose()


def test_each_sqlite_connection_keeps_a_small_page_cache(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Issue 19's memory goal: up to 16 pooled connections each kept SQLite's default 2 MiB of pages.
    db = Database(f"sqlite:///{tmp_path / 'cache.db'}")
    try:
        with db.transaction(read_only=True) as session:
            kib = session.connection().exec_driver_sql("PRAGMA cache_size").scalar_one()
        assert kib == -SQLITE_PAGE_CACHE_KIB
        assert SQLITE_PAGE_CACHE_KIB < 2000
    finally:
        db.dispose()


def test_a_pooled_connection_the_server_closed_is_replaced_before_use(settings) -> None:  # type: ignore[no-untyped-def]
    # A restart or pg_terminate_backend closes pooled connections; the next request must not fail on them.
    db = Database(settings.database_url)
    if db.dialect != "postgresql":
        db.dispose()
        pytest.skip("PostgreSQL's pool")
    other = Database(settings.database_url)
    try:
        with db.transaction(read_only=True) as session:
            closed = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with other.transaction() as session:
            session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": closed})
        for _ in range(100):  # the backend says goodbye asynchronously
            with other.transaction(read_only=True) as session:
                if not session.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                                       {"pid": closed}).scalar_one():
                    break
            time.sleep(0.02)
        with db.transaction(read_only=True) as session:
            serving = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert serving != closed
    finally:
        db.dispose()
        other.dispose()
