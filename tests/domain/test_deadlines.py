"""compute_due and the lifecycle clock: golden cases computed by hand from the official 2024–2026 schedules
(domain-vn.md §3.3; default hours 07:30–11:30, 13:00–17:00) and properties."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.calendar import VN_TZ, OfficeHours, default_calendar, vietnam_calendar
from service.domain.deadlines import (
    DueDate,
    ExplanationItem,
    Unit,
    compute_due,
    extension_allowed,
    remaining_working_minutes,
    restart_due,
    resume_due,
    supplement_window_open,
    validate_new_due,
)
from service.domain.errors import RuleViolation

CAL = default_calendar()


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)  # type: ignore[misc]


def at(text: str) -> datetime:
    """'2026-02-12 09:00' in Hà Nội time."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=VN_TZ)


# id: (start, value, unit, effective_start, due_at), each computed by hand (minutes of working time in
# comments).
GOLDEN: dict[str, tuple[str, float | None, str, str, str]] = {
    # Thu 12/02/2026 09:00: Thu 390 + Fri 13/02 480 = 870; 14–22/02 off (weekends + Tết 16–20/02);
    # Mon 23 → 1350, Tue 24 → 1830, Wed 25 → 2310, Thu 26/02 07:30 + 90 = 09:00.
    "tet-2026": ("2026-02-12 09:00", 5, "working_days", "2026-02-12 09:00", "2026-02-26 09:00"),
    # Fri 24/01/2025 08:00: 450; 25/01–02/02 off (Tết 27–31/01); Mon 03/02 930, Tue 1410,
    # Wed 05/02 07:30 + 30 = 08:00.
    "tet-2025": ("2025-01-24 08:00", 3, "working_days", "2025-01-24 08:00", "2025-02-05 08:00"),
    # Fri 24/04/2026 13:00: 240; Sat 25, Sun 26 (Giỗ Tổ), Mon 27 (observed) off; Tue 28 → 720;
    # Wed 29 morning 240 ends exactly at 11:30 → 11:30 (session-end rule).
    "hung-kings-2026": ("2026-04-24 13:00", 2, "working_days", "2026-04-24 13:00", "2026-04-29 11:30"),
    # Wed 29/04/2026 17:30 (after hours) → 30/4, 1/5, weekend off → Mon 04/05 07:30; 480 → 17:00.
    "30-4-2026": ("2026-04-29 17:30", 1, "working_days", "2026-05-04 07:30", "2026-05-04 17:00"),
    # Fri 25/04/2025 07:30: Fri 480 + make-up Sat 26/04 480 → exactly at Sat 17:00.
    "makeup-2025": ("2025-04-25 07:30", 2, "working_days", "2025-04-25 07:30", "2025-04-26 17:00"),
    # Tue 29/04/2025 08:00: 450; 30/4, 1/5, 2/5 (swapped) and the weekend off; Mon 05/05 07:30 + 30.
    "30-4-2025": ("2025-04-29 08:00", 1, "working_days", "2025-04-29 08:00", "2025-05-05 08:00"),
    # Fri 03/05/2024 13:00: 240 + make-up Sat 04/05 morning 240 → 11:30.
    "makeup-2024": ("2024-05-03 13:00", 1, "working_days", "2024-05-03 13:00", "2024-05-04 11:30"),
    # Fri 29/08/2025 10:00: 330; 30/08–02/09 off; Wed 03/09 07:30 + 150 = 10:00.
    "national-day-2025": ("2025-08-29 10:00", 1, "working_days", "2025-08-29 10:00", "2025-09-03 10:00"),
    # Fri 21/08/2026 08:00: 450 + make-up Sat 22/08 480 = 930; Sun off; Mon 24/08 07:30 + 30.
    "makeup-2026-08-22": ("2026-08-21 08:00", 2, "working_days", "2026-08-21 08:00", "2026-08-24 08:00"),
    # Fri 28/08/2026 08:00: 450; 29/08–02/09 off (31/08 swapped, 1–2/09 Quốc khánh); Thu 03/09 07:30 + 30.
    "national-day-2026": ("2026-08-28 08:00", 1, "working_days", "2026-08-28 08:00", "2026-09-03 08:00"),
    # Wed 31/12/2025 16:00: 60; 01–04/01/2026 off (02/01 swapped, 12729/VPCP-KGVX); Mon 05/01 needs 420:
    # morning 240, afternoon 13:00 + 180 = 16:00.
    "new-year-2026": ("2025-12-31 16:00", 1, "working_days", "2025-12-31 16:00", "2026-01-05 16:00"),
    # Fri 09/01/2026 15:00: 120; make-up Sat 10/01 07:30 + 120 = 09:30.
    "makeup-2026-01-10": ("2026-01-09 15:00", 4, "working_hours", "2026-01-09 15:00", "2026-01-10 09:30"),
    "lunch-start": ("2026-01-05 12:15", 2, "working_hours", "2026-01-05 13:00", "2026-01-05 15:00"),
    "across-lunch": ("2026-01-05 11:00", 1, "working_hours", "2026-01-05 11:00", "2026-01-05 13:30"),
    "ends-at-noon": ("2026-01-05 10:30", 1, "working_hours", "2026-01-05 10:30", "2026-01-05 11:30"),
    "before-hours": ("2026-01-06 06:00", 8, "working_hours", "2026-01-06 07:30", "2026-01-06 17:00"),
    "after-hours": ("2026-01-06 18:00", 1, "working_days", "2026-01-07 07:30", "2026-01-07 17:00"),
    "session-end": ("2026-01-05 07:30", 1, "working_days", "2026-01-05 07:30", "2026-01-05 17:00"),
    "half-day": ("2026-01-05 08:00", 0.5, "working_days", "2026-01-05 08:00", "2026-01-05 13:30"),
    # Sat 14/02/2026 (Tết break) → Mon 23/02 07:30; 10 working days end Fri 06/03 17:00.
    "start-in-tet": ("2026-02-14 10:00", 10, "working_days", "2026-02-23 07:30", "2026-03-06 17:00"),
    # same_day: end of the receiving working day, or of the next one after 15:00 (Decree 23/2015 Art. 7).
    "sd-1459": ("2026-01-05 14:59", None, "same_day", "2026-01-05 14:59", "2026-01-05 17:00"),
    "sd-1500": ("2026-01-05 15:00", None, "same_day", "2026-01-05 15:00", "2026-01-05 17:00"),
    "sd-1501": ("2026-01-05 15:01", None, "same_day", "2026-01-05 15:01", "2026-01-06 17:00"),
    "sd-early": ("2026-01-05 06:00", None, "same_day", "2026-01-05 07:30", "2026-01-05 17:00"),
    "sd-evening": ("2026-01-05 18:00", None, "same_day", "2026-01-06 07:30", "2026-01-06 17:00"),
    "sd-before-tet": ("2026-02-13 15:30", None, "same_day", "2026-02-13 15:30", "2026-02-23 17:00"),
    "sd-makeup-saturday": ("2026-01-10 10:00", None, "same_day", "2026-01-10 10:00", "2026-01-10 17:00"),
    "sd-sunday": ("2026-01-11 16:00", None, "same_day", "2026-01-12 07:30", "2026-01-12 17:00"),
    "sd-new-year": ("2025-12-31 16:00", None, "same_day", "2025-12-31 16:00", "2026-01-05 17:00"),
    # calendar_days: end of the day N days after the start's local date, or of the next working day.
    "cd-makeup-saturday": ("2026-01-05 10:00", 5, "calendar_days", "2026-01-05 10:00", "2026-01-10 17:00"),
    "cd-sunday": ("2026-01-05 10:00", 6, "calendar_days", "2026-01-05 10:00", "2026-01-12 17:00"),
    "cd-weekday": ("2026-01-05 10:00", 3, "calendar_days", "2026-01-05 10:00", "2026-01-08 17:00"),
    "cd-ends-in-tet": ("2026-02-10 09:00", 7, "calendar_days", "2026-02-10 09:00", "2026-02-23 17:00"),
    # Starts on a holiday (Mon 27/04/2026); day 3 = Thu 30/04 (holiday) → 1/5, weekend → Mon 04/05.
    "cd-30-4": ("2026-04-27 09:00", 3, "calendar_days", "2026-04-28 07:30", "2026-05-04 17:00"),
    # Counted from the start's local date (Sat 03/01/2026), not from the effective start.
    "cd-weekend-start": ("2026-01-03 10:00", 2, "calendar_days", "2026-01-05 07:30", "2026-01-05 17:00"),
    # Day 4 = Tue 24/11/2026, Ngày Văn hóa Việt Nam → Wed 25/11.
    "cd-culture-day": ("2026-11-20 10:00", 4, "calendar_days", "2026-11-20 10:00", "2026-11-25 17:00"),
}


