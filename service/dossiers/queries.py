"""Reading dossiers: the filtered list (keyset-paginated), counts by status, the public lookup."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from service.domain import lifecycle
from service.domain.lifecycle import Status
from service.domain.roles import STAFF_ROLES, Role
from service.domain.search import search_terms
from service.dossiers import search_index
from service.dossiers.submission import secret_hash
from service.dossiers.visibility import visibility_filter
from service.errors import NotFound
from service.models import Dossier, DossierSearchKey, DossierStep, Procedure, User
from service.operations import interagency
from service.pagination import InvalidCursor
from service.schemas.dossiers import PublicDossier

DOSSIER_TABLE = Dossier.__table__  # type: ignore[attr-defined]

SORTS = ("-received_at", "due_at")
"""The orders of ``GET /dossiers``: newest received first (not yet received last), or soonest due first (no due
date last); ties by id."""


def encode_cursor(sort: str, value: datetime | None, dossier_id: int) -> str:
    """An opaque cursor: the sort key and id of the last row of a page."""
    payload = {"s": sort, "v": value.astimezone(UTC).isoformat() if value is not None else None, "i": dossier_id}
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[datetime | None, int]:
    """``(value, id)`` of a cursor made by :func:`encode_cursor` for the same ``sort``; 422 ``INVALID_CURSOR``
    for anything else (malformed, forged, or made for another order)."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        value, dossier_id = payload["v"], payload["i"]
        if payload["s"] != sort or type(dossier_id) is not int or not (value is None or isinstance(value, str)):
            raise ValueError
        instant = datetime.fromisoformat(value) if value is not None else None
        if instant is not None and instant.tzinfo is None:
            raise ValueError
        return instant, dossier_id
    except (ValueError, TypeError, KeyError, UnicodeDecodeError, binascii.Error):
        raise InvalidCursor() from None


def keyset_order(column: Any, *, descending: bool, id_column: Any = Dossier.id) -> tuple[Any, ...]:
    """ORDER BY ``column`` (NULLs last on both databases), then the dossier id in the same direction."""
    first = col(column).desc() if descending else col(column).asc()
    return (first.nulls_last(), col(id_column).desc() if descending else col(id_column).asc())


def keyset_after(column: Any, *, descending: bool, value: datetime | None, dossier_id: int,
                 id_column: Any = Dossier.id) -> Any:
    """The rows after ``(value, dossier_id)`` in :func:`keyset_order`."""
    column = col(column)
    next_id = col(id_column) < dossier_id if descending else col(id_column) > dossier_id
    if value is None:
        return and_(column.is_(None), next_id)
    beyond = column < value if descending else column > value
    return or_(beyond, and_(column == value, next_id), column.is_(None))


def search_condition(q: str) -> Any:
    """``q`` as a substring of the code (case ignored), as a substring of the applicant's name compared without
    diacritics or case (đ read as d), or as the exact national id; readings that cannot match are left out
    (:func:`service.domain.search.search_terms`)."""
    terms = search_terms(q)
    conditions: list[ColumnElement[bool]] = []
    if terms.code_piece:
        conditions.append(col(Dossier.code).like(f"%{_like_escape(terms.code_piece)}%", escape="\\"))
    if terms.name_piece:
        conditions.append(col(Dossier.applicant_name_normalised).like(f"%{_like_escape(terms.name_piece)}%",
                                                                      escape="\\"))
    if terms.national_id:
        conditions.append(col(Dossier.applicant_national_id) == terms.national_id)
    return or_(*conditions) if conditions else false()


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def overdue_condition(now: datetime) -> Any:
    """Null-safe (never SQL NULL), so that its negation selects every dossier that is not overdue."""
    return or_(
        and_(col(Dossier.status).in_([s.value for s in lifecycle.RUNNING]), col(Dossier.due_at).is_not(None),
             col(Dossier.due_at) < now),
        and_(col(Dossier.timeliness).is_not(None), col(Dossier.timeliness) == "late"),
    )


@dataclass(frozen=True)
class DossierFilter:
    status: str | None = None
    procedure_code: str | None = None
    agency_code: str | None = None
    overdue: bool | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    applicant_national_id: str | None = None
    channel: str | None = None
    q: str | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    sort: str = "-received_at"


