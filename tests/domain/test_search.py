"""Readings of a search text: code piece, folded name piece, whole national id; and the search index's keys,
which find every piece of a name or code that is there, and none that is not."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.search import CODE, NAME, SearchTerms, key_pattern, search_keys, search_terms, search_words


@pytest.mark.parametrize(("text", "terms"), [
    ("022090001234", SearchTerms(None, None, "022090001234")),
    ("  Đặng Thị  ", SearchTerms(None, "dang thi", None)),
    ("dang", SearchTerms("DANG", "dang", None)),
    ("260302-0001", SearchTerms("260302-0001", None, None)),
    ("h49-260302", SearchTerms("H49-260302", "h49-260302", None)),
    ("%", SearchTerms(None, None, None)),
    ("0220900012", SearchTerms("0220900012", None, None)),
])
def test_search_terms(text: str, terms: SearchTerms) -> None:
    assert search_terms(text) == terms


# ------------------------------------------------------------------------------------------ the search index

SYLLABLES = ("nguyen", "nhung", "hung", "van", "an", "thi", "hu", "u", "dang", "anh", "h")


def found_through_index(kind: str, piece: str, code: str, folded: str) -> bool:
    """What the index reads for ``piece``: the vocabulary words that can start it, then the keys under them."""
    pattern = key_pattern(kind, piece)
    words = [w[2:] for w in search_words(code, folded) if w.startswith(f"{kind}:")]
    prefixes = [pattern.key_prefix(w) for w in words if pattern.matches_word(w)]
    return any(key.startswith(p) for key in search_keys(code, folded) for p in prefixes)


@given(st.lists(st.sampled_from(SYLLABLES), min_size=1, max_size=5), st.data())
def test_every_piece_of_a_name_is_found_through_the_index(words: list[str], data: st.DataObject) -> None:
    folded = " ".join(words)
    start = data.draw(st.integers(0, len(folded) - 1))
    end = data.draw(st.integers(start + 1, len(folded)))
    piece = folded[start:end].strip()
    if piece and "  " not in piece:
        assert found_through_index(NAME, piece, "000.00.12.H49-260302-0001", folded), (piece, folded)


@given(st.integers(0, 23), st.data())
def test_every_piece_of_a_code_is_found_through_the_index(start: int, data: st.DataObject) -> None:
    code = "000.00.12.H49-260302-0017"
    end = data.draw(st.integers(start + 1, len(code)))
    assert found_through_index(CODE, code[start:end], code, "le van hung"), code[start:end]


def test_a_piece_that_is_not_there_is_not_found_through_the_index() -> None:
    code, folded = "000.00.12.H49-260302-0017", "le thi nhung"
    assert not found_through_index(NAME, "van", code, folded)
    assert not found_through_index(NAME, "thi hung", code, folded)  # the words, not in this order
    assert not found_through_index(CODE, "260303", code, folded)
    assert search_keys(code, folded) == ["n:le thi nhung", "n:thi nhung", "n:nhung", "c:000.00.12.H49-260302-0017",
                                         "c:260302-0017", "c:0017"]