@pytest.mark.parametrize("case", GOLDEN.values(), ids=GOLDEN.keys())
def test_golden(case: tuple[str, float | None, str, str, str]) -> None:
    start, value, unit, effective, due = case
    result = compute_due(CAL, at(start), value, unit)
    assert (result.start, result.effective_start, result.due_at) == (at(start), at(effective), at(due))
    assert result.due_at.utcoffset() == result.effective_start.utcoffset() == timedelta(hours=7)


def test_unit_accepts_enum_and_string() -> None:
    assert compute_due(CAL, vn(2026, 1, 5, 8), 1, Unit.WORKING_DAYS) == compute_due(
        CAL, vn(2026, 1, 5, 8), 1, "working_days"
    )


def test_start_in_another_zone_is_reported_in_vietnam_time() -> None:
    result = compute_due(CAL, datetime(2026, 2, 12, 2, 0, tzinfo=UTC), 5, "working_days")
    assert result.start.isoformat() == "2026-02-12T09:00:00+07:00"
    assert result.due_at.isoformat() == "2026-02-26T09:00:00+07:00"


def test_without_the_2026_new_year_swap_friday_02_01_counts() -> None:
    bare = vietnam_calendar(overrides=())
    assert compute_due(bare, vn(2025, 12, 31, 16), 1, "working_days").due_at == vn(2026, 1, 2, 16)


