"""Pure statistics formulas: rates, periods, the stock-and-flow assembly, CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain import statistics as stats
from service.domain.calendar import VN_TZ
from service.domain.statistics import Cell, ProcessingCounts, StateCount


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------------- rates


@pytest.mark.parametrize(("numerator", "denominator", "expected"), [
    (2, 3, 66.67), (1, 3, 33.33), (7, 8, 87.5), (0, 5, 0.0), (5, 5, 100.0),
    (2469, 20000, 12.35),  # 12.345 rounds half up (banker's rounding would give 12.34)
    (1, 0, None), (0, 0, None),
])
def test_percentage_rounds_half_up_to_two_decimals(numerator: int, denominator: int,
                                                   expected: float | None) -> None:
    assert stats.percentage(numerator, denominator) == expected


def test_counts_totals_rates_and_invariant() -> None:
    row = ProcessingCounts(received_online=2, received_counter=8, received_postal=1, carried_over=3,
                           resolved_early=6, resolved_on_time=1, resolved_late=1, in_progress_on_track=1,
                           in_progress_overdue=1, paused=2, withdrawn=2)
    assert (row.received_total, row.resolved_total, row.in_progress_total) == (11, 8, 2)
    assert row.on_time_rate == 87.5 and row.online_rate == 18.18
    assert row.invariant_holds()
    assert not ProcessingCounts(received_counter=1).invariant_holds()
    assert list(row.as_dict()) == [*stats.COUNT_FIELDS, "on_time_rate", "online_rate", "total_to_handle"]
    assert row.total_to_handle == 14
    assert ProcessingCounts().as_dict()["on_time_rate"] is None
    assert (row + row).received_total == 22


# ---------------------------------------------------------------------------------------------------- periods


def test_a_past_period_is_reported_as_of_its_end() -> None:
    window = stats.report_window(date(2026, 3, 1), date(2026, 3, 31), local(2026, 5, 1, 9))
    assert window.start == local(2026, 3, 1) and window.end == local(2026, 4, 1)
    assert window.cut == window.as_of == local(2026, 4, 1) and window.complete


def test_a_running_period_is_reported_as_of_now_including_now() -> None:
    now = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
    window = stats.report_window(date(2026, 3, 1), date(2026, 3, 31), now)
    assert window.as_of == now and window.cut == now + timedelta(microseconds=1)
    assert not window.complete


def test_a_period_that_has_not_begun_is_empty() -> None:
    now = local(2026, 3, 10, 10)
    window = stats.report_window(date(2026, 6, 1), date(2026, 6, 30), now)
    assert window.start == window.cut == now + timedelta(microseconds=1) and window.as_of == now
    slices = stats.month_slices(window)
    assert len(slices) == 1 and slices[0].start == slices[0].cut


def test_bad_periods() -> None:
    now = local(2026, 3, 10, 10)
    with pytest.raises(ValueError):
        stats.report_window(date(2026, 3, 2), date(2026, 3, 1), now)
    with pytest.raises(ValueError):
        stats.report_window(date(2010, 1, 1), date(2026, 3, 1), now)


def test_month_slices_are_local_calendar_months() -> None:
    window = stats.report_window(date(2025, 12, 15), date(2026, 2, 10), local(2026, 6, 1))
    slices = stats.month_slices(window)
    assert [(s.key, s.label) for s in slices] == [
        ("2025-12", "Tháng 12/2025"), ("2026-01", "Tháng 01/2026"), ("2026-02", "Tháng 02/2026")]
    assert [s.start for s in slices] == [local(2025, 12, 15), local(2026, 1, 1), local(2026, 2, 1)]
    assert [s.cut for s in slices] == [local(2026, 1, 1), local(2026, 2, 1), local(2026, 2, 11)]
    # Midnight local, i.e. 17:00 UTC the day before.
    assert slices[1].start.astimezone(UTC) == datetime(2025, 12, 31, 17, tzinfo=UTC)
    assert stats.boundaries(slices) == [local(2025, 12, 15), local(2026, 1, 1), local(2026, 2, 1),
                                        local(2026, 2, 11)]


def test_month_slices_stop_at_now() -> None:
    now = local(2026, 2, 10, 9)
    slices = stats.month_slices(stats.report_window(date(2026, 1, 1), date(2026, 12, 31), now))
    assert [s.key for s in slices] == ["2026-01", "2026-02"]
    assert slices[-1].as_of == now and slices[-1].cut == now + timedelta(microseconds=1)
    assert slices[0].as_of == slices[0].cut == local(2026, 2, 1)


# --------------------------------------------------------------------------------------------------- assembly


def test_assemble_one_dossier_across_three_months() -> None:
    # Received in month 0, still open at the ends of months 0 and 1, resolved late in month 2.
    cells = [Cell("", "counter", 0, 2, "late", 1)]
    states = [StateCount("", 0, "on_track", 1), StateCount("", 1, "overdue", 1)]
    rows = stats.assemble(cells, states, 3)
    assert rows[("", 0)] == ProcessingCounts(received_counter=1, in_progress_on_track=1)
    assert rows[("", 1)] == ProcessingCounts(carried_over=1, in_progress_overdue=1)
    assert rows[("", 2)] == ProcessingCounts(carried_over=1, resolved_late=1)
    assert all(row.invariant_holds() for row in rows.values())
    total = stats.month_total([rows[("", i)] for i in range(3)])
    assert total == ProcessingCounts(received_counter=1, resolved_late=1)


def test_a_dossier_without_history_breaks_the_invariant_visibly() -> None:
    rows = stats.assemble([Cell("A", "online", 0, 1, None, 1)], [StateCount("A", 0, None, 1)], 1)
    assert not rows[("A", 0)].invariant_holds()


@st.composite
def dossiers(draw: st.DrawFn) -> tuple[int, list[tuple[str, str, int, int, str | None, list[str]]]]:
    """Random dossiers over ``n`` slices: (key, channel, received slice, ended slice, outcome, state at each
    slice end it is open at)."""
    n = draw(st.integers(1, 5))
    items = []
    for _ in range(draw(st.integers(0, 30))):
        received = draw(st.integers(-1, n - 1))
        ended = draw(st.integers(max(received, 0), n))
        outcome = draw(st.sampled_from(["early", "on_time", "late", "withdrawn"])) if ended < n else None
        open_at = list(range(max(received, 0), ended))
        states = [draw(st.sampled_from(["on_track", "overdue", "paused"])) for _ in open_at]
        items.append((draw(st.sampled_from("AB")), draw(st.sampled_from(stats.CHANNELS)), received, ended,
                      outcome, states))
    return n, items


@settings(max_examples=200, deadline=None)
@given(dossiers())
def test_assembly_matches_a_dossier_by_dossier_count(case: tuple[int, list[Any]]) -> None:
    n, items = case
    cells: dict[tuple, int] = {}  # type: ignore[type-arg]
    states: dict[tuple, int] = {}  # type: ignore[type-arg]
    expected: dict[tuple[str, int], dict[str, int]] = {}
    for key, channel, received, ended, outcome, open_states in items:
        cell = (key, channel, received, ended, outcome)
        cells[cell] = cells.get(cell, 0) + 1
        for i in range(n):
            row = expected.setdefault((key, i), {})
            if received == i:
                row[f"received_{channel}"] = row.get(f"received_{channel}", 0) + 1
            if received < i <= ended:
                row["carried_over"] = row.get("carried_over", 0) + 1
            if ended == i:
                name = "withdrawn" if outcome == "withdrawn" else f"resolved_{outcome}"
                row[name] = row.get(name, 0) + 1
        for i, state in zip(range(max(received, 0), ended), open_states, strict=True):
            states[(key, i, state)] = states.get((key, i, state), 0) + 1
            name = {"on_track": "in_progress_on_track", "overdue": "in_progress_overdue"}.get(state, state)
            expected[(key, i)][name] = expected[(key, i)].get(name, 0) + 1
    rows = stats.assemble([Cell(*k, c) for k, c in cells.items()],
                          [StateCount(*k, c) for k, c in states.items()], n)
    for k, row in expected.items():
        if row:
            assert rows[k] == ProcessingCounts(**row)
    for row in rows.values():
        assert row.invariant_holds()
    for key in "AB":
        months = [rows.get((key, i), ProcessingCounts()) for i in range(n)]
        total = stats.month_total(months)
        assert total.invariant_holds()
        assert total.received_total == sum(1 for it in items if it[0] == key and it[2] >= 0)


# ---------------------------------------------------------------------------------------------------- CSV


def test_render_csv() -> None:
    row = ProcessingCounts(received_online=1, received_counter=1, resolved_early=1, resolved_late=1)
    text = stats.render_csv("month", [("2026-03", "Tháng 03/2026", row)], row)
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][:3] == ["STT", "Mã", "Tháng"] and len(table[0]) == 3 + len(stats.CSV_COLUMNS)
    assert table[1][:4] == ["1", "2026-03", "Tháng 03/2026", "2"]
    assert table[1][-2:] == ["50.00", "50.00"]
    assert table[2][2] == "Tổng cộng"
    empty = list(csv.reader(io.StringIO(stats.render_csv("agency", [], ProcessingCounts()))))
    assert empty[1][-2:] == ["", ""]


# ----------------------------------------------------------------------------------------------- the shortcut


def _every_step(state: Any) -> list[Any]:
    """``state`` after each action the rules allow from it (one hour later, with a plausible body)."""
    from service.domain import lifecycle
    from service.domain.calendar import default_calendar
    from service.domain.errors import DomainError

    calendar = default_calendar()
    now = state.clock_started_at + timedelta(hours=1)
    body = lifecycle.ActionInput(reason="lý do", amount_vnd=0,
                                 new_due_at=calendar.add_working_minutes(state.due_at, 3 * 480))
    after = []
    for action in lifecycle.Action:
        for role in sorted(lifecycle.TRANSITIONS[action].roles):
            try:
                lifecycle.guard(state, action, role=role, now=now, calendar=calendar)
                after.append((action, lifecycle.apply(state, action, body, role=role, now=now,
                                                      calendar=calendar)))
            except DomainError:
                continue
    return after


@pytest.mark.parametrize("policy", ["restart", "pause"])
def test_pausing_or_moving_the_due_date_always_leaves_a_mark(policy: str) -> None:
    """The statistics skip the control slip for unmarked dossiers (``stats.unmarked``): on every path the
    rules allow after receipt, a step that stops the clock or moves the due instant leaves a mark, and no step
    erases one."""
    from service.domain import lifecycle
    from service.domain.calendar import default_calendar
    from service.domain.lifecycle import DossierState, Status

    def marks(state: DossierState) -> tuple[int, int, int | None]:
        return state.supplement_count, state.extension_count, state.payment_amount_vnd

    submitted = DossierState(status=Status.SUBMITTED, channel="online", result_delivery="online",
                             service_level=4, supplement_policy=policy, processing_value=10,
                             processing_unit="working_days")
    frontier = [lifecycle.start_clock(submitted, now=local(2026, 3, 2, 8), calendar=default_calendar())]
    seen, steps = set(frontier), 0
    for _depth in range(6):
        following = []
        for state in frontier:
            for action, new in _every_step(state):
                steps += 1
                moved = new.status in lifecycle.PAUSED or new.due_at != state.due_at
                if stats.unmarked(*marks(state)) and moved:
                    assert not stats.unmarked(*marks(new)), (state.status, action)
                supplements, extensions, payment = marks(new)
                assert supplements >= state.supplement_count and extensions >= state.extension_count
                assert payment is not None or state.payment_amount_vnd is None, (state.status, action)
                if new not in seen:
                    seen.add(new)
                    following.append(new)
        frontier = following
    assert steps > 50 and {s.status for s in seen} >= {Status.AWAITING_SUPPLEMENT, Status.AWAITING_PAYMENT,
                                                        Status.RETURNED, Status.WITHDRAWN}
