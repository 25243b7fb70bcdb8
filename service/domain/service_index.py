"""The real-time service index (0–100) in two schemes, and the competition ranking built on it.

Schemes
-------
* ``qd766-2022`` — Decision 766/QĐ-TTg (23/06/2022): five groups, transparency 18, progress 20, online
  services 22, digitisation 22, satisfaction 18. The decision publishes the group maxima and two sub-weights
  (4/18 for timely publication, 6/18 for satisfaction in handling procedures); the indicator formulas follow
  the VPCP formula description (domain reference §8.2). The other sub-weights are this system's assumptions.
* ``portal-2025`` (the default) — the index as the National Public Service Portal
  (dichvucong.gov.vn, "Đánh giá chất lượng phục vụ") scores it in 2025–2026: six groups, transparency 18,
  progress 20, online services 12, digitisation 22, satisfaction 18, online payment 10. Basis: captured portal
  responses, medium confidence (domain reference §15); progress = 20 × on-time ÷ received, payment =
  6A + min(2, 2.5B) + 2.5C, reception satisfaction = min(6, 6r ÷ 0.9) match those responses; the split of the
  online-services and digitisation groups was not resolved and is assumed. No decision replacing 766 was
  found, so the portal's scheme is empirical, not legal.

Indicators the dossier data cannot support (transparency, feedback handling, data re-use, …) are listed as
not assessed, and ``score_total`` is 100 × points earned ÷ points of the assessed indicators.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, Literal

__all__ = [
    "DEFAULT_SCHEME",
    "SCHEMES",
    "GroupSpec",
    "IndexInputs",
    "IndicatorSpec",
    "Scheme",
    "SchemeSpec",
    "competition_ranks",
    "score_index",
    "threshold_points",
]

Scheme = Literal["portal-2025", "qd766-2022"]
DEFAULT_SCHEME: Final[Scheme] = "portal-2025"
Weight = Literal["published", "empirical", "assumed"]


def percentage(numerator: int | float, denominator: int | float) -> float | None:
    """``100 · numerator / denominator`` rounded half-up to 2 decimals; ``None`` when the denominator is 0."""
    if not denominator:
        return None
    value = Decimal(100) * Decimal(str(numerator)) / Decimal(str(denominator))
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def round2(value: float) -> float:
    return float(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


# ---------------------------------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class IndexInputs:
    """What the index needs from the database for one agency (or all), all as of the period end."""

    population: int = 0
    """Dossiers received in the period plus those carried over (the report's left-hand side)."""
    late: int = 0
    """Of ``population``: late by the 766 indicator 2.1 rules (resolved late; in progress and overdue at period
    end; withdrawn after the due instant while running; any dossier with more than one supplementation
    request)."""
    resolved: int = 0
    resolution_seconds: float = 0.0
    allowed_seconds: float = 0.0
    procedures: int = 0
    procedures_online: int = 0
    procedures_fee: int = 0
    """Fee-bearing procedures in force at the period end."""
    procedures_fee_online: int = 0
    """Of those, the ones at level 4 (online payment offered)."""
    received: int = 0
    received_online: int = 0
    fee_resolved: int = 0
    fee_paid_online: int = 0
    approved: int = 0
    approved_e_result: int = 0
    digitised: int = 0
    dissatisfied: int = 0
    resolved_in_time: int = 0
    """Of ``resolved``: early or on time (the report's on-time rate; not scored here)."""

    def __add__(self, other: IndexInputs) -> IndexInputs:
        return IndexInputs(**{name: getattr(self, name) + getattr(other, name)
                              for name in self.__dataclass_fields__})

    @property
    def scorable(self) -> bool:
        """Whether any dossier-based indicator has a denominator (else the agency has nothing to score)."""
        return bool(self.population or self.resolved or self.received)


# ---------------------------------------------------------------------------------------------------- measures


@dataclass(frozen=True)
class Measure:
    """A measured value with its fraction (when it is one) and the figures behind it."""

    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    details: Mapping[str, float | None] = field(default_factory=dict)


def _rate(numerator: int, denominator: int) -> Measure:
    return Measure(percentage(numerator, denominator), numerator, denominator)


def _satisfaction(d: IndexInputs) -> Measure:
    late_rate = percentage(d.late, d.population)
    dissatisfied_rate = percentage(d.dissatisfied, d.resolved)
    details = {"late_rate": late_rate, "dissatisfied_rate": dissatisfied_rate}
    if late_rate is None and dissatisfied_rate is None:
        return Measure(None, details=details)
    return Measure(round2(max(0.0, 100.0 - (late_rate or 0.0) - (dissatisfied_rate or 0.0))), details=details)


def _average_time(d: IndexInputs) -> Measure:
    if not d.resolved:
        return Measure(None, details={"allowed_average_days": None})
    actual = d.resolution_seconds / d.resolved / 86400
    allowed = d.allowed_seconds / d.resolved / 86400
    return Measure(round2(actual), round2(d.resolution_seconds / 86400), d.resolved,
                   details={"allowed_average_days": round2(allowed)})


MEASURES: Final[dict[str, Callable[[IndexInputs], Measure]]] = {
    "on_time": lambda d: _rate(d.population - d.late, d.population),
    "average_time": _average_time,
    "procedures_online": lambda d: _rate(d.procedures_online, d.procedures),
    "online_dossiers": lambda d: _rate(d.received_online, d.received),
    "paid_online": lambda d: _rate(d.fee_paid_online, d.fee_resolved),
    "payment_procedures": lambda d: _rate(d.procedures_fee_online, d.procedures_fee),
    "e_results": lambda d: _rate(d.approved_e_result, d.approved),
    "digitised": lambda d: _rate(d.digitised, d.resolved),
    "satisfaction": _satisfaction,
}


def threshold_points(rate: float | None, max_points: float, threshold: float | None) -> float | None:
    """Points of a rate indicator: full at or above ``threshold`` (%), else ``rate × max / threshold``;
    without a threshold, ``rate × max / 100``. ``None`` when the rate is undefined."""
    if rate is None:
        return None
    bar = threshold if threshold is not None else 100.0
    return round2(max_points * min(max(rate, 0.0), bar) / bar)


def _average_time_points(measure: Measure, max_points: float) -> float | None:
    """``max × min(1, allowed average ÷ actual average)``."""
    if measure.value is None:
        return None
    actual, allowed = measure.value, measure.details.get("allowed_average_days") or 0.0
    attainment = 1.0 if actual <= 0 else min(1.0, max(allowed, 0.0) / actual)
    return round2(max_points * attainment)


# ---------------------------------------------------------------------------------------------------- schemes


@dataclass(frozen=True)
class IndicatorSpec:
    """One scored indicator: what it measures (:data:`MEASURES`), its points and where its rule comes from."""

    code: str
    name: str
    max_points: float
    measure: str
    formula: str
    source: str
    threshold: float | None = None
    """The rate (%) at or above which the indicator earns full points; below it, points are proportional
    (``rate × max / threshold``). ``None``: proportional up to 100 %."""
    weight: Weight = "assumed"
    """``published`` by the decision, ``empirical`` (checked against the portal's published scores) or
    ``assumed`` by this system."""
    unit: str = "%"

    def points(self, measure: Measure) -> float | None:
        if self.measure == "average_time":
            return _average_time_points(measure, self.max_points)
        return threshold_points(measure.value, self.max_points, self.threshold)


@dataclass(frozen=True)
class GroupSpec:
    code: str
    name: str
    max_points: float
    indicators: tuple[IndicatorSpec, ...]
    not_assessed: tuple[tuple[str, str, str], ...] = ()
    """(code, name, reason) of indicators that the dossier data cannot support."""


@dataclass(frozen=True)
class SchemeSpec:
    code: Scheme
    name: str
    groups: tuple[GroupSpec, ...]
    assumptions: tuple[str, ...]


Q766 = "Quyết định 766/QĐ-TTg ngày 23/06/2022"
Q766_FORMULAS = f"{Q766}; Văn phòng Chính phủ, Mô tả công thức tính chỉ số 766"
PORTAL = "Cổng Dịch vụ công quốc gia, Đánh giá chất lượng phục vụ (đối chiếu dữ liệu công bố 2025–2026)"
NO_DATA_TRANSPARENCY = ("Hệ thống không quản lý quyết định công bố thủ tục hành chính và Cơ sở dữ liệu "
                        "quốc gia.")
NO_DATA_PAKN = "Hệ thống chưa có phân hệ tiếp nhận phản ánh, kiến nghị (PAKN)."
TRANSPARENCY_NOT_ASSESSED = (
    ("1.1", "Tỷ lệ TTHC được công bố đúng hạn", NO_DATA_TRANSPARENCY),
    ("1.2", "Tỷ lệ TTHC được công khai đúng hạn trên Cơ sở dữ liệu quốc gia", NO_DATA_TRANSPARENCY),
    ("1.3", "Tỷ lệ TTHC được công khai đầy đủ các bộ phận", NO_DATA_TRANSPARENCY),
    ("1.4", "Tỷ lệ đồng bộ hồ sơ lên Cổng Dịch vụ công quốc gia",
     "Mọi hồ sơ đều nằm trong hệ thống; chưa có kết nối đồng bộ với Cổng Dịch vụ công quốc gia."),
)
DATA_REUSE_NOT_ASSESSED = (
    ("4.3", "Tỷ lệ khai thác, sử dụng lại dữ liệu số hóa", "Chưa có dữ liệu tái sử dụng thành phần số hóa."),
    ("4.4", "Tỷ lệ hồ sơ liên kết kho dữ liệu công dân", "Chưa kết nối kho dữ liệu của công dân."),
    ("4.5", "Tỷ lệ sử dụng dữ liệu dân cư (VNeID)", "Chưa kết nối Cơ sở dữ liệu quốc gia về dân cư."),
)
PAKN_NOT_ASSESSED = (
    ("5.1", "Phản ánh, kiến nghị theo loại", NO_DATA_PAKN),
    ("5.2", "Tỷ lệ xử lý phản ánh, kiến nghị đúng hạn", NO_DATA_PAKN),
    ("5.3", "Mức độ hài lòng trong xử lý phản ánh, kiến nghị", NO_DATA_PAKN),
)

ON_TIME_RULES = ("Đúng hạn khi thời điểm kết thúc xử lý ≤ ngày hẹn trả; hồ sơ chưa kết thúc lấy thời điểm cuối "
                 "kỳ; thời gian tạm dừng (chờ bổ sung, nghĩa vụ tài chính) không tính; hồ sơ rút lấy thời điểm "
                 "rút; hồ sơ có từ 02 lần yêu cầu bổ sung trở lên tính là quá hạn.")
E_RESULTS = ("Số hồ sơ được phê duyệt trong kỳ có kết quả điện tử (ký số) / Số hồ sơ được phê duyệt trong kỳ "
             "× 100 %.")
DIGITISED = ("Số hồ sơ đã giải quyết trong kỳ có thành phần hồ sơ được số hóa (tệp đính kèm) và có kết quả "
             "điện tử / Số hồ sơ đã giải quyết trong kỳ × 100 %. Đạt điểm tối đa khi ≥ 80 %.")
SATISFACTION = ("r = 100 % − (tỷ lệ hồ sơ quá hạn theo chỉ số tiến độ + tỷ lệ hồ sơ đã giải quyết trong kỳ bị "
                "đánh giá không hài lòng); điểm = min(6, 6 × r / 90 %).")

QD766: Final = SchemeSpec("qd766-2022", "Quyết định 766/QĐ-TTg (2022): 5 nhóm chỉ số", (
    GroupSpec("1", "Công khai, minh bạch", 18, (), TRANSPARENCY_NOT_ASSESSED),
    GroupSpec("2", "Tiến độ, kết quả giải quyết", 20, (
        IndicatorSpec(
            "2.1", "Tỷ lệ hồ sơ giải quyết đúng hạn", 15, "on_time",
            "Số hồ sơ giải quyết, đang giải quyết trong hạn / Tổng số hồ sơ tiếp nhận và kỳ trước chuyển "
            f"qua × 100 %. {ON_TIME_RULES}", f"{Q766_FORMULAS}, chỉ số 2.1"),
        IndicatorSpec(
            "2.2", "Thời gian giải quyết trung bình", 5, "average_time",
            "Tổng thời gian giải quyết (từ tiếp nhận đến khi có kết quả) của hồ sơ đã giải quyết trong kỳ "
            "/ số hồ sơ đó, tính theo ngày. Điểm = điểm tối đa × min(1, thời hạn trung bình được phép / "
            "thời gian trung bình thực tế); thời hạn được phép tính đến ngày hẹn trả ban đầu (trước gia "
            "hạn).", f"{Q766_FORMULAS}, chỉ số 2.2; cách cho điểm là giả định", unit="ngày"),
    )),
    GroupSpec("3", "Cung cấp dịch vụ trực tuyến", 22, (
        IndicatorSpec(
            "3.1", "Tỷ lệ TTHC cung cấp dịch vụ công trực tuyến", 6, "procedures_online",
            "Số TTHC có hiệu lực cuối kỳ được cung cấp trực tuyến (mức độ 3, 4) / Tổng số TTHC có hiệu lực "
            "thuộc thẩm quyền × 100 %. Đạt điểm tối đa khi ≥ 80 %.", f"{Q766_FORMULAS}, chỉ số 3.1",
            threshold=80),
        IndicatorSpec(
            "3.3", "Tỷ lệ hồ sơ nộp trực tuyến", 10, "online_dossiers",
            "Số hồ sơ tiếp nhận trực tuyến trong kỳ / Tổng số hồ sơ tiếp nhận trong kỳ × 100 % (tỷ lệ đồng "
            "bộ = 100 %). Đạt điểm tối đa khi ≥ 50 %.", f"{Q766_FORMULAS}, chỉ số 3.3", threshold=50),
        IndicatorSpec(
            "3.6", "Tỷ lệ hồ sơ thanh toán trực tuyến", 6, "paid_online",
            "Số hồ sơ đã giải quyết trong kỳ được thanh toán phí, lệ phí trực tuyến / Số hồ sơ đã giải quyết "
            "trong kỳ thuộc TTHC có thu phí, lệ phí × 100 %.", f"{Q766_FORMULAS}, chỉ số 3.6"),
    ), (
        ("3.2", "Tỷ lệ dịch vụ công trực tuyến phát sinh hồ sơ", "Chưa tính trong phiên bản này."),
        ("3.5", "Tỷ lệ TTHC tích hợp thanh toán trực tuyến", "Chưa tính trong phiên bản này."),
    )),
    GroupSpec("4", "Số hóa hồ sơ", 22, (
        IndicatorSpec("4.1", "Tỷ lệ cấp kết quả giải quyết điện tử", 11, "e_results", E_RESULTS,
                      f"{Q766_FORMULAS}, chỉ số 4.1"),
        IndicatorSpec("4.2", "Tỷ lệ số hóa hồ sơ", 11, "digitised", DIGITISED, f"{Q766_FORMULAS}, chỉ số 4.2",
                      threshold=80),
    ), DATA_REUSE_NOT_ASSESSED),
    GroupSpec("5", "Mức độ hài lòng", 18, (
        IndicatorSpec("5.4", "Mức độ hài lòng trong tiếp nhận, giải quyết TTHC", 6, "satisfaction", SATISFACTION,
                      f"{Q766_FORMULAS}, chỉ số 5.4 (điểm thành phần 6/18 được công bố)", threshold=90,
                      weight="published"),
    ), PAKN_NOT_ASSESSED),
), (
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
))

PORTAL_2025: Final = SchemeSpec("portal-2025", "Cổng Dịch vụ công quốc gia (2025): 6 nhóm chỉ số", (
    GroupSpec("1", "Công khai, minh bạch", 18, (), TRANSPARENCY_NOT_ASSESSED),
    GroupSpec("2", "Tiến độ, kết quả giải quyết", 20, (
        IndicatorSpec(
            "2.1", "Tỷ lệ hồ sơ giải quyết đúng hạn", 20, "on_time",
            "Điểm = 20 × số hồ sơ đúng hạn / số hồ sơ tiếp nhận (gồm hồ sơ kỳ trước chuyển qua). "
            f"{ON_TIME_RULES}", f"{PORTAL}; quy tắc đúng hạn theo {Q766_FORMULAS}, chỉ số 2.1",
            weight="empirical"),
    )),
    GroupSpec("3", "Cung cấp dịch vụ trực tuyến", 12, (
        IndicatorSpec(
            "3.1", "Tỷ lệ TTHC cung cấp dịch vụ công trực tuyến", 4, "procedures_online",
            "Số TTHC có hiệu lực cuối kỳ được cung cấp trực tuyến (mức độ 3, 4) / Tổng số TTHC có hiệu lực "
            "thuộc thẩm quyền × 100 %. Đạt điểm tối đa khi ≥ 80 %.",
            f"{Q766_FORMULAS}, chỉ số 3.1; điểm 4/12 là giả định", threshold=80),
        IndicatorSpec(
            "3.3", "Tỷ lệ hồ sơ nộp trực tuyến", 8, "online_dossiers",
            "Số hồ sơ tiếp nhận trực tuyến trong kỳ / Tổng số hồ sơ tiếp nhận trong kỳ × 100 %. Đạt điểm "
            "tối đa khi ≥ 50 %.", f"{Q766_FORMULAS}, chỉ số 3.3; điểm 8/12 là giả định", threshold=50),
    )),
    GroupSpec("4", "Số hóa hồ sơ", 22, (
        IndicatorSpec("4.1", "Tỷ lệ cấp kết quả giải quyết điện tử", 11, "e_results", E_RESULTS,
                      f"{Q766_FORMULAS}, chỉ số 4.1; điểm 11/22 là giả định"),
        IndicatorSpec("4.2", "Tỷ lệ số hóa hồ sơ", 11, "digitised", DIGITISED,
                      f"{Q766_FORMULAS}, chỉ số 4.2; điểm 11/22 là giả định", threshold=80),
    ), DATA_REUSE_NOT_ASSESSED),
    GroupSpec("5", "Mức độ hài lòng", 18, (
        IndicatorSpec("5.4", "Mức độ hài lòng trong tiếp nhận, giải quyết TTHC", 6, "satisfaction", SATISFACTION,
                      f"{PORTAL}; {Q766_FORMULAS}, chỉ số 5.4", threshold=90, weight="empirical"),
    ), PAKN_NOT_ASSESSED),
    GroupSpec("6", "Thanh toán trực tuyến", 10, (
        IndicatorSpec(
            "6.1", "Tỷ lệ hồ sơ thanh toán trực tuyến (A)", 6, "paid_online",
            "Điểm = 6 × A; A = số hồ sơ đã giải quyết trong kỳ được thanh toán phí, lệ phí trực tuyến / số hồ "
            "sơ đã giải quyết trong kỳ thuộc TTHC có thu phí, lệ phí.",
            f"{PORTAL}; ý nghĩa của A theo {Q766_FORMULAS}, chỉ số 3.6", weight="empirical"),
        IndicatorSpec(
            "6.2", "Tỷ lệ TTHC có thu phí tích hợp thanh toán trực tuyến (B)", 2, "payment_procedures",
            "Điểm = min(2; 2,5 × B); B = số TTHC có thu phí, lệ phí có hiệu lực cuối kỳ cho phép thanh toán "
            "trực tuyến (mức độ 4) / số TTHC có thu phí, lệ phí có hiệu lực. Đạt điểm tối đa khi ≥ 80 %.",
            f"{PORTAL}; ý nghĩa của B theo {Q766_FORMULAS}, chỉ số 3.5", threshold=80, weight="empirical"),
    ), (
        ("6.3", "Thành phần C của công thức thanh toán (2,5 × C)",
         "Chưa xác định được ý nghĩa của thành phần C từ dữ liệu công bố của Cổng."),
    )),
), (
    "Cấu trúc 6 nhóm (công khai 18, tiến độ 20, dịch vụ trực tuyến 12, số hóa 22, hài lòng 18, thanh toán "
    "trực tuyến 10) và các công thức tiến độ, thanh toán, hài lòng được đối chiếu với dữ liệu Cổng Dịch vụ "
    "công quốc gia công bố (độ tin cậy trung bình); chưa tìm thấy văn bản thay thế Quyết định 766/QĐ-TTg.",
    "Cách chia điểm nhóm dịch vụ trực tuyến (3.1 = 4, 3.3 = 8) và nhóm số hóa (4.1 = 11, 4.2 = 11) là giả "
    "định của hệ thống.",
    "Tiến độ: \"số hồ sơ tiếp nhận\" được hiểu là hồ sơ mới tiếp nhận cộng hồ sơ kỳ trước chuyển qua, đúng "
    "hạn theo quy tắc chỉ số 2.1 của Quyết định 766.",
    "Thanh toán: A và B được hiểu như chỉ số 3.6 và 3.5 của Quyết định 766; thành phần C chưa xác định nên "
    "không được chấm.",
    "Chỉ số không tính được từ dữ liệu hồ sơ (nhóm 1, 4.3–4.5, 5.1–5.3, 6.3) không được chấm; chỉ số có "
    "mẫu số bằng 0 cũng không được chấm.",
    "score_total = 100 × tổng điểm đạt được / tổng điểm tối đa của các chỉ số được chấm (thang 0–100).",
))

SCHEMES: Final[dict[str, SchemeSpec]] = {PORTAL_2025.code: PORTAL_2025, QD766.code: QD766}


# ---------------------------------------------------------------------------------------------------- scoring


def score_index(data: IndexInputs, scheme: str = DEFAULT_SCHEME) -> dict[str, object]:
    """Score ``data`` under ``scheme``: each group with its indicators (numerator, denominator, value,
    points, formula, source), the indicators not assessed and why, and ``score_total`` on 0–100 over the
    assessed maximum. Raises ``KeyError`` for an unknown scheme."""
    spec = SCHEMES[scheme]
    groups: list[dict[str, object]] = []
    earned = assessed = 0.0
    for group in spec.groups:
        indicators = []
        group_points = group_max = 0.0
        for indicator in group.indicators:
            measure = MEASURES[indicator.measure](data)
            points = indicator.points(measure)
            if points is not None:
                group_points += points
                group_max += indicator.max_points
            indicators.append({
                "code": indicator.code, "name": indicator.name, "value": measure.value, "unit": indicator.unit,
                "numerator": measure.numerator, "denominator": measure.denominator,
                "points": points, "max_points": indicator.max_points, "threshold": indicator.threshold,
                "weight": indicator.weight, "formula": indicator.formula, "source": indicator.source,
                **dict(measure.details),
            })
        earned += group_points
        assessed += group_max
        groups.append({
            "code": group.code, "name": group.name, "max_points": group.max_points,
            "points": round2(group_points) if group_max else None,
            "assessed_max_points": group_max,
            "indicators": indicators,
            "not_assessed": [{"code": c, "name": n, "reason": r} for c, n, r in group.not_assessed],
        })
    return {
        "scheme": spec.code,
        "scheme_name": spec.name,
        "score_total": round2(100 * earned / assessed) if assessed else None,
        "points_earned": round2(earned),
        "points_assessed": assessed,
        "groups": groups,
        "assumptions": list(spec.assumptions),
    }


# ---------------------------------------------------------------------------------------------------- ranking


def competition_ranks(scores: Sequence[tuple[str, float | None]]) -> list[tuple[str, float | None, int | None]]:
    """Standard competition ranking ("1224"): ordered by score descending, ties share the best rank and the
    next rank skips (1, 1, 3); ties and unscored entries are ordered by key. Entries without a score come last
    with rank ``None``: they have nothing to be ranked on."""
    scored = sorted((s for s in scores if s[1] is not None), key=lambda s: (-(s[1] or 0.0), s[0]))
    out: list[tuple[str, float | None, int | None]] = []
    previous: float | None = None
    rank = 0
    for position, (key, score) in enumerate(scored, start=1):
        if score != previous:
            rank, previous = position, score
        out.append((key, score, rank))
    out += [(key, None, None) for key, score in sorted(s for s in scores if s[1] is None)]
    return out