def test_same_day_cutoff_is_configurable() -> None:
    start = vn(2026, 1, 5, 14)
    assert compute_due(CAL, start, None, "same_day").due_at == vn(2026, 1, 5, 17)
    assert compute_due(CAL, start, None, "same_day", same_day_cutoff=time(11, 0)).due_at == vn(2026, 1, 6, 17)


def test_agency_office_hours() -> None:
    cal = CAL.with_office_hours(OfficeHours.from_spec([["07:00", "11:30"], ["13:30", "17:00"]]))
    assert compute_due(cal, vn(2026, 1, 5, 7), 1, "working_days").due_at == vn(2026, 1, 5, 17)
    assert compute_due(cal, vn(2026, 1, 5, 12), 1, "working_hours").due_at == vn(2026, 1, 5, 14, 30)


@pytest.mark.parametrize(
    ("value", "unit"),
    [
        (0, "working_days"),
        (-1, "working_hours"),
        (None, "working_days"),
        (True, "working_days"),
        (float("inf"), "working_hours"),
        (1.5, "calendar_days"),
        (0, "calendar_days"),
        (1, "weeks"),
    ],
)
def test_invalid_values(value: object, unit: str) -> None:
    with pytest.raises(ValueError):
        compute_due(CAL, vn(2026, 1, 5, 8), value, unit)  # type: ignore[arg-type]


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        compute_due(CAL, datetime(2026, 1, 5, 8), 1, "working_days")  # noqa: DTZ001


# -- explanation ---------------------------------------------------------------------------------------------


def _kinds(result: DueDate, kind: str) -> list[tuple[str, str]]:
    return [(i.date.isoformat(), i.name) for i in result.explanation if i.kind == kind]