def filter_conditions(user: User, filters: DossierFilter, now: datetime) -> list[Any]:
    """The conditions of ``filters`` other than the search text and visibility."""
    conditions: list[Any] = []
    if filters.status:
        conditions.append(col(Dossier.status) == filters.status)
    if filters.procedure_code:
        conditions.append(col(Dossier.procedure_code) == filters.procedure_code)
    if filters.agency_code:
        conditions.append(col(Dossier.agency_code) == filters.agency_code)
    if filters.channel:
        conditions.append(col(Dossier.channel) == filters.channel)
    if filters.overdue is not None:
        condition = overdue_condition(now)
        conditions.append(condition if filters.overdue else ~condition)
    if filters.received_from:
        conditions.append(col(Dossier.received_at) >= filters.received_from)
    if filters.received_to:
        conditions.append(col(Dossier.received_at) < filters.received_to)
    if filters.applicant_national_id and user.role != Role.CITIZEN:
        conditions.append(col(Dossier.applicant_national_id) == filters.applicant_national_id)
    if filters.due_after:
        conditions.append(col(Dossier.due_at) >= filters.due_after)
    if filters.due_before:
        conditions.append(col(Dossier.due_at) < filters.due_before)
    return conditions


def list_page(session: Session, *, user: User, filters: DossierFilter, now: datetime, limit: int,
              cursor: str | None) -> tuple[list[Dossier], str | None]:
    """One page in ``filters.sort`` order, keyset-paginated (no OFFSET, no count). Visibility is part of the
    query, so a search never reads another agency's rows. Staff pages are read branch by branch of their
    visibility (:func:`staff_page`)."""
    column, descending = (Dossier.due_at, False) if filters.sort == "due_at" else (Dossier.received_at, True)
    conditions = filter_conditions(user, filters, now)
    if user.role in STAFF_ROLES and user.agency_code is not None:
        return staff_page(session, agency_code=user.agency_code, conditions=conditions, q=filters.q,
                          column=column, descending=descending, sort=filters.sort, limit=limit, cursor=cursor)
    query = select(Dossier).where(visibility_filter(user), *conditions)
    if filters.q:
        narrowed = search_index.candidates(session, search_terms(filters.q))
        if narrowed is not None:  # the index found every dossier the text can match (maybe none)
            if not narrowed:
                return [], None
            query = query.where(col(Dossier.id).in_(sorted(narrowed)))
        query = query.where(search_condition(filters.q))
    return dossier_page(session, query, column=column, descending=descending, sort=filters.sort, limit=limit,
                        cursor=cursor)


def staff_page(session: Session, *, agency_code: str, conditions: list[Any], q: str | None, column: Any,
               descending: bool, sort: str, limit: int, cursor: str | None) -> tuple[list[Dossier], str | None]:
    """A page of what staff of ``agency_code`` see, as :func:`dossier_page` would give it for
    :func:`service.operations.interagency.staff_visibility`. That condition is an ``OR``, which no index reads
    in list order, so each of its branches (:func:`service.operations.interagency.staff_visibility_branches`)
    gives its first ``limit + 1`` rows after the cursor in list order, each from an index that holds that
    order, and the page is the first ``limit + 1`` of their union: the cost is in the page size, not in the
    agency's number of dossiers.

    A search on the agency's own dossiers reads the search index's rows of that agency (which carry the receipt
    instant) when the piece is rare enough, in the newest-received order without the dossiers themselves; a
    common piece, and the other branches, filter their rows read in order."""
    last = decode_cursor(cursor, sort) if cursor else None
    terms = search_terms(q) if q else None
    parts = []
    for branch in interagency.staff_visibility_branches(agency_code):
        if branch.from_steps:
            parts.extend(interagency_part(session, branch, agency_code=agency_code, conditions=conditions, q=q,
                                          column=column, descending=descending, last=last, limit=limit))
            continue
        narrowed = None
        if terms is not None and branch.own_agency and not terms.national_id and (
                terms.code_piece or terms.name_piece):
            narrowed = search_index.agency_matches(session, agency_code, terms)
        if narrowed is not None and not conditions and descending and column is Dossier.received_at:
            parts.append(_newest_matches(session, narrowed, last, limit))  # the page from the index alone
            continue
        query: Any = select(col(Dossier.id).label("id"), col(column).label("v")).where(branch.condition, *conditions)
        if narrowed is not None:
            query = query.where(col(Dossier.id).in_(select(col(DossierSearchKey.dossier_id)).where(narrowed)))
        if q:
            query = query.where(search_condition(q))
        if branch.own_agency:
            parts.extend(in_index_order(query, column=column, descending=descending, last=last, limit=limit,
                                        dialect=session.get_bind().dialect.name))
        else:  # a few rows, found through their own index: sorted
            if last is not None:
                query = query.where(keyset_after(column, descending=descending, value=last[0], dossier_id=last[1]))
            query = query.order_by(*keyset_order(column, descending=descending)).limit(limit + 1)
            parts.append(select(*query.subquery().c))
    return union_page(session, parts, column=column, descending=descending, sort=sort, limit=limit)


