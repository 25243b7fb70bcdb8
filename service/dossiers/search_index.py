"""The search index of ``GET /dossiers?q=`` on both databases (:mod:`service.domain.search` explains the keys).

:func:`write` stores a new dossier's keys (each with the dossier's agency and receipt instant, :func:`date`
writes the latter when it is received) and its new vocabulary words (every writer of
:func:`service.dossiers.persist.persist` calls them, or writes the same rows in batches). :func:`agency_matches`
selects an agency's key rows matching a code or name piece — a staff search reads its first page from them in
list order — and :func:`candidates` the ids of every dossier a piece can match (a citizen's or an admin's
search); both give ``None`` when the piece is so common that reading the newest dossiers in order finds a page
sooner (then the query filters the rows as before).

On PostgreSQL the key columns compare in the "C" collation, so a range of keys is a prefix whatever the
database's locale; SQLite compares bytes anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, false, literal, or_, text
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from service.domain.search import CODE, NAME, KeyPattern, SearchTerms, key_pattern
from service.models import DossierSearchKey, SearchWord

__all__ = ["CANDIDATES_MAX", "KEY_COLUMNS", "KEY_TABLE", "WORDS_MAX", "agency_matches", "candidates", "date",
           "key_ranges", "key_rows", "write", "write_dossier_keys", "write_words"]

CANDIDATES_MAX = 5000
"""More candidates than this: the piece is common, and the agency's newest dossiers hold a page of matches."""
WORDS_MAX = 200
"""More vocabulary words than this can start the piece (it is short, or one letter): read in order instead."""
_TOP = "\U0010ffff"  # sorts after every character: [prefix, prefix + _TOP) is every key starting with prefix

KEY_TABLE = DossierSearchKey.__table__  # type: ignore[attr-defined]
WORD_TABLE = SearchWord.__table__  # type: ignore[attr-defined]


KEY_COLUMNS = ("key", "dossier_id", "agency_code", "received_at")
"""The columns of a key row, in the order of :func:`key_rows`' tuples."""


def key_rows(dossier_id: int, agency_code: str, received_at: datetime | None,
             keys: Iterable[str]) -> list[tuple[str, int, str, datetime | None]]:
    """The rows of a dossier's ``keys`` (:data:`KEY_COLUMNS`): each carries the agency and the receipt instant,
    so that an agency's matches come out of the index in list order."""
    return [(key, dossier_id, agency_code, received_at) for key in keys]


_KEY_INSERT = KEY_TABLE.insert()


def write(session: Session | Connection, rows: Sequence[tuple[str, int, str, datetime | None]],
          words: Iterable[str]) -> None:
    """Insert key rows (:func:`key_rows`) and the ``words`` the vocabulary lacks, in the caller's transaction
    (given the session's connection, the statements do not flush the session's pending changes first)."""
    if rows:
        session.execute(_KEY_INSERT, [dict(zip(KEY_COLUMNS, row, strict=True)) for row in rows])
    write_words(session, words)


def write_dossier_keys(connection: Connection, dossier_id: int, agency_code: str, received_at: datetime | None,
                       keys: Sequence[str], words: Iterable[str]) -> None:
    """:func:`write` for one dossier's keys (:func:`key_rows`) and words. PostgreSQL: one statement, the keys and
    the words as two arrays (the words inserted by a data-modifying ``WITH``), where a multi-row ``INSERT`` of the
    keys and the words' ``INSERT`` were two; each statement costs more CPU in SQLAlchemy and psycopg than its
    rows."""
    if connection.dialect.name != "postgresql":
        write(connection, key_rows(dossier_id, agency_code, received_at, keys), words)
        return
    connection.execute(_PG_KEYS_AND_WORDS, {"keys": list(keys), "dossier_id": dossier_id, "agency_code": agency_code,
                                            "received_at": received_at, "words": sorted(set(words))})


def date(session: Session | Connection, rows: Sequence[tuple[str, int, datetime]]) -> None:
    """Set the receipt instant of existing key rows, given as ``(key, dossier_id, received_at)``."""
    if rows:
        session.execute(KEY_TABLE.update().where(KEY_TABLE.c.key == bindparam("k"),
                                                 KEY_TABLE.c.dossier_id == bindparam("d"))
                        .values(received_at=bindparam("r")),
                        [{"k": key, "d": dossier_id, "r": received_at} for key, dossier_id, received_at in rows])


