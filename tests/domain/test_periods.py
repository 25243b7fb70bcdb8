"""The one period check, shared by the reports and the calendar."""

from __future__ import annotations

from datetime import date

import pytest

from service.domain.errors import RuleViolation
from service.domain.periods import check_period


@pytest.mark.parametrize(("first", "last", "max_days", "code"), [
    pytest.param(date(2026, 3, 2), date(2026, 3, 1), None, "PERIOD_INVALID", id="reversed"),
    pytest.param(date(2026, 1, 1), date(2026, 1, 31), 30, "PERIOD_TOO_LONG", id="one-day-too-long"),
    pytest.param(date(2026, 1, 1), date(2026, 1, 30), 30, None, id="exactly-the-limit"),
    pytest.param(date(2026, 3, 1), date(2026, 3, 1), 1, None, id="one-day"),
    pytest.param(date(2000, 1, 1), date(2100, 12, 31), None, None, id="no-limit"),
])
def test_check_period(first: date, last: date, max_days: int | None, code: str | None) -> None:
    if code is None:
        check_period(first, last, max_days=max_days)
        return
    with pytest.raises(RuleViolation) as raised:
        check_period(first, last, max_days=max_days)
    assert raised.value.code == code
