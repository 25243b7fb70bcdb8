"""Dossier representations (``DossierOut``), loading related rows in one query per table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from service.domain import lifecycle
from service.domain.deadlines_ahead import DeadlineAhead, deadline_ahead
from service.domain.lifecycle import Status
from service.dossiers.persist import state_of
from service.models import Dossier, DossierDocument, DossierStep, Procedure, ResultDocument, Shipment, User
from service.operations import interagency
from service.operations.calendars import calendar_for
from service.schemas.dossiers import (
    Applicant,
    DocumentOut,
    DossierOut,
    PostalOut,
    ProcessingShare,
    ResultOut,
    StepOut,
)


def present(session: Session, dossiers: Sequence[Dossier], *, now: datetime, due_soon_hours: float,
            procedures: Sequence[Procedure] = ()) -> list[DossierOut]:
    """Dossier representations, loading related rows in one query per table (no N+1); ``due_soon`` with at most
    ``due_soon_hours`` of working time left (``MOTCUA_DUE_SOON_WORKING_HOURS``). ``procedures``: versions the
    caller already holds (not read again)."""
    if not dossiers:
        return []
    ids = [d.id for d in dossiers]
    held = {p.id: p for p in procedures}
    procedures_by_id = held | _by_id(session, Procedure, {d.procedure_id for d in dossiers} - set(held))
    assignees = {i: u.username for i, u in _by_id(session, User, {d.assignee_id for d in dossiers
                                                                   if d.assignee_id}).items()}
    documents: dict[int, list[DossierDocument]] = {}
    for doc in session.exec(select(DossierDocument).where(col(DossierDocument.dossier_id).in_(ids))
                            .order_by(col(DossierDocument.id))):
        documents.setdefault(doc.dossier_id, []).append(doc)
    results = {r.dossier_id: r for r in session.exec(
        select(ResultDocument).where(col(ResultDocument.dossier_id).in_(ids)))}
    shipments: dict[int, Shipment] = {}
    for shipment in session.exec(select(Shipment).where(col(Shipment.dossier_id).in_(ids))
                                 .order_by(col(Shipment.id))):
        shipments[shipment.dossier_id] = shipment
    calendars = {code: calendar_for(session, code) for code in {d.agency_code for d in dossiers}}
    steps = interagency.steps_by_dossier(session, [d.id for d in dossiers if d.current_step is not None])  # type: ignore[misc]
    return [_present_one(d, procedures_by_id[d.procedure_id], assignees.get(d.assignee_id) if d.assignee_id else None,
                         [DocumentOut.model_validate(doc, from_attributes=True) for doc in documents.get(d.id, [])],  # type: ignore[arg-type]
                         results.get(d.id), shipments.get(d.id), now,  # type: ignore[arg-type]
                         deadline_ahead(calendars[d.agency_code], now, status=d.status, due_at=d.due_at,
                                        threshold_hours=due_soon_hours),
                         steps.get(d.id))  # type: ignore[arg-type]
            for d in dossiers]


def present_lodged(session: Session, dossier: Dossier, procedure: Procedure, papers: Sequence[tuple[str, str]], *,
                   now: datetime, due_soon_hours: float) -> DossierOut:
    """The representation of a dossier lodged in this transaction, without reading back what the submission
    just wrote: its papers are ``papers`` (``(code, name)``, nothing uploaded yet), it has no result, no shipment
    and no assignee; only an inter-agency dossier's steps are read."""
    assert dossier.id is not None
    steps = interagency.steps_by_dossier(session, [dossier.id]).get(dossier.id) \
        if dossier.current_step is not None else None
    documents = [DocumentOut(code=code, name=name, filename=None, content_type=None, size_bytes=None, sha256=None,
                             uploaded_at=None) for code, name in papers]
    ahead = deadline_ahead(calendar_for(session, dossier.agency_code), now, status=dossier.status,
                           due_at=dossier.due_at, threshold_hours=due_soon_hours)
    return _present_one(dossier, procedure, None, documents, None, None, now, ahead, steps)