STEPS_READ_WHOLE = 250
"""Up to this many started steps, an agency's inter-agency dossiers in due order are read all and sorted
(:func:`interagency_part`); beyond, in due order from ``ix_dossier_interagency_due_at``."""


def interagency_part(session: Session, branch: interagency.VisibilityBranch, *, agency_code: str,
                     conditions: list[Any], q: str | None, column: Any, descending: bool,
                     last: tuple[datetime | None, int] | None, limit: int) -> list[Any]:
    """The parts of :func:`union_page` for staff visibility's third branch, the inter-agency dossiers one of whose
    steps ``agency_code`` started, after ``last`` in list order, reading a number of rows that grows with the
    page, not with the agency's inter-agency history:

    * newest received first: the agency's started steps from ``ix_dossier_step_agency_code_received_at``, which
      holds them in that order with the dossier's receipt instant, each dossier read by id for the filters;
    * soonest due first (the due date moves with pauses and extensions, so the steps cannot hold it): an agency
      with at most :data:`STEPS_READ_WHOLE` started steps has them all read and sorted; one with more reads the
      province's inter-agency dossiers in due order (``ix_dossier_interagency_due_at``) and keeps those with a
      step it started (one probe of the steps' ``(dossier_id, seq)`` index each)."""
    filters = [*conditions, search_condition(q)] if q else list(conditions)
    if descending and column is Dossier.received_at:
        return _steps_newest_received(agency_code, filters, last=last, limit=limit)
    dialect = session.get_bind().dialect.name
    if _started_steps_exceed(session, agency_code, STEPS_READ_WHOLE):
        held = exists().where(col(DossierStep.dossier_id) == col(Dossier.id),
                              col(DossierStep.agency_code) == agency_code, col(DossierStep.started_at).is_not(None))
        query: Any = select(col(Dossier.id).label("id"), col(column).label("v")).where(
            interagency.and_interagency(held), *filters)
        return in_index_order(query, column=column, descending=descending, last=last, limit=limit,
                              dialect=dialect)
    query = select(col(Dossier.id).label("id"), col(column).label("v")).where(branch.condition, *filters)
    if last is not None:
        query = query.where(keyset_after(column, descending=descending, value=last[0], dossier_id=last[1]))
    query = query.order_by(*keyset_order(column, descending=descending)).limit(limit + 1)
    return [select(*query.subquery().c)]


def _steps_newest_received(agency_code: str, filters: list[Any], *, last: tuple[datetime | None, int] | None,
                           limit: int) -> list[Any]:
    """The first ``limit + 1`` dossiers (newest received first) after ``last`` one of whose steps ``agency_code``
    started and that pass ``filters``, read in order from ``ix_dossier_step_agency_code_received_at`` (a started
    step's dossier has been received: no NULLs, so its plain descending order is the list's). A dossier with
    several steps of the agency comes once."""
    step_received = col(DossierStep.received_at)
    query: Any = (select(col(DossierStep.dossier_id).label("id"), step_received.label("v"))
             .join(Dossier, col(Dossier.id) == col(DossierStep.dossier_id))
             .where(col(DossierStep.agency_code) == agency_code, col(DossierStep.started_at).is_not(None),
                    step_received.is_not(None), col(Dossier.current_step).is_not(None), *filters))
    if last is not None:
        value, dossier_id = last
        if value is None:  # the cursor is past every received dossier
            return []
        query = query.where(step_received <= value,
                            or_(step_received < value, col(DossierStep.dossier_id) < dossier_id))
    query = (query.distinct().order_by(step_received.desc(), col(DossierStep.dossier_id).desc())
             .limit(limit + 1))
    return [select(*query.subquery().c)]


