"""The working calendar: office hours, days off and working-time arithmetic in Vietnamese legal time.

Legal basis
-----------
* Labor Code 2019 Arts. 111–112: weekly rest, public holidays, compensatory days off (nghỉ bù); the
  Government's yearly swaps for public servants (nghỉ hoán đổi / ngày làm bù) come in as
  :class:`CalendarOverride` rows.
* Decision 188/1999/QĐ-TTg: the 40-hour, Monday–Friday week of the civil service. Office hours are set by each
  agency; the default is 07:30–11:30 and 13:00–17:00, so one working day is 8 working hours.
* Decree 61/2018/NĐ-CP (replaced by Decree 118/2025/NĐ-CP from 01/07/2025) counts resolution times in working
  days and hours; :mod:`service.domain.deadlines` builds the legal rules on top of this module.

Every instant is timezone-aware (a naive datetime is a ``ValueError``); all arithmetic happens in
``Asia/Ho_Chi_Minh`` (UTC+07:00, no DST) and every returned instant carries that zone.

Performance: the calendar precomputes, for each day of its range (2000–2100 by default), the working sessions
and the cumulative working time before that day. An instant maps to its *working position* (working
microseconds elapsed since the start of the range) in O(1) and a position maps back to an instant by
bisection, so adding N working days costs O(log n) whatever N is.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache, cached_property
from itertools import accumulate, pairwise
from types import MappingProxyType
from typing import NamedTuple

from service.domain.holidays_vn import KNOWN_CORRECTIONS, CalendarOverride, baseline_holidays
from service.domain.legal_time import VN_TZ, to_legal_time

__all__ = [
    "DEFAULT_FIRST_YEAR",
    "DEFAULT_LAST_YEAR",
    "VN_TZ",
    "WEEKDAY_KEYS",
    "WEEKEND_NAME",
    "CalendarDay",
    "CalendarRangeError",
    "DayInfo",
    "OfficeHours",
    "Session",
    "WorkingCalendar",
    "default_calendar",
    "to_legal_time",
    "vietnam_calendar",
]

DEFAULT_FIRST_YEAR = 2000
DEFAULT_LAST_YEAR = 2100

WEEKDAY_KEYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKEND_NAME = "Cuối tuần"
WEEKLY_REST_NAME = "Ngày nghỉ hằng tuần"

_US_PER_MINUTE = 60_000_000


class CalendarRangeError(ValueError):
    """The date or instant lies outside the range the calendar was built for."""


def _check_date(day: date) -> None:
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"expected a datetime.date, got {type(day).__name__}")


def _minutes_to_us(minutes: float) -> int:
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not math.isfinite(minutes):
        raise ValueError(f"working minutes must be a finite number, got {minutes!r}")
    return round(minutes * _US_PER_MINUTE)


def _parse_hhmm(text: str) -> time:
    try:
        hours, minutes = text.split(":")
        if len(hours) != 2 or len(minutes) != 2:
            raise ValueError
        return time(int(hours), int(minutes))
    except (ValueError, AttributeError):
        raise ValueError(f"expected a time as 'HH:MM', got {text!r}") from None


# ------------------------------------------------------------------------------------------------------------
# Office hours
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Session:
    """One working session of a day, ``[start, end)`` in local time, on whole minutes."""

    start: time
    end: time

    def __post_init__(self) -> None:
        for t in (self.start, self.end):
            if t.tzinfo is not None or t.second or t.microsecond:
                raise ValueError("session bounds are naive local times on whole minutes")
        if self.start >= self.end:
            raise ValueError(f"a session must end after it starts: {self.start:%H:%M}–{self.end:%H:%M}")

    @property
    def minutes(self) -> int:
        return (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)

    @property
    def bounds_us(self) -> tuple[int, int]:
        """Microseconds since local midnight of ``(start, end)``."""
        return (
            (self.start.hour * 60 + self.start.minute) * _US_PER_MINUTE,
            (self.end.hour * 60 + self.end.minute) * _US_PER_MINUTE,
        )

    @classmethod
    def from_spec(cls, spec: Sequence[str]) -> Session:
        """``["07:30", "11:30"]`` → ``Session(07:30, 11:30)``."""
        if isinstance(spec, str) or len(spec) != 2:
            raise ValueError(f"a session is a pair ['HH:MM', 'HH:MM'], got {spec!r}")
        return cls(_parse_hhmm(spec[0]), _parse_hhmm(spec[1]))

    def to_spec(self) -> list[str]:
        return [f"{self.start:%H:%M}", f"{self.end:%H:%M}"]


def _validate_day(sessions: tuple[Session, ...], label: str) -> None:
    for earlier, later in pairwise(sessions):
        if later.start < earlier.end:
            raise ValueError(f"{label}: sessions must be in order and must not overlap")


_DEFAULT_DAY = (Session(time(7, 30), time(11, 30)), Session(time(13, 0), time(17, 0)))


@dataclass(frozen=True)
class OfficeHours:
    """Working sessions for each weekday (Monday first), configurable per agency.

    A weekday without sessions is a weekly rest day. ``makeup`` are the sessions of a day made a working day
    by a ``workday`` override on a weekend (ngày làm bù): the Government's swaps replace a full weekday, so by
    default they are the sessions of the first weekday that has any (Monday). ``working_day_minutes`` (the
    length of those sessions, 480 by default) is what "one working day" means in deadline arithmetic.
    """

    weekly: tuple[tuple[Session, ...], ...]
    makeup: tuple[Session, ...] | None = None

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise ValueError("office hours need exactly 7 weekdays (Monday first)")
        for key, sessions in zip(WEEKDAY_KEYS, self.weekly, strict=True):
            _validate_day(sessions, key)
        if not any(self.weekly):
            raise ValueError("office hours need at least one working weekday")
        if self.makeup is not None:
            if not self.makeup:
                raise ValueError("make-up day sessions must not be empty")
            _validate_day(self.makeup, "makeup")

    @classmethod
    def default(cls) -> OfficeHours:
        """Monday–Friday 07:30–11:30 and 13:00–17:00 (8 working hours)."""
        return cls(weekly=(_DEFAULT_DAY,) * 5 + ((), ()))

    @classmethod
    def from_spec(cls, spec: Mapping[str, Sequence[Sequence[str]]] | Sequence[Sequence[str]]) -> OfficeHours:
        """Build from JSON-friendly data.

        Either a mapping ``{"mon": [["07:30", "11:30"], ["13:00", "17:00"]], …, "sun": [], "makeup"?: […]}``
        (a missing weekday has no sessions), or a bare list of sessions applied Monday to Friday.
        """
        if isinstance(spec, Mapping):
            unknown = set(spec) - {*WEEKDAY_KEYS, "makeup"}
            if unknown:
                raise ValueError(f"unknown office-hours keys: {sorted(unknown)}")
            weekly = tuple(tuple(Session.from_spec(s) for s in spec.get(key, ())) for key in WEEKDAY_KEYS)
            makeup_spec = spec.get("makeup")
            makeup = None if makeup_spec is None else tuple(Session.from_spec(s) for s in makeup_spec)
            return cls(weekly=weekly, makeup=makeup)
        if isinstance(spec, str):
            raise ValueError("office hours spec must be a mapping or a list of sessions")
        day = tuple(Session.from_spec(s) for s in spec)
        return cls(weekly=(day,) * 5 + ((), ()))

    def to_spec(self) -> dict[str, list[list[str]]]:
        """The mapping form of :meth:`from_spec` (JSON-serialisable; round-trips)."""
        spec = {key: [s.to_spec() for s in day] for key, day in zip(WEEKDAY_KEYS, self.weekly, strict=True)}
        if self.makeup is not None:
            spec["makeup"] = [s.to_spec() for s in self.makeup]
        return spec

    @cached_property
    def makeup_sessions(self) -> tuple[Session, ...]:
        if self.makeup is not None:
            return self.makeup
        return next(day for day in self.weekly if day)

    @cached_property
    def working_day_minutes(self) -> int:
        """Length of one working day in minutes (480 for the default hours)."""
        return sum(s.minutes for s in self.makeup_sessions)


# ------------------------------------------------------------------------------------------------------------
# Calendar
# ------------------------------------------------------------------------------------------------------------


class DayInfo(NamedTuple):
    """Whether a day is a working day, and why it is special (``None`` for an ordinary working day)."""

    working: bool
    name: str | None


@dataclass(frozen=True, slots=True)
class CalendarDay:
    date: date
    working: bool
    name: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"date": self.date.isoformat(), "working": self.working, "name": self.name}


Bounds = tuple[tuple[int, int], ...]


class WorkingCalendar:
    """Working days and working time for one set of office hours.

    ``baseline`` maps dates to holiday names (see :func:`service.domain.holidays_vn.baseline_holidays`);
    ``overrides`` win over the baseline and over weekends (the last one wins if a date repeats). A ``workday``
    override on a weekend uses the make-up sessions of ``office_hours``; on a weekday, that weekday's
    sessions.

    Working sessions are half-open, ``[start, end)``: 11:30 and 17:00 are not working instants, yet a span of
    working time that is used up exactly at a session end *ends* there (see :meth:`add_working_minutes`).
    """

    def __init__(
        self,
        baseline: Mapping[date, str],
        overrides: Iterable[CalendarOverride] = (),
        office_hours: OfficeHours | None = None,
        *,
        first_year: int = DEFAULT_FIRST_YEAR,
        last_year: int = DEFAULT_LAST_YEAR,
    ) -> None:
        if first_year > last_year:
            raise ValueError("first_year must not be after last_year")
        self._baseline = baseline
        self._overrides: Mapping[date, CalendarOverride] = MappingProxyType({o.day: o for o in overrides})
        self._office_hours = office_hours or OfficeHours.default()
        self._first_year, self._last_year = first_year, last_year
        self._first_day = date(first_year, 1, 1)
        self._last_day = date(last_year, 12, 31)
        self._ord0 = self._first_day.toordinal()
        self._n = self._last_day.toordinal() - self._ord0 + 1
        self._epoch = datetime(first_year, 1, 1, tzinfo=VN_TZ)
        self._build_index()

    def _build_index(self) -> None:
        ord0, n = self._ord0, self._n
        weekly: list[Bounds] = [tuple(s.bounds_us for s in day) for day in self._office_hours.weekly]
        makeup: Bounds = tuple(s.bounds_us for s in self._office_hours.makeup_sessions)
        days_off = {d.toordinal() - ord0 for d in self._baseline}
        by_index = {d.toordinal() - ord0: o for d, o in self._overrides.items()}
        weekday0 = self._first_day.weekday()

        sessions: list[Bounds] = []
        for k in range(n):
            weekday = (weekday0 + k) % 7
            override = by_index.get(k)
            if override is not None:
                if override.kind == "holiday":
                    day: Bounds = ()
                else:
                    day = weekly[weekday] if weekday < 5 and weekly[weekday] else makeup
            elif k in days_off:
                day = ()
            else:
                day = weekly[weekday]
            sessions.append(day)
        self._sessions = sessions
        self._cum = [0, *accumulate(sum(e - s for s, e in day) for day in sessions)]

    # -- construction helpers --------------------------------------------------------------------------------

    def with_overrides(self, overrides: Iterable[CalendarOverride]) -> WorkingCalendar:
        """The same calendar with another set of overrides (the baseline is reused)."""
        return WorkingCalendar(
            self._baseline,
            overrides,
            self._office_hours,
            first_year=self._first_year,
            last_year=self._last_year,
        )

    def with_office_hours(self, office_hours: OfficeHours) -> WorkingCalendar:
        """The same days off with another agency's office hours."""
        return WorkingCalendar(
            self._baseline,
            self._overrides.values(),
            office_hours,
            first_year=self._first_year,
            last_year=self._last_year,
        )

    @property
    def office_hours(self) -> OfficeHours:
        return self._office_hours

    @property
    def overrides(self) -> Mapping[date, CalendarOverride]:
        return self._overrides

    @property
    def baseline(self) -> Mapping[date, str]:
        return self._baseline

    @property
    def first_day(self) -> date:
        return self._first_day

    @property
    def last_day(self) -> date:
        return self._last_day

    # -- internals -------------------------------------------------------------------------------------------

    def _index(self, day: date) -> int:
        k = day.toordinal() - self._ord0
        if not 0 <= k < self._n:
            raise CalendarRangeError(f"{day.isoformat()} is outside the calendar range {self._range_text()}")
        return k

    def _range_text(self) -> str:
        return f"{self._first_day.isoformat()}..{self._last_day.isoformat()}"

    def _locate(self, moment: datetime) -> tuple[int, int, datetime]:
        """(day index, microseconds since local midnight, local datetime)."""
        local = to_legal_time(moment)
        # Both operands carry VN_TZ, so this is a plain wall-clock difference (no offset lookups).
        offset = local - self._epoch
        k = offset.days
        if not 0 <= k < self._n:
            raise CalendarRangeError(
                f"{local.isoformat()} is outside the calendar range {self._range_text()}"
            )
        return k, offset.seconds * 1_000_000 + offset.microseconds, local

    def _at(self, k: int, t: int) -> datetime:
        return self._epoch + timedelta(k, 0, t)

    def _position(self, moment: datetime) -> int:
        """Working microseconds elapsed from the start of the range up to ``moment``."""
        k, t, _ = self._locate(moment)
        p = self._cum[k]
        for s, e in self._sessions[k]:
            if t <= s:
                break
            p += (t if t < e else e) - s
        return p

    def _instant_at(self, p: int) -> datetime:
        """The earliest instant whose working position is ``p`` (a session end when ``p`` falls on one)."""
        cum = self._cum
        j = bisect_left(cum, p)
        if j == 0 or j > self._n:
            raise CalendarRangeError(f"the result falls outside the calendar range {self._range_text()}")
        k = j - 1
        r = p - cum[k]
        for s, e in self._sessions[k]:
            if r <= e - s:
                return self._at(k, s + r)
            r -= e - s
        raise AssertionError(
            "unreachable: cumulative index out of step with the sessions"
        )  # pragma: no cover

    def _first_working_index(self, k: int) -> int:
        """Index of the first working day at or after index ``k``."""
        if k < self._n:
            j = bisect_right(self._cum, self._cum[k], lo=k) - 1
            if j < self._n:
                return j
        raise CalendarRangeError(f"no working day before the end of the calendar range {self._range_text()}")

    def _last_working_index(self, k: int) -> int:
        """Index of the last working day strictly before index ``k``."""
        j = bisect_left(self._cum, self._cum[k], hi=k) - 1
        if j < 0:
            raise CalendarRangeError(
                f"no working day after the start of the calendar range {self._range_text()}"
            )
        return j

    # -- days ------------------------------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        _check_date(day)
        k = self._index(day)
        return self._cum[k + 1] > self._cum[k]

    def day_info(self, day: date) -> DayInfo:
        """``(working, name)``: e.g. ``(False, "Cuối tuần")``, ``(False, "Tết Nguyên Đán")``,
        ``(True, "Ngày làm bù")``, ``(True, None)`` for an ordinary working day."""
        _check_date(day)
        self._index(day)
        override = self._overrides.get(day)
        if override is not None:
            return DayInfo(override.kind == "workday", override.name)
        name = self._baseline.get(day)
        if name is not None:
            return DayInfo(False, name)
        weekday = day.weekday()
        if not self._office_hours.weekly[weekday]:
            return DayInfo(False, WEEKEND_NAME if weekday >= 5 else WEEKLY_REST_NAME)
        return DayInfo(True, None)

    def days(self, start: date, end: date) -> list[CalendarDay]:
        """Every day from ``start`` to ``end`` inclusive, with its status and name."""
        _check_date(start)
        _check_date(end)
        if end < start:
            raise ValueError("the end date is before the start date")
        self._index(start)
        self._index(end)
        return [
            CalendarDay(d, *self.day_info(d))
            for d in (start + timedelta(days=i) for i in range((end - start).days + 1))
        ]

    def working_sessions(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The day's working sessions as aware ``(start, end)`` pairs; empty on a day off."""
        _check_date(day)
        k = self._index(day)
        return tuple((self._at(k, s), self._at(k, e)) for s, e in self._sessions[k])

    def close_of_business(self, day: date) -> datetime:
        """End of the last session of ``day`` (or, on a day off, of the first working day after it)."""
        _check_date(day)
        k = self._first_working_index(self._index(day))
        return self._at(k, self._sessions[k][-1][1])

    # -- instants --------------------------------------------------------------------------------------------

    def is_working_instant(self, moment: datetime) -> bool:
        """True inside a working session (start included, end excluded)."""
        k, t, _ = self._locate(moment)
        return any(s <= t < e for s, e in self._sessions[k])

    def is_appointment_instant(self, moment: datetime) -> bool:
        """An instant the desk can promise to hand something over (Mẫu 04's new date): inside a working session,
        its closing time included (the usual "17:00 ngày …")."""
        k, t, _ = self._locate(moment)
        return any(s <= t <= e for s, e in self._sessions[k])

    def next_working_instant(self, moment: datetime) -> datetime:
        """``moment`` itself inside a session; otherwise the start of the next session (after hours, at lunch
        or on a day off)."""
        k, t, local = self._locate(moment)
        for s, e in self._sessions[k]:
            if t < e:
                return local if t >= s else self._at(k, s)
        j = self._first_working_index(k + 1)
        return self._at(j, self._sessions[j][0][0])

    def previous_working_instant(self, moment: datetime) -> datetime:
        """``moment`` itself inside a session or at its end; else the end of the latest earlier session."""
        k, t, local = self._locate(moment)
        for s, e in reversed(self._sessions[k]):
            if t >= s:
                return local if t <= e else self._at(k, e)
        j = self._last_working_index(k)
        return self._at(j, self._sessions[j][-1][1])

    def add_working_minutes(self, start: datetime, minutes: float) -> datetime:
        """The instant at which ``minutes`` of working time counted from ``start`` are used up.

        Time is consumed session by session. When it runs out exactly at a session end the result is that end
        (e.g. 17:00), not the start of the next session. ``minutes == 0`` gives :meth:`next_working_instant`;
        negative minutes count backwards (used to keep an overdue dossier overdue across a pause).
        """
        delta = _minutes_to_us(minutes)
        if delta == 0:
            return self.next_working_instant(start)
        return self._instant_at(self._position(start) + delta)

    def working_span(self, start: datetime, minutes: float) -> tuple[datetime, datetime]:
        """``(next_working_instant(start), add_working_minutes(start, minutes))`` in one pass (the hot path of
        due-date computation)."""
        delta = _minutes_to_us(minutes)
        k, t, local = self._locate(start)
        p = self._cum[k]
        effective = None
        for s, e in self._sessions[k]:
            if t < e:
                if t >= s:
                    effective = local
                    p += t - s
                else:
                    effective = self._at(k, s)
                break
            p += e - s
        if effective is None:
            j = self._first_working_index(k + 1)
            effective = self._at(j, self._sessions[j][0][0])
        return effective, (effective if delta == 0 else self._instant_at(p + delta))

    def working_minutes_between(self, a: datetime, b: datetime) -> float:
        """Working minutes from ``a`` to ``b`` (negative when ``b`` is before ``a``)."""
        return (self._position(b) - self._position(a)) / _US_PER_MINUTE


def vietnam_calendar(
    overrides: Iterable[CalendarOverride] = KNOWN_CORRECTIONS,
    office_hours: OfficeHours | None = None,
    *,
    first_year: int = DEFAULT_FIRST_YEAR,
    last_year: int = DEFAULT_LAST_YEAR,
) -> WorkingCalendar:
    """The Vietnamese public-sector calendar: package baseline + ``overrides`` (the known corrections by
    default; the database layer passes its override rows instead)."""
    baseline = baseline_holidays(range(first_year, last_year + 1))
    return WorkingCalendar(baseline, overrides, office_hours, first_year=first_year, last_year=last_year)


@cache
def default_calendar() -> WorkingCalendar:
    """A shared calendar with the known corrections and the default office hours (built once)."""
    return vietnam_calendar()
