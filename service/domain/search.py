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

__all__ = ["CODE", "NAME", "KeyPattern", "SearchTerms", "key_pattern", "search_keys", "search_terms",
           "search_words"]

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


# ---------------------------------------------------------------------------------------------- the search index
#
# A substring search that reads no more than its matches, on both databases: each dossier is stored under a few
# *keys* (its folded name from each word on, its code from each hyphen-separated part on), and every word and code
# part ever stored is in a small *vocabulary*. A piece of text ``w1 w2 … wk`` occurs in a name exactly when some
# key starts with ``W w2 … wk`` for a word ``W`` that ends with ``w1`` (for one word: a word ``W`` that contains
# it, and the key starts with ``W``); the same holds for codes with ``-`` for the space. The vocabulary answers
# "which words W" (it grows with the names and days seen, not with the dossiers), a range of the keys' index the
# rest; the dossier's own columns are then compared as before, so the index only narrows, never decides.

NAME, CODE = "n", "c"
"""Key and vocabulary prefixes: a name's words, a code's parts."""
_SEPARATOR = {NAME: " ", CODE: "-"}


def _tails(kind: str, text: str) -> list[str]:
    separator = _SEPARATOR[kind]
    parts = text.split(separator)
    return [f"{kind}:{separator.join(parts[i:])}" for i in range(len(parts)) if parts[i]]


def search_keys(code: str, folded_name: str) -> list[str]:
    """The keys a dossier is found under: ``n:`` + its folded name from each word on, ``c:`` + its code from each
    hyphen-separated part on (``c:000.00.12.H49-250314-0001``, ``c:250314-0001``, ``c:0001``)."""
    return list(dict.fromkeys([*_tails(NAME, folded_name), *_tails(CODE, code)]))


def search_words(code: str, folded_name: str) -> list[str]:
    """The vocabulary entries of a dossier: ``n:`` + each word of its folded name, ``c:`` + each part of its
    code."""
    return list(dict.fromkeys([*(f"{NAME}:{w}" for w in folded_name.split(" ") if w),
                               *(f"{CODE}:{p}" for p in code.split("-") if p)]))


@dataclass(frozen=True, slots=True)
class KeyPattern:
    """How a piece of text is found through the index: vocabulary words of ``kind`` that contain ``head`` (when
    ``rest`` is empty) or end with it, each followed by ``rest``, are the key prefixes to read."""

    kind: str
    head: str
    rest: str

    def matches_word(self, word: str) -> bool:
        """``word`` (without its ``kind:`` prefix) can start an occurrence of the piece."""
        return self.head in word if not self.rest else word.endswith(self.head)

    def key_prefix(self, word: str) -> str:
        return f"{self.kind}:{word}{self.rest}"


def key_pattern(kind: str, piece: str) -> KeyPattern:
    """``piece`` (a folded name piece, or an upper-case code piece) split at its first separator."""
    separator = _SEPARATOR[kind]
    head, found, tail = piece.partition(separator)
    return KeyPattern(kind, head, found + tail)