def test_explanation_lists_skipped_tet_days() -> None:
    result = compute_due(CAL, vn(2026, 2, 12, 9), 5, "working_days")
    assert _kinds(result, "skipped") == [
        ("2026-02-14", "Cuối tuần"),
        ("2026-02-15", "Cuối tuần"),
        *[(f"2026-02-{d}", "Tết Nguyên Đán") for d in range(16, 21)],
        ("2026-02-21", "Cuối tuần"),
        ("2026-02-22", "Cuối tuần"),
    ]
    assert result.explanation[0].kind == "start"
    assert result.explanation[-1].kind == "due"
    assert "09:00" in (result.explanation[-1].detail or "")
    rule = next(i for i in result.explanation if i.kind == "rule")
    assert rule.name == "5 ngày làm việc"


def test_explanation_counts_make_up_saturday() -> None:
    # Fri 25/04/2025 07:30, 5 days: Fri, make-up Sat 26/04, Mon 28, Tue 29, (30/4–4/5 off), Mon 05/05 17:00.
    result = compute_due(CAL, vn(2025, 4, 25, 7, 30), 5, "working_days")
    assert result.due_at == vn(2025, 5, 5, 17)
    assert _kinds(result, "counted") == [("2025-04-26", "Ngày làm bù")]
    assert ("2025-04-27", "Cuối tuần") in _kinds(result, "skipped")
    assert ("2025-05-02", "Nghỉ hoán đổi") in _kinds(result, "skipped")


@pytest.mark.parametrize(
    ("start", "fragment"),
    [
        (vn(2026, 1, 5, 12, 15), "nghỉ trưa"),
        (vn(2026, 1, 5, 6, 0), "trước giờ làm việc"),
        (vn(2026, 1, 5, 18, 0), "sau giờ làm việc"),
        (vn(2026, 2, 17, 9, 0), "ngày nghỉ: Tết Nguyên Đán"),
    ],
)
def test_explanation_start_normalisation(start: datetime, fragment: str) -> None:
    first = compute_due(CAL, start, 1, "working_days").explanation[0]
    assert first.kind == "start_moved"
    assert fragment in (first.detail or "")


def test_explanation_same_day_and_calendar_days_cite_the_law() -> None:
    late = compute_due(CAL, vn(2026, 1, 5, 15, 30), None, "same_day")
    rule = next(i for i in late.explanation if i.kind == "rule")
    assert "sau 15:00" in (rule.detail or "")
    assert rule.legal_basis == "Nghị định 23/2015/NĐ-CP, Điều 7"
    cd = compute_due(CAL, vn(2026, 2, 10, 9), 7, "calendar_days")
    rule = next(i for i in cd.explanation if i.kind == "rule")
    assert "Tết Nguyên Đán" in (rule.detail or "")
    assert "Điều 148" in (rule.legal_basis or "")
    # Calendar days count every day: only the days the deadline rolled over are listed as skipped.
    assert [d for d, _ in _kinds(cd, "skipped")] == [f"2026-02-{d}" for d in range(17, 23)]


def test_due_date_is_json_friendly() -> None:
    payload = compute_due(CAL, vn(2026, 2, 12, 9), 5, "working_days").to_dict()
    text = json.dumps(payload, ensure_ascii=False)
    assert '"due_at": "2026-02-26T09:00:00+07:00"' in text
    assert "Tết Nguyên Đán" in text
    item = ExplanationItem(vn(2026, 1, 1).date(), "skipped", "Tết Dương lịch")
    assert item.to_dict() == {
        "date": "2026-01-01",
        "kind": "skipped",
        "name": "Tết Dương lịch",
        "detail": None,
        "legal_basis": None,
    }


# -- lifecycle -----------------------------------------------------------------------------------------------


def test_pause_and_resume_across_tet() -> None:
    due = compute_due(CAL, vn(2026, 2, 9, 8), 5, "working_days").due_at  # Mon 09/02 08:00 → Mon 23/02 08:00
    assert due == vn(2026, 2, 23, 8)
    remaining = remaining_working_minutes(CAL, vn(2026, 2, 12, 8), due)  # Thu 08:00
    assert remaining == 930 + 30  # Thu 450 + Fri 480 + Mon 30
    # Resumed Tue 24/02 07:30 with 960 min → Wed 25/02 17:00 (two whole days, session-end rule).
    assert resume_due(CAL, vn(2026, 2, 24, 7, 30), remaining) == vn(2026, 2, 25, 17)


