"""Readings of a search text: code piece, folded name piece, whole national id."""

import pytest

from service.domain.search import SearchTerms, search_terms


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
