"""The split of the legal time between the agencies of an inter-agency procedure (pure rules)."""

from __future__ import annotations

from datetime import datetime

import pytest

from service.domain import steps
from service.domain.calendar import VN_TZ, default_calendar
from service.domain.errors import RuleConflict, RuleViolation
from service.domain.steps import StepClock, StepCounts, StepShare

CAL = default_calendar()


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)


def test_shares_adding_up_to_the_total_are_accepted() -> None:
    steps.check_step_times(7, "working_days", [StepShare("A", 2), StepShare("B", 5)])


@pytest.mark.parametrize(("total", "unit", "shares"), [
    (7, "working_days", [StepShare("A", 2), StepShare("B", 4)]),
    (7, "working_days", [StepShare("A", 7)]),
    (7, "working_days", [StepShare("A", 3), StepShare("A", 4)]),
    (0, "same_day", [StepShare("A", 0), StepShare("B", 0)]),
    (7, "working_days", [StepShare("A", 0), StepShare("B", 7)]),
])
def test_shares_that_do_not_add_up_are_refused(total: int, unit: str, shares: list[StepShare]) -> None:
    with pytest.raises(RuleViolation) as caught:
        steps.check_step_times(total, unit, shares)
    assert caught.value.code == "STEP_TIMES_INVALID"


def test_a_step_due_instant_is_its_share_in_working_time_from_its_start() -> None:
    # Friday 06/03/2026 15:00 + 2 working days: Mon 09/03, Tue 10/03 15:00 (the weekend does not count).
    started = steps.start(StepClock(2, "B", 2, "working_days"), vn(2026, 3, 6, 15), CAL)
    assert started.due_at == vn(2026, 3, 10, 15)


def test_a_pause_keeps_the_working_time_left_and_resume_gives_it_back() -> None:
    step = steps.start(StepClock(2, "B", 5, "working_days"), vn(2026, 3, 3, 8), CAL)
    paused = steps.pause(step, vn(2026, 3, 4, 8), CAL)
    assert paused.paused_remaining_minutes == 4 * 480 and not paused.running
    resumed = steps.resume(paused, vn(2026, 3, 6, 8), CAL)
    assert resumed.due_at == vn(2026, 3, 12, 8) and resumed.running


def test_a_reopened_step_runs_again_with_the_time_it_had_left() -> None:
    step = steps.start(StepClock(1, "A", 2, "working_days"), vn(2026, 3, 2, 8), CAL)
    done = steps.finish(step, vn(2026, 3, 3, 8))
    assert done.timeliness == "early"
    reopened = steps.reopen(done, vn(2026, 3, 4, 8), CAL)
    assert reopened.finished_at is None and reopened.due_at == vn(2026, 3, 5, 8)
    late = steps.finish(step, vn(2026, 3, 4, 9))
    assert late.timeliness == "late"
    assert steps.reopen(late, vn(2026, 3, 5, 8), CAL).due_at < vn(2026, 3, 5, 8)  # still late by the same hour


def test_return_for_correction_once_per_step_and_within_its_time() -> None:
    first = steps.finish(steps.start(StepClock(1, "A", 2, "working_days"), vn(2026, 3, 2, 8), CAL),
                         vn(2026, 3, 3, 8))
    second = steps.start(StepClock(2, "B", 5, "working_days"), vn(2026, 3, 3, 8), CAL)
    steps.check_return_for_correction([first, second], 2, vn(2026, 3, 10, 8))
    with pytest.raises(RuleConflict, match="thời hạn"):
        steps.check_return_for_correction([first, second], 2, vn(2026, 3, 10, 9))
    done = StepClock(**{**second.__dict__, "returned_for_correction": True})
    with pytest.raises(RuleConflict) as caught:
        steps.check_return_for_correction([first, done], 2, vn(2026, 3, 4, 8))
    assert caught.value.code == "CORRECTION_ALREADY_RETURNED"
    with pytest.raises(RuleConflict):
        steps.check_return_for_correction([first, second], 1, vn(2026, 3, 4, 8))


def test_counting_a_step_as_of_the_period() -> None:
    step = steps.start(StepClock(1, "A", 2, "working_days"), vn(2026, 3, 2, 8), CAL)
    start, cut = vn(2026, 3, 1), vn(2026, 3, 5)
    counts = StepCounts()
    steps.count_step(counts, step, start=start, cut=cut, as_of=cut, dossier_ended_at=None)
    assert counts == StepCounts(step_in_progress_total=1, step_in_progress_overdue=1)
    counts = StepCounts()
    steps.count_step(counts, steps.finish(step, vn(2026, 3, 4, 9)), start=start, cut=cut, as_of=cut,
                     dossier_ended_at=None)
    assert counts == StepCounts(step_resolved_total=1, step_resolved_late=1)
    counts = StepCounts()
    steps.count_step(counts, step, start=start, cut=cut, as_of=cut, dossier_ended_at=vn(2026, 3, 3))
    assert counts == StepCounts()
