"""The holiday baseline (``holidays`` package) and the known corrections, against the official 2024–2026
schedules (domain-vn.md §3.3, ecosystem.md §2)."""

from __future__ import annotations

import unicodedata
from datetime import date

import holidays
import pytest

from service.domain.holidays_vn import (
    CULTURE_DAY_NAME,
    HOLIDAY_NAMES,
    KNOWN_CORRECTIONS,
    CalendarOverride,
    baseline_holidays,
    canonical_name,
)

# Snapshot of the baseline for 2024–2026. A `holidays` upgrade that moves, adds or drops a date fails here:
# check the new output against the official schedule before updating this list.
BASELINE_2024_2026: dict[date, str] = {
    date(y, m, d): name
    for y, m, d, name in [
        (2024, 1, 1, "Tết Dương lịch"),
        (2024, 2, 8, "Tết Nguyên Đán"),
        (2024, 2, 9, "Tết Nguyên Đán"),
        (2024, 2, 10, "Tết Nguyên Đán"),  # Sat
        (2024, 2, 11, "Tết Nguyên Đán"),  # Sun
        (2024, 2, 12, "Tết Nguyên Đán"),
        (2024, 2, 13, "Tết Nguyên Đán"),
        (2024, 2, 14, "Tết Nguyên Đán"),
        (2024, 4, 18, "Giỗ Tổ Hùng Vương"),
        (2024, 4, 29, "Nghỉ hoán đổi"),  # ↔ Sat 04/05/2024 (2450/VPCP-KGVX)
        (2024, 4, 30, "Ngày Chiến thắng"),
        (2024, 5, 1, "Ngày Quốc tế Lao động"),
        (2024, 9, 2, "Quốc khánh"),
        (2024, 9, 3, "Quốc khánh"),
        (2025, 1, 1, "Tết Dương lịch"),
        (2025, 1, 27, "Tết Nguyên Đán"),
        (2025, 1, 28, "Tết Nguyên Đán"),
        (2025, 1, 29, "Tết Nguyên Đán"),
        (2025, 1, 30, "Tết Nguyên Đán"),
        (2025, 1, 31, "Tết Nguyên Đán"),
        (2025, 2, 1, "Tết Nguyên Đán"),  # Sat
        (2025, 4, 7, "Giỗ Tổ Hùng Vương"),
        (2025, 4, 30, "Ngày Chiến thắng"),
        (2025, 5, 1, "Ngày Quốc tế Lao động"),
        (2025, 5, 2, "Nghỉ hoán đổi"),  # ↔ Sat 26/04/2025
        (2025, 9, 1, "Quốc khánh"),
        (2025, 9, 2, "Quốc khánh"),
        (2026, 1, 1, "Tết Dương lịch"),
        (2026, 2, 16, "Tết Nguyên Đán"),
        (2026, 2, 17, "Tết Nguyên Đán"),
        (2026, 2, 18, "Tết Nguyên Đán"),
        (2026, 2, 19, "Tết Nguyên Đán"),
        (2026, 2, 20, "Tết Nguyên Đán"),
        (2026, 4, 26, "Giỗ Tổ Hùng Vương"),  # Sun
        (2026, 4, 27, "Nghỉ bù"),  # Mon, observed (Labor Code Art. 111(3))
        (2026, 4, 30, "Ngày Chiến thắng"),
        (2026, 5, 1, "Ngày Quốc tế Lao động"),
        (2026, 8, 31, "Nghỉ hoán đổi"),  # ↔ Sat 22/08/2026
        (2026, 9, 1, "Quốc khánh"),
        (2026, 9, 2, "Quốc khánh"),
    ]
}


def test_baseline_snapshot_2024_2026() -> None:
    assert dict(baseline_holidays(range(2024, 2027))) == BASELINE_2024_2026


def test_package_version_is_the_pinned_one() -> None:
    assert holidays.__version__ == "0.108"


def test_package_still_lists_culture_day_which_the_baseline_leaves_to_an_override() -> None:
    raw = holidays.country_holidays("VN", years=2026, categories=("public",), language="vi")
    assert raw.get(date(2026, 11, 24)) == "Ngày Văn hóa Việt Nam"
    assert date(2026, 11, 24) not in baseline_holidays(range(2026, 2027))


@pytest.mark.parametrize("year", range(2026, 2036))
def test_culture_day_and_its_observed_day_are_never_in_the_baseline(year: int) -> None:
    names = set(baseline_holidays(range(year, year + 1)).values())
    assert CULTURE_DAY_NAME not in names
    assert date(year, 11, 24) not in baseline_holidays(range(year, year + 1))


def test_observed_culture_day_2029_is_excluded_too() -> None:
    # 24/11/2029 is a Saturday: the package derives "Ngày Văn hóa Việt Nam (nghỉ bù)" on Monday 26/11.
    assert date(2029, 11, 26) not in baseline_holidays(range(2029, 2030))


