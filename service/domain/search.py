"""What a search box's text can match in a dossier (``GET /dossiers?q=``).

The text may be a piece of the dossier code, a piece of the applicant's name (compared without diacritics or case,
see :func:`service.domain.names.fold_name`) or a whole national id. Each reading that cannot match is dropped, so
that the query keeps only conditions that can hold (an index then serves a national id alone):

* a dossier code (``<agency>-YYMMDD-NNNN``, Circular 01/2018/TT-VPCP Art. 19) holds only digits, capital letters,
  dots and hyphens, so a text with anything else (a space, a Vietnamese letter) is not a piece of a code;
* twelve digits are a national id (Decree 137/2015/NĐ-CP, the citizen identity number) and cannot be a piece of
  a code (its longest run of digits is six) nor, in practice, of a name;
* a text without a single letter is not a piece of a person's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from service.domain.names import fold_name

__all__ = ["SearchTerms", "search_terms"]

_CODE_PIECE = re.compile(r"[0-9A-Za-z.\-]+")
_NATIONAL_ID = re.compile(r"[0-9]{12}")


@dataclass(frozen=True, slots=True)
class SearchTerms:
    code_piece: str | None  # upper case, to find inside the code
    name_piece: str | None  # folded, to find inside the folded name
    national_id: str | None  # to compare whole


def search_terms(text: str) -> SearchTerms:
    stripped = text.strip()
    if _NATIONAL_ID.fullmatch(stripped):
        return SearchTerms(None, None, stripped)
    code = stripped.upper() if _CODE_PIECE.fullmatch(stripped) else None
    folded = fold_name(stripped)
    name = folded if any(ch.isalpha() for ch in folded) else None
    return SearchTerms(code, name, None)
