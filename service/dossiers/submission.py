"""Lodging a dossier (``POST /dossiers``): the checks of Decree 61/2018 Arts. 15–17 (and Decision 45/2016 for
post), the new row, its papers, and its first control-slip rows through :func:`service.dossiers.persist.persist`.

Online dossiers wait for the desk (``submitted``); counter and postal ones are received on the spot, their clock
starting now (for post: at the hand-over record, Decision 45/2016 Art. 7(4)), and the slip shows both steps.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert
from sqlmodel import Session, col, select

from service.domain import lifecycle, postal
from service.domain.calendar import WorkingCalendar
from service.domain.lifecycle import DossierState, Status
from service.domain.names import fold_name
from service.domain.roles import Role
from service.domain.submission import DocumentRequirement, ProcedureTerms, check_channel_for_role, check_submission
from service.dossiers.numbering import next_code
from service.dossiers.persist import Change, NewDossier, NewDossierWriter, persist, state_of
from service.errors import Unprocessable
from service.models import Dossier, DossierDocument, User
from service.operations import catalogue, interagency, tracking
from service.operations.calendars import calendar_for
from service.operations.reference import AnyProcedure
from service.schemas.dossiers import Applicant, DossierIn

_PAPER_INSERT = insert(DossierDocument.__table__).inline()  # type: ignore[attr-defined]
"""The papers declared with a submission (``inline()``: their ids are not asked for back)."""
_VERIFIED_CITIZEN = select(User.id).where(User.national_id == bindparam("national_id"), User.role == Role.CITIZEN,
                                          col(User.identity_verified).is_(True))
"""The citizen account a desk's applicant is linked to (built once, read as a column on the connection)."""
CHANNEL_LABEL = {"online": "trực tuyến", "counter": "trực tiếp tại Bộ phận Một cửa",
                 "postal": "qua dịch vụ bưu chính công ích"}


@dataclass(frozen=True)
class Submitted:
    dossier: Dossier
    """The new row's columns as stored, a :class:`~service.dossiers.persist.NewDossier` (not an ORM object: read
    the dossier through the session to change it)."""
    tracking_secret: str
    procedure: AnyProcedure
    papers: list[tuple[str, str]]
    """``(code, name)`` of the papers declared with it."""


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def submit(session: Session, *, user: User, data: DossierIn, now: datetime,
           secret_key: str | None = None) -> Submitted:
    """Lodge a dossier (see the module docstring). Never commits. With ``secret_key`` the tracking secret is
    derived from the code (:func:`service.operations.tracking.tracking_secret`, so the receipt's QR code can
    carry it); without, it is random."""
    procedure = catalogue.current_version(session, data.procedure_code)
    desk = interagency.receiving_desk(session, procedure, user, now)
    handover = check_lodging(procedure, user, data, now, desk=desk)
    applicant_user_id, applicant = applicant_of(user, data, lambda national_id: session.connection().execute(
        _VERIFIED_CITIZEN, {"national_id": national_id}).scalar())
    code = next_code(session, procedure.agency_code, now)
    secret = tracking.tracking_secret(secret_key, code) if secret_key else secrets.token_urlsafe(18)
    # The row is held as plain attributes (:class:`NewDossier`) and inserted once its first changes are applied.
    record = NewDossier({"code": code, "tracking_secret_hash": secret_hash(secret),
                         **lodged_values(procedure, user, data, applicant_user_id=applicant_user_id,
                                         applicant=applicant, now=now, received_by=desk)})
    dossier = record.as_row()
    writer = NewDossierWriter(session)
    changes = lodging_changes(user.username, user.role, data.channel, state_of(dossier), handover, code=dossier.code,
                              now=now, calendar=calendar_for(session, dossier.agency_code))
    steps = interagency.plan_steps(session, procedure, now) if data.channel != "online" else None
    if steps is not None:  # received on the spot: an inter-agency dossier's first step starts now
        dossier.current_step = steps.current
        changes[-1] = replace(changes[-1], data={**changes[-1].data, **steps.data})
    for change in changes:
        persist(writer, dossier, change)
    dossier_id = writer.finish(record)
    if steps is not None:
        interagency.store_steps(session, dossier_id, steps, now)
    papers = documents_of(procedure, data)
    if papers:  # one INSERT for all (Core on the connection: no ORM object per paper, no flush)
        session.connection().execute(_PAPER_INSERT, [
            {"dossier_id": dossier_id, "code": code, "name": name, "created_at": now} for code, name in papers])
    return Submitted(dossier, secret, procedure, papers)


def check_lodging(procedure: AnyProcedure, user: User, data: DossierIn, now: datetime, *,
                  desk: str | None = None) -> dict[str, Any] | None:
    """The submission rules (Decree 61/2018 Art. 15–17, Decision 45/2016 for post): who may use the channel,
    the receiver's own agency (or ``desk``, the receiving desk already admitted by
    :func:`~service.operations.interagency.receiving_desk`), the procedure's terms and papers. Returns the postal
    hand-over record, if any."""
    check_channel_for_role(user.role, data.channel)
    if user.role == Role.RECEIVER and user.agency_code not in {procedure.agency_code, desk}:
        raise Unprocessable("Thủ tục không thuộc thẩm quyền tiếp nhận của đơn vị bạn.",
                            code="PROCEDURE_OUTSIDE_AGENCY")
    terms = ProcedureTerms(
        service_level=procedure.service_level,
        postal_allowed=procedure.postal_allowed,
        documents=[DocumentRequirement(d["code"], d["name"], bool(d.get("mandatory", True)))
                   for d in procedure.required_documents],
    )
    check_submission(terms, channel=data.channel, result_delivery=data.result_delivery,
                     delivery_address=data.delivery_address, document_codes=[d.code for d in data.documents])
    return None if data.postal_handover is None else postal.handover_record(
        data.channel, data.postal_handover.receipt_number, data.postal_handover.posted_at, handed_over_at=now)


