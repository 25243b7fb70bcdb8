"""Who sees which dossier: citizens their own, staff their agency's (and those their desk lodged, or one of
whose inter-agency steps their agency has held: :func:`service.operations.interagency.staff_visibility`), admins
all. A dossier the caller may not see is the same 404 as one that does not exist (the contract: never leak
existence)."""

from __future__ import annotations

from typing import Any

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


def load_visible(session: Session, user: User, code: str, *, for_update: bool = False) -> Dossier:
    """The dossier ``code`` if ``user`` may see it (locked for update when asked), else 404
    ``DOSSIER_NOT_FOUND``."""
    query = select(Dossier).where(Dossier.code == code, visibility_filter(user))
    if for_update:
        query = query.with_for_update()
    dossier = session.exec(query).first()
    if dossier is None:
        raise NotFound(f"Không tìm thấy hồ sơ {code}.", code="DOSSIER_NOT_FOUND")
    return dossier
