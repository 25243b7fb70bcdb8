"""The date line's place name, read from the nearest People's Committee."""

import pytest

from service.domain.place_names import place_name


@pytest.mark.parametrize(("names", "place"), [
    (["Ủy ban nhân dân xã Tiên Yên", "Ủy ban nhân dân tỉnh Quảng Ninh"], "Tiên Yên"),
    (["Sở Tư pháp tỉnh Quảng Ninh", "Ủy ban nhân dân tỉnh Quảng Ninh"], "Quảng Ninh"),
    (["UBND thành phố Hà Nội"], "Hà Nội"),
    (["Ủy ban nhân dân phường Ba Đình"], "Ba Đình"),
    (["Bộ Tư pháp"], None),
])
def test_place_name(names: list[str], place: str | None) -> None:
    assert place_name(names) == place