def test_pause_of_an_overdue_dossier_keeps_it_overdue() -> None:
    due = vn(2026, 1, 5, 17)
    remaining = remaining_working_minutes(CAL, vn(2026, 1, 6, 9), due)
    assert remaining == -90
    resumed = resume_due(CAL, vn(2026, 1, 8, 9), remaining)
    # 90 working minutes before Thu 08/01 09:00: the same working position as Thu 07:30, written as the
    # previous session end.
    assert resumed == vn(2026, 1, 7, 17)
    assert CAL.working_minutes_between(vn(2026, 1, 8, 9), resumed) == -90


def test_restart_from_zero() -> None:
    restarted = restart_due(CAL, vn(2026, 1, 9, 16), 2, "working_days")
    # Fri 60 + make-up Sat 480 + Mon 12/01 420 → 16:00.
    assert restarted.due_at == vn(2026, 1, 12, 16)
    assert restarted == compute_due(CAL, vn(2026, 1, 9, 16), 2, "working_days")


def test_supplement_window_is_three_working_days_inclusive() -> None:
    received = vn(2026, 1, 5, 8)
    assert supplement_window_open(CAL, received, vn(2026, 1, 8, 8))  # exactly 24 working hours
    assert not supplement_window_open(CAL, received, vn(2026, 1, 8, 8, 0, 1))
    assert supplement_window_open(CAL, received, vn(2026, 1, 7, 23))
    # Across Tết 2026: received Thu 12/02 09:00 → Thu 390 + Fri 480 + Mon 480 + Tue 24/02 90 → until 09:00.
    received = vn(2026, 2, 12, 9)
    assert supplement_window_open(CAL, received, vn(2026, 2, 24, 9))
    assert not supplement_window_open(CAL, received, vn(2026, 2, 24, 9, 1))
    assert supplement_window_open(CAL, received, vn(2026, 2, 20, 12))  # Tết days do not count


def test_extension_needs_one_working_day_left_inclusive() -> None:
    due = vn(2026, 1, 9, 17)
    assert extension_allowed(CAL, vn(2026, 1, 8, 17), due)  # exactly 8 working hours
    assert extension_allowed(CAL, vn(2026, 1, 8, 18), due)  # evening: still 480 left
    assert extension_allowed(CAL, vn(2026, 1, 9, 7, 30), due)
    assert not extension_allowed(CAL, vn(2026, 1, 9, 7, 31), due)
    assert not extension_allowed(CAL, vn(2026, 1, 10, 9), due)  # past due
    # Due Mon 23/02/2026 11:30: on Fri 13/02 at 11:30 there are 240 (Fri pm) + 240 (Mon am) = 480 left.
    assert extension_allowed(CAL, vn(2026, 2, 13, 11, 30), vn(2026, 2, 23, 11, 30))
    assert not extension_allowed(CAL, vn(2026, 2, 13, 13, 1), vn(2026, 2, 23, 11, 30))


def test_validate_new_due() -> None:
    current = vn(2026, 1, 9, 17)
    assert validate_new_due(CAL, current, vn(2026, 1, 14, 17)) == vn(2026, 1, 14, 17)
    assert validate_new_due(CAL, current, vn(2026, 1, 14, 10, 15)) == vn(2026, 1, 14, 10, 15)
    assert validate_new_due(CAL, current, vn(2026, 1, 14, 12, 0)) == vn(2026, 1, 14, 11, 30)
    assert validate_new_due(CAL, current, vn(2026, 1, 18, 9)) == vn(2026, 1, 16, 17)  # Sunday → Fri close
    # Saturday 10/01/2026 is a make-up working day: valid.
    assert validate_new_due(CAL, current, vn(2026, 1, 10, 9)) == vn(2026, 1, 10, 9)
    with pytest.raises(RuleViolation) as info:
        validate_new_due(CAL, current, vn(2026, 1, 8, 17))
    assert info.value.code == "NEW_DUE_NOT_LATER"
    # 18:00 on the due day grants no working time.
    with pytest.raises(RuleViolation):
        validate_new_due(CAL, current, vn(2026, 1, 9, 18))
    with pytest.raises(RuleViolation):
        validate_new_due(CAL, vn(2026, 2, 13, 17), vn(2026, 2, 20, 10))  # Tết: back to Fri 13/02 17:00


