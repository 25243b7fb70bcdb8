"""The place name of a document's date line ("Tiên Yên, ngày 02 tháng 03 năm 2026").

Decree 30/2020/NĐ-CP, Appendix I, section I.5: the place is the name of the administrative unit where the issuing
agency has its seat — for a commune's People's Committee the commune's proper name, for a provincial department
the province's. Agencies here carry only their names and their parent, so the place is read from the nearest
People's Committee ("Ủy ban nhân dân …", "UBND …") among the agency and its ancestors, without the unit's level
word ("xã", "phường", "tỉnh" …). Where none is found, the date line has no place (uncertain cases are left out
rather than guessed).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["place_name"]

_COMMITTEE = ("Ủy ban nhân dân ", "Uỷ ban nhân dân ", "UBND ")
_LEVELS = ("thành phố ", "thị trấn ", "thị xã ", "đặc khu ", "phường ", "huyện ", "quận ", "tỉnh ", "xã ")


def place_name(names: Iterable[str]) -> str | None:
    """The place of the first People's Committee in ``names`` (the agency's name, then its ancestors')."""
    for name in names:
        text = " ".join(name.split())
        for prefix in _COMMITTEE:
            if text.lower().startswith(prefix.lower()):
                rest = text[len(prefix):]
                for level in _LEVELS:
                    if rest.lower().startswith(level):
                        rest = rest[len(level):]
                        break
                return rest or None
    return None
