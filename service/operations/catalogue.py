"""The procedure catalogue: effective-dated versions, text search, keyset pagination."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from sqlmodel import Session, col, select

from service.errors import Conflict, NotFound
from service.models import Procedure
from service.operations import reference
from service.operations.accounts import get_agency
from service.operations.reference import AnyProcedure, ProcedureVersion
from service.pagination import keyset_page
from service.schemas.catalogue import ProcedureIn, ProcedureOut


def fold(text: str) -> str:
    """Lower-case and strip Vietnamese diacritics, so "khai sinh" finds "Đăng ký khai sinh"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn").lower()


def procedure_not_found(code: str) -> NotFound:
    return NotFound(f"Không tìm thấy thủ tục hành chính có mã {code}.", code="PROCEDURE_NOT_FOUND")


def current_version(session: Session, code: str) -> ProcedureVersion:
    """The version in force, kept across requests (:mod:`service.operations.reference`): a detached, immutable
    copy of its row."""
    procedure = reference.procedure_in_force(session, code)
    if procedure is None:
        raise procedure_not_found(code)
    return procedure


def _row(data: ProcedureIn, *, version: int, now: datetime) -> Procedure:
    return Procedure(
        code=data.code,
        version=version,
        name=data.name,
        field=data.field,
        agency_code=data.agency_code,
        service_level=data.service_level,
        processing_value=data.processing_time.value,
        processing_unit=data.processing_time.unit,
        fee_vnd=data.fee_vnd,
        postal_allowed=data.postal_allowed,
        required_documents=[doc.model_dump() for doc in data.required_documents],
        supplement_policy=data.supplement_policy,
        legal_basis=data.legal_basis,
        anywhere_in_province=data.anywhere_in_province,
        steps=[step.model_dump() for step in data.steps] if data.steps is not None else None,
        search_text=fold(f"{data.code} {data.name} {data.field or ''}")[:2000],
        effective_from=now,
    )


def _check_steps(session: Session, data: ProcedureIn) -> None:
    from service.domain.steps import StepShare
    from service.operations.interagency import check_procedure_steps

    shares = None if data.steps is None else [StepShare(s.agency_code, s.value) for s in data.steps]
    check_procedure_steps(session, agency_code=data.agency_code, value=data.processing_time.value,
                          unit=data.processing_time.unit, steps=shares)


def create_procedure(session: Session, data: ProcedureIn, *, now: datetime) -> Procedure:
    get_agency(session, data.agency_code)
    _check_steps(session, data)
    if session.exec(select(Procedure.id).where(Procedure.code == data.code)).first() is not None:
        raise Conflict(f"Thủ tục {data.code} đã tồn tại; dùng PUT để tạo phiên bản mới.",
                       code="PROCEDURE_EXISTS")
    procedure = _row(data, version=1, now=now)
    session.add(procedure)
    session.flush()
    reference.changed(session)
    return procedure


def publish_new_version(session: Session, code: str, data: ProcedureIn, *, now: datetime) -> Procedure:
    """Close the version in force and open a new one. Existing dossiers keep the version they were created under."""
    current = session.exec(
        select(Procedure)
        .where(Procedure.code == code, col(Procedure.superseded_at).is_(None))
        .with_for_update()
    ).first()
    if current is None:
        raise procedure_not_found(code)
    get_agency(session, data.agency_code)
    _check_steps(session, data)
    current.superseded_at = now
    session.add(current)
    session.flush()
    procedure = _row(data.model_copy(update={"code": code}), version=current.version + 1, now=now)
    session.add(procedure)
    session.flush()
    reference.changed(session)
    return procedure


def search(
    session: Session, *, q: str | None, service_level: int | None, agency_code: str | None,
    limit: int, cursor: str | None,
) -> tuple[list[Procedure], str | None]:
    query = select(Procedure).where(col(Procedure.superseded_at).is_(None))
    if q:
        for word in fold(q).split():
            query = query.where(col(Procedure.search_text).contains(word, autoescape=True))
    if service_level is not None:
        query = query.where(Procedure.service_level == service_level)
    if agency_code:
        query = query.where(Procedure.agency_code == agency_code)
    return keyset_page(session, query, list_name="procedures", keys=[col(Procedure.code)], limit=limit,
                       cursor=cursor)


def to_public(procedure: AnyProcedure) -> ProcedureOut:
    return ProcedureOut.model_validate(
        {
            "code": procedure.code,
            "version": procedure.version,
            "name": procedure.name,
            "field": procedure.field,
            "agency_code": procedure.agency_code,
            "service_level": procedure.service_level,
            "processing_time": {"value": procedure.processing_value, "unit": procedure.processing_unit},
            "fee_vnd": procedure.fee_vnd,
            "postal_allowed": procedure.postal_allowed,
            "required_documents": reference.thawed(procedure.required_documents),
            "supplement_policy": procedure.supplement_policy,
            "legal_basis": procedure.legal_basis,
            "anywhere_in_province": procedure.anywhere_in_province,
            "steps": reference.thawed(procedure.steps),
            "effective_from": procedure.effective_from,
        }
    )
