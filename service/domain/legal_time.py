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


_UTC_TEXTS: dict[datetime, str] = {}
_UTC_TEXTS_KEPT = 100_000


def utc_text(moment: datetime) -> str:
    """``moment`` as UTC ISO 8601 text with microseconds (``2025-01-06T01:00:00.000000+00:00``), the form the
    control slip's hash covers and the base of SQLite's stored text. Cached by instant (equal instants in any
    offset have one text): a dossier's due date recurs in each of its rows and an action's instant in every row
    it writes, and the conversion (to UTC, then the text) cost several times the look-up. Real-time stamps in UTC
    (``utc_now``), each its own, are converted without being kept; the cache is emptied when full."""
    text = _UTC_TEXTS.get(moment)
    if text is None:
        if moment.tzinfo is UTC:
            return moment.isoformat("T", "microseconds")  # positional: parsing timespec= cost more
        text = moment.astimezone(UTC).isoformat("T", "microseconds")
        if len(_UTC_TEXTS) >= _UTC_TEXTS_KEPT:
            _UTC_TEXTS.clear()
        _UTC_TEXTS[moment] = text
    return text
