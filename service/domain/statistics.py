"""Processing statistics and the Decision 766 service index: the pure formulas.

Legal basis
-----------
* Circular 01/2018/TT-VPCP Art. 11: the one-stop desk reports periodically on the receipt and resolution of
  administrative procedures. The report table used by provincial systems (and by this service) has the groups
  "Số hồ sơ nhận giải quyết" (new in the period — online, at the counter, by post — plus carried over),
  "Số hồ sơ đã giải quyết" (early, on time, late), "Số hồ sơ đang giải quyết" (not yet due, overdue), with
  paused and withdrawn dossiers as extra columns, and the identity
  ``received + carried over = resolved + in progress + paused + withdrawn``.
* Timeliness of a resolved dossier: :mod:`service.domain.timeliness` (Circular 01/2018 Art. 13; Decision 766
  indicator 2.1).
* The real-time service index (Decision 766/QĐ-TTg and the national portal's scheme) is in
  :mod:`service.domain.service_index`.

The reporting period runs from ``from`` 00:00 to the start of the day after ``to``, local time
(Asia/Ho_Chi_Minh). Every figure is computed *as of the end of the period*, or as of now when the period has
not ended yet, so the report of a past period never changes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, Literal

from service.domain.calendar import VN_TZ, to_legal_time
from service.domain.steps import StepCounts

__all__ = [
    "CHANNELS",
    "COLUMN_DEFINITIONS",
    "COUNT_FIELDS",
    "CSV_COLUMNS",
    "MAX_PERIOD_DAYS",
    "PERIOD_KINDS",
    "REPORT_COLUMNS",
    "STEP_COLUMNS",
    "Cell",
    "GroupBy",
    "Marginal",
    "Period",
    "PeriodError",
    "ProcessingCounts",
    "Slice",
    "StateCount",
    "Window",
    "assemble",
    "assemble_period",
    "month_slices",
    "percentage",
    "previous_period",
    "render_csv",
    "report_window",
    "resolve_period",
]

GroupBy = Literal["agency", "procedure", "month", "channel", "service_level"]
CHANNELS: Final = ("online", "counter", "postal")
MAX_PERIOD_DAYS: Final = 3660
"""A report covers at most ten years (one row per month at most 121 rows)."""

PAUSED_STATE: Final = "paused"
OVERDUE_STATE: Final = "overdue"
ON_TRACK_STATE: Final = "on_track"
WITHDRAWN_OUTCOME: Final = "withdrawn"
TIMELINESS: Final = ("early", "on_time", "late")
PAUSED_STATUSES: Final = ("awaiting_supplement", "awaiting_payment")


# ---------------------------------------------------------------------------------------------------- rates


def percentage(numerator: int | float, denominator: int | float) -> float | None:
    """``100 · numerator / denominator`` rounded half-up to 2 decimals; ``None`` when the denominator is 0
    (the contract's rule for rates; Decision 766 "làm tròn 2 chữ số thập phân")."""
    if not denominator:
        return None
    value = Decimal(100) * Decimal(str(numerator)) / Decimal(str(denominator))
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _round2(value: float) -> float:
    return float(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


# ---------------------------------------------------------------------------------------------------- counts

COUNT_FIELDS: Final = (
    "received_total", "received_online", "received_counter", "received_postal", "carried_over",
    "resolved_total", "resolved_early", "resolved_on_time", "resolved_late",
    "in_progress_total", "in_progress_on_track", "in_progress_overdue", "paused", "withdrawn",
)


@dataclass(frozen=True)
class ProcessingCounts:
    """One row of the report (Circular 01/2018 Art. 11). Totals are the sums of their parts."""

    received_online: int = 0
    received_counter: int = 0
    received_postal: int = 0
    carried_over: int = 0
    resolved_early: int = 0
    resolved_on_time: int = 0
    resolved_late: int = 0
    in_progress_on_track: int = 0
    in_progress_overdue: int = 0
    paused: int = 0
    withdrawn: int = 0
    unclassified: int = 0
    """Dossiers the history could not place (no event before the period end, or a finished dossier without
    timeliness). Always 0 on a consistent database; kept so that such a fault breaks the invariant visibly."""

    @property
    def received_total(self) -> int:
        return self.received_online + self.received_counter + self.received_postal

    @property
    def resolved_total(self) -> int:
        return self.resolved_early + self.resolved_on_time + self.resolved_late

    @property
    def in_progress_total(self) -> int:
        return self.in_progress_on_track + self.in_progress_overdue

    @property
    def on_time_rate(self) -> float | None:
        """``100·(early + on_time) / resolved_total``."""
        return percentage(self.resolved_early + self.resolved_on_time, self.resolved_total)

    @property
    def online_rate(self) -> float | None:
        """``100·received_online / received_total``."""
        return percentage(self.received_online, self.received_total)

    def invariant_holds(self) -> bool:
        """``received_total + carried_over = resolved_total + in_progress_total + paused + withdrawn``."""
        return self.received_total + self.carried_over == (
            self.resolved_total + self.in_progress_total + self.paused + self.withdrawn)

    def __add__(self, other: ProcessingCounts) -> ProcessingCounts:
        return ProcessingCounts(**{f.name: getattr(self, f.name) + getattr(other, f.name)
                                   for f in fields(self)})

    @property
    def total_to_handle(self) -> int:
        """The form's "Số hồ sơ nhận giải quyết – Tổng số": new in the period plus carried over."""
        return self.received_total + self.carried_over

    def as_dict(self) -> dict[str, int | float | None]:
        """The contract's counts and rates, in the contract's order, then the form's total to handle."""
        out: dict[str, int | float | None] = {name: getattr(self, name) for name in COUNT_FIELDS}
        out["on_time_rate"] = self.on_time_rate
        out["online_rate"] = self.online_rate
        out["total_to_handle"] = self.total_to_handle
        return out


# ---------------------------------------------------------------------------------------------------- period


@dataclass(frozen=True)
class Window:
    """The reporting period and the instant it is reported as of.

    ``start``/``end`` are the local midnights of ``from`` and of the day after ``to``. ``cut`` is the
    exclusive bound on the instants taken into account (``end`` for a past period; just after now for a
    running one, so that what happened *at* the current instant of a frozen simulated clock is included).
    ``as_of`` is the instant at which overdue is judged (``due_at < as_of``): ``end``, or now.
    """

    first: date
    last: date
    start: datetime
    end: datetime
    cut: datetime
    as_of: datetime

    @property
    def complete(self) -> bool:
        """True when the period has ended: its report is final."""
        return self.as_of == self.end


@dataclass(frozen=True)
class Slice:
    """A sub-period reported on one row: a calendar month for ``group_by=month``, else the whole period."""

    key: str
    label: str
    start: datetime
    cut: datetime
    as_of: datetime


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=VN_TZ)


def report_window(first: date, last: date, now: datetime) -> Window:
    """The window of the period ``first``..``last`` (both included) reported at ``now``.

    A period that ends in the future is reported as of now (the contract); one that has not begun yet gives an
    empty period whose carried-over dossiers are those open now. Raises ``ValueError`` for a reversed or too
    long period (the caller maps it to a 422).
    """
    if last < first:
        raise ValueError("period ends before it starts")
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise ValueError("period too long")
    start, end = local_midnight(first), local_midnight(last + timedelta(days=1))
    now = to_legal_time(now)
    if end <= now:
        cut = as_of = end
    else:
        as_of, cut = now, now + timedelta(microseconds=1)
    return Window(first, last, min(start, cut), end, cut, min(as_of, end))


PeriodKind = Literal["month", "quarter", "year"]
PERIOD_KINDS: Final = ("month", "quarter", "year")
FIRST_YEAR: Final = 2000
LAST_YEAR: Final = 2100
"""The calendar's range (CONTRACT, Version 2: dates outside 2000–2100 are 422 ``DATE_OUT_OF_RANGE``)."""


@dataclass(frozen=True)
class Period:
    """A reporting period: its first and last day (both included) and, when it is one, the calendar month,
    quarter or year it is (``kind``; ``None`` for any other span)."""

    first: date
    last: date
    kind: PeriodKind | None = None

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


class PeriodError(ValueError):
    """A period that cannot be reported: ``code`` is the problem code, the message the Vietnamese detail."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


def _in_range(day: date) -> bool:
    return FIRST_YEAR <= day.year <= LAST_YEAR


def _month_end(year: int, month: int) -> date:
    return (date(year, month, 1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def calendar_period(kind: PeriodKind, year: int, number: int | None = None) -> Period:
    """The ``number``-th month (1–12) or quarter (1–4) of ``year``, or the whole year."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise PeriodError("DATE_OUT_OF_RANGE", f"Năm phải trong khoảng {FIRST_YEAR}–{LAST_YEAR}.")
    if kind == "year":
        return Period(date(year, 1, 1), date(year, 12, 31), "year")
    limit = 12 if kind == "month" else 4
    name = "tháng" if kind == "month" else "quý"
    if number is None or not 1 <= number <= limit:
        raise PeriodError("PERIOD_INVALID", f"Kỳ theo {name} cần tham số {kind} từ 1 đến {limit}.")
    if kind == "month":
        return Period(date(year, number, 1), _month_end(year, number), "month")
    return Period(date(year, 3 * number - 2, 1), _month_end(year, 3 * number), "quarter")


def classify(first: date, last: date) -> Period:
    """``first``..``last`` as a :class:`Period`, recognising a whole calendar month, quarter or year."""
    if first.day == 1 and last == _month_end(last.year, last.month) and first.year == last.year:
        months = last.month - first.month + 1
        if months == 1:
            return Period(first, last, "month")
        if months == 3 and first.month % 3 == 1:
            return Period(first, last, "quarter")
        if months == 12:
            return Period(first, last, "year")
    return Period(first, last)


def resolve_period(first: date | None, last: date | None, kind: PeriodKind | None, year: int | None,
                   quarter: int | None, month: int | None) -> Period:
    """The period named either by ``from``/``to`` or by ``period`` (+ ``year`` and ``quarter``/``month``).
    Raises :class:`PeriodError`: ``DATE_OUT_OF_RANGE`` outside 2000–2100, ``PERIOD_INVALID`` for a period
    named both ways, neither way or incompletely."""
    if kind is not None:
        if first is not None or last is not None:
            raise PeriodError("PERIOD_INVALID", "Chỉ dùng một cách chọn kỳ: from/to hoặc period.")
        if year is None:
            raise PeriodError("PERIOD_INVALID", "Kỳ theo tháng, quý hoặc năm cần tham số year.")
        return calendar_period(kind, year, month if kind == "month" else quarter if kind == "quarter" else None)
    if first is None or last is None:
        raise PeriodError("PERIOD_INVALID",
                          "Cần chọn kỳ báo cáo: from và to, hoặc period (month, quarter, year) cùng year.")
    if not (_in_range(first) and _in_range(last)):
        raise PeriodError("DATE_OUT_OF_RANGE", f"Ngày phải trong khoảng năm {FIRST_YEAR}–{LAST_YEAR}.")
    return classify(first, last)


def previous_period(period: Period) -> Period:
    """The period of the same length just before: the previous month, quarter or year for a calendar period,
    else the same number of days ending the day before ``first``."""
    if period.kind == "month":
        last = period.first - timedelta(days=1)
        return Period(last.replace(day=1), last, "month")
    if period.kind == "quarter":
        last = period.first - timedelta(days=1)
        return Period(date(last.year, last.month - 2, 1), last, "quarter")
    if period.kind == "year":
        return Period(date(period.first.year - 1, 1, 1), date(period.first.year - 1, 12, 31), "year")
    last = period.first - timedelta(days=1)
    return Period(last - timedelta(days=period.days - 1), last)


def whole_period(window: Window) -> list[Slice]:
    label = f"{window.first:%d/%m/%Y} – {window.last:%d/%m/%Y}"
    return [Slice("", label, window.start, window.cut, window.as_of)]


def month_slices(window: Window) -> list[Slice]:
    """One slice per local calendar month of the period, each cut at its month end (or at the window's cut for
    the running month). Months that have not begun yet are left out; the first month is always present."""
    slices: list[Slice] = []
    cursor = window.first.replace(day=1)
    while True:
        next_month = (cursor + timedelta(days=32)).replace(day=1)
        start = max(local_midnight(cursor), window.start)
        month_end = min(local_midnight(next_month), window.end)
        if slices and start >= window.cut:
            break
        cut = min(month_end, window.cut)
        slices.append(Slice(f"{cursor:%Y-%m}", f"Tháng {cursor:%m/%Y}", min(start, cut), cut,
                            min(month_end, window.as_of)))
        if next_month > window.last:
            break
        cursor = next_month
    return slices


def boundaries(slices: Sequence[Slice]) -> list[datetime]:
    """``[start of the first slice, cut of slice 0, cut of slice 1, …]``: instant ``t`` falls in slice ``i``
    when ``b[i] <= t < b[i+1]``; before the period it is ``-1``, at or after the last cut ``len(slices)``."""
    return [slices[0].start, *(s.cut for s in slices)]


# --------------------------------------------------------------------------------------------------- assembly


@dataclass(frozen=True)
class Cell:
    """Dossiers of one group sharing a channel, the slice they were received in (``-1`` = before the period)
    and the slice they ended in (resolved or withdrawn; ``n_slices`` = not ended by the last cut), with how
    they ended (``early``/``on_time``/``late``/``withdrawn``). Computed by one aggregate query."""

    key: str
    channel: str
    received: int
    ended: int
    outcome: str | None
    count: int


@dataclass(frozen=True)
class StateCount:
    """Dossiers of one group open at the cut of slice ``slice``, by their state then (from the last event
    recorded before the cut): ``on_track``, ``overdue`` or ``paused``."""

    key: str
    slice: int
    state: str | None
    count: int


def assemble(cells: Iterable[Cell], states: Iterable[StateCount], n_slices: int,
             ) -> dict[tuple[str, int], ProcessingCounts]:
    """The counts of each (group key, slice), from the cells and the open-dossier states.

    For slice ``i``: received — received in ``i``; carried over — received before ``i`` and not ended before
    it; resolved / withdrawn — ended in ``i``; in progress / paused — open at the cut of ``i`` (``states``).
    """
    acc: dict[tuple[str, int], dict[str, int]] = {}

    def bump(key: str, i: int, name: str, n: int) -> None:
        row = acc.setdefault((key, i), {})
        row[name] = row.get(name, 0) + n

    for cell in cells:
        if 0 <= cell.received < n_slices:
            bump(cell.key, cell.received, f"received_{cell.channel}", cell.count)
        for i in range(max(cell.received + 1, 0), min(cell.ended, n_slices - 1) + 1):
            bump(cell.key, i, "carried_over", cell.count)
        if 0 <= cell.ended < n_slices:
            if cell.outcome == WITHDRAWN_OUTCOME:
                bump(cell.key, cell.ended, "withdrawn", cell.count)
            elif cell.outcome in ("early", "on_time", "late"):
                bump(cell.key, cell.ended, f"resolved_{cell.outcome}", cell.count)
            else:
                bump(cell.key, cell.ended, "unclassified", cell.count)
        # Make sure every slice a cell touches has a row, even with zero counts.
        for i in range(max(cell.received, 0), min(cell.ended, n_slices - 1) + 1):
            acc.setdefault((cell.key, i), {})
    return _with_states(acc, states)


@dataclass(frozen=True)
class Marginal:
    """For a one-slice period: dossiers of one group, channel and timeliness value, counted as received in the
    period, carried over into it, resolved in it and withdrawn in it (one aggregate query; for a single slice
    these margins are all :func:`assemble` needs from the cells)."""

    key: str
    channel: str
    timeliness: str | None
    received: int
    carried_over: int
    resolved: int
    withdrawn: int


def assemble_period(marginals: Iterable[Marginal], states: Iterable[StateCount],
                    ) -> dict[tuple[str, int], ProcessingCounts]:
    """The counts of each (group key, 0) of a one-slice period, from the margins and the open-dossier states
    (the same result as :func:`assemble` on the corresponding cells)."""
    acc: dict[tuple[str, int], dict[str, int]] = {}
    for m in marginals:
        row = acc.setdefault((m.key, 0), {})
        resolved = f"resolved_{m.timeliness}" if m.timeliness in TIMELINESS else "unclassified"
        for name, n in ((f"received_{m.channel}", m.received), ("carried_over", m.carried_over),
                        (resolved, m.resolved), ("withdrawn", m.withdrawn)):
            if n:
                row[name] = row.get(name, 0) + n
    return _with_states(acc, states)


def _with_states(acc: dict[tuple[str, int], dict[str, int]], states: Iterable[StateCount],
                 ) -> dict[tuple[str, int], ProcessingCounts]:
    for state in states:
        row = acc.setdefault((state.key, state.slice), {})
        name = {PAUSED_STATE: "paused", OVERDUE_STATE: "in_progress_overdue",
                ON_TRACK_STATE: "in_progress_on_track"}.get(state.state or "")
        if name is not None:
            row[name] = row.get(name, 0) + state.count
        # Otherwise off the books: counted on neither side, so the invariant shows the gap.
    return {k: ProcessingCounts(**row) for k, row in acc.items()}


def month_total(rows: Sequence[ProcessingCounts]) -> ProcessingCounts:
    """The whole period from its consecutive months: flows add up; the carried-over stock is the first
    month's, the stocks at the end are the last month's."""
    if not rows:
        return ProcessingCounts()
    flows = ProcessingCounts()
    for row in rows:
        flows += replace(row, carried_over=0, in_progress_on_track=0, in_progress_overdue=0, paused=0)
    first, last = rows[0], rows[-1]
    return replace(flows, carried_over=first.carried_over, in_progress_on_track=last.in_progress_on_track,
                   in_progress_overdue=last.in_progress_overdue, paused=last.paused)


def unmarked(supplement_count: int, extension_count: int, payment_amount_vnd: int | None) -> bool:
    """Whether a received dossier was never paused nor re-scheduled — then it ran all along with the due
    instant it got at receipt, and its state at any instant while open follows from that due instant alone.

    Decree 61/2018 Art. 19(4) and (9) and the financial-obligation pause are the only steps that stop the
    clock or move the due instant (``request_supplement``/``supplement``, ``request_payment``/``pay``,
    ``extend`` in :mod:`service.domain.lifecycle`), and each leaves a mark that is never undone: the
    supplement or extension count grows, the requested payment amount is kept. A test drives every action of
    the transition table to keep this true."""
    return supplement_count == 0 and extension_count == 0 and payment_amount_vnd is None


# ---------------------------------------------------------------------------------------------------- labels

CHANNEL_LABEL: Final = {
    "online": "Trực tuyến", "counter": "Trực tiếp", "postal": "Qua dịch vụ bưu chính công ích",
}


def service_level_label(level: str) -> str:
    return f"Mức độ {level}"


# ---------------------------------------------------------------------------------------------------- CSV

GROUP_COLUMN: Final[dict[str, str]] = {
    "agency": "Cơ quan, đơn vị",
    "procedure": "Thủ tục hành chính",
    "month": "Tháng",
    "channel": "Kênh tiếp nhận",
    "service_level": "Mức độ dịch vụ công trực tuyến",
}

@dataclass(frozen=True)
class ReportColumn:
    """One column of the report form: the JSON field, the form's group and column headings, and what it
    counts. JSON, CSV and XLSX all take their columns from :data:`REPORT_COLUMNS`."""

    field: str
    group: str
    """The form's upper heading (merged over its columns in the XLSX); equal to ``heading`` for a column
    without one."""
    heading: str
    definition: str

    @property
    def csv_header(self) -> str:
        return self.heading if self.group == self.heading else f"{self.group} - {self.heading}"


RECEIVED = "Số hồ sơ nhận giải quyết"
RESOLVED = "Số hồ sơ đã giải quyết"
IN_PROGRESS = "Số hồ sơ đang giải quyết"
PAUSED_HEADING = "Số hồ sơ tạm dừng (chờ bổ sung, thực hiện nghĩa vụ tài chính)"
WITHDRAWN_HEADING = "Số hồ sơ rút"
ON_TIME_HEADING = "Tỷ lệ giải quyết đúng hạn (%)"
ONLINE_HEADING = "Tỷ lệ tiếp nhận trực tuyến (%)"

REPORT_COLUMNS: Final[tuple[ReportColumn, ...]] = (
    ReportColumn("total_to_handle", RECEIVED, "Tổng số",
                 "Số mới tiếp nhận trong kỳ + số kỳ trước chuyển qua (received_total + carried_over)."),
    ReportColumn("received_total", RECEIVED, "Số mới tiếp nhận",
                 "Hồ sơ có thời điểm tiếp nhận trong kỳ, mọi kênh; hồ sơ bị từ chối tiếp nhận không tính."),
    ReportColumn("received_online", RECEIVED, "Số mới tiếp nhận trực tuyến",
                 "Trong số mới tiếp nhận: nộp trực tuyến (kênh online)."),
    ReportColumn("received_counter", RECEIVED, "Số mới tiếp nhận trực tiếp",
                 "Trong số mới tiếp nhận: nộp trực tiếp tại Bộ phận Một cửa."),
    ReportColumn("received_postal", RECEIVED, "Số mới tiếp nhận qua dịch vụ bưu chính công ích",
                 "Trong số mới tiếp nhận: nộp qua dịch vụ bưu chính công ích."),
    ReportColumn("carried_over", RECEIVED, "Số kỳ trước chuyển qua",
                 "Hồ sơ tiếp nhận trước kỳ, chưa giải quyết xong và chưa rút khi bắt đầu kỳ."),
    ReportColumn("resolved_total", RESOLVED, "Tổng số",
                 "Hồ sơ có kết quả (phê duyệt hoặc từ chối giải quyết) trong kỳ = trước hạn + đúng hạn + quá "
                 "hạn."),
    ReportColumn("resolved_early", RESOLVED, "Trả trước hạn",
                 "Ngày có kết quả (giờ Việt Nam) trước ngày hẹn trả."),
    ReportColumn("resolved_on_time", RESOLVED, "Trả đúng thời hạn",
                 "Có kết quả trong ngày hẹn trả, không muộn hơn thời điểm hẹn trả."),
    ReportColumn("resolved_late", RESOLVED, "Trả quá hạn", "Có kết quả sau thời điểm hẹn trả."),
    ReportColumn("in_progress_total", IN_PROGRESS, "Tổng số",
                 "Hồ sơ chưa có kết quả, chưa rút, không tạm dừng tại thời điểm cuối kỳ = chưa đến hạn + quá "
                 "hạn."),
    ReportColumn("in_progress_on_track", IN_PROGRESS, "Chưa đến hạn",
                 "Đang giải quyết, thời điểm hẹn trả chưa qua tại thời điểm cuối kỳ."),
    ReportColumn("in_progress_overdue", IN_PROGRESS, "Quá hạn",
                 "Đang giải quyết, thời điểm hẹn trả đã qua tại thời điểm cuối kỳ."),
    ReportColumn("paused", PAUSED_HEADING, PAUSED_HEADING,
                 "Hồ sơ đang chờ bổ sung hoặc chờ thực hiện nghĩa vụ tài chính tại thời điểm cuối kỳ."),
    ReportColumn("withdrawn", WITHDRAWN_HEADING, WITHDRAWN_HEADING, "Hồ sơ được rút trong kỳ."),
    ReportColumn("on_time_rate", ON_TIME_HEADING, ON_TIME_HEADING,
                 "100 × (trả trước hạn + trả đúng thời hạn) / số đã giải quyết, 2 chữ số thập phân; trống khi "
                 "không có hồ sơ đã giải quyết."),
    ReportColumn("online_rate", ONLINE_HEADING, ONLINE_HEADING,
                 "100 × số mới tiếp nhận trực tuyến / số mới tiếp nhận, 2 chữ số thập phân; trống khi không "
                 "có hồ sơ mới tiếp nhận."),
)
"""The report form's columns (Circular 01/2018/TT-VPCP Art. 11 report table, domain reference §7.1; the form
number in the current reporting circular is not verified). Invariant per row: "Tổng số" nhận giải quyết =
đã giải quyết + đang giải quyết + tạm dừng + rút."""

STEP_GROUP = "Bước liên thông do cơ quan thực hiện"
STEP_COLUMNS: Final[tuple[ReportColumn, ...]] = (
    ReportColumn("step_resolved_total", STEP_GROUP, "Số bước đã kết thúc",
                 "Bước của hồ sơ liên thông mà cơ quan kết thúc trong kỳ (chuyển tiếp hoặc quyết định). Ngoài các "
                 "cột chính thức: mỗi hồ sơ vẫn chỉ được tính một lần, tại cơ quan có thẩm quyền."),
    ReportColumn("step_resolved_late", STEP_GROUP, "Số bước kết thúc quá hạn",
                 "Trong số bước đã kết thúc: kết thúc sau thời hạn của bước (Nghị định 61/2018, Điều 19)."),
    ReportColumn("step_in_progress_total", STEP_GROUP, "Số bước đang thực hiện",
                 "Bước cơ quan đang giữ tại thời điểm cuối kỳ."),
    ReportColumn("step_in_progress_overdue", STEP_GROUP, "Số bước đang thực hiện quá hạn",
                 "Trong số bước đang thực hiện: đã quá thời hạn của bước tại thời điểm cuối kỳ."),
)
"""Where an inter-agency dossier lost time (``group_by=agency`` only): the steps each agency held, beside the
official columns. JSON, CSV and XLSX carry them for that grouping (:func:`report_columns`)."""


def report_columns(with_steps: bool) -> tuple[ReportColumn, ...]:
    """The columns of a report: the form's, then the step columns when the rows are agencies."""
    return REPORT_COLUMNS + STEP_COLUMNS if with_steps else REPORT_COLUMNS


def row_values(counts: ProcessingCounts, steps: StepCounts | None = None) -> dict[str, int | float | None]:
    """One row's values by field: the form's counts, and the step counts if any."""
    return {**counts.as_dict(), **(steps.as_dict() if steps is not None else {})}


COLUMN_DEFINITIONS: Final[dict[str, str]] = {c.field: f"{c.csv_header}: {c.definition}"
                                             for c in REPORT_COLUMNS + STEP_COLUMNS}
CSV_COLUMNS: Final[tuple[tuple[str, str], ...]] = tuple((c.field, c.csv_header) for c in REPORT_COLUMNS)
"""``(field, CSV header)``: one header row, "group - column". Rates use a decimal point so the file reads the
same in every spreadsheet locale."""


def _cell(value: int | float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def render_csv(group_by: str, rows: Sequence[tuple[str, str, ProcessingCounts]], total: ProcessingCounts,
               *, steps: Sequence[StepCounts | None] | None = None, step_total: StepCounts | None = None,
               title: str | None = None) -> str:
    """The report as CSV text (the caller prepends the UTF-8 BOM): ``STT``, the group's code and name, then
    :data:`CSV_COLUMNS` — and :data:`STEP_COLUMNS` when ``steps`` (one per row) are given — one row per group
    and a final ``Tổng cộng`` row."""
    columns = report_columns(steps is not None)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if title:
        writer.writerow([title])
    writer.writerow(["STT", "Mã", GROUP_COLUMN[group_by], *(c.csv_header for c in columns)])

    def values(counts: ProcessingCounts, held: StepCounts | None) -> list[str]:
        data = row_values(counts, held if held is not None or steps is None else StepCounts())
        return [_cell(data[c.field]) for c in columns]

    held = steps if steps is not None else [None] * len(rows)
    for number, ((key, label, counts), step) in enumerate(zip(rows, held, strict=True), start=1):
        writer.writerow([str(number), key, label, *values(counts, step)])
    writer.writerow(["", "", "Tổng cộng", *values(total, step_total)])
    return out.getvalue()