# -- properties ----------------------------------------------------------------------------------------------

starts = st.datetimes(
    min_value=datetime(2023, 6, 1),  # noqa: DTZ001 (hypothesis bounds are naive)
    max_value=datetime(2027, 6, 30),  # noqa: DTZ001
    timezones=st.sampled_from([VN_TZ, UTC]),
)
working_units = st.sampled_from(["working_days", "working_hours"])
values = st.integers(min_value=1, max_value=60)


def _is_due_instant(moment: datetime) -> bool:
    return any(s < moment <= e for s, e in CAL.working_sessions(moment.date()))


@settings(deadline=None)
@given(starts, values, st.sampled_from(list(Unit)))
def test_due_is_a_working_instant_or_session_end(start: datetime, value: int, unit: Unit) -> None:
    result = compute_due(CAL, start, value, unit)
    assert _is_due_instant(result.due_at)
    assert result.start <= result.effective_start < result.due_at
    assert CAL.is_working_instant(result.effective_start)


@settings(deadline=None)
@given(starts, values, working_units)
def test_working_time_between_effective_start_and_due_is_the_duration(
    start: datetime, value: int, unit: str
) -> None:
    result = compute_due(CAL, start, value, unit)
    expected = value * (480 if unit == "working_days" else 60)
    assert CAL.working_minutes_between(result.start, result.due_at) == expected


@settings(deadline=None)
@given(starts, values, values, working_units)
def test_durations_add_up(start: datetime, a: int, b: int, unit: str) -> None:
    first = compute_due(CAL, start, a, unit).due_at
    assert compute_due(CAL, first, b, unit).due_at == compute_due(CAL, start, a + b, unit).due_at


@settings(deadline=None)
@given(starts, starts, values, values, st.sampled_from(list(Unit)))
def test_monotonic(s1: datetime, s2: datetime, v1: int, v2: int, unit: Unit) -> None:
    s1, s2 = sorted((s1, s2))
    v1, v2 = sorted((v1, v2))
    assert compute_due(CAL, s1, v1, unit).due_at <= compute_due(CAL, s2, v1, unit).due_at
    assert compute_due(CAL, s1, v1, unit).due_at <= compute_due(CAL, s1, v2, unit).due_at


@settings(deadline=None)
@given(starts, values, st.integers(0, 30 * 480), st.integers(0, 30 * 24 * 60))
def test_pause_then_resume_conserves_working_time(
    start: datetime, value: int, pause_after: int, gap: int
) -> None:
    due = compute_due(CAL, start, value, "working_days").due_at
    paused_at = start + timedelta(minutes=pause_after)
    resumed_at = paused_at + timedelta(minutes=gap)
    remaining = remaining_working_minutes(CAL, paused_at, due)
    new_due = resume_due(CAL, resumed_at, remaining)
    assert CAL.working_minutes_between(resumed_at, new_due) == remaining
    if CAL.working_minutes_between(paused_at, resumed_at) == 0 and remaining > 0:
        assert new_due == due  # a pause over a weekend or a night changes nothing


@settings(deadline=None)
@given(starts, st.integers(1, 30))
def test_calendar_days_due_is_the_close_of_a_working_day_on_or_after_day_n(start: datetime, n: int) -> None:
    local = start.astimezone(VN_TZ)
    due = compute_due(CAL, start, n, "calendar_days").due_at
    assert due.date() >= local.date() + timedelta(days=n)
    assert due == CAL.working_sessions(due.date())[-1][1]
    between = CAL.days(local.date() + timedelta(days=n), due.date())
    assert all(not d.working for d in between[:-1]) and between[-1].working
