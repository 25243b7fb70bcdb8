"""The search index of ``GET /dossiers?q=`` on both databases (:mod:`service.domain.search` explains the keys).

:func:`write` stores a new dossier's keys and its new vocabulary words (every writer of
:func:`service.dossiers.persist.persist` calls it, or writes the same rows in batches); :func:`candidates` reads
the ids of the dossiers a code or name piece can match, or ``None`` when the piece is so common that reading the
agency's newest dossiers in order finds a page sooner (then the query filters the rows as before). The index only
narrows: the dossier's own columns decide the match (:func:`service.dossiers.queries.search_condition`).

On PostgreSQL the key columns compare in the "C" collation, so a range of keys is a prefix whatever the
database's locale; SQLite compares bytes anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import and_, or_
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from service.domain.search import CODE, NAME, KeyPattern, SearchTerms, key_pattern
from service.models import DossierSearchKey, SearchWord

__all__ = ["CANDIDATES_MAX", "WORDS_MAX", "candidates", "write", "write_words"]

CANDIDATES_MAX = 5000
"""More candidates than this: the piece is common, and the agency's newest dossiers hold a page of matches."""
WORDS_MAX = 200
"""More vocabulary words than this can start the piece (it is short, or one letter): read in order instead."""
_TOP = "\U0010ffff"  # sorts after every character: [prefix, prefix + _TOP) is every key starting with prefix

KEY_TABLE = DossierSearchKey.__table__  # type: ignore[attr-defined]
WORD_TABLE = SearchWord.__table__  # type: ignore[attr-defined]


def write(session: Session, keys: Sequence[tuple[str, int | None]], words: Iterable[str]) -> None:
    """Insert ``(key, dossier_id)`` rows and the ``words`` the vocabulary lacks, in the caller's transaction."""
    if keys:
        session.execute(KEY_TABLE.insert(), [{"key": key, "dossier_id": dossier_id} for key, dossier_id in keys])
    write_words(session, words)


def write_words(session: Session, words: Iterable[str]) -> None:
    """Add ``words`` to the vocabulary; those already there stay as they are (no row is locked or rewritten)."""
    rows = [{"word": word} for word in sorted(set(words))]
    if not rows:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(WORD_TABLE).on_conflict_do_nothing(index_elements=["word"]), rows)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _words(session: Session, pattern: KeyPattern) -> list[str] | None:
    """The vocabulary words that can start an occurrence of the piece (without their ``kind:`` prefix), or
    ``None`` when there are more than :data:`WORDS_MAX`."""
    prefix = f"{pattern.kind}:"
    shape = f"%{_like_escape(pattern.head)}%" if not pattern.rest else f"%{_like_escape(pattern.head)}"
    word = col(SearchWord.word)
    found: Sequence[str] = session.execute(sa_select(word).where(
        word >= prefix, word < prefix + _TOP, word.like(prefix + shape, escape="\\")).limit(WORDS_MAX + 1)
    ).scalars().all()
    if len(found) > WORDS_MAX:
        return None
    # LIKE may ignore case (SQLite's default): keep exactly the words the pattern names.
    return [w[len(prefix):] for w in found if pattern.matches_word(w[len(prefix):])]


def candidates(session: Session, terms: SearchTerms) -> set[int] | None:
    """The ids of every dossier whose code or name can contain the pieces of ``terms`` (a superset of the
    matches), or ``None`` when the index would not narrow the search enough (more than :data:`CANDIDATES_MAX`
    dossiers or :data:`WORDS_MAX` words). ``terms`` with a national id are not for the index (it has its own)."""
    if terms.national_id:
        return None
    prefixes: list[str] = []
    for kind, piece in ((CODE, terms.code_piece), (NAME, terms.name_piece)):
        if not piece:
            continue
        pattern = key_pattern(kind, piece)
        words = _words(session, pattern)
        if words is None:
            return None
        prefixes.extend(pattern.key_prefix(w) for w in words)
    if not prefixes:
        return set()
    key = col(DossierSearchKey.key)
    ranges = [and_(key >= p, key < p + _TOP) for p in sorted(set(prefixes))]
    ids: set[int] = set()
    for start in range(0, len(ranges), 50):  # a bounded statement, whatever the number of words
        found: Sequence[int] = session.execute(
            sa_select(col(DossierSearchKey.dossier_id)).where(or_(*ranges[start:start + 50]))
            .limit(CANDIDATES_MAX + 1)).scalars().all()
        ids.update(found)
        if len(ids) > CANDIDATES_MAX:
            return None
    return ids
