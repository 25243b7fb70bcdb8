"""Legal time: the one time-zone module.

All legal time in Vietnam is Asia/Ho_Chi_Minh (UTC+07:00, no daylight saving time). Instants are aware datetimes;
a naive datetime is a programming error. Storage is UTC (see ``service.db.UTCDateTime``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def to_legal_time(moment: datetime) -> datetime:
    """``moment`` in Asia/Ho_Chi_Minh; a naive datetime is refused (``ValueError``)."""
    if not isinstance(moment, datetime):
        raise TypeError(f"expected a datetime, got {type(moment).__name__}")
    if moment.tzinfo is VN_TZ:
        return moment
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: every instant must carry its UTC offset")
    return moment.astimezone(VN_TZ)


def utc_now() -> datetime:
    """Real time (security: tokens, rate limits; the instant a row was recorded). Legal "now" comes from the
    legal clock (``service.clock``), never from here."""
    return datetime.now(UTC)
