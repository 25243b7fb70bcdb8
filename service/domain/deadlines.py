"""Due dates (ngày hẹn trả kết quả) and the clock arithmetic of the dossier lifecycle.

Legal basis
-----------
* Decree 61/2018/NĐ-CP (as amended by Decree 107/2021/NĐ-CP; replaced from 01/07/2025 by Decree
  118/2025/NĐ-CP, which keeps the same mechanism): Art. 18 (receipt after 15:00 moves to the next working day
  for transfers), Art. 19(4) (a supplement request within 3 working days of receipt; the resolution time
  restarts from zero once the complete dossier arrives), Art. 19(9) (a late dossier may be re-scheduled once,
  at the latest 1 day before the deadline, with an apology).
* Labor Code 2019 Arts. 111–112: the days off skipped by working-day deadlines (see :mod:`.calendar`).
* Decree 23/2015/NĐ-CP Art. 7: same-day procedures (e.g. certification of copies) return the result the same
  day, or the next working day when the request is received after 15:00.
* Civil Code 2015 Art. 148(5): a period whose last day is a weekly rest day or a holiday ends at the end of
  the next working day (``calendar_days``).

Rules (the contract, § "Calendar and deadlines"): the start moves to the next working instant; working time is
then consumed session by session; when it is used up exactly at a session end, the due instant is that session
end (17:00), not the next morning. One working day is ``office_hours.working_day_minutes`` (8 hours by
default).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Literal

from service.domain.calendar import WorkingCalendar, to_legal_time
from service.domain.errors import RuleViolation

__all__ = [
    "EXTENSION_MIN_WORKING_DAYS",
    "SAME_DAY_CUTOFF",
    "SUPPLEMENT_WINDOW_WORKING_DAYS",
    "DueDate",
    "ExplanationItem",
    "ExplanationKind",
    "Unit",
    "compute_due",
    "extension_allowed",
    "remaining_working_minutes",
    "restart_due",
    "resume_due",
    "supplement_window_open",
    "validate_new_due",
]


class Unit(StrEnum):
    """Units of a procedure's resolution time (Decree 63/2010 Art. 8(2)(đ); DonViTinh in Decision 766)."""

    WORKING_DAYS = "working_days"
    WORKING_HOURS = "working_hours"
    CALENDAR_DAYS = "calendar_days"
    SAME_DAY = "same_day"


#: Decree 23/2015 Art. 7 / Decree 61/2018 Art. 18: received *after* 15:00 → next working day.
SAME_DAY_CUTOFF = time(15, 0)
#: Decree 61/2018 Art. 19(4): "không quá 03 ngày làm việc kể từ ngày tiếp nhận hồ sơ".
SUPPLEMENT_WINDOW_WORKING_DAYS = 3
#: Decree 61/2018 Art. 19(9): "chậm nhất 01 ngày trước ngày hết hạn".
EXTENSION_MIN_WORKING_DAYS = 1

DECREE_61_ART_19_4 = "Nghị định 61/2018/NĐ-CP, Điều 19 khoản 4"
DECREE_61_ART_19_9 = "Nghị định 61/2018/NĐ-CP, Điều 19 khoản 9"
DECREE_23_ART_7 = "Nghị định 23/2015/NĐ-CP, Điều 7"
CIVIL_CODE_ART_148 = "Bộ luật Dân sự 2015, Điều 148 khoản 5"
LABOR_CODE_ART_111_112 = "Bộ luật Lao động 2019, Điều 111, 112"
WORKING_TIME_BASIS = "Nghị định 61/2018/NĐ-CP (nay là Nghị định 118/2025/NĐ-CP)"

ExplanationKind = Literal["start", "start_moved", "rule", "skipped", "counted", "due"]

_WEEKDAYS_VI = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")


def _day_text(day: date) -> str:
    return f"{_WEEKDAYS_VI[day.weekday()]}, {day:%d/%m/%Y}"


