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
* Decision 766/QĐ-TTg (23/06/2022): the real-time service index (0–100) of ministries and provinces, in five
  groups; see :data:`INDEX_GROUPS` for the indicators this system computes, their formulas, thresholds and the
  sub-weights assumed where the decision publishes none.

The reporting period runs from ``from`` 00:00 to the start of the day after ``to``, local time
(Asia/Ho_Chi_Minh). Every figure is computed *as of the end of the period*, or as of now when the period has
not ended yet, so the report of a past period never changes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, Literal

from service.domain.calendar import VN_TZ, to_legal_time

__all__ = [
    "CHANNELS",
    "COUNT_FIELDS",
    "CSV_COLUMNS",
    "INDEX_GROUPS",
    "MAX_PERIOD_DAYS",
    "Cell",
    "GroupBy",
    "IndexInputs",
    "IndicatorSpec",
    "Marginal",
    "ProcessingCounts",
    "Slice",
    "StateCount",
    "Window",
    "assemble",
    "assemble_period",
    "month_slices",
    "percentage",
    "render_csv",
    "report_window",
    "score_index",
    "threshold_points",
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

    def as_dict(self) -> dict[str, int | float | None]:
        """The contract's counts and rates, in the contract's order."""
        out: dict[str, int | float | None] = {name: getattr(self, name) for name in COUNT_FIELDS}
        out["on_time_rate"] = self.on_time_rate
        out["online_rate"] = self.online_rate
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

CSV_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("total_to_handle", "Số hồ sơ nhận giải quyết - Tổng số"),
    ("received_total", "Số hồ sơ nhận giải quyết - Số mới tiếp nhận"),
    ("received_online", "Số hồ sơ nhận giải quyết - Số mới tiếp nhận trực tuyến"),
    ("received_counter", "Số hồ sơ nhận giải quyết - Số mới tiếp nhận trực tiếp"),
    ("received_postal", "Số hồ sơ nhận giải quyết - Số mới tiếp nhận qua dịch vụ bưu chính công ích"),
    ("carried_over", "Số hồ sơ nhận giải quyết - Số kỳ trước chuyển qua"),
    ("resolved_total", "Số hồ sơ đã giải quyết - Tổng số"),
    ("resolved_early", "Số hồ sơ đã giải quyết - Trả trước hạn"),
    ("resolved_on_time", "Số hồ sơ đã giải quyết - Trả đúng thời hạn"),
    ("resolved_late", "Số hồ sơ đã giải quyết - Trả quá hạn"),
    ("in_progress_total", "Số hồ sơ đang giải quyết - Tổng số"),
    ("in_progress_on_track", "Số hồ sơ đang giải quyết - Chưa đến hạn"),
    ("in_progress_overdue", "Số hồ sơ đang giải quyết - Quá hạn"),
    ("paused", "Số hồ sơ tạm dừng (chờ bổ sung, thực hiện nghĩa vụ tài chính)"),
    ("withdrawn", "Số hồ sơ rút"),
    ("on_time_rate", "Tỷ lệ giải quyết đúng hạn (%)"),
    ("online_rate", "Tỷ lệ tiếp nhận trực tuyến (%)"),
)
"""The report form's columns (Circular 01/2018 Art. 11 report table; domain reference §7.1), one header row:
"group - column". Rates use a decimal point so the file reads the same in every spreadsheet locale."""