def _by_id(session: Session, model: Any, ids: set[int]) -> dict[int, Any]:
    """Rows of ``model`` by id (one row through the session's identity map: no query while the request still
    holds it), more in one query."""
    if len(ids) == 1:
        (only,) = ids
        row = session.get(model, only)
        return {only: row} if row is not None else {}
    return {row.id: row for row in session.exec(select(model).where(col(model.id).in_(ids)))} if ids else {}


def steps_out(rows: list[DossierStep] | None, dossier: Dossier, now: datetime) -> list[StepOut] | None:
    """The inter-agency steps of a dossier (``None`` for a single-agency one)."""
    if not rows:
        return None
    return [StepOut(seq=r.seq, agency_code=r.agency_code,
                    share=ProcessingShare(value=r.share_value, unit=r.share_unit), started_at=r.started_at,
                    due_at=r.due_at, finished_at=r.finished_at, timeliness=r.timeliness,  # type: ignore[arg-type]
                    paused=r.paused_at is not None, overdue=interagency.step_is_overdue(r, now, dossier.status),
                    returned_for_correction=r.returned_for_correction) for r in rows]


def result_out(result: ResultDocument) -> ResultOut:
    return ResultOut(code=result.code, sha256=result.blob_sha256, signed_by=result.signed_by,
                     signed_at=result.signed_at, certificate_serial=result.certificate_serial)


def postal_out(shipment: Shipment) -> PostalOut:
    return PostalOut(tracking_number=shipment.tracking_number, status=shipment.status,
                     dispatched_at=shipment.dispatched_at, expected_by=shipment.expected_by,
                     delivered_at=shipment.delivered_at, postage_vnd=shipment.postage_vnd, zone=shipment.zone,
                     failed_at=shipment.failed_at, carrier_late=shipment.carrier_late)


def _present_one(d: Dossier, procedure: Procedure, assignee: str | None, documents: list[DocumentOut],
                 result: ResultDocument | None, shipment: Shipment | None, now: datetime,
                 ahead: DeadlineAhead, steps: list[DossierStep] | None = None) -> DossierOut:
    status = Status(d.status)
    holder = steps[d.current_step - 1].agency_code if steps and d.current_step else d.agency_code
    return DossierOut(
        code=d.code,
        procedure_code=d.procedure_code,
        procedure_version=d.procedure_version,
        procedure_name=procedure.name,
        agency_code=d.agency_code,
        received_by_agency_code=d.received_by_agency_code or d.agency_code,
        rule_set=d.rule_set,
        current_step=d.current_step,
        holding_agency_code=holder,
        steps=steps_out(steps, d, now),
        channel=d.channel,  # type: ignore[arg-type]
        result_delivery=d.result_delivery,  # type: ignore[arg-type]
        delivery_address=d.delivery_address,
        status=status.value,
        status_label=lifecycle.STATUS_LABEL[status],
        national_status_code=lifecycle.NATIONAL_STATUS_CODE[status],
        applicant=Applicant(national_id=d.applicant_national_id, full_name=d.applicant_full_name,
                            phone=d.applicant_phone, address=d.applicant_address),
        submitted_at=d.submitted_at,
        received_at=d.received_at,
        due_at=d.due_at,
        original_due_at=d.original_due_at,
        finished_at=d.finished_at,
        returned_at=d.returned_at,
        timeliness=d.timeliness,  # type: ignore[arg-type]
        overdue=lifecycle.is_overdue(state_of(d), now),
        due_soon=ahead.due_soon,
        working_hours_left=ahead.working_hours_left,
        supplement_count=d.supplement_count,
        extension_count=d.extension_count,
        fee_vnd=d.fee_vnd,
        paid=d.paid,
        assisted=d.assisted,
        assignee=assignee,
        documents=documents,
        version=d.version,
        result=result_out(result) if result else None,
        postal=postal_out(shipment) if shipment else None,
    )