def test_every_name_is_canonical_nfc_vietnamese() -> None:
    for name in baseline_holidays(range(2000, 2101)).values():
        assert name in HOLIDAY_NAMES
        assert unicodedata.is_normalized("NFC", name)
    for override in KNOWN_CORRECTIONS:
        assert unicodedata.is_normalized("NFC", override.name)


def test_names_have_their_diacritics() -> None:
    assert {
        "Tết Dương lịch",
        "Tết Nguyên Đán",
        "Giỗ Tổ Hùng Vương",
        "Ngày Chiến thắng",
        "Ngày Quốc tế Lao động",
        "Quốc khánh",
        "Nghỉ bù",
        "Nghỉ hoán đổi",
        "Ngày Văn hóa Việt Nam",
    } == HOLIDAY_NAMES


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("29 Tết", "Tết Nguyên Đán"),
        ("Giao thừa Tết Nguyên Đán", "Tết Nguyên Đán"),
        ("Mùng năm Tết Nguyên Đán", "Tết Nguyên Đán"),
        ("Tết Dương lịch", "Tết Dương lịch"),
        ("Tết Dương lịch (nghỉ bù)", "Nghỉ bù"),
        ("Ngày Giỗ Tổ Hùng Vương", "Giỗ Tổ Hùng Vương"),
        ("Ngày Giỗ Tổ Hùng Vương (nghỉ bù)", "Nghỉ bù"),
        ("Ngày nghỉ (thay cho ngày 22/08/2026)", "Nghỉ hoán đổi"),
        ("Ngày Chiến thắng", "Ngày Chiến thắng"),
        ("Ngày Quốc tế Lao động", "Ngày Quốc tế Lao động"),
        ("Quốc khánh", "Quốc khánh"),
        ("Ngày Văn hóa Việt Nam", "Ngày Văn hóa Việt Nam"),
        ("Something new", "Something new"),
    ],
)
def test_canonical_name(label: str, expected: str) -> None:
    assert canonical_name(label) == expected


def test_known_corrections() -> None:
    by_day = {o.day: o for o in KNOWN_CORRECTIONS}
    assert len(by_day) == len(KNOWN_CORRECTIONS) == 6
    assert {d for d, o in by_day.items() if o.kind == "workday"} == {
        date(2024, 5, 4),
        date(2025, 4, 26),
        date(2026, 1, 10),
        date(2026, 8, 22),
    }
    assert all(
        o.name == "Ngày làm bù" and o.day.weekday() == 5 for o in by_day.values() if o.kind == "workday"
    )
    assert by_day[date(2026, 1, 2)].kind == "holiday"
    assert "12729/VPCP-KGVX" in (by_day[date(2026, 1, 2)].legal_basis or "")
    assert "12729/VPCP-KGVX" in (by_day[date(2026, 1, 10)].legal_basis or "")
    assert "2450/VPCP-KGVX" in (by_day[date(2024, 5, 4)].legal_basis or "")
    culture = by_day[date(2026, 11, 24)]
    assert (culture.kind, culture.name) == ("holiday", "Ngày Văn hóa Việt Nam")
    assert "80-NQ/TW" in (culture.legal_basis or "")
    assert all(o.legal_basis for o in KNOWN_CORRECTIONS)


def test_each_make_up_saturday_pays_back_a_swapped_weekday_of_the_baseline() -> None:
    base = baseline_holidays(range(2024, 2027))
    swapped = {d for d, name in base.items() if name == "Nghỉ hoán đổi"}
    assert swapped == {date(2024, 4, 29), date(2025, 5, 2), date(2026, 8, 31)}
    # 02/01/2026 is the fourth swapped weekday: it comes from the override, paid back on 10/01/2026.
    assert date(2026, 1, 2) not in base


def test_override_validation() -> None:
    with pytest.raises(ValueError):
        CalendarOverride(date(2026, 1, 2), "vacation", "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        CalendarOverride(date(2026, 1, 2), "holiday", "  ")
    from datetime import datetime

    with pytest.raises(TypeError):
        CalendarOverride(datetime(2026, 1, 2), "holiday", "x")  # noqa: DTZ001
    override = CalendarOverride(date(2026, 1, 2), "holiday", "Nghỉ hoán đổi")
    assert override.legal_basis is None
    with pytest.raises(AttributeError):
        override.name = "other"  # type: ignore[misc]


def test_baseline_range_handling() -> None:
    assert baseline_holidays([]) == {}
    with pytest.raises(ValueError):
        baseline_holidays([2024, 2026])
    assert baseline_holidays([2025, 2024]) == baseline_holidays(range(2024, 2026))
    with pytest.raises(TypeError):
        baseline_holidays(range(2024, 2025))[date(2024, 1, 1)] = "x"  # type: ignore[index]
