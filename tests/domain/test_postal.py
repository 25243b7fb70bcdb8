"""Pure rules of the postal channel: S10 tracking numbers, J+n service levels, zones, postage, signatures."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.calendar import VN_TZ, default_calendar
from service.domain.errors import RuleViolation
from service.domain.postal import (
    DEFAULT_SERVICE_LEVELS,
    Origin,
    ServiceLevels,
    Zone,
    check_handover,
    classify_zone,
    commune_of,
    event_key,
    expected_delivery,
    handover_record,
    is_valid_tracking_number,
    make_tracking_number,
    percentage,
    postage,
    province_of,
    s10_check_digit,
    sign,
    simulated_event_time,
    verify_signature,
)

CAL = default_calendar()
SECRET = "webhook-secret"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# ---------------------------------------------------------------- tracking numbers (UPU S10)


def test_s10_check_digit_matches_the_upu_example() -> None:
    assert s10_check_digit("47312482") == 9  # RB 47312482 9 GB, the standard's worked example
    assert is_valid_tracking_number("RB473124829GB")
    assert make_tracking_number(12_345_678) == "EB123456785VN"


def test_s10_check_digit_special_cases() -> None:
    assert s10_check_digit("00000008") == 0  # 11 - 1 = 10 → 0
    assert s10_check_digit("00000000") == 5  # 11 - 0 = 11 → 5


@given(st.integers(min_value=0, max_value=99_999_999))
def test_every_generated_tracking_number_validates(serial: int) -> None:
    number = make_tracking_number(serial)
    assert len(number) == 13 and is_valid_tracking_number(number)
    wrong = (int(number[10]) + 1) % 10
    assert not is_valid_tracking_number(number[:10] + str(wrong) + number[11:])


@pytest.mark.parametrize("text", ["EB12345678VN", "eb123456785vn", "EB123456784VN", "E1123456785VN", ""])
def test_malformed_tracking_numbers_are_invalid(text: str) -> None:
    assert not is_valid_tracking_number(text)


def test_a_serial_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError):
        make_tracking_number(100_000_000)
    with pytest.raises(ValueError):
        s10_check_digit("1234567")


# ---------------------------------------------------------------- J + n


def test_default_levels_are_circular_17_2017() -> None:
    assert [DEFAULT_SERVICE_LEVELS.days(z) for z in Zone] == [1, 2, 3, 4]
    assert [DEFAULT_SERVICE_LEVELS.days(z, appointment_slip=True) for z in Zone] == [2, 4, 6, 8]


@pytest.mark.parametrize(("picked_up", "zone", "slip", "expected"), [
    ("2026-03-02T08:00:00+07:00", Zone.SAME_COMMUNE, False, "2026-03-03"),  # Mon → Tue
    ("2026-03-06T16:00:00+07:00", Zone.SAME_COMMUNE, False, "2026-03-09"),  # Fri → Mon
    ("2026-03-07T10:00:00+07:00", Zone.SAME_PROVINCE, False, "2026-03-10"),  # Sat pick-up: Mon, Tue
    ("2026-03-02T08:00:00+07:00", Zone.OTHER_PROVINCE, True, "2026-03-12"),  # J+8
    ("2026-03-02T08:00:00+07:00", Zone.SPECIAL_CITIES, False, "2026-03-05"),
    ("2026-02-12T10:00:00+07:00", Zone.SAME_PROVINCE, False, "2026-02-23"),  # across Tết 14–22/02
    ("2026-08-21T10:00:00+07:00", Zone.SAME_COMMUNE, False, "2026-08-22"),  # make-up Saturday
    ("2026-08-28T10:00:00+07:00", Zone.SAME_COMMUNE, False, "2026-09-03"),  # Quốc khánh 29/08–02/09
    ("2026-03-01T23:30:00+00:00", Zone.SAME_COMMUNE, False, "2026-03-03"),  # J is the local date (Mon)
])
def test_expected_delivery_is_the_end_of_the_nth_working_day(picked_up: str, zone: Zone, slip: bool,
                                                              expected: str) -> None:
    due = expected_delivery(CAL, at(picked_up), zone, appointment_slip=slip)
    assert due == datetime.combine(date.fromisoformat(expected), datetime.max.time().replace(microsecond=0),
                                   tzinfo=VN_TZ)
    assert due.utcoffset() == timedelta(hours=7)


def test_levels_are_configurable() -> None:
    levels = ServiceLevels.from_spec("same_commune=2, other_province=5")
    assert (levels.same_commune, levels.same_province, levels.other_province) == (2, 2, 5)
    assert ServiceLevels.from_spec({"special_cities": 4}).special_cities == 4
    assert ServiceLevels.from_spec("") == DEFAULT_SERVICE_LEVELS
    due = expected_delivery(CAL, at("2026-03-02T08:00:00+07:00"), Zone.SAME_COMMUNE, levels=levels)
    assert due.date() == date(2026, 3, 4)


@pytest.mark.parametrize("spec", ["same_commune", "same_commune=x", "moon=3", "same_commune=-1",
                                  "other_province=31"])
def test_bad_level_specs_are_refused(spec: str) -> None:
    with pytest.raises(ValueError):
        ServiceLevels.from_spec(spec)


# ---------------------------------------------------------------- zones

QUANG_NINH_COMMUNE = Origin.from_agency_names(
    ["Ủy ban nhân dân xã Tiên Yên", "Ủy ban nhân dân tỉnh Quảng Ninh"])
HANOI_WARD = Origin.from_agency_names(["UBND phường Hoàn Kiếm, thành phố Hà Nội"])


def test_origin_is_read_from_the_agency_and_its_parents() -> None:
    assert (QUANG_NINH_COMMUNE.province, QUANG_NINH_COMMUNE.commune) == ("Quảng Ninh", " tien yen ")
    assert (HANOI_WARD.province, HANOI_WARD.commune) == ("Hà Nội", " hoan kiem ")
    assert Origin.from_agency_names(["Sở Tư pháp tỉnh Đồng Nai"]) == Origin(province="Đồng Nai", commune=None)
    assert Origin.from_agency_names([]) == Origin(province=None)


@pytest.mark.parametrize(("address", "zone"), [
    ("Thôn Đông Hải, xã Tiên Yên, tỉnh Quảng Ninh", Zone.SAME_COMMUNE),
    ("thon dong hai, xa tien yen", Zone.SAME_COMMUNE),  # no accents, no province
    ("Số 8 Trần Hưng Đạo, phường Hạ Long, tỉnh Quảng Ninh", Zone.SAME_PROVINCE),
    ("Số 12 phố Huế, phường Hai Bà Trưng, Hà Nội", Zone.OTHER_PROVINCE),
    ("Xã Tiên Yên, huyện Tiên Yên cũ, tỉnh Lạng Sơn", Zone.OTHER_PROVINCE),  # same name, other province
    ("Không rõ địa chỉ", Zone.OTHER_PROVINCE),
])
def test_zone_from_a_commune_agency(address: str, zone: Zone) -> None:
    assert classify_zone(address, QUANG_NINH_COMMUNE) is zone


@pytest.mark.parametrize(("address", "zone"), [
    ("25 Lý Thường Kiệt, phường Hoàn Kiếm, Hà Nội", Zone.SAME_COMMUNE),
    ("Số 1 đường Huế, phường Đống Đa, TP Hà Nội", Zone.SAME_PROVINCE),
    # The street "Hải Phòng" is not the city: the rightmost province name wins.
    ("123 Hải Phòng, phường Thạch Thang, thành phố Đà Nẵng", Zone.SPECIAL_CITIES),
    ("45 Lê Lợi, phường Bến Thành, TP.HCM", Zone.SPECIAL_CITIES),
    ("Khu phố 2, phường Dĩ An, tỉnh Bình Dương", Zone.SPECIAL_CITIES),  # Bình Dương → TP Hồ Chí Minh (2025)
    ("Ấp 3, xã Tân Thạnh, tỉnh Long An", Zone.OTHER_PROVINCE),
])
def test_zone_from_a_city_ward(address: str, zone: Zone) -> None:
    assert classify_zone(address, HANOI_WARD) is zone


@pytest.mark.parametrize(("text", "province"), [
    ("Thủ Dầu Một, Bình Dương", "Thành phố Hồ Chí Minh"),
    ("Bà Rịa - Vũng Tàu", "Thành phố Hồ Chí Minh"),
    ("TP. Thái Bình, tỉnh Thái Bình", "Hưng Yên"),
    ("Buôn Ma Thuột, Dak Lak", "Đắk Lắk"),
    ("Hoà Bình", "Phú Thọ"),
    ("Thừa Thiên Huế", "Huế"),
    ("tinh Quang Nam", "Đà Nẵng"),
    ("Kiên Giang", "An Giang"),
    ("", None),
    (None, None),
])
def test_former_provinces_map_to_the_province_that_absorbed_them(text: str | None,
                                                                  province: str | None) -> None:
    assert province_of(text) == province


def test_commune_of_an_agency_name() -> None:
    assert commune_of("Ủy ban nhân dân phường Hồng Hà, tỉnh Quảng Ninh") == " hong ha "
    assert commune_of("UBND thị trấn Tiên Yên") == " tien yen "
    assert commune_of("Ủy ban nhân dân tỉnh Quảng Ninh") is None


def test_a_province_agency_has_no_commune_level() -> None:
    origin = Origin.from_agency_names(["Ủy ban nhân dân tỉnh Quảng Ninh"])
    assert classify_zone("xã Tiên Yên, tỉnh Quảng Ninh", origin) is Zone.SAME_PROVINCE
    assert classify_zone("anywhere", Origin(province=None)) is Zone.OTHER_PROVINCE


# ---------------------------------------------------------------- postage


@pytest.mark.parametrize(("zone", "weight", "amount"), [
    (Zone.SAME_COMMUNE, 100, 15_000),
    (Zone.SAME_COMMUNE, 101, 18_000),
    (Zone.SAME_PROVINCE, 250, 22_000),
    (Zone.SPECIAL_CITIES, 500, 38_000),
    (Zone.OTHER_PROVINCE, 1000, 58_000),
    (Zone.OTHER_PROVINCE, 1001, 69_000),
    (Zone.OTHER_PROVINCE, 2000, 80_000),
])
def test_postage_by_zone_and_weight(zone: Zone, weight: int, amount: int) -> None:
    assert postage(zone, weight) == amount


def test_an_appointment_slip_is_a_second_letter() -> None:
    assert postage(Zone.SAME_PROVINCE, appointment_slip=True) == 18_000 + 18_000


def test_postage_increases_with_distance() -> None:
    amounts = [postage(zone) for zone in Zone]
    assert amounts == sorted(amounts)
    with pytest.raises(RuleViolation):
        postage(Zone.SAME_COMMUNE, 0)


# ---------------------------------------------------------------- hand-over


def test_handover_record() -> None:
    record = handover_record("postal", "BBGN-1", at("2026-03-01T09:00:00+00:00"),
                             handed_over_at=at("2026-03-02T08:00:00+07:00"))
    assert record["posted_at"] == "2026-03-01T16:00:00+07:00"
    assert record["handed_over_at"] == "2026-03-02T08:00:00+07:00"
    assert record["receipt_number"] == "BBGN-1"
    with pytest.raises(RuleViolation) as not_postal:
        check_handover("counter", None, at("2026-03-02T08:00:00+07:00"))
    assert not_postal.value.code == "POSTAL_HANDOVER_NOT_POSTAL"
    with pytest.raises(RuleViolation) as later:
        check_handover("postal", at("2026-03-02T08:00:01+07:00"), at("2026-03-02T08:00:00+07:00"))
    assert later.value.code == "POSTED_AFTER_HANDOVER"
    check_handover("postal", at("2026-03-02T08:00:00+07:00"), at("2026-03-02T08:00:00+07:00"))


# ---------------------------------------------------------------- signatures and event identity


def test_signature_verification() -> None:
    body = b'{"tracking_number":"EB123456785VN","event":"delivered","at":"2026-03-02T10:00:00+07:00"}'
    header = sign(SECRET, body)
    assert header.startswith("sha256=") and len(header) == 7 + 64 and header == header.lower()
    assert verify_signature(SECRET, body, header)
    assert verify_signature(SECRET, body, "SHA256=" + header[7:].upper())
    assert verify_signature(SECRET, body, f"  {header} ")
    assert not verify_signature(SECRET, body + b" ", header)
    assert not verify_signature("other", body, header)
    assert not verify_signature(SECRET, body, None)
    assert not verify_signature(SECRET, body, "")
    assert not verify_signature(SECRET, body, header[7:])
    assert not verify_signature(SECRET, body, "sha256=é" + header[8:])
    assert not verify_signature("", body, sign("", body))  # no secret, no trust


def test_event_identity_ignores_the_offset_it_was_written_with() -> None:
    local = event_key("EB123456785VN", "delivered", at("2026-03-02T10:00:00+07:00"))
    assert local == event_key("EB123456785VN", "delivered", at("2026-03-02T03:00:00+00:00"))
    assert local != event_key("EB123456785VN", "failed", at("2026-03-02T10:00:00+07:00"))
    assert local != event_key("EB123456785VN", "delivered", at("2026-03-02T10:00:01+07:00"))
    assert len(local) == 64 and local == local.lower()


# ---------------------------------------------------------------- the simulated carrier


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32), zone=st.sampled_from(list(Zone)),
       offset_hours=st.integers(min_value=0, max_value=24 * 60),
       slack_hours=st.integers(min_value=0, max_value=200), late=st.booleans())
def test_simulated_events_fall_within_or_after_the_level(seed: int, zone: Zone, offset_hours: int,
                                                         slack_hours: int, late: bool) -> None:
    dispatched_at = at("2026-01-05T09:30:00+07:00") + timedelta(hours=offset_hours)
    expected_by = expected_delivery(CAL, dispatched_at, zone)
    now = expected_by + timedelta(hours=slack_hours)
    moment = simulated_event_time(CAL, dispatched_at, expected_by, now, random.Random(seed), late=late)
    assert moment.utcoffset() == timedelta(hours=7)
    if late and now > expected_by:
        assert expected_by < moment <= now
    else:
        assert dispatched_at < moment <= expected_by
        assert CAL.is_working_day(moment.date())


def test_percentage() -> None:
    assert percentage(1, 3) == 33.33
    assert percentage(2, 2) == 100.0
    assert percentage(0, 0) is None