def _cell(value: int | float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def render_csv(group_by: str, rows: Sequence[tuple[str, str, ProcessingCounts]], total: ProcessingCounts,
               *, title: str | None = None) -> str:
    """The report as CSV text (the caller prepends the UTF-8 BOM): ``STT``, the group's code and name, then
    :data:`CSV_COLUMNS`, one row per group and a final ``Tổng cộng`` row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if title:
        writer.writerow([title])
    writer.writerow(["STT", "Mã", GROUP_COLUMN[group_by], *(label for _, label in CSV_COLUMNS)])

    def values(counts: ProcessingCounts) -> list[str]:
        data = counts.as_dict()
        data["total_to_handle"] = counts.received_total + counts.carried_over
        return [_cell(data[name]) for name, _ in CSV_COLUMNS]

    for number, (key, label, counts) in enumerate(rows, start=1):
        writer.writerow([str(number), key, label, *values(counts)])
    writer.writerow(["", "", "Tổng cộng", *values(total)])
    return out.getvalue()


# ----------------------------------------------------------------------------------------------- Decision 766


@dataclass(frozen=True)
class IndicatorSpec:
    """One indicator of Decision 766/QĐ-TTg as computed here."""

    code: str
    name: str
    max_points: float
    formula: str
    threshold: float | None = None
    """The rate (in %) at or above which the indicator earns full points; below it, points are proportional
    (``rate × max / threshold``). ``None``: proportional up to 100 %."""
    weight: Literal["published", "assumed"] = "assumed"
    unit: str = "%"


@dataclass(frozen=True)
class GroupSpec:
    code: str
    name: str
    max_points: float
    indicators: tuple[IndicatorSpec, ...]
    not_assessed: tuple[tuple[str, str, str], ...] = ()
    """(code, name, reason) of the decision's indicators that the dossier data cannot support."""


NO_DATA_TRANSPARENCY = ("Hệ thống không quản lý quyết định công bố thủ tục hành chính và Cơ sở dữ liệu "
                        "quốc gia.")
NO_DATA_PAKN = "Hệ thống chưa có phân hệ tiếp nhận phản ánh, kiến nghị (PAKN)."

INDEX_GROUPS: Final[tuple[GroupSpec, ...]] = (
    GroupSpec("1", "Công khai, minh bạch", 18, (), (
        ("1.1", "Tỷ lệ TTHC được công bố đúng hạn", NO_DATA_TRANSPARENCY),
        ("1.2", "Tỷ lệ TTHC được công khai đúng hạn trên Cơ sở dữ liệu quốc gia", NO_DATA_TRANSPARENCY),
        ("1.3", "Tỷ lệ TTHC được công khai đầy đủ các bộ phận", NO_DATA_TRANSPARENCY),
        ("1.4", "Tỷ lệ đồng bộ hồ sơ lên Cổng Dịch vụ công quốc gia",
         "Mọi hồ sơ đều nằm trong hệ thống; chưa có kết nối đồng bộ với Cổng Dịch vụ công quốc gia."),
    )),
    GroupSpec("2", "Tiến độ, kết quả giải quyết", 20, (
        IndicatorSpec(
            "2.1", "Tỷ lệ hồ sơ giải quyết đúng hạn", 15,
            "Số hồ sơ giải quyết, đang giải quyết trong hạn / Tổng số hồ sơ tiếp nhận và kỳ trước chuyển "
            "qua × 100 %. Đúng hạn khi thời điểm kết thúc xử lý ≤ ngày hẹn trả; hồ sơ chưa kết thúc lấy "
            "thời điểm cuối kỳ; hồ sơ tạm dừng (chờ bổ sung, nghĩa vụ tài chính) không tính thời gian chờ; "
            "hồ sơ rút lấy thời điểm rút; hồ sơ có từ 02 lần yêu cầu bổ sung trở lên tính là quá hạn."),
        IndicatorSpec(
            "2.2", "Thời gian giải quyết trung bình", 5,
            "Tổng thời gian giải quyết (từ tiếp nhận đến khi có kết quả) của hồ sơ đã giải quyết trong kỳ "
            "/ số hồ sơ đó, tính theo ngày. Điểm = điểm tối đa × min(1, thời hạn trung bình được phép / "
            "thời gian trung bình thực tế); thời hạn được phép tính đến ngày hẹn trả ban đầu (trước gia "
            "hạn).",
            unit="ngày"),
    )),
    GroupSpec("3", "Cung cấp dịch vụ trực tuyến", 22, (
        IndicatorSpec(
            "3.1", "Tỷ lệ TTHC cung cấp dịch vụ công trực tuyến", 6,
            "Số TTHC có hiệu lực cuối kỳ được cung cấp trực tuyến (mức độ 3, 4) / Tổng số TTHC có hiệu lực "
            "thuộc thẩm quyền × 100 %. Đạt điểm tối đa khi ≥ 80 %.", threshold=80),
        IndicatorSpec(
            "3.3", "Tỷ lệ hồ sơ nộp trực tuyến", 10,
            "Số hồ sơ tiếp nhận trực tuyến trong kỳ / Tổng số hồ sơ tiếp nhận trong kỳ × 100 % (tỷ lệ đồng "
            "bộ = 100 %). Đạt điểm tối đa khi ≥ 50 %.", threshold=50),
        IndicatorSpec(
            "3.6", "Tỷ lệ hồ sơ thanh toán trực tuyến", 6,
            "Số hồ sơ đã giải quyết trong kỳ được thanh toán phí, lệ phí trực tuyến / Số hồ sơ đã giải quyết "
            "trong kỳ thuộc TTHC có thu phí, lệ phí × 100 %."),
    ), (
        ("3.2", "Tỷ lệ dịch vụ công trực tuyến phát sinh hồ sơ", "Chưa tính trong phiên bản này."),
        ("3.5", "Tỷ lệ TTHC tích hợp thanh toán trực tuyến", "Chưa tính trong phiên bản này."),
    )),
    GroupSpec("4", "Số hóa hồ sơ", 22, (
        IndicatorSpec(
            "4.1", "Tỷ lệ cấp kết quả giải quyết điện tử", 11,
            "Số hồ sơ được phê duyệt trong kỳ có kết quả điện tử (ký số) / Số hồ sơ được phê duyệt trong kỳ "
            "× 100 %."),
        IndicatorSpec(
            "4.2", "Tỷ lệ số hóa hồ sơ", 11,
            "Số hồ sơ đã giải quyết trong kỳ có thành phần hồ sơ được số hóa (tệp đính kèm) và có kết quả "
            "điện tử / Số hồ sơ đã giải quyết trong kỳ × 100 %. Đạt điểm tối đa khi ≥ 80 %.", threshold=80),
    ), (
        ("4.3", "Tỷ lệ khai thác, sử dụng lại dữ liệu số hóa",
         "Chưa có dữ liệu tái sử dụng thành phần số hóa."),
        ("4.4", "Tỷ lệ hồ sơ liên kết kho dữ liệu công dân", "Chưa kết nối kho dữ liệu của công dân."),
        ("4.5", "Tỷ lệ sử dụng dữ liệu dân cư (VNeID)", "Chưa kết nối Cơ sở dữ liệu quốc gia về dân cư."),
    )),
    GroupSpec("5", "Mức độ hài lòng", 18, (
        IndicatorSpec(
            "5.4", "Mức độ hài lòng trong tiếp nhận, giải quyết TTHC", 6,
            "100 % − (tỷ lệ hồ sơ quá hạn theo chỉ số 2.1 + tỷ lệ hồ sơ đã giải quyết trong kỳ bị đánh giá "
            "không hài lòng). Đạt điểm tối đa khi ≥ 90 %.", threshold=90, weight="published"),
    ), (
        ("5.1", "Phản ánh, kiến nghị theo loại", NO_DATA_PAKN),
        ("5.2", "Tỷ lệ xử lý phản ánh, kiến nghị đúng hạn", NO_DATA_PAKN),
        ("5.3", "Mức độ hài lòng trong xử lý phản ánh, kiến nghị", NO_DATA_PAKN),
    )),
)
"""Decision 766/QĐ-TTg groups and the indicators computed here. Group maxima are the decision's
(18/20/22/22/18). Indicator numbering follows the VPCP formula description (3.x online services,
4.x digitisation); the Nam Định summary of §8.1 lists digitisation as group 3 — both groups are worth 22."""

INDEX_ASSUMPTIONS: Final = (
    "Điểm tối đa của từng nhóm theo Quyết định 766/QĐ-TTg: công khai 18, tiến độ 20, dịch vụ trực tuyến 22, "
    "số hóa 22, hài lòng 18.",
    "Quyết định chỉ công bố điểm thành phần của chỉ số 5.4 (6/18); điểm thành phần còn lại là giả định của "
    "hệ thống: 2.1 = 15, 2.2 = 5; 3.1 = 6, 3.3 = 10, 3.6 = 6; 4.1 = 11, 4.2 = 11.",
    "Chỉ số không tính được từ dữ liệu hồ sơ (nhóm 1, các chỉ số 3.2, 3.5, 4.3–4.5, 5.1–5.3) không được "
    "chấm; chỉ số có mẫu số bằng 0 cũng không được chấm.",
    "score_total = 100 × tổng điểm đạt được / tổng điểm tối đa của các chỉ số được chấm (thang 0–100).",
    "Chỉ số 2.1: hồ sơ rút được tính đúng hạn nếu rút trước hạn hoặc khi đang tạm dừng; hồ sơ chờ nghĩa "
    "vụ tài chính được coi như tạm dừng tính thời gian.",
    "Chỉ số 3.3: mọi hồ sơ đều có trong hệ thống nên tỷ lệ đồng bộ là 100 %; điều kiện kết quả điện tử được "
    "đánh giá riêng ở chỉ số 4.1.",
)


@dataclass(frozen=True)
class IndexInputs:
    """What the index needs from the database, all as of the period end."""

    population: int = 0
    """Dossiers received in the period plus those carried over (the report's left-hand side)."""
    late: int = 0
    """Of ``population``: late by the 2.1 rules (resolved late; in progress and overdue at period end;
    withdrawn after the due instant while running; any dossier with more than one supplementation request)."""
    resolved: int = 0
    resolution_seconds: float = 0.0
    allowed_seconds: float = 0.0
    procedures: int = 0
    procedures_online: int = 0
    received: int = 0
    received_online: int = 0
    fee_resolved: int = 0
    fee_paid_online: int = 0
    approved: int = 0
    approved_e_result: int = 0
    digitised: int = 0
    dissatisfied: int = 0


def threshold_points(rate: float | None, max_points: float, threshold: float | None) -> float | None:
    """Points of a rate indicator: full at or above ``threshold`` (%), else ``rate × max / threshold``;
    without a threshold, ``rate × max / 100``. ``None`` when the rate is undefined."""
    if rate is None:
        return None
    bar = threshold if threshold is not None else 100.0
    return _round2(max_points * min(max(rate, 0.0), bar) / bar)


@dataclass(frozen=True)
class IndicatorResult:
    spec: IndicatorSpec
    value: float | None
    points: float | None
    numerator: float | None = None
    denominator: float | None = None
    details: Mapping[str, float | None] = field(default_factory=dict)


def _indicator(spec: IndicatorSpec, numerator: int, denominator: int) -> IndicatorResult:
    rate = percentage(numerator, denominator)
    return IndicatorResult(spec, rate, threshold_points(rate, spec.max_points, spec.threshold), numerator,
                           denominator)


def score_index(data: IndexInputs) -> dict[str, object]:
    """Score Decision 766 from ``data``: each group with its indicators (value, points, formula), the
    indicators not assessed and why, and ``score_total`` on 0–100 over the assessed maximum."""
    late_rate = percentage(data.late, data.population)
    dissatisfied_rate = percentage(data.dissatisfied, data.resolved)
    results: dict[str, IndicatorResult] = {}
    specs = {i.code: i for g in INDEX_GROUPS for i in g.indicators}

    results["2.1"] = _indicator(specs["2.1"], data.population - data.late, data.population)
    spec = specs["2.2"]
    if data.resolved:
        actual = data.resolution_seconds / data.resolved / 86400
        allowed = data.allowed_seconds / data.resolved / 86400
        attainment = 1.0 if actual <= 0 else min(1.0, max(allowed, 0.0) / actual)
        results["2.2"] = IndicatorResult(spec, _round2(actual), _round2(spec.max_points * attainment),
                                         details={"allowed_average_days": _round2(allowed)})
    else:
        results["2.2"] = IndicatorResult(spec, None, None, details={"allowed_average_days": None})
    results["3.1"] = _indicator(specs["3.1"], data.procedures_online, data.procedures)
    results["3.3"] = _indicator(specs["3.3"], data.received_online, data.received)
    results["3.6"] = _indicator(specs["3.6"], data.fee_paid_online, data.fee_resolved)
    results["4.1"] = _indicator(specs["4.1"], data.approved_e_result, data.approved)
    results["4.2"] = _indicator(specs["4.2"], data.digitised, data.resolved)
    spec = specs["5.4"]
    if late_rate is None and dissatisfied_rate is None:
        satisfaction = None
    else:
        satisfaction = _round2(max(0.0, 100.0 - (late_rate or 0.0) - (dissatisfied_rate or 0.0)))
    results["5.4"] = IndicatorResult(spec, satisfaction, threshold_points(satisfaction, spec.max_points,
                                                                           spec.threshold),
                                     details={"late_rate": late_rate, "dissatisfied_rate": dissatisfied_rate})

    groups: list[dict[str, object]] = []
    earned = assessed = 0.0
    for group in INDEX_GROUPS:
        indicators = []
        group_points = group_max = 0.0
        for spec in group.indicators:
            result = results[spec.code]
            if result.points is not None:
                group_points += result.points
                group_max += spec.max_points
            indicators.append({
                "code": spec.code, "name": spec.name, "value": result.value, "unit": spec.unit,
                "numerator": result.numerator, "denominator": result.denominator,
                "points": result.points, "max_points": spec.max_points, "threshold": spec.threshold,
                "weight": spec.weight, "formula": spec.formula, **dict(result.details),
            })
        earned += group_points
        assessed += group_max
        groups.append({
            "code": group.code, "name": group.name, "max_points": group.max_points,
            "points": _round2(group_points) if group_max else None,
            "assessed_max_points": group_max,
            "indicators": indicators,
            "not_assessed": [{"code": c, "name": n, "reason": r} for c, n, r in group.not_assessed],
        })
    return {
        "score_total": _round2(100 * earned / assessed) if assessed else None,
        "points_earned": _round2(earned),
        "points_assessed": assessed,
        "groups": groups,
        "assumptions": list(INDEX_ASSUMPTIONS),
    }
