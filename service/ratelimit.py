"""Sliding-window rate limits kept in the database, so every API process counts the same attempts.

Each key counts attempts in fixed buckets of ``window_seconds``; the figure a limit is compared with is the
current bucket's count plus the previous bucket's, weighted by how much of the previous bucket the sliding window
still covers (the usual two-bucket approximation). A burst just before a bucket boundary therefore still counts
just after it: 30 lookups at 12:00:59 and 30 more at 12:01:00 are 60 in the window, not 30 + 30 in two windows.

:meth:`RateLimiter.hit` counts and reads in one statement (``UPDATE … RETURNING``), so concurrent attempts can never
all see the same count: check-then-act races are gone on both databases (PostgreSQL row lock, SQLite's single
writer). Callers count an attempt *before* doing the work it would cost, and forgive it afterwards if it proved
legitimate.

Security runs on real time: windows are measured with the wall clock, never the simulated legal clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from service.db import Database
from service.domain.legal_time import utc_now
from service.models import RateLimitBucket


def _bucket(now: datetime, seconds: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


class RateLimiter:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _weighted(self, session: Session, key: str, now: datetime, window_seconds: int, current: int) -> float:
        start = _bucket(now, window_seconds)
        previous = session.execute(
            select(RateLimitBucket.count).where(
                RateLimitBucket.key == key,
                RateLimitBucket.window_start == start - timedelta(seconds=window_seconds),
            )
        ).scalar_one_or_none() or 0
        covered = 1 - (now - start).total_seconds() / window_seconds
        return current + previous * covered

    def count(self, key: str, *, window_seconds: int) -> float:
        """The attempts in the sliding window ending now."""
        now = utc_now()
        with self.db.transaction(read_only=True) as session:
            current = session.execute(
                select(RateLimitBucket.count).where(
                    RateLimitBucket.key == key, RateLimitBucket.window_start == _bucket(now, window_seconds)
                )
            ).scalar_one_or_none() or 0
            return self._weighted(session, key, now, window_seconds, current)

    def hit(self, key: str, *, window_seconds: int) -> float:
        """Count one more attempt and return the attempts in the sliding window ending now, this one included."""
        now = utc_now()
        start = _bucket(now, window_seconds)
        for _ in range(5):
            try:
                with self.db.transaction() as session:
                    updated = session.execute(
                        update(RateLimitBucket)
                        .where(RateLimitBucket.key == key, RateLimitBucket.window_start == start)
                        .values(count=RateLimitBucket.count + 1)
                        .returning(RateLimitBucket.count)
                    ).scalar_one_or_none()
                    if updated is None:
                        session.add(RateLimitBucket(key=key, window_start=start, count=1))
                        session.flush()
                        session.execute(
                            delete(RateLimitBucket).where(
                                RateLimitBucket.key == key,
                                RateLimitBucket.window_start < start - timedelta(seconds=window_seconds),
                            )
                        )
                        updated = 1
                    return self._weighted(session, key, now, window_seconds, int(updated))
            except IntegrityError:
                continue  # another process created the bucket first: count in it
        return self.count(key, window_seconds=window_seconds) + 1

    def forgive(self, key: str, *, window_seconds: int) -> None:
        """Take back one attempt counted by :meth:`hit` that proved legitimate."""
        start = _bucket(utc_now(), window_seconds)
        with self.db.transaction() as session:
            session.execute(
                update(RateLimitBucket)
                .where(RateLimitBucket.key == key, RateLimitBucket.window_start == start,
                       RateLimitBucket.count > 0)
                .values(count=RateLimitBucket.count - 1)
            )

    def reset(self, key: str) -> None:
        with self.db.transaction() as session:
            session.execute(delete(RateLimitBucket).where(RateLimitBucket.key == key))
