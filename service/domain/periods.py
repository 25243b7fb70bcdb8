"""Periods of dates (``from``..``to``, both included), as reports and calendars take them."""

from __future__ import annotations

from datetime import date

from service.domain.errors import RuleViolation


def check_period(first: date, last: date, *, max_days: int | None = None) -> None:
    """The one period check: 422 ``PERIOD_INVALID`` when ``last`` is before ``first``, 422 ``PERIOD_TOO_LONG``
    when the period (both ends included) has more than ``max_days`` days."""
    if last < first:
        raise RuleViolation("Ngày kết thúc phải không sớm hơn ngày bắt đầu.", code="PERIOD_INVALID")
    if max_days is not None and (last - first).days + 1 > max_days:
        raise RuleViolation(f"Khoảng thời gian dài tối đa {max_days} ngày.", code="PERIOD_TOO_LONG")
