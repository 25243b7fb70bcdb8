"""The postal channel: hand-over, delivery zones, J+n levels, postage, tracking numbers, webhook signatures.

Legal basis
-----------
* Decision 45/2016/QĐ-TTg (receipt of dossiers and return of results of administrative procedures through
  public postal service):
  - Art. 7(4): a dossier sent by post is lawfully lodged when the agency's receiver and the postal staff sign
    the hand-over record (Biên bản giao nhận hồ sơ) — never at the applicant's posting date. Postal transit
    therefore never consumes the agency's resolution time; the return trip happens after the result is ready.
  - Arts. 9–10: the postal staff pick up the result at the desk and deliver it; if it cannot be delivered, it
    goes back to the agency and the applicant collects it at the one-stop desk.
  - Arts. 11–12: the applicant pays the postage, for sending and for returning.
* Circular 17/2017/TT-BTTTT Art. 7: end-to-end delivery time (thời gian toàn trình), J = pick-up date,
  n = working days: within one district-level area J+1; between districts of one province J+2; between
  special / grade-I cities J+3; other inter-provincial J+4; each doubled (J+2, J+4, J+6, J+8) when an
  appointment slip must be carried back. District-level units were abolished on 01/07/2025 (two-tier local
  government); a commune or ward now plays the part of the former district for the J+1 level.
* Resolution 202/2025/QH15: 34 provincial units from 12/06/2025 (28 provinces, 6 centrally-run cities);
  addresses written with a former province's name are mapped to the province that absorbed it.
* UPU standard S10: item identifiers ``AA123456785VN`` — two service letters (``E`` for EMS), an eight-digit
  serial, a check digit (weights 8 6 4 2 3 5 9 7, modulus 11) and the ISO country code.

Simplifications (documented, not law): the zone is derived from the text of the delivery address (the
rightmost province name in it; the agency's commune name for the J+1 level), and "special / grade-I cities"
are taken to be the six centrally-run cities. The tariff is an illustrative table modelled on
public-administration (BCCI) document rates, not Vietnam Post's official price list.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Final

from service.domain.calendar import VN_TZ, WorkingCalendar, to_legal_time
from service.domain.errors import RuleViolation

__all__ = [
    "DEFAULT_RESULT_WEIGHT_G",
    "DEFAULT_SERVICE_LEVELS",
    "SIGNATURE_PREFIX",
    "TARIFF",
    "EventKind",
    "Origin",
    "ServiceLevels",
    "ShipmentStatus",
    "Zone",
    "check_handover",
    "classify_zone",
    "commune_of",
    "event_key",
    "expected_delivery",
    "handover_record",
    "is_valid_tracking_number",
    "make_tracking_number",
    "percentage",
    "postage",
    "province_of",
    "s10_check_digit",
    "sign",
    "simulated_event_time",
    "verify_signature",
]


class Zone(StrEnum):
    """Where the item travels, relative to the agency (Circular 17/2017/TT-BTTTT Art. 7)."""

    SAME_COMMUNE = "same_commune"
    SAME_PROVINCE = "same_province"
    SPECIAL_CITIES = "special_cities"
    OTHER_PROVINCE = "other_province"


class ShipmentStatus(StrEnum):
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    FAILED = "failed"


class EventKind(StrEnum):
    """Events the carrier reports on its webhook."""

    DELIVERED = "delivered"
    FAILED = "failed"


ZONE_LABEL: Final[dict[Zone, str]] = {
    Zone.SAME_COMMUNE: "Nội xã/phường",
    Zone.SAME_PROVINCE: "Nội tỉnh",
    Zone.SPECIAL_CITIES: "Giữa các thành phố trực thuộc trung ương",
    Zone.OTHER_PROVINCE: "Liên tỉnh",
}


# ---------------------------------------------------------------- service levels (J + n)


@dataclass(frozen=True)
class ServiceLevels:
    """``n`` of the J+n end-to-end time per zone, in working days (Circular 17/2017/TT-BTTTT Art. 7)."""

    same_commune: int = 1
    same_province: int = 2
    special_cities: int = 3
    other_province: int = 4

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or not 0 <= value <= 30:
                raise ValueError(f"service level {f.name} must be a whole number of working days in 0..30")

    def days(self, zone: Zone, *, appointment_slip: bool = False) -> int:
        """Working days allowed; doubled when an appointment slip must be carried back."""
        n: int = getattr(self, Zone(zone).value)
        return 2 * n if appointment_slip else n

    @classmethod
    def from_spec(cls, spec: str | Mapping[str, int] | None) -> ServiceLevels:
        """``"same_commune=1,same_province=2,special_cities=3,other_province=4"`` (any subset), or a
        mapping."""
        if not spec:
            return cls()
        if isinstance(spec, str):
            items: dict[str, int] = {}
            for part in spec.split(","):
                if not part.strip():
                    continue
                name, sep, value = part.partition("=")
                if not sep:
                    raise ValueError(f"service level '{part.strip()}' is not name=days")
                items[name.strip()] = int(value)
            spec = items
        unknown = set(spec) - {z.value for z in Zone}
        if unknown:
            raise ValueError(f"unknown postal zones: {', '.join(sorted(unknown))}")
        return cls(**dict(spec))


DEFAULT_SERVICE_LEVELS: Final = ServiceLevels()

DAY_END: Final = time(23, 59, 59)
"""A J+n level is met by a delivery at any time of day J+n: ``expected_by`` is that day's end."""