def _started_steps_exceed(session: Session, agency_code: str, most: int) -> bool:
    """Whether ``agency_code`` started more than ``most`` steps (counted from the index, at most ``most + 1``)."""
    capped = interagency.started_steps(agency_code).limit(most + 1).subquery()
    return session.exec(select(func.count()).select_from(capped)).one() > most


def union_page(session: Session, parts: list[Any], *, column: Any, descending: bool, sort: str,
               limit: int) -> tuple[list[Dossier], str | None]:
    """The page of the first ``limit + 1`` rows of the union of ``parts`` (selects of ``(id, v)``: dossier ids
    and their ``column`` values, each part already cut to its first ``limit + 1`` rows in :func:`keyset_order`),
    and the next cursor: one statement, whose dossiers are read by id, as rows of their columns (not ORM
    objects)."""
    union = parts[0].union(*parts[1:]).subquery() if len(parts) > 1 else parts[0].subquery()
    page = (select(union.c.id, union.c.v)
            .order_by(*keyset_order(union.c.v, descending=descending, id_column=union.c.id))
            .limit(limit + 1).subquery())
    # Plain rows of the dossier's columns, read by attribute as a Dossier is (the presenter and the cursor only
    # read them): building an ORM object per row cost a third of reading it.
    rows: list[Any] = list(session.execute(
        sa_select(*DOSSIER_TABLE.c).join(page, DOSSIER_TABLE.c.id == page.c.id)
        .order_by(*keyset_order(page.c.v, descending=descending, id_column=page.c.id))))
    return _cut(rows, column=column, sort=sort, limit=limit)


def in_index_order(query: Any, *, column: Any, descending: bool, last: tuple[datetime | None, int] | None,
                   limit: int, dialect: str) -> list[Any]:
    """The first ``limit + 1`` rows of ``query`` (a select of ``(id, v)``) after ``last`` in :func:`keyset_order`,
    as parts of :func:`union_page` that an index on ``(…, column, id)`` reads in order. PostgreSQL's indexes hold
    the list's NULLs-last order (``ix_dossier_agency_code_received_at`` has its NULLs first, read backwards): one
    select. SQLite's ascending index order puts NULLs first, and it reads an ``OR`` cursor condition from the
    index's start: two selects, the rows with a value (with a plain range on the index for the cursor), then
    those without."""
    if dialect != "sqlite":
        if last is not None:
            query = query.where(keyset_after(column, descending=descending, value=last[0], dossier_id=last[1]))
        return [select(*query.order_by(*keyset_order(column, descending=descending)).limit(limit + 1)
                       .subquery().c)]
    rows_with_value = query.where(col(column).is_not(None))
    rows_without = query.where(col(column).is_(None))
    if last is not None:
        value, dossier_id = last
        if value is None:  # the cursor is past every row with a value
            rows_with_value = None
            rows_without = rows_without.where(col(Dossier.id) < dossier_id if descending
                                              else col(Dossier.id) > dossier_id)
        else:
            rows_with_value = rows_with_value.where(
                col(column) <= value if descending else col(column) >= value,  # the index range to read
                keyset_after(column, descending=descending, value=value, dossier_id=dossier_id))
    ordered_id = col(Dossier.id).desc() if descending else col(Dossier.id).asc()
    parts = [] if rows_with_value is None else [rows_with_value.order_by(
        col(column).desc() if descending else col(column).asc(), ordered_id)]
    parts.append(rows_without.order_by(ordered_id))
    return [select(*part.limit(limit + 1).subquery().c) for part in parts]


