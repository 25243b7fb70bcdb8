"""Reading dossiers: the filtered list (keyset-paginated), counts by status, the public lookup."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from service.domain import lifecycle
from service.domain.lifecycle import Status
from service.domain.roles import Role
from service.dossiers.submission import secret_hash
from service.dossiers.visibility import visibility_filter
from service.errors import NotFound
from service.models import Dossier, Procedure, User
from service.pagination import keyset_page
from service.schemas.dossiers import PublicDossier


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


def list_page(session: Session, *, user: User, filters: DossierFilter, now: datetime, limit: int,
              cursor: str | None) -> tuple[list[Dossier], str | None]:
    """Newest first, keyset-paginated on the primary key: each page is one index range scan, no OFFSET, no count."""
    query = select(Dossier).where(visibility_filter(user))
    if filters.status:
        query = query.where(Dossier.status == filters.status)
    if filters.procedure_code:
        query = query.where(Dossier.procedure_code == filters.procedure_code)
    if filters.agency_code:
        query = query.where(Dossier.agency_code == filters.agency_code)
    if filters.channel:
        query = query.where(Dossier.channel == filters.channel)
    if filters.overdue is not None:
        condition = overdue_condition(now)
        query = query.where(condition if filters.overdue else ~condition)
    if filters.received_from:
        query = query.where(col(Dossier.received_at) >= filters.received_from)
    if filters.received_to:
        query = query.where(col(Dossier.received_at) < filters.received_to)
    if filters.applicant_national_id and user.role != Role.CITIZEN:
        query = query.where(Dossier.applicant_national_id == filters.applicant_national_id)
    return keyset_page(session, query, list_name="dossiers", keys=[col(Dossier.id)], limit=limit, cursor=cursor,
                       descending=True)


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
