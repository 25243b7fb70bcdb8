"""Timeliness classification and the overdue flag (Circular 01/2018 Art. 13; Decision 766 indicator 2.1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.calendar import VN_TZ
from service.domain.timeliness import TIMELINESS_VALUES, classify, is_overdue


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)  # type: ignore[misc]


DUE = vn(2026, 2, 26, 9)  # Thu 26/02/2026 09:00 (5 working days from Thu 12/02 09:00, across Tết)


@pytest.mark.parametrize(
    ("finished", "expected"),
    [
        (vn(2026, 2, 25, 16, 59), "early"),  # the day before
        (vn(2026, 2, 26, 0, 0), "on_time"),  # same local date, before the due instant
        (vn(2026, 2, 26, 8, 59), "on_time"),
        (vn(2026, 2, 26, 9, 0), "on_time"),  # equal: on time (≤ due_at)
        (vn(2026, 2, 26, 9, 0, 1), "late"),
        (vn(2026, 2, 26, 16, 0), "late"),  # same day but after the due instant
        (vn(2026, 3, 2, 8), "late"),
        (vn(2026, 2, 13, 10), "early"),
    ],
)
def test_classify(finished: datetime, expected: str) -> None:
    assert classify(finished, DUE) == expected


def test_classify_uses_vietnamese_local_dates() -> None:
    due = vn(2026, 1, 5, 17)
    # 17:30 UTC on 04/01 is 00:30 on 05/01 in Hà Nội: same local date as the due date → on_time, not early.
    assert classify(datetime(2026, 1, 4, 17, 30, tzinfo=UTC), due) == "on_time"
    # 16:30 UTC on 04/01 is 23:30 on 04/01 in Hà Nội → early.
    assert classify(datetime(2026, 1, 4, 16, 30, tzinfo=UTC), due) == "early"
    # The due instant given in UTC: same result.
    assert classify(vn(2026, 1, 5, 16), due.astimezone(UTC)) == "on_time"


def test_classify_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError):
        classify(datetime(2026, 1, 5, 9), DUE)  # noqa: DTZ001
    with pytest.raises(ValueError):
        classify(DUE, datetime(2026, 1, 5, 9))  # noqa: DTZ001


@given(st.integers(-20 * 24 * 3600, 20 * 24 * 3600))
def test_classify_is_total_and_ordered(offset: int) -> None:
    finished = DUE + timedelta(seconds=offset)
    result = classify(finished, DUE)
    assert result in TIMELINESS_VALUES
    assert (result == "late") == (finished > DUE)


NOW = vn(2026, 3, 1, 10)


@pytest.mark.parametrize(
    ("due", "finished", "paused", "timeliness", "expected"),
    [
        (vn(2026, 2, 26, 9), None, False, None, True),  # unfinished, past due
        (vn(2026, 3, 1, 10), None, False, None, False),  # due exactly now: not yet passed
        (vn(2026, 3, 2, 9), None, False, None, False),  # not yet due
        (vn(2026, 2, 26, 9), None, True, None, False),  # paused: the clock is stopped
        (None, None, False, None, False),  # submitted online, not received: no due date
        (vn(2026, 2, 26, 9), vn(2026, 2, 27, 9), False, "late", True),  # finished late stays overdue
        (vn(2026, 2, 26, 9), vn(2026, 2, 25, 9), False, "early", False),
        (vn(2026, 2, 26, 9), vn(2026, 2, 26, 9), False, "on_time", False),
        (vn(2026, 2, 26, 9), vn(2026, 2, 27, 9), False, None, True),  # timeliness derived when missing
        (vn(2026, 2, 26, 9), vn(2026, 2, 27, 9), True, "late", True),
    ],
)
def test_is_overdue(
    due: datetime | None, finished: datetime | None, paused: bool, timeliness: str | None, expected: bool
) -> None:
    assert is_overdue(NOW, due, finished, paused, timeliness) is expected  # type: ignore[arg-type]


def test_withdrawn_dossier_is_not_overdue() -> None:
    assert not is_overdue(NOW, vn(2026, 2, 26, 9), None, False, None, withdrawn=True)


def test_is_overdue_refuses_naive_now() -> None:
    with pytest.raises(ValueError):
        is_overdue(datetime(2026, 3, 1), DUE, None, False, None)  # noqa: DTZ001