def add_working_days(calendar: WorkingCalendar, start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (``start`` itself when ``n`` is 0)."""
    day = start
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            counted += 1
    return day


def expected_delivery(
    calendar: WorkingCalendar, picked_up_at: datetime, zone: Zone, *, appointment_slip: bool = False,
    levels: ServiceLevels = DEFAULT_SERVICE_LEVELS,
) -> datetime:
    """The latest instant that still meets the J+n level: the end of the n-th working day after J, the local
    date of the pick-up. J itself need not be a working day (a Saturday pick-up counts from Monday)."""
    j = to_legal_time(picked_up_at).date()
    due_day = add_working_days(calendar, j, levels.days(zone, appointment_slip=appointment_slip))
    return datetime.combine(due_day, DAY_END, tzinfo=VN_TZ)


# ---------------------------------------------------------------- postage


@dataclass(frozen=True)
class Rate:
    """VND, VAT included, by weight band: up to 100 g, 250 g, 500 g, 1 kg, then each further 500 g."""

    up_to_100g: int
    up_to_250g: int
    up_to_500g: int
    up_to_1kg: int
    per_extra_500g: int


TARIFF: Final[dict[Zone, Rate]] = {
    Zone.SAME_COMMUNE: Rate(15_000, 18_000, 22_000, 28_000, 4_000),
    Zone.SAME_PROVINCE: Rate(18_000, 22_000, 27_000, 34_000, 5_000),
    Zone.SPECIAL_CITIES: Rate(25_000, 30_000, 38_000, 50_000, 9_000),
    Zone.OTHER_PROVINCE: Rate(28_000, 34_000, 43_000, 58_000, 11_000),
}
"""Illustrative document rates for results of administrative procedures (BCCI), modelled on public EMS
document prices; not Vietnam Post's official list."""

DEFAULT_RESULT_WEIGHT_G: Final = 100
"""A result (a few signed pages in an envelope)."""


def postage(zone: Zone, weight_g: int = DEFAULT_RESULT_WEIGHT_G, *, appointment_slip: bool = False) -> int:
    """The postage charged to the applicant (Decision 45/2016/QĐ-TTg Art. 12), in VND. An appointment slip
    carried back is a second letter of the lightest band in the same zone."""
    if weight_g <= 0:
        raise RuleViolation("Khối lượng bưu gửi phải lớn hơn 0 gam.", code="POSTAL_WEIGHT_INVALID")
    rate = TARIFF[Zone(zone)]
    if weight_g <= 100:
        amount = rate.up_to_100g
    elif weight_g <= 250:
        amount = rate.up_to_250g
    elif weight_g <= 500:
        amount = rate.up_to_500g
    elif weight_g <= 1000:
        amount = rate.up_to_1kg
    else:
        extra_bands = -(-(weight_g - 1000) // 500)
        amount = rate.up_to_1kg + extra_bands * rate.per_extra_500g
    return amount + (rate.up_to_100g if appointment_slip else 0)


# ---------------------------------------------------------------- tracking numbers (UPU S10)

_S10_WEIGHTS: Final = (8, 6, 4, 2, 3, 5, 9, 7)
_S10_RE: Final = re.compile(r"^([A-Z]{2})([0-9]{8})([0-9])([A-Z]{2})$")
EMS_SERVICE: Final = "EB"
COUNTRY: Final = "VN"


def s10_check_digit(serial: str) -> int:
    """UPU S10 check digit of an eight-digit serial: weights 8 6 4 2 3 5 9 7, ``11 - sum mod 11``, where
    10 → 0 and 11 → 5."""
    if len(serial) != 8 or not serial.isascii() or not serial.isdigit():
        raise ValueError("an S10 serial is exactly eight digits")
    check = 11 - sum(int(d) * w for d, w in zip(serial, _S10_WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(check, check)


def make_tracking_number(serial: int, *, service: str = EMS_SERVICE, country: str = COUNTRY) -> str:
    """``EB`` + 8-digit serial + check digit + ``VN``, e.g. ``EB123456785VN``."""
    if not 0 <= serial < 100_000_000:
        raise ValueError("serial out of range")
    digits = f"{serial:08d}"
    return f"{service}{digits}{s10_check_digit(digits)}{country}"


def is_valid_tracking_number(text: str) -> bool:
    match = _S10_RE.match(text)
    return bool(match) and s10_check_digit(match.group(2)) == int(match.group(3))  # type: ignore[union-attr]


# ---------------------------------------------------------------- zones from addresses


def fold(text: str) -> str:
    """Lower case, no diacritics, words separated by single spaces and padded with one space each side, so
    that ``" quang ninh "`` is found in ``fold("Tiên Yên, Quảng Ninh")``, whatever the accents or
    punctuation."""
    text = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " " + " ".join(re.split(r"[^0-9a-z]+", text)).strip() + " "


CENTRAL_CITIES: Final = frozenset(
    {"Hà Nội", "Thành phố Hồ Chí Minh", "Hải Phòng", "Đà Nẵng", "Cần Thơ", "Huế"})

#: The 34 provincial units (Resolution 202/2025/QH15), with the former provinces each absorbed and common
#: spellings.
PROVINCES: Final[dict[str, tuple[str, ...]]] = {
    "Hà Nội": ("Hà Nội", "Ha Noi", "HN"),
    "Thành phố Hồ Chí Minh": ("Hồ Chí Minh", "TP HCM", "TPHCM", "HCM", "Sài Gòn", "Bình Dương",
                              "Bà Rịa Vũng Tàu", "Bà Rịa", "Vũng Tàu"),
    "Hải Phòng": ("Hải Phòng", "Hải Dương"),
    "Đà Nẵng": ("Đà Nẵng", "Quảng Nam"),
    "Cần Thơ": ("Cần Thơ", "Sóc Trăng", "Hậu Giang"),
    "Huế": ("Huế", "Thừa Thiên Huế"),
    "Lai Châu": ("Lai Châu",),
    "Điện Biên": ("Điện Biên",),
    "Sơn La": ("Sơn La",),
    "Lạng Sơn": ("Lạng Sơn",),
    "Quảng Ninh": ("Quảng Ninh",),
    "Thanh Hóa": ("Thanh Hóa",),
    "Nghệ An": ("Nghệ An",),
    "Hà Tĩnh": ("Hà Tĩnh",),
    "Cao Bằng": ("Cao Bằng",),
    "Tuyên Quang": ("Tuyên Quang", "Hà Giang"),
    "Lào Cai": ("Lào Cai", "Yên Bái"),
    "Thái Nguyên": ("Thái Nguyên", "Bắc Kạn", "Bắc Cạn"),
    "Phú Thọ": ("Phú Thọ", "Vĩnh Phúc", "Hòa Bình"),
    "Bắc Ninh": ("Bắc Ninh", "Bắc Giang"),
    "Hưng Yên": ("Hưng Yên", "Thái Bình"),
    "Ninh Bình": ("Ninh Bình", "Hà Nam", "Nam Định"),
    "Quảng Trị": ("Quảng Trị", "Quảng Bình"),
    "Quảng Ngãi": ("Quảng Ngãi", "Kon Tum"),
    "Gia Lai": ("Gia Lai", "Bình Định"),
    "Khánh Hòa": ("Khánh Hòa", "Ninh Thuận"),
    "Lâm Đồng": ("Lâm Đồng", "Đắk Nông", "Đắc Nông", "Bình Thuận"),
    "Đắk Lắk": ("Đắk Lắk", "Đắc Lắc", "Daklak", "Phú Yên"),
    "Đồng Nai": ("Đồng Nai", "Bình Phước"),
    "Tây Ninh": ("Tây Ninh", "Long An"),
    "Vĩnh Long": ("Vĩnh Long", "Bến Tre", "Trà Vinh"),
    "Đồng Tháp": ("Đồng Tháp", "Tiền Giang"),
    "Cà Mau": ("Cà Mau", "Bạc Liêu"),
    "An Giang": ("An Giang", "Kiên Giang"),
}

_ALIASES: Final[tuple[tuple[str, str], ...]] = tuple(
    (fold(alias), province) for province, aliases in PROVINCES.items() for alias in aliases
)


def province_of(text: str | None) -> str | None:
    """The province named in an address (its current name), or ``None``. Addresses end with the province, so
    the rightmost mention wins ("12 phố Huế, Hai Bà Trưng, Hà Nội" is in Hà Nội); on a tie, the longest
    name."""
    if not text:
        return None
    folded = fold(text)
    best: tuple[int, int, str] | None = None
    for alias, province in _ALIASES:
        at = folded.rfind(alias)
        if at >= 0:
            end = at + len(alias)
            candidate = (end, len(alias), province)
            if best is None or candidate[:2] > best[:2]:
                best = candidate
    return best[2] if best else None


_COMMUNE_RE: Final = re.compile(r" (?:xa|phuong|thi tran|dac khu) (.+?) (?:(?:tinh|thanh pho|tp) .*)?$")


def commune_of(agency_name: str | None) -> str | None:
    """The commune / ward named in an agency's name, folded: "Ủy ban nhân dân xã Tiên Yên" →
    ``" tien yen "``."""
    if not agency_name:
        return None
    match = _COMMUNE_RE.search(fold(agency_name))
    return f" {match.group(1).strip()} " if match else None


@dataclass(frozen=True)
class Origin:
    """Where the agency is: its province (current name) and, for a commune-level agency, its commune
    (folded)."""

    province: str | None
    commune: str | None = None

    @classmethod
    def from_agency_names(cls, names: Iterable[str]) -> Origin:
        """``names``: the agency's own name first, then its parents'. The first province found is the
        agency's."""
        names = list(names)
        province = next((p for p in map(province_of, names) if p), None)
        return cls(province=province, commune=commune_of(names[0]) if names else None)


def classify_zone(address: str, origin: Origin) -> Zone:
    """The zone of a delivery address seen from the agency. An address naming another province is
    inter-provincial; one naming the agency's commune (and no other province) stays within the commune; one
    naming only the agency's province is within the province. An address naming no known province — or an
    agency whose province is unknown — is taken as inter-provincial, the level most favourable to the carrier;
    send ``delivery_zone`` to override."""
    destination = province_of(address)
    if origin.province is None:
        return Zone.OTHER_PROVINCE
    if destination is None or destination == origin.province:
        if origin.commune and origin.commune in fold(address):
            return Zone.SAME_COMMUNE
        if destination == origin.province:
            return Zone.SAME_PROVINCE
        return Zone.OTHER_PROVINCE
    if origin.province in CENTRAL_CITIES and destination in CENTRAL_CITIES:
        return Zone.SPECIAL_CITIES
    return Zone.OTHER_PROVINCE


# ---------------------------------------------------------------- hand-over (Biên bản giao nhận)


def check_handover(channel: str, posted_at: datetime | None, handed_over_at: datetime) -> None:
    """A hand-over record belongs to a postal dossier, and the applicant cannot have posted it after the
    hand-over. The posting date is kept for the record only: the agency's clock starts at the hand-over
    (Decision 45/2016/QĐ-TTg Art. 7(4))."""
    if channel != "postal":
        raise RuleViolation("Biên bản giao nhận chỉ áp dụng cho hồ sơ nộp qua dịch vụ bưu chính công ích.",
                            code="POSTAL_HANDOVER_NOT_POSTAL")
    if posted_at is not None and posted_at > handed_over_at:
        raise RuleViolation("Ngày gửi hồ sơ tại bưu điện không thể sau thời điểm ký Biên bản giao nhận.",
                            code="POSTED_AFTER_HANDOVER")


# ---------------------------------------------------------------- the carrier's webhook

SIGNATURE_PREFIX: Final = "sha256="


def sign(secret: str, body: bytes) -> str:
    """The ``X-Postal-Signature`` header value: ``sha256=<lowercase hex HMAC-SHA256 of the raw body>``."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """Constant-time check of the header against the raw body. An empty secret verifies nothing."""
    if not secret or not header:
        return False
    provided = header.strip()
    if not provided.lower().startswith(SIGNATURE_PREFIX):
        return False
    expected = sign(secret, body).encode()
    digest = provided[len(SIGNATURE_PREFIX):].lower().encode("utf-8", "replace")
    return hmac.compare_digest(expected, SIGNATURE_PREFIX.encode() + digest)


def event_key(tracking_number: str, event: str, at: datetime) -> str:
    """The identity of a carrier event: the same (tracking number, event, instant) is the same event, whatever
    the offset it was written with."""
    instant = at.astimezone(VN_TZ).isoformat(timespec="microseconds")
    return hashlib.sha256(f"{tracking_number}|{event}|{instant}".encode()).hexdigest()


# ---------------------------------------------------------------- the simulated carrier

DELIVERY_HOURS: Final = (time(8, 0), time(17, 0))


def simulated_event_time(
    calendar: WorkingCalendar, dispatched_at: datetime, expected_by: datetime, now: datetime,
    rng: random.Random, *, late: bool = False,
) -> datetime:
    """When a simulated carrier delivers (or fails to deliver) an item that ``expected_by <= now``.

    On time: a working day after the pick-up day up to the expected day, between 08:00 and 17:00. Late: an
    instant after ``expected_by`` up to ``now`` (on time when there is no such instant)."""
    if late and now > expected_by:
        span = (now - expected_by).total_seconds()
        return to_legal_time(min(now, expected_by + timedelta(seconds=max(1.0, rng.uniform(0.0, span)))))
    j = to_legal_time(dispatched_at).date()
    last = to_legal_time(expected_by).date()
    span_days = (j + timedelta(days=i) for i in range(1, (last - j).days + 1))
    days = [d for d in span_days if calendar.is_working_day(d)]
    day = rng.choice(days) if days else last
    start, end = (datetime.combine(day, t, tzinfo=VN_TZ) for t in DELIVERY_HOURS)
    moment = start + timedelta(seconds=int(rng.uniform(0, (end - start).total_seconds())))
    return min(max(moment, to_legal_time(dispatched_at) + timedelta(minutes=1)), to_legal_time(expected_by))


def percentage(numerator: int, denominator: int) -> float | None:
    """``100·n/d`` rounded to 2 decimals; ``None`` when there is nothing to measure."""
    return round(100 * numerator / denominator, 2) if denominator else None


def handover_record(channel: str, receipt_number: str, posted_at: datetime | None, *,
                    handed_over_at: datetime) -> dict[str, str | None]:
    """The hand-over record as stored on the control slip (JSON): checked by :func:`check_handover`."""
    check_handover(channel, posted_at, handed_over_at)
    return {
        "form": "Biên bản giao nhận hồ sơ (Quyết định 45/2016/QĐ-TTg Điều 7)",
        "receipt_number": receipt_number,
        "posted_at": to_legal_time(posted_at).isoformat() if posted_at else None,
        "handed_over_at": to_legal_time(handed_over_at).isoformat(),
    }