def _instant_text(moment: datetime) -> str:
    return f"{moment:%H:%M} {_day_text(moment.date())}"


def _number_text(value: float) -> str:
    return f"{value:g}".replace(".", ",")


@dataclass(frozen=True, slots=True)
class ExplanationItem:
    """One line of the due-date explanation (JSON-friendly through :meth:`to_dict`)."""

    date: date
    kind: ExplanationKind
    name: str
    detail: str | None = None
    legal_basis: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {
            "date": self.date.isoformat(),
            "kind": self.kind,
            "name": self.name,
            "detail": self.detail,
            "legal_basis": self.legal_basis,
        }


@dataclass(frozen=True)
class DueDate:
    """The result of :func:`compute_due`. All instants are in Asia/Ho_Chi_Minh.

    ``explanation`` is built on first access (it lists every skipped day, so it grows with the duration while
    the due instant itself is computed in constant time).
    """

    start: datetime
    effective_start: datetime
    due_at: datetime
    unit: Unit
    value: float | None
    calendar: WorkingCalendar = field(repr=False, compare=False)
    after_cutoff: bool = False
    cutoff: time = SAME_DAY_CUTOFF

    @cached_property
    def explanation(self) -> list[ExplanationItem]:
        return _explain(self)

    def to_dict(self) -> dict[str, object]:
        return {
            "start": self.start.isoformat(),
            "effective_start": self.effective_start.isoformat(),
            "due_at": self.due_at.isoformat(),
            "explanation": [item.to_dict() for item in self.explanation],
        }


_UNITS: dict[str, Unit] = {u.value: u for u in Unit}  # a Unit is a str: both spellings hit the same key


def _unit(unit: Unit | str) -> Unit:
    try:
        return _UNITS[unit]
    except (KeyError, TypeError):
        raise ValueError(f"unknown unit {unit!r}; expected one of {sorted(_UNITS)}") from None