def _newest_matches(session: Session, matches: Any, last: tuple[datetime | None, int] | None, limit: int) -> Any:
    """The first ``limit + 1`` dossiers (newest received first) whose key rows ``matches`` selects, after the
    cursor's ``last``, as a part of :func:`union_page`: read from the key index alone, their dossiers by id.

    The key rows are sorted with a bound and no ``DISTINCT``: a dossier has two key rows in the ranges only when
    its name holds the piece twice, and those rows sort next to each other (same instant, same id), so the first
    distinct dossiers of the sorted rows are the page. ``DISTINCT`` would build a temporary B-tree of every
    matching row first (three times the work at 1M dossiers); instead, in the rare case that repeated rows leave
    the bounded read short of a page, it is read again with a larger bound."""
    keys = search_index.KEY_TABLE.c
    query = select(keys.dossier_id, keys.received_at).where(matches)
    if last is not None:
        query = query.where(keyset_after(keys.received_at, descending=True, value=last[0], dossier_id=last[1],
                                         id_column=keys.dossier_id))
    query = query.order_by(*keyset_order(keys.received_at, descending=True, id_column=keys.dossier_id))
    wanted = bound = limit + 1
    while True:
        rows = session.execute(query.limit(bound)).all()
        ids = list(dict.fromkeys(row[0] for row in rows))  # in order, each dossier once
        if len(ids) >= wanted or len(rows) < bound:
            break
        bound *= 4
    return select(col(Dossier.id).label("id"), col(Dossier.received_at).label("v")).where(
        col(Dossier.id).in_(ids[:wanted]))


def dossier_page(session: Session, query: Any, *, column: Any, descending: bool, sort: str, limit: int,
                 cursor: str | None) -> tuple[list[Dossier], str | None]:
    """``limit`` rows of ``query`` ordered by ``column`` (which may be NULL: NULLs last) then id, after ``cursor``;
    and the next cursor. Dossier lists sort on nullable instants, which :func:`service.pagination.keyset_page`
    (unique, never-NULL keys) does not cover; the cursor is as opaque and as strictly validated."""
    if cursor:
        value, last_id = decode_cursor(cursor, sort)
        query = query.where(keyset_after(column, descending=descending, value=value, dossier_id=last_id))
    rows = list(session.exec(query.order_by(*keyset_order(column, descending=descending)).limit(limit + 1)))
    return _cut(rows, column=column, sort=sort, limit=limit)


def _cut(rows: list[Dossier], *, column: Any, sort: str, limit: int) -> tuple[list[Dossier], str | None]:
    """The page of ``limit`` of ``rows`` (up to ``limit + 1``), and the cursor of the next page if there is one."""
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(sort, getattr(last, column.key), last.id)  # type: ignore[arg-type]


# ---------------------------------------------------------------- public lookup

_DUMMY_SECRET_HASH = secret_hash("no-such-dossier")


def public_lookup(session: Session, code: str, secret: str) -> PublicDossier:
    """Status for anyone holding the code and the tracking secret. An unknown code and a wrong secret give the
    same answer, and the secret is compared in constant time either way."""
    row = session.exec(select(Dossier, Procedure.name).join(Procedure, col(Procedure.id) == Dossier.procedure_id)
                       .where(Dossier.code == code)).first()
    stored = row[0].tracking_secret_hash if row else _DUMMY_SECRET_HASH
    matches = hmac.compare_digest(stored, secret_hash(secret))
    if row is None or not matches:
        raise NotFound("Không tìm thấy hồ sơ hoặc mã tra cứu không đúng.", code="DOSSIER_NOT_FOUND")
    dossier, procedure_name = row
    status = Status(dossier.status)
    return PublicDossier(
        code=dossier.code, procedure_code=dossier.procedure_code, procedure_name=procedure_name,
        agency_code=dossier.agency_code, status=status.value, status_label=lifecycle.STATUS_LABEL[status],
        national_status_code=lifecycle.NATIONAL_STATUS_CODE[status], received_at=dossier.received_at,
        due_at=dossier.due_at, finished_at=dossier.finished_at, returned_at=dossier.returned_at,
        timeliness=dossier.timeliness,  # type: ignore[arg-type]
    )


def count_by_status(session: Session, user: User) -> dict[str, int]:
    rows = session.exec(select(Dossier.status, func.count()).where(visibility_filter(user))
                        .group_by(Dossier.status)).all()
    return {status: count for status, count in rows}
