"""Personal names folded for search: Vietnamese without diacritics, without case, đ/Đ read as d.

Officers type "nguyen van hung" for "Nguyễn Văn Hùng" and "dang" for "Đặng": the folded form is stored beside
the name (``dossier.applicant_name_normalised``) so that a search compares folded text with folded text and an
index can serve it. Unicode NFD separates the base letters from the tone and vowel marks (combining marks,
removed); "đ" is a letter of its own in Unicode, not "d" plus a mark, so it is mapped explicitly.
"""

from __future__ import annotations

import unicodedata

__all__ = ["fold_name"]

_D_STROKE = str.maketrans({"đ": "d", "Đ": "d"})


def fold_name(text: str) -> str:
    """``"  Đặng   Thị  Ánh "`` → ``"dang thi anh"``: no marks, lower case, single spaces, trimmed."""
    decomposed = unicodedata.normalize("NFD", text.translate(_D_STROKE))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.lower().split())
