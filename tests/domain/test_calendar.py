"""WorkingCalendar and OfficeHours: days off, sessions, working-time arithmetic (hand-computed cases from the
official 2024–2026 schedules, domain-vn.md §3.3) and properties."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.calendar import (
    VN_TZ,
    CalendarDay,
    CalendarRangeError,
    DayInfo,
    OfficeHours,
    Session,
    WorkingCalendar,
    default_calendar,
    to_legal_time,
    vietnam_calendar,
)
from service.domain.holidays_vn import KNOWN_CORRECTIONS, CalendarOverride, baseline_holidays

CAL = default_calendar()


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)  # type: ignore[misc]


def _dates(*items: tuple[int, int, int]) -> set[date]:
    return {date(*i) for i in items}


def _range(y: int, m: int, d1: int, d2: int) -> list[tuple[int, int, int]]:
    return [(y, m, d) for d in range(d1, d2 + 1)]


# Official public-sector schedule 2024–2026 (with the known corrections): every weekday off, every Saturday
# worked.
NON_WORKING_WEEKDAYS = _dates(
    (2024, 1, 1),
    *[(2024, 2, d) for d in (8, 9, 12, 13, 14)],
    (2024, 4, 18),
    (2024, 4, 29),
    (2024, 4, 30),
    (2024, 5, 1),
    (2024, 9, 2),
    (2024, 9, 3),
    (2025, 1, 1),
    *_range(2025, 1, 27, 31),
    (2025, 4, 7),
    (2025, 4, 30),
    (2025, 5, 1),
    (2025, 5, 2),
    (2025, 9, 1),
    (2025, 9, 2),
    (2026, 1, 1),
    (2026, 1, 2),
    *_range(2026, 2, 16, 20),
    (2026, 4, 27),
    (2026, 4, 30),
    (2026, 5, 1),
    (2026, 8, 31),
    (2026, 9, 1),
    (2026, 9, 2),
    (2026, 11, 24),
)
WORKING_WEEKEND_DAYS = _dates((2024, 5, 4), (2025, 4, 26), (2026, 1, 10), (2026, 8, 22))


def test_snapshot_2024_2026_non_working_weekdays_and_working_saturdays() -> None:
    days = CAL.days(date(2024, 1, 1), date(2026, 12, 31))
    off_weekdays = {d.date for d in days if not d.working and d.date.weekday() < 5}
    working_weekends = {d.date for d in days if d.working and d.date.weekday() >= 5}
    assert off_weekdays == NON_WORKING_WEEKDAYS
    assert working_weekends == WORKING_WEEKEND_DAYS


@pytest.mark.parametrize(("year", "count"), [(2024, 251), (2025, 250), (2026, 249)])
def test_working_days_per_year(year: int, count: int) -> None:
    # 2024: 262 weekdays − 12 off + 1 Saturday; 2025: 261 − 12 + 1; 2026: 261 − 14 + 2.
    assert sum(d.working for d in CAL.days(date(year, 1, 1), date(year, 12, 31))) == count


@pytest.mark.parametrize(
    ("day", "info"),
    [
        (date(2026, 1, 5), (True, None)),
        (date(2026, 1, 3), (False, "Cuối tuần")),
        (date(2026, 1, 1), (False, "Tết Dương lịch")),
        (date(2026, 1, 2), (False, "Nghỉ hoán đổi")),
        (date(2026, 1, 10), (True, "Ngày làm bù")),
        (date(2026, 2, 17), (False, "Tết Nguyên Đán")),
        (date(2026, 2, 14), (False, "Cuối tuần")),
        (date(2026, 4, 26), (False, "Giỗ Tổ Hùng Vương")),
        (date(2026, 4, 27), (False, "Nghỉ bù")),
        (date(2026, 4, 30), (False, "Ngày Chiến thắng")),
        (date(2026, 5, 1), (False, "Ngày Quốc tế Lao động")),
        (date(2026, 8, 22), (True, "Ngày làm bù")),
        (date(2026, 8, 31), (False, "Nghỉ hoán đổi")),
        (date(2026, 9, 2), (False, "Quốc khánh")),
        (date(2026, 11, 24), (False, "Ngày Văn hóa Việt Nam")),
        (date(2025, 4, 26), (True, "Ngày làm bù")),
        (date(2024, 5, 4), (True, "Ngày làm bù")),
    ],
)
def test_day_info(day: date, info: tuple[bool, str | None]) -> None:
    assert CAL.day_info(day) == info
    assert CAL.is_working_day(day) is info[0]


def test_day_info_is_a_named_tuple() -> None:
    working, name = CAL.day_info(date(2026, 2, 16))
    assert isinstance(CAL.day_info(date(2026, 2, 16)), DayInfo)
    assert (working, name) == (False, "Tết Nguyên Đán")


def test_days_inclusive_and_json_friendly() -> None:
    days = CAL.days(date(2026, 1, 1), date(2026, 1, 5))
    assert [d.to_dict() for d in days] == [
        {"date": "2026-01-01", "working": False, "name": "Tết Dương lịch"},
        {"date": "2026-01-02", "working": False, "name": "Nghỉ hoán đổi"},
        {"date": "2026-01-03", "working": False, "name": "Cuối tuần"},
        {"date": "2026-01-04", "working": False, "name": "Cuối tuần"},
        {"date": "2026-01-05", "working": True, "name": None},
    ]
    json.dumps([d.to_dict() for d in days], ensure_ascii=False)
    assert CAL.days(date(2026, 1, 5), date(2026, 1, 5)) == [CalendarDay(date(2026, 1, 5), True, None)]
    with pytest.raises(ValueError):
        CAL.days(date(2026, 1, 5), date(2026, 1, 4))


# -- overrides -----------------------------------------------------------------------------------------------


def test_without_corrections_the_package_alone_misses_the_2026_swaps() -> None:
    bare = vietnam_calendar(overrides=())
    assert bare.is_working_day(date(2026, 1, 2))
    assert not bare.is_working_day(date(2026, 1, 10))
    assert not bare.is_working_day(date(2026, 8, 22))
    assert bare.is_working_day(date(2026, 11, 24))  # the baseline leaves 24/11 to the override


def test_deleting_the_culture_day_override_makes_24_11_a_working_day() -> None:
    remaining = [o for o in KNOWN_CORRECTIONS if o.day != date(2026, 11, 24)]
    cal = CAL.with_overrides(remaining)
    assert cal.day_info(date(2026, 11, 24)) == (True, None)
    assert not CAL.is_working_day(date(2026, 11, 24))


def test_overrides_win_over_baseline_and_weekends() -> None:
    cal = CAL.with_overrides(
        [
            *KNOWN_CORRECTIONS,
            CalendarOverride(date(2026, 2, 16), "workday", "Làm việc"),  # a Tết day made working
            CalendarOverride(date(2026, 3, 8), "workday", "Ngày làm bù"),  # Sunday
            CalendarOverride(date(2026, 3, 10), "holiday", "Nghỉ đột xuất"),  # Tuesday
        ]
    )
    assert cal.day_info(date(2026, 2, 16)) == (True, "Làm việc")
    assert cal.day_info(date(2026, 3, 8)) == (True, "Ngày làm bù")
    assert cal.day_info(date(2026, 3, 10)) == (False, "Nghỉ đột xuất")
    assert [s.time() for pair in cal.working_sessions(date(2026, 3, 8)) for s in pair] == [
        time(7, 30),
        time(11, 30),
        time(13, 0),
        time(17, 0),
    ]
    assert cal.working_sessions(date(2026, 3, 10)) == ()


def test_last_override_for_a_date_wins() -> None:
    cal = CAL.with_overrides(
        [
            CalendarOverride(date(2026, 3, 10), "holiday", "A"),
            CalendarOverride(date(2026, 3, 10), "workday", "B"),
        ]
    )
    assert cal.day_info(date(2026, 3, 10)) == (True, "B")


# -- office hours --------------------------------------------------------------------------------------------


def test_default_office_hours_spec_round_trip() -> None:
    hours = OfficeHours.default()
    spec = hours.to_spec()
    assert spec["mon"] == [["07:30", "11:30"], ["13:00", "17:00"]]
    assert spec["sat"] == spec["sun"] == []
    assert "makeup" not in spec
    assert OfficeHours.from_spec(json.loads(json.dumps(spec))) == hours
    assert OfficeHours.from_spec([["07:30", "11:30"], ["13:00", "17:00"]]) == hours
    assert hours.working_day_minutes == 480


def test_office_hours_with_makeup_round_trip() -> None:
    spec = {"mon": [["08:00", "12:00"]], "sat": [["08:00", "11:00"]], "makeup": [["07:00", "11:00"]]}
    hours = OfficeHours.from_spec(spec)
    assert hours.weekly[1] == ()
    assert hours.working_day_minutes == 240
    assert OfficeHours.from_spec(hours.to_spec()) == hours


@pytest.mark.parametrize(
    "spec",
    [
        {"mon": [["11:30", "07:30"]]},
        {"mon": [["07:30", "11:30"], ["11:00", "17:00"]]},
        {"mon": [["7:30", "11:30"]]},
        {"mon": [["07:30"]]},
        {"mon": [["07:30", "25:00"]]},
        {"monday": [["07:30", "11:30"]]},
        {"sat": []},
        {"mon": [["07:30", "11:30"]], "makeup": []},
        "07:30-17:00",
    ],
)
def test_office_hours_validation(spec: object) -> None:
    with pytest.raises(ValueError):
        OfficeHours.from_spec(spec)  # type: ignore[arg-type]


def test_session_validation() -> None:
    with pytest.raises(ValueError):
        Session(time(7, 30, 15), time(11, 30))
    assert Session(time(7, 30), time(11, 30)).minutes == 240


def test_agency_with_saturday_mornings() -> None:
    weekday = [["07:30", "11:30"], ["13:00", "17:00"]]
    hours = OfficeHours.from_spec(
        {k: weekday for k in ("mon", "tue", "wed", "thu", "fri")} | {"sat": [weekday[0]]}
    )
    cal = CAL.with_office_hours(hours)
    assert cal.day_info(date(2026, 1, 17)) == (True, None)  # an ordinary Saturday: morning only
    assert len(cal.working_sessions(date(2026, 1, 17))) == 1
    assert len(cal.working_sessions(date(2026, 1, 10))) == 2  # the make-up Saturday works a full weekday
    assert not cal.is_working_day(date(2024, 2, 10))  # a Saturday that is a Tết day stays off
    # Fri 16:00 + 2 working hours → Sat 08:30 (Saturday morning session).
    assert cal.add_working_minutes(vn(2026, 1, 16, 16), 120) == vn(2026, 1, 17, 8, 30)


def test_opencps_style_hours() -> None:
    cal = CAL.with_office_hours(OfficeHours.from_spec([["07:00", "11:30"], ["13:30", "17:00"]]))
    assert cal.office_hours.working_day_minutes == 480
    assert cal.next_working_instant(vn(2026, 1, 5, 11, 45)) == vn(2026, 1, 5, 13, 30)
    assert cal.add_working_minutes(vn(2026, 1, 5, 7), 480) == vn(2026, 1, 5, 17)


# -- instants ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (vn(2026, 1, 5, 6, 0), vn(2026, 1, 5, 7, 30)),  # before hours
        (vn(2026, 1, 5, 7, 30), vn(2026, 1, 5, 7, 30)),  # session start
        (vn(2026, 1, 5, 9, 15, 42), vn(2026, 1, 5, 9, 15, 42)),  # inside
        (vn(2026, 1, 5, 11, 30), vn(2026, 1, 5, 13, 0)),  # session end is not working time
        (vn(2026, 1, 5, 12, 15), vn(2026, 1, 5, 13, 0)),  # lunch
        (vn(2026, 1, 5, 17, 0), vn(2026, 1, 6, 7, 30)),  # close
        (vn(2026, 1, 9, 18, 0), vn(2026, 1, 10, 7, 30)),  # Fri evening → make-up Saturday
        (vn(2025, 12, 31, 17, 30), vn(2026, 1, 5, 7, 30)),  # New Year 2026 (1–4/01)
        (vn(2026, 2, 13, 17, 1), vn(2026, 2, 23, 7, 30)),  # Tết 2026
        (vn(2026, 2, 18, 10, 0), vn(2026, 2, 23, 7, 30)),
        (vn(2026, 4, 24, 17, 0), vn(2026, 4, 28, 7, 30)),  # Hùng Kings 2026, observed Mon 27/04
    ],
)
def test_next_working_instant(moment: datetime, expected: datetime) -> None:
    assert CAL.next_working_instant(moment) == expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (vn(2026, 1, 5, 9, 0), vn(2026, 1, 5, 9, 0)),
        (vn(2026, 1, 5, 11, 30), vn(2026, 1, 5, 11, 30)),
        (vn(2026, 1, 5, 12, 0), vn(2026, 1, 5, 11, 30)),
        (vn(2026, 1, 5, 7, 0), vn(2025, 12, 31, 17, 0)),
        (vn(2026, 1, 11, 9, 0), vn(2026, 1, 10, 17, 0)),  # Sunday → make-up Saturday's close
        (vn(2026, 2, 22, 9, 0), vn(2026, 2, 13, 17, 0)),
    ],
)
def test_previous_working_instant(moment: datetime, expected: datetime) -> None:
    assert CAL.previous_working_instant(moment) == expected


def test_is_working_instant() -> None:
    assert CAL.is_working_instant(vn(2026, 1, 5, 7, 30))
    assert CAL.is_working_instant(vn(2026, 1, 5, 16, 59, 59))
    assert not CAL.is_working_instant(vn(2026, 1, 5, 17, 0))
    assert not CAL.is_working_instant(vn(2026, 1, 5, 12, 0))
    assert not CAL.is_working_instant(vn(2026, 1, 3, 9, 0))
    assert CAL.is_working_instant(vn(2026, 1, 10, 9, 0))


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        (vn(2026, 1, 5, 7, 30), 480, vn(2026, 1, 5, 17, 0)),  # session-end rule: 17:00, not next morning
        (vn(2026, 1, 5, 10, 30), 60, vn(2026, 1, 5, 11, 30)),  # morning session end
        (vn(2026, 1, 5, 11, 0), 60, vn(2026, 1, 5, 13, 30)),  # across lunch
        (vn(2026, 1, 5, 12, 15), 120, vn(2026, 1, 5, 15, 0)),  # start at lunch
        (vn(2026, 1, 6, 6, 0), 480, vn(2026, 1, 6, 17, 0)),  # before hours
        (vn(2026, 1, 6, 18, 0), 480, vn(2026, 1, 7, 17, 0)),  # after hours
        (vn(2026, 1, 9, 15, 0), 240, vn(2026, 1, 10, 9, 30)),  # make-up Saturday 10/01/2026
        (vn(2026, 1, 5, 8, 0, 30), 1, vn(2026, 1, 5, 8, 1, 30)),  # seconds are kept
        (vn(2026, 1, 5, 9, 0), 0, vn(2026, 1, 5, 9, 0)),
        (vn(2026, 1, 5, 12, 0), 0, vn(2026, 1, 5, 13, 0)),  # zero → next working instant
        (vn(2026, 1, 5, 8, 0), -60, vn(2025, 12, 31, 16, 30)),  # backwards across New Year
    ],
)
def test_add_working_minutes(start: datetime, minutes: int, expected: datetime) -> None:
    assert CAL.add_working_minutes(start, minutes) == expected


def test_working_minutes_between() -> None:
    assert CAL.working_minutes_between(vn(2026, 2, 13, 9), vn(2026, 2, 23, 9)) == 480
    assert CAL.working_minutes_between(vn(2026, 2, 23, 9), vn(2026, 2, 13, 9)) == -480
    assert CAL.working_minutes_between(vn(2026, 1, 5, 11, 30), vn(2026, 1, 5, 13, 0)) == 0
    assert CAL.working_minutes_between(vn(2026, 1, 5, 8), vn(2026, 1, 5, 8, 0, 30)) == 0.5
    # One whole year of working time (2026: 249 working days).
    assert CAL.working_minutes_between(vn(2026, 1, 1), vn(2027, 1, 1)) == 249 * 480


def test_time_zones() -> None:
    utc_start = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội
    result = CAL.add_working_minutes(utc_start, 60)
    assert result == vn(2026, 1, 5, 10, 0)
    assert result.utcoffset() == timedelta(hours=7)
    assert result.isoformat() == "2026-01-05T10:00:00+07:00"
    # 23:30 UTC on Sunday 04/01 is 06:30 on Monday in Hà Nội.
    assert CAL.next_working_instant(datetime(2026, 1, 4, 23, 30, tzinfo=UTC)) == vn(2026, 1, 5, 7, 30)
    tokyo = timezone(timedelta(hours=9))
    assert CAL.next_working_instant(datetime(2026, 1, 5, 11, 0, tzinfo=tokyo)) == vn(2026, 1, 5, 9, 0)


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 1, 5, 9)  # noqa: DTZ001
    for call in (
        lambda: CAL.next_working_instant(naive),
        lambda: CAL.add_working_minutes(naive, 10),
        lambda: CAL.working_minutes_between(naive, vn(2026, 1, 5, 10)),
        lambda: CAL.is_working_instant(naive),
        lambda: to_legal_time(naive),
    ):
        with pytest.raises(ValueError, match="naive"):
            call()


def test_bad_arguments() -> None:
    with pytest.raises(TypeError):
        CAL.is_working_day(vn(2026, 1, 5))  # a datetime is not a date
    with pytest.raises(ValueError):
        CAL.add_working_minutes(vn(2026, 1, 5), float("nan"))
    with pytest.raises(ValueError):
        CAL.add_working_minutes(vn(2026, 1, 5), True)  # type: ignore[arg-type]


def test_range_limits() -> None:
    small = WorkingCalendar(baseline_holidays(range(2026, 2027)), first_year=2026, last_year=2026)
    with pytest.raises(CalendarRangeError):
        small.is_working_day(date(2027, 1, 1))
    with pytest.raises(CalendarRangeError):
        small.add_working_minutes(vn(2026, 12, 31, 9), 480)
    with pytest.raises(CalendarRangeError):
        small.next_working_instant(vn(2026, 12, 31, 18))
    with pytest.raises(CalendarRangeError):
        small.previous_working_instant(vn(2026, 1, 1, 9))
    assert small.add_working_minutes(vn(2026, 12, 31, 9), 390) == vn(2026, 12, 31, 17)
    assert CAL.first_day == date(2000, 1, 1) and CAL.last_day == date(2100, 12, 31)


def test_close_of_business() -> None:
    assert CAL.close_of_business(date(2026, 1, 5)) == vn(2026, 1, 5, 17)
    assert CAL.close_of_business(date(2026, 1, 10)) == vn(2026, 1, 10, 17)
    assert CAL.close_of_business(date(2026, 2, 14)) == vn(2026, 2, 23, 17)


def test_long_durations_need_no_day_walk() -> None:
    # 100 years of working time in one call: correct and instant thanks to the cumulative index.
    start = vn(2000, 1, 3, 7, 30)
    century = CAL.working_minutes_between(start, vn(2100, 12, 31, 17))
    assert CAL.add_working_minutes(start, century) == vn(2100, 12, 31, 17)


# -- properties ----------------------------------------------------------------------------------------------

ZONES = st.sampled_from([VN_TZ, UTC, timezone(timedelta(hours=9)), timezone(timedelta(hours=-5))])
instants = st.datetimes(
    min_value=datetime(2023, 6, 1),  # noqa: DTZ001 (hypothesis bounds are naive)
    max_value=datetime(2027, 6, 30),  # noqa: DTZ001
    timezones=ZONES,
)
durations = st.integers(min_value=1, max_value=120 * 480)


def _is_due_instant(cal: WorkingCalendar, moment: datetime) -> bool:
    local = moment.astimezone(VN_TZ)
    return any(s < local <= e for s, e in cal.working_sessions(local.date()))


def _reference_add(cal: WorkingCalendar, start: datetime, minutes: int) -> datetime:
    """Day-by-day, session-by-session walk: the slow obvious algorithm."""
    remaining = timedelta(minutes=minutes)
    moment = start.astimezone(VN_TZ)
    day = moment.date()
    while True:
        for s, e in cal.working_sessions(day):
            begin = max(s, moment)
            if begin >= e:
                continue
            if remaining <= e - begin:
                return begin + remaining
            remaining -= e - begin
        day += timedelta(days=1)


@settings(deadline=None)
@given(instants, durations)
def test_matches_the_day_by_day_reference(start: datetime, minutes: int) -> None:
    assert CAL.add_working_minutes(start, minutes) == _reference_add(CAL, start, minutes)


@settings(deadline=None)
@given(instants, durations)
def test_result_is_a_working_instant_or_a_session_end(start: datetime, minutes: int) -> None:
    due = CAL.add_working_minutes(start, minutes)
    assert _is_due_instant(CAL, due)
    assert due.utcoffset() == timedelta(hours=7)
    assert CAL.previous_working_instant(due) == due


@settings(deadline=None)
@given(instants, durations, durations)
def test_adding_is_associative(start: datetime, a: int, b: int) -> None:
    assert CAL.add_working_minutes(CAL.add_working_minutes(start, a), b) == CAL.add_working_minutes(
        start, a + b
    )


@settings(deadline=None)
@given(instants, durations)
def test_working_time_between_start_and_result_is_the_duration(start: datetime, minutes: int) -> None:
    assert CAL.working_minutes_between(start, CAL.add_working_minutes(start, minutes)) == minutes


@settings(deadline=None)
@given(instants, instants, durations, durations)
def test_monotonic_in_start_and_duration(s1: datetime, s2: datetime, m1: int, m2: int) -> None:
    s1, s2 = sorted((s1, s2))
    m1, m2 = sorted((m1, m2))
    assert CAL.add_working_minutes(s1, m1) <= CAL.add_working_minutes(s2, m1)
    assert CAL.add_working_minutes(s1, m1) <= CAL.add_working_minutes(s1, m2)


@settings(deadline=None)
@given(instants)
def test_next_working_instant_properties(moment: datetime) -> None:
    nxt = CAL.next_working_instant(moment)
    assert nxt >= moment
    assert CAL.is_working_instant(nxt)
    assert CAL.working_minutes_between(moment, nxt) == 0
    assert CAL.next_working_instant(nxt) == nxt


@settings(deadline=None)
@given(instants, st.integers(min_value=0, max_value=120 * 480))
def test_working_span_is_next_instant_and_sum(start: datetime, minutes: int) -> None:
    assert CAL.working_span(start, minutes) == (
        CAL.next_working_instant(start),
        CAL.add_working_minutes(start, minutes),
    )


def test_an_appointment_falls_in_a_session_closing_time_included() -> None:
    """Mẫu 04's new date: the desk must be open then; "17:00" is a usual promise, lunch and evenings are not."""
    def at(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=VN_TZ)

    assert CAL.is_appointment_instant(at("2026-03-10T07:30"))
    assert CAL.is_appointment_instant(at("2026-03-10T17:00"))
    assert CAL.is_appointment_instant(at("2026-03-10T11:30"))
    assert not CAL.is_appointment_instant(at("2026-03-10T17:00:01"))
    assert not CAL.is_appointment_instant(at("2026-03-10T12:15"))
    assert not CAL.is_appointment_instant(at("2026-03-10T19:30"))
    assert not CAL.is_appointment_instant(at("2026-03-08T10:00"))  # Sunday
    assert not CAL.is_working_instant(at("2026-03-10T17:00"))  # the end of a session is not working time
