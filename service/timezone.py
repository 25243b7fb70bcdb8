"""The legal time zone. All legal time in Vietnam is Asia/Ho_Chi_Minh (UTC+07:00, no DST)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def to_local(moment: datetime) -> datetime:
    """Express an aware instant in Vietnamese legal time; naive datetimes are a programming error."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every instant must carry its offset")
    return moment.astimezone(VN_TZ)


def utc_now() -> datetime:
    return datetime.now(UTC)
