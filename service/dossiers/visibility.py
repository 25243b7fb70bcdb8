"""Who sees which dossier: citizens their own, staff their agency's (and those their desk lodged, or one of
whose inter-agency steps their agency has held: :func:`service.operations.interagency.staff_visibility`), admins
all. A dossier the caller may not see is the same 404 as one that does not exist (the contract: never leak
existence)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from service.domain.roles import STAFF_ROLES, Role
from service.errors import NotFound
from service.models import Dossier, User
from service.operations import interagency


def visibility_filter(user: User) -> Any:
    """The SQL condition selecting the dossiers ``user`` may see."""
    if user.role == Role.CITIZEN:
        return col(Dossier.applicant_user_id) == user.id
    if user.role in STAFF_ROLES:
        return interagency.staff_visibility(user.agency_code)
    return True


_BY_CODE: dict[tuple[str, bool, tuple[Any, ...]], Any] = {}


def _by_code(kind: str, for_update: bool, also: tuple[Any, ...]) -> Any:
    """``SELECT dossier[, also] WHERE code = :code AND <who may see it>`` for callers of ``kind`` (``citizen``:
    bound ``user_id``; ``staff``: bound ``agency_code``; ``all``), built once: building the staff condition took
    as much CPU per action as running the query."""
    statement = _BY_CODE.get((kind, for_update, also))
    if statement is None:
        condition: Any = True
        if kind == "citizen":
            condition = col(Dossier.applicant_user_id) == bindparam("user_id")
        elif kind == "staff":
            condition = interagency.staff_visibility(bindparam("agency_code"))  # type: ignore[arg-type]
        statement = select(Dossier, *also).where(Dossier.code == bindparam("code"), condition)
        if for_update:
            statement = statement.with_for_update()
        _BY_CODE[(kind, for_update, also)] = statement
    return statement


def load_visible(session: Session, user: User, code: str, *, for_update: bool = False) -> Dossier:
    """The dossier ``code`` if ``user`` may see it (locked for update when asked), else 404
    ``DOSSIER_NOT_FOUND``."""
    return load_visible_with(session, user, code, (), for_update=for_update)[0]


def load_visible_with(session: Session, user: User, code: str, also: tuple[Any, ...], *,
                      for_update: bool = False) -> tuple[Dossier, Any]:
    """:func:`load_visible`, and the columns ``also`` (a module's constant: the statement is kept per tuple) read
    by the same statement, as a row."""
    if user.role == Role.CITIZEN:
        query, params = _by_code("citizen", for_update, also), {"code": code, "user_id": user.id}
    elif user.role in STAFF_ROLES and user.agency_code is not None:
        query, params = _by_code("staff", for_update, also), {"code": code, "agency_code": user.agency_code}
    elif user.role in STAFF_ROLES:  # no agency: the condition as visibility_filter writes it (IS NULL)
        query = select(Dossier, *also).where(Dossier.code == code, visibility_filter(user))
        query, params = (query.with_for_update() if for_update else query), {}
    else:
        query, params = _by_code("all", for_update, also), {"code": code}
    row = session.exec(query, params=params).first()
    if row is None:
        raise NotFound(f"Không tìm thấy hồ sơ {code}.", code="DOSSIER_NOT_FOUND")
    if not also:
        return row, ()  # a select of one entity gives the entity itself
    return row[0], row[1:]
