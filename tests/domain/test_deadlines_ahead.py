"""Deadlines ahead in Vietnamese working time: hand-computed cases (holidays, make-up Saturdays, pauses) and the
property that the database window selects exactly the dossiers the per-dossier rule calls due soon."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.calendar import VN_TZ, default_calendar
from service.domain.deadlines_ahead import Urgency, deadline_ahead, due_soon_window, working_hours_left

CAL = default_calendar()


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=VN_TZ)


@pytest.mark.parametrize(("now", "due", "hours"), [
    # Same day: 09:00 → 17:00 minus the lunch break = 6 h 30.
    ("2026-03-04 09:00", "2026-03-04 17:00", 6.5),
    # Over a weekend: Friday 16:00 → Monday 09:30 = 1 h + 2 h.
    ("2026-03-06 16:00", "2026-03-09 09:30", 3.0),
    # Over Tết 2026 (14–22/02 off): Friday 13/02 16:00 → Monday 23/02 08:30 = 1 h + 1 h.
    ("2026-02-13 16:00", "2026-02-23 08:30", 2.0),
    # Over the make-up Saturday 10/01/2026 (a working day) and the swapped day off Friday 02/01/2026:
    # Friday 09/01 16:00 → Monday 12/01 08:30 = 1 h + 8 h (Saturday) + 1 h.
    ("2026-01-09 16:00", "2026-01-12 08:30", 10.0),
    # Thursday 01/01 (New Year) and Friday 02/01 (swapped) are off: Wed 31/12/2025 16:00 → Mon 05/01 08:30.
    ("2025-12-31 16:00", "2026-01-05 08:30", 2.0),
    # Overdue: due Monday 17:00, now Tuesday 10:00 → 2 h 30 past (Tuesday 07:30–10:00).
    ("2026-03-10 10:00", "2026-03-09 17:00", -2.5),
])
def test_working_hours_left_in_vietnamese_working_time(now: str, due: str, hours: float) -> None:
    assert working_hours_left(CAL, at(now), status="processing", due_at=at(due)) == hours


@pytest.mark.parametrize("status", ["submitted", "awaiting_supplement", "awaiting_payment", "result_ready",
                                    "returned", "withdrawn", "refused", "rejected"])
def test_no_deadline_ahead_when_the_clock_is_not_running(status: str) -> None:
    ahead = deadline_ahead(CAL, at("2026-03-10 10:00"), status=status, due_at=at("2026-03-10 11:00"))
    assert ahead.urgency is Urgency.NOT_RUNNING
    assert ahead.working_hours_left is None
    assert not ahead.due_soon and not ahead.overdue


def test_due_soon_overdue_and_on_track_around_the_threshold() -> None:
    due = at("2026-03-11 17:00")  # Wednesday
    # Tuesday 17:00 → Wednesday 17:00: exactly one working day left, the boundary is included.
    assert deadline_ahead(CAL, at("2026-03-10 17:00"), status="received", due_at=due).urgency is Urgency.DUE_SOON
    # One minute earlier: more than 8 h left.
    assert deadline_ahead(CAL, at("2026-03-10 16:59"), status="received", due_at=due).urgency is Urgency.ON_TRACK
    # At the due instant itself: zero left, not yet passed.
    assert deadline_ahead(CAL, due, status="processing", due_at=due).urgency is Urgency.ON_TRACK
    late = deadline_ahead(CAL, due + timedelta(minutes=1), status="processing", due_at=due)
    assert late.urgency is Urgency.OVERDUE and late.working_hours_left == 0.0
    # A custom threshold (2 working hours).
    assert deadline_ahead(CAL, at("2026-03-11 14:00"), status="received", due_at=due,
                          threshold_hours=2).urgency is Urgency.ON_TRACK
    assert deadline_ahead(CAL, at("2026-03-11 15:00"), status="received", due_at=due,
                          threshold_hours=2).urgency is Urgency.DUE_SOON


def test_a_friday_evening_dossier_due_on_monday_is_due_soon_across_the_weekend() -> None:
    ahead = deadline_ahead(CAL, at("2026-03-06 18:00"), status="processing", due_at=at("2026-03-09 17:00"))
    assert ahead.urgency is Urgency.DUE_SOON and ahead.working_hours_left == 8.0


instants = st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2026, 9, 30),  # noqa: DTZ001
                        timezones=st.just(VN_TZ)).map(lambda d: d.replace(second=0, microsecond=0))


@settings(deadline=None, max_examples=300)
@given(instants, st.integers(min_value=-3000, max_value=6000), st.sampled_from([0.5, 4, 8, 16]))
def test_the_window_selects_exactly_the_dossiers_called_due_soon(now: datetime, offset_minutes: int,
                                                                 threshold: float) -> None:
    due = now + timedelta(minutes=offset_minutes)
    window = due_soon_window(CAL, now, threshold)
    ahead = deadline_ahead(CAL, now, status="processing", due_at=due, threshold_hours=threshold)
    assert ahead.due_soon == (window.after < due <= window.until)
    assert ahead.overdue == (due < window.overdue_before)


@settings(deadline=None, max_examples=100)
@given(instants, st.sampled_from([4, 8]))
def test_the_window_edges_are_due_soon_and_just_past_them_is_not(now: datetime, threshold: float) -> None:
    window = due_soon_window(CAL, now, threshold)
    assert deadline_ahead(CAL, now, status="received", due_at=window.until, threshold_hours=threshold).due_soon
    beyond = window.until + timedelta(minutes=1)
    assert not deadline_ahead(CAL, now, status="received", due_at=beyond, threshold_hours=threshold).due_soon