def write_words(session: Session | Connection, words: Iterable[str]) -> None:
    """Add ``words`` to the vocabulary; those already there stay as they are (no row is locked or rewritten)."""
    ordered = sorted(set(words))
    if not ordered:
        return
    dialect = session.dialect if isinstance(session, Connection) else session.get_bind().dialect
    if dialect.name == "postgresql":
        session.execute(_PG_WORDS, {"words": ordered})
        return
    session.execute(_SQLITE_WORDS, [{"word": word} for word in ordered])


_SQLITE_WORDS = sqlite_insert(WORD_TABLE).on_conflict_do_nothing(index_elements=["word"])
_PG_WORDS = text("INSERT INTO search_word (word) SELECT unnest(CAST(:words AS varchar[])) "
                 "ON CONFLICT (word) DO NOTHING")
"""PostgreSQL: the words as one array parameter, one statement (an ``executemany`` of ``ON CONFLICT`` inserts
went through psycopg's pipeline, a statement per word)."""


_PG_KEYS_AND_WORDS = text(
    "WITH new_words AS (INSERT INTO search_word (word) SELECT unnest(CAST(:words AS varchar[])) "
    "ON CONFLICT (word) DO NOTHING) "
    "INSERT INTO dossier_search_key (key, dossier_id, agency_code, received_at) "
    "SELECT unnest(CAST(:keys AS varchar[])), CAST(:dossier_id AS integer), CAST(:agency_code AS varchar), "
    "CAST(:received_at AS timestamptz)")


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


def key_ranges(session: Session, terms: SearchTerms) -> list[Any] | None:
    """The conditions on ``dossier_search_key.key`` that select every key of a dossier whose code or name contains
    the pieces of ``terms`` — and only those (a key in a range contains the piece: :class:`KeyPattern`) — or
    ``None`` when more than :data:`WORDS_MAX` words can start a piece. ``terms`` with a national id are not for
    the index (it has its own)."""
    assert not terms.national_id
    prefixes: list[str] = []
    for kind, piece in ((CODE, terms.code_piece), (NAME, terms.name_piece)):
        if not piece:
            continue
        pattern = key_pattern(kind, piece)
        words = _words(session, pattern)
        if words is None:
            return None
        prefixes.extend(pattern.key_prefix(w) for w in words)
    key = col(DossierSearchKey.key)
    return [and_(key >= p, key < p + _TOP) for p in sorted(set(prefixes))]


def candidates(session: Session, terms: SearchTerms) -> set[int] | None:
    """The ids of every dossier whose code or name can contain the pieces of ``terms`` (a superset of the
    matches), or ``None`` when the index would not narrow the search enough (more than :data:`CANDIDATES_MAX`
    dossiers or :data:`WORDS_MAX` words)."""
    if terms.national_id:
        return None
    ranges = key_ranges(session, terms)
    if ranges is None:
        return None
    ids: set[int] = set()
    for start in range(0, len(ranges), 50):  # a bounded statement, whatever the number of words
        found: Sequence[int] = session.execute(
            sa_select(col(DossierSearchKey.dossier_id)).where(or_(*ranges[start:start + 50]))
            .limit(CANDIDATES_MAX + 1)).scalars().all()
        ids.update(found)
        if len(ids) > CANDIDATES_MAX:
            return None
    return ids


def agency_matches(session: Session, agency_code: str, terms: SearchTerms) -> Any | None:
    """The condition selecting the key rows of ``agency_code``'s dossiers that match ``terms`` (read from
    ``ix_dossier_search_key_agency_code_key`` alone), or ``None`` when the index would not narrow the search
    enough: more than :data:`CANDIDATES_MAX` such rows, or :data:`WORDS_MAX` words. Only the agency's rows are
    read."""
    ranges = key_ranges(session, terms)
    if ranges is None:
        return None
    if not ranges:
        return false()
    condition = and_(col(DossierSearchKey.agency_code) == agency_code, or_(*ranges))
    # More than CANDIDATES_MAX rows: is there a row past the first CANDIDATES_MAX? (Skipping rows in the index
    # costs less than counting them through a sub-query.)
    beyond = session.execute(sa_select(literal(1)).where(condition).limit(1).offset(CANDIDATES_MAX)).first()
    return condition if beyond is None else None
