"""Fixed-window rate limits kept in the database, so every API process counts the same attempts.

Security runs on real time: windows are measured with the wall clock, never the simulated legal clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from service.db import Database
from service.domain.legal_time import utc_now
from service.models import RateLimitBucket


def _window(now: datetime, seconds: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


class RateLimiter:
    def __init__(self, db: Database) -> None:
        self.db = db

    def count(self, key: str, *, window_seconds: int) -> int:
        start = _window(utc_now(), window_seconds)
        with self.db.transaction(read_only=True) as session:
            value = session.execute(
                select(RateLimitBucket.count).where(
                    RateLimitBucket.key == key, RateLimitBucket.window_start == start
                )
            ).scalar_one_or_none()
        return value or 0

    def hit(self, key: str, *, window_seconds: int) -> int:
        """Count one more event in the current window and return the new count."""
        now = utc_now()
        start = _window(now, window_seconds)
        for _ in range(3):
            try:
                with self.db.transaction() as session:
                    updated = session.execute(
                        update(RateLimitBucket)
                        .where(RateLimitBucket.key == key, RateLimitBucket.window_start == start)
                        .values(count=RateLimitBucket.count + 1)
                        .returning(RateLimitBucket.count)
                    ).scalar_one_or_none()
                    if updated is not None:
                        return int(updated)
                    session.add(RateLimitBucket(key=key, window_start=start, count=1))
                    session.execute(
                        delete(RateLimitBucket).where(
                            RateLimitBucket.key == key,
                            RateLimitBucket.window_start < start - timedelta(seconds=window_seconds),
                        )
                    )
                    return 1
            except IntegrityError:
                continue
        return self.count(key, window_seconds=window_seconds)

    def reset(self, key: str) -> None:
        with self.db.transaction() as session:
            session.execute(delete(RateLimitBucket).where(RateLimitBucket.key == key))