def _positive(value: float | None, unit: Unit) -> float:
    if (
        value is None
        or isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{unit.value} needs a positive number, got {value!r}")
    return value


def compute_due(
    calendar: WorkingCalendar,
    start: datetime,
    value: float | None,
    unit: Unit | str,
    *,
    same_day_cutoff: time = SAME_DAY_CUTOFF,
) -> DueDate:
    """The due instant of a procedure whose resolution time is ``value`` ``unit`` counted from ``start``.

    * ``working_days`` / ``working_hours``: from the next working instant, consume ``value`` × working day
      (``office_hours.working_day_minutes``) or × 60 minutes session by session; ending exactly at a session
      end gives that session end (Decree 61/2018 Art. 19; OpenCPS ``DueDateUtils``).
    * ``calendar_days``: the end of the last session of the day ``value`` calendar days after the start's
      local date; if that day is not a working day, the end of the next working day
      (Civil Code 2015 Art. 148(5)).
    * ``same_day`` (``value`` ignored): the end of the receiving working day, or the end of the next working
      day when received after ``same_day_cutoff`` (15:00, Decree 23/2015 Art. 7).
    """
    unit = _unit(unit)
    local = to_legal_time(start)
    if unit is Unit.WORKING_DAYS:
        minutes = _positive(value, unit) * calendar.office_hours.working_day_minutes
        effective, due = calendar.working_span(local, minutes)
        return DueDate(local, effective, due, unit, value, calendar)
    if unit is Unit.WORKING_HOURS:
        effective, due = calendar.working_span(local, _positive(value, unit) * 60)
        return DueDate(local, effective, due, unit, value, calendar)
    effective = calendar.next_working_instant(local)
    if unit is Unit.CALENDAR_DAYS:
        days = _positive(value, unit)
        if days != int(days):
            raise ValueError(f"calendar_days needs a whole number of days, got {value!r}")
        due = calendar.close_of_business(local.date() + timedelta(days=int(days)))
        return DueDate(local, effective, due, unit, value, calendar)
    # same_day: received after the cut-off on a working day → the next working day.
    after_cutoff = effective.date() == local.date() and local.time() > same_day_cutoff
    receiving_day = effective.date()
    due = calendar.close_of_business(receiving_day + timedelta(days=1) if after_cutoff else receiving_day)
    return DueDate(local, effective, due, unit, None, calendar, after_cutoff, same_day_cutoff)


def _explain(due: DueDate) -> list[ExplanationItem]:
    cal, start, effective = due.calendar, due.start, due.effective_start
    items: list[ExplanationItem] = []

    if effective == start:
        items.append(
            ExplanationItem(
                start.date(), "start", "Bắt đầu tính thời hạn", f"Tiếp nhận lúc {_instant_text(start)}."
            )
        )
    else:
        working, name = cal.day_info(start.date())
        sessions = cal.working_sessions(start.date())
        if not working:
            why = f"ngày nghỉ: {name}"
        elif start < sessions[0][0]:
            why = "trước giờ làm việc"
        elif start >= sessions[-1][1]:
            why = "sau giờ làm việc"
        else:
            why = "giữa hai buổi làm việc (nghỉ trưa)"
        items.append(
            ExplanationItem(
                start.date(),
                "start_moved",
                "Chuyển thời điểm bắt đầu tính",
                f"Tiếp nhận lúc {_instant_text(start)} ({why}); "
                f"thời hạn bắt đầu tính từ {_instant_text(effective)}.",
            )
        )

    items.append(_rule_item(due))

    # Calendar days count every day; only the days off the deadline rolled over are listed for them.
    first = start.date()
    if due.unit is Unit.CALENDAR_DAYS:
        assert due.value is not None
        first += timedelta(days=int(due.value))
    for offset in range((due.due_at.date() - first).days + 1):
        day = first + timedelta(days=offset)
        if cal.is_working_day(day) and day not in cal.overrides:
            continue  # an ordinary working day: nothing to explain
        working, name = cal.day_info(day)
        if not working:
            items.append(ExplanationItem(day, "skipped", name or "", "Không tính: ngày nghỉ."))
        elif name:
            items.append(ExplanationItem(day, "counted", name, "Tính là ngày làm việc."))

    items.append(
        ExplanationItem(
            due.due_at.date(), "due", "Hạn trả kết quả", f"{_instant_text(due.due_at)}.", WORKING_TIME_BASIS
        )
    )
    return items


def _rule_item(due: DueDate) -> ExplanationItem:
    cal, start, unit = due.calendar, due.start, due.unit
    if unit is Unit.WORKING_DAYS:
        assert due.value is not None
        hours = due.value * cal.office_hours.working_day_minutes / 60
        return ExplanationItem(
            due.effective_start.date(),
            "rule",
            f"{_number_text(due.value)} ngày làm việc",
            f"Bằng {_number_text(hours)} giờ làm việc, tính lần lượt theo từng buổi làm việc; "
            "bỏ qua ngày nghỉ cuối tuần, ngày lễ, Tết.",
            LABOR_CODE_ART_111_112,
        )
    if unit is Unit.WORKING_HOURS:
        assert due.value is not None
        return ExplanationItem(
            due.effective_start.date(),
            "rule",
            f"{_number_text(due.value)} giờ làm việc",
            "Tính lần lượt theo từng buổi làm việc; bỏ qua ngày nghỉ cuối tuần, ngày lễ, Tết.",
            LABOR_CODE_ART_111_112,
        )
    if unit is Unit.CALENDAR_DAYS:
        assert due.value is not None
        last = start.date() + timedelta(days=int(due.value))
        working, name = cal.day_info(last)
        detail = f"Ngày cuối cùng của thời hạn là {_day_text(last)}"
        if working:
            detail += "; hạn là cuối giờ làm việc của ngày đó."
        else:
            detail += f", là ngày nghỉ ({name}); hạn chuyển sang cuối ngày làm việc tiếp theo."
        return ExplanationItem(last, "rule", f"{int(due.value)} ngày", detail, CIVIL_CODE_ART_148)
    if due.after_cutoff:
        detail = f"Tiếp nhận sau {due.cutoff:%H:%M}: trả kết quả trong ngày làm việc tiếp theo."
    else:
        detail = "Trả kết quả trong ngày làm việc tiếp nhận hồ sơ."
    return ExplanationItem(due.effective_start.date(), "rule", "Trong ngày", detail, DECREE_23_ART_7)


# ------------------------------------------------------------------------------------------------------------
# Lifecycle clock arithmetic
# ------------------------------------------------------------------------------------------------------------


def remaining_working_minutes(calendar: WorkingCalendar, now: datetime, due_at: datetime) -> float:
    """Working minutes left from ``now`` until ``due_at``, recorded when the clock stops (awaiting supplement
    or payment). Negative when the dossier is already overdue, so that resuming keeps it overdue by the same
    amount. May be fractional when the instants carry seconds."""
    return calendar.working_minutes_between(now, due_at)


def resume_due(calendar: WorkingCalendar, now: datetime, remaining_minutes: float) -> datetime:
    """The new due instant when the clock resumes at ``now`` with ``remaining_minutes`` of working time left
    (``pause`` policy, and resumption after payment). Conserves working time:
    ``working_minutes_between(now, resume_due(now, m)) == m``."""
    return calendar.add_working_minutes(now, remaining_minutes)


def restart_due(calendar: WorkingCalendar, now: datetime, value: float | None, unit: Unit | str) -> DueDate:
    """``restart`` policy: the resolution time is counted again from zero once the complete dossier is
    received (Decree 61/2018 Art. 19(4): "Thời hạn giải quyết được tính lại từ đầu sau khi nhận đủ hồ sơ")."""
    return compute_due(calendar, now, value, unit)


def supplement_window_open(calendar: WorkingCalendar, clock_start: datetime, now: datetime) -> bool:
    """Whether a supplement may still be requested: at most 3 working days (24 working hours by default) have
    passed since the latest clock start, boundary included (Decree 61/2018 Art. 19(4): "không quá 03 ngày làm
    việc kể từ ngày tiếp nhận hồ sơ")."""
    window = SUPPLEMENT_WINDOW_WORKING_DAYS * calendar.office_hours.working_day_minutes
    return calendar.working_minutes_between(clock_start, now) <= window


def extension_allowed(calendar: WorkingCalendar, now: datetime, due_at: datetime) -> bool:
    """Whether the deadline may still be extended: at least 1 working day (8 working hours by default) remains
    before ``due_at``, boundary included
    (Decree 61/2018 Art. 19(9): "chậm nhất 01 ngày trước ngày hết hạn")."""
    minimum = EXTENSION_MIN_WORKING_DAYS * calendar.office_hours.working_day_minutes
    return calendar.working_minutes_between(now, due_at) >= minimum


def validate_new_due(calendar: WorkingCalendar, current_due: datetime, new_due: datetime) -> datetime:
    """Check and normalise the new due instant of an extension (Decree 61/2018 Art. 19(9), Mẫu 04).

    An instant outside working time is moved back to the end of the previous session (it grants no more
    working time than that, and reads like every computed deadline, e.g. 17:00). The result must grant more
    working time than ``current_due``, else :class:`RuleViolation` with code ``NEW_DUE_NOT_LATER``.
    """
    normalised = calendar.previous_working_instant(new_due)
    if calendar.working_minutes_between(current_due, normalised) <= 0:
        raise RuleViolation(
            f"Hạn mới ({_instant_text(to_legal_time(normalised))}) phải sau hạn hiện tại "
            f"({_instant_text(to_legal_time(current_due))}) ít nhất một khoảng thời gian làm việc.",
            code="NEW_DUE_NOT_LATER",
        )
    return normalised