def applicant_of(user: User, data: DossierIn,
                 find_citizen: Callable[[str], int | None]) -> tuple[int | None, Applicant]:
    """The applicant and their account: a citizen lodges for themselves; a desk officer declares the applicant,
    linked to a citizen account with the same national id when there is an identity-verified one
    (``find_citizen`` finds only those: contract v2, Identity)."""
    if user.role == Role.CITIZEN:
        if data.applicant and data.applicant.national_id != user.national_id:
            raise Unprocessable("Công dân chỉ nộp hồ sơ cho chính mình.", code="APPLICANT_MISMATCH")
        extra = data.applicant
        return user.id, Applicant(
            national_id=user.national_id or user.username, full_name=user.full_name,
            phone=(extra.phone if extra and extra.phone else user.phone), address=extra.address if extra else None)
    if data.applicant is None:
        raise Unprocessable("Cần khai báo người nộp hồ sơ (applicant).", code="APPLICANT_REQUIRED")
    return find_citizen(data.applicant.national_id), Applicant.model_validate(data.applicant.model_dump())


def lodged_values(procedure: AnyProcedure, user: User, data: DossierIn, *, applicant_user_id: int | None,
                  applicant: Applicant, now: datetime, received_by: str | None = None) -> dict[str, Any]:
    """A new dossier's columns (all but ``id``, ``code`` and ``tracking_secret_hash``), status ``submitted``;
    ``received_by`` is the desk that lodged it (default: the competent agency's)."""
    return {
        "procedure_id": procedure.id, "procedure_code": procedure.code, "procedure_version": procedure.version,
        "agency_code": procedure.agency_code, "received_by_agency_code": received_by or procedure.agency_code,
        "channel": data.channel, "result_delivery": data.result_delivery,
        "delivery_address": data.delivery_address, "status": Status.SUBMITTED.value,
        "applicant_user_id": applicant_user_id, "applicant_national_id": applicant.national_id,
        "applicant_full_name": applicant.full_name, "applicant_name_normalised": fold_name(applicant.full_name),
        "applicant_phone": applicant.phone,
        "applicant_address": applicant.address, "submitted_at": now, "fee_vnd": procedure.fee_vnd,
        "assisted": data.assisted, "digitised": False, "processing_value": procedure.processing_value,
        "processing_unit": procedure.processing_unit, "supplement_policy": procedure.supplement_policy,
        "service_level": procedure.service_level, "created_by_id": user.id, "created_at": now, "updated_at": now,
    }


def documents_of(procedure: AnyProcedure, data: DossierIn) -> list[tuple[str, str]]:
    """``(code, name)`` of the papers declared with the submission, named as in the procedure."""
    names = {d["code"]: d["name"] for d in procedure.required_documents}
    return [(ref.code, names[ref.code]) for ref in data.documents]


def submit_note(channel: str) -> str:
    return f"Nộp hồ sơ {CHANNEL_LABEL[channel]}"


def receipt_note(handover: dict[str, Any] | None) -> tuple[str, dict[str, Any] | None]:
    """The note and data of the ``receive`` row: Mẫu 01 issued (Circular 01/2018/TT-VPCP), and for post the
    hand-over record (Decision 45/2016 Art. 7(4))."""
    if handover is None:
        return "Tiếp nhận hồ sơ, cấp Giấy tiếp nhận (Mẫu 01)", None
    return (f"Tiếp nhận hồ sơ, cấp Giấy tiếp nhận (Mẫu 01); Biên bản giao nhận số {handover['receipt_number']}",
            {"postal_handover": handover})


def lodging_changes(actor: str, actor_role: str, channel: str, state: DossierState,
                    handover: dict[str, Any] | None, *, code: str, now: datetime,
                    calendar: WorkingCalendar) -> list[Change]:
    """The first slip rows of a new dossier ``code`` (``state``: as lodged, ``submitted``): ``submit``, and for
    the counter and post the receipt on the spot (:func:`service.domain.lifecycle.start_clock`) with its notice
    (Mẫu 01)."""
    changes = [Change(action="submit", actor=actor, actor_role=actor_role, from_status=None, at=now,
                      state=state, note=submit_note(channel), bump_version=False)]
    if channel != "online":
        note, receipt_data = receipt_note(handover)
        received = lifecycle.start_clock(state, now=now, calendar=calendar)
        changes.append(Change(action="receive", actor=actor, actor_role=actor_role,
                              from_status=Status.SUBMITTED.value, at=now, state=received, note=note,
                              data=receipt_data or {}, bump_version=False,
                              notices=(lifecycle.receipt_notice(code, received.received_at, received.due_at),)))
    return changes
