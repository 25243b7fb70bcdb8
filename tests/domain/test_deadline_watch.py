"""The one definition of "due soon" and "overdue" (events, worklist, dossier view)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from service.domain.calendar import VN_TZ, default_calendar
from service.domain.deadline_watch import warning_for
from service.domain.deadlines_ahead import Urgency, deadline_ahead
from service.domain.lifecycle import DossierState, Status

CAL = default_calendar()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=VN_TZ)


RUNNING = DossierState(status=Status.PROCESSING, channel="counter", result_delivery="counter", service_level=4,
                       supplement_policy="restart", processing_value=3, processing_unit="working_days",
                       received_at=at("2026-03-02T08:00"), due_at=at("2026-03-05T08:00"))


def standing(state: DossierState, now: datetime) -> Urgency:
    return deadline_ahead(CAL, now, status=state.status, due_at=state.due_at, threshold_hours=8).urgency


@pytest.mark.parametrize(("now", "left", "expected"), [
    ("2026-03-02T08:00", 24.0, Urgency.ON_TRACK),
    ("2026-03-04T07:00", 8.5, Urgency.ON_TRACK),  # Wed before the morning session: all of Wed and Thu 07:30–08:00
    ("2026-03-04T07:59", 8 + 1 / 60, Urgency.ON_TRACK),
    ("2026-03-04T08:00", 8.0, Urgency.DUE_SOON),  # exactly one working day left: due soon
    ("2026-03-04T17:30", 0.5, Urgency.DUE_SOON),  # after hours: only Thu 07:30–08:00 is left
    ("2026-03-05T08:00", 0.0, Urgency.ON_TRACK),  # at the due instant: nothing left, not yet late
    ("2026-03-05T08:00:01", -1 / 3600, Urgency.OVERDUE),
    ("2026-04-01T09:00", None, Urgency.OVERDUE),
])
def test_the_warnings_follow_the_one_definition(now: str, left: float | None, expected: Urgency) -> None:
    """The scanner's warning is owed exactly when the shared definition (worklist, dossier) says so."""
    ahead = deadline_ahead(CAL, at(now), status=RUNNING.status, due_at=RUNNING.due_at, threshold_hours=8)
    assert ahead.urgency is expected
    if left is not None:
        assert ahead.working_hours_left == pytest.approx(left, abs=0.01)
    warning = warning_for(RUNNING, at(now), CAL, due_soon_working_hours=8, changed_at=at("2026-03-02T08:00"))
    assert (warning.standing if warning else Urgency.ON_TRACK) is expected


def test_a_paused_or_finished_dossier_is_neither() -> None:
    late = at("2026-04-01T09:00")
    for status in (Status.AWAITING_SUPPLEMENT, Status.AWAITING_PAYMENT, Status.RESULT_READY, Status.SUBMITTED):
        state = replace(RUNNING, status=status)
        assert standing(state, late) is Urgency.NOT_RUNNING
        assert warning_for(state, late, CAL, due_soon_working_hours=8, changed_at=late) is None


def test_a_weekend_in_between_counts_no_working_time() -> None:
    friday = replace(RUNNING, due_at=at("2026-03-09T10:00"))  # due Monday 10:00
    ahead = deadline_ahead(CAL, at("2026-03-06T13:00"), status=friday.status, due_at=friday.due_at)
    assert ahead.working_hours_left == pytest.approx(4 + 2.5)
    assert standing(friday, at("2026-03-06T13:00")) is Urgency.DUE_SOON


def test_warnings_are_stamped_when_the_threshold_was_crossed() -> None:
    soon = warning_for(RUNNING, at("2026-03-04T15:00"), CAL, due_soon_working_hours=8,
                       changed_at=at("2026-03-02T08:00"))
    assert soon is not None and soon.standing is Urgency.DUE_SOON and soon.at == at("2026-03-04T08:00")
    late = warning_for(RUNNING, at("2026-03-20T15:00"), CAL, due_soon_working_hours=8,
                       changed_at=at("2026-03-02T08:00"))
    assert late is not None and late.standing is Urgency.OVERDUE and late.at == at("2026-03-05T08:00")
    short = replace(RUNNING, due_at=at("2026-03-02T12:00"))  # received with 4 working hours: due soon at once
    on_receipt = warning_for(short, at("2026-03-02T08:00"), CAL, due_soon_working_hours=8,
                             changed_at=at("2026-03-02T08:00"))
    assert on_receipt is not None and on_receipt.at == at("2026-03-02T08:00")
