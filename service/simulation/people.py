"""Synthetic applicants: Vietnamese names, 12-digit personal identification numbers, phones and addresses, all
drawn from a seeded ``random.Random`` so that a scenario and seed always give the same people.

The personal identification number follows the structure of Circular 59/2021/TT-BCA Art. 7: a 3-digit
province code of the birth registration (``022`` is Quảng Ninh), one digit for century and sex (0/1: 20th
century male/female, 2/3: 21st century), the last two digits of the birth year and 6 random digits. The
numbers are synthetic; a few may collide with real ones by chance, as any 12-digit draw could.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

FAMILY = ("Nguyễn", "Nguyễn", "Nguyễn", "Trần", "Trần", "Lê", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ",
          "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Lương", "Trịnh", "Mai", "Tạ")
MIDDLE_MALE = ("Văn", "Văn", "Hữu", "Đức", "Minh", "Quốc", "Thành", "Công", "Xuân", "Trọng", "Quang", "Gia")
MIDDLE_FEMALE = ("Thị", "Thị", "Ngọc", "Thu", "Thanh", "Mai", "Kim", "Hồng", "Phương", "Bích", "Diệu",
                 "Khánh")
GIVEN_MALE = ("Hùng", "Dũng", "Nam", "Tuấn", "Long", "Hải", "Sơn", "Thắng", "Bảo", "Khánh", "Phúc", "Trung",
              "Hiếu", "Cường", "Đạt", "Huy", "Kiên", "Lâm", "Minh", "Quân", "Tùng", "Vinh", "Việt", "An")
GIVEN_FEMALE = ("Hà", "Lan", "Hương", "Linh", "Trang", "Huyền", "Nga", "Yến", "Thảo", "Anh", "Vy", "Hạnh",
                "Hoa", "Loan", "Mai", "Ngân", "Nhung", "Oanh", "Phương", "Quỳnh", "Tâm", "Thủy", "Trâm",
                "Uyên")
VILLAGES = ("Thôn 1", "Thôn 2", "Thôn 3", "Thôn 4", "Thôn Đông", "Thôn Tây", "Thôn Trung", "Khu phố 1",
            "Khu phố 2", "Khu phố 3", "Bản Khe Tiên", "Thôn Bắc Lãng")
PROVINCE_COMMUNES = ("phường Hạ Long", "phường Bãi Cháy", "phường Cẩm Phả", "phường Uông Bí",
                     "phường Móng Cái 1", "xã Tiên Yên", "xã Quảng La", "đặc khu Vân Đồn",
                     "phường Đông Triều", "phường Quảng Yên",
                     "xã Hải Hòa", "xã Ba Chẽ", "đặc khu Cô Tô", "xã Bình Liêu")
ELSEWHERE = ("phường Ba Đình, thành phố Hà Nội", "phường Lê Chân, thành phố Hải Phòng",
             "phường Kinh Bắc, tỉnh Bắc Ninh", "phường Sài Gòn, Thành phố Hồ Chí Minh",
             "phường Lạng Sơn, tỉnh Lạng Sơn", "phường Hải Châu, thành phố Đà Nẵng")
NATIONAL_ID_PROVINCE = "022"
"""Quảng Ninh, where the demo catalogue's agencies are."""


@dataclass(frozen=True)
class Person:
    full_name: str
    national_id: str
    phone: str | None


def full_name(rng: random.Random, *, female: bool | None = None) -> str:
    female = rng.random() < 0.5 if female is None else female
    middle, given = (MIDDLE_FEMALE, GIVEN_FEMALE) if female else (MIDDLE_MALE, GIVEN_MALE)
    return f"{rng.choice(FAMILY)} {rng.choice(middle)} {rng.choice(given)}"


def national_id(rng: random.Random, *, female: bool, birth_year: int) -> str:
    century = 0 if birth_year < 2000 else 2
    return f"{NATIONAL_ID_PROVINCE}{century + int(female)}{birth_year % 100:02d}{rng.randrange(10**6):06d}"


def phone(rng: random.Random) -> str:
    prefix = rng.choice(("091", "094", "098", "097", "096", "086", "088", "090", "093", "035", "038", "039"))
    return f"{prefix}{rng.randrange(10**7):07d}"


def person(rng: random.Random, *, reference_year: int) -> Person:
    female = rng.random() < 0.5
    birth_year = reference_year - rng.randint(18, 80)
    return Person(full_name(rng, female=female), national_id(rng, female=female, birth_year=birth_year),
                  phone(rng) if rng.random() < 0.9 else None)


def people(rng: random.Random, count: int, *, reference_year: int,
           taken: set[str] | None = None) -> list[Person]:
    """``count`` distinct people (distinct national ids, none in ``taken``)."""
    seen = set(taken or ())
    out: list[Person] = []
    while len(out) < count:
        candidate = person(rng, reference_year=reference_year)
        if candidate.national_id not in seen:
            seen.add(candidate.national_id)
            out.append(candidate)
    return out


def address(rng: random.Random, *, home_commune: str | None, province: str) -> str:
    """A delivery address: mostly in the desk's own commune (when it has one) or elsewhere in the province;
    one in twenty in another province."""
    village = rng.choice(VILLAGES)
    draw = rng.random()
    if draw < 0.05:
        return f"Số {rng.randint(1, 199)}, {rng.choice(ELSEWHERE)}"
    if home_commune and draw < 0.75:
        return f"{village}, {home_commune}, {province}"
    return f"{village}, {rng.choice(PROVINCE_COMMUNES)}, {province}"
