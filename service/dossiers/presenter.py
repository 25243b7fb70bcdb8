"""Dossier representations (``DossierOut``), loading related rows in one query per table."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session

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


def _columns(model: Any, *names: str, order_by: tuple[str, ...] = ()) -> Any:
    """``SELECT names FROM model WHERE dossier_id IN :ids``, built once: the presenter reads plain rows (no ORM
    object per row; :func:`result_out`, :func:`postal_out` and ``DocumentOut`` read them by attribute)."""
    table = model.__table__
    return (sa_select(*(table.c[name] for name in names))
            .where(table.c.dossier_id.in_(bindparam("ids", expanding=True)))
            .order_by(*(table.c[name] for name in order_by)))


_DOCUMENTS = _columns(DossierDocument, "dossier_id", *DocumentOut.model_fields, "id", order_by=("id",))
_RESULTS = _columns(ResultDocument, "dossier_id", "code", "blob_sha256", "signed_by", "signed_at",
                    "certificate_serial")
_SHIPMENTS = _columns(Shipment, "dossier_id", "tracking_number", "status", "dispatched_at", "expected_by",
                      "delivered_at", "postage_vnd", "zone", "failed_at", "carrier_late", order_by=("id",))
_PROCEDURE_NAMES = sa_select(Procedure.__table__.c.id, Procedure.__table__.c.name).where(  # type: ignore[attr-defined]
    Procedure.__table__.c.id.in_(bindparam("ids", expanding=True)))  # type: ignore[attr-defined]
_USERNAMES = sa_select(User.__table__.c.id, User.__table__.c.username).where(  # type: ignore[attr-defined]
    User.__table__.c.id.in_(bindparam("ids", expanding=True)))  # type: ignore[attr-defined]


def present(session: Session, dossiers: Sequence[Dossier], *, now: datetime,
            due_soon_hours: float) -> list[DossierOut]:
    """Dossier representations, loading related rows in one query per table (no N+1; plain columns, no ORM
    objects); ``due_soon`` with at most ``due_soon_hours`` of working time left
    (``MOTCUA_DUE_SOON_WORKING_HOURS``)."""
    if not dossiers:
        return []
    ids = [d.id for d in dossiers]
    procedure_names = _names(session, _PROCEDURE_NAMES, {d.procedure_id for d in dossiers})
    # An assignee the request already holds (the caller, or the processor just assigned) is not read again.
    assignee_ids = {d.assignee_id for d in dossiers if d.assignee_id}
    assignees: dict[int, str] = {}
    for assignee_id in assignee_ids:
        held = session.identity_map.get(identity_key(User, assignee_id))
        if held is not None:
            assignees[assignee_id] = held.username
    assignees |= _names(session, _USERNAMES, assignee_ids - set(assignees))
    documents: dict[int, list[DocumentOut]] = {}
    for doc in session.execute(_DOCUMENTS, {"ids": ids}):
        documents.setdefault(doc.dossier_id, []).append(DocumentOut.model_validate(doc, from_attributes=True))
    results = {r.dossier_id: r for r in session.execute(_RESULTS, {"ids": ids})}
    shipments = {s.dossier_id: s for s in session.execute(_SHIPMENTS, {"ids": ids})}  # the last one of each
    calendars = {code: calendar_for(session, code) for code in {d.agency_code for d in dossiers}}
    steps = interagency.steps_by_dossier(session, [d.id for d in dossiers if d.current_step is not None])  # type: ignore[misc]
    return [_present_one(d, procedure_names[d.procedure_id],
                         assignees.get(d.assignee_id) if d.assignee_id else None,
                         documents.get(d.id, []), results.get(d.id), shipments.get(d.id), now,  # type: ignore[arg-type]
                         deadline_ahead(calendars[d.agency_code], now, status=d.status, due_at=d.due_at,
                                        threshold_hours=due_soon_hours),
                         steps.get(d.id))  # type: ignore[arg-type]
            for d in dossiers]


def _names(session: Session, statement: Any, ids: Collection[int | None]) -> dict[int, str]:
    """``id → name`` read by ``statement`` (:data:`_PROCEDURE_NAMES`, :data:`_USERNAMES`) for ``ids``."""
    if not ids:
        return {}
    return {row[0]: row[1] for row in session.execute(statement, {"ids": list(ids)})}


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
    return _present_one(dossier, procedure.name, None, documents, None, None, now, ahead, steps)


def steps_out(rows: list[DossierStep] | None, dossier: Dossier, now: datetime) -> list[StepOut] | None:
    """The inter-agency steps of a dossier (``None`` for a single-agency one)."""
    if not rows:
        return None
    return [StepOut(seq=r.seq, agency_code=r.agency_code,
                    share=ProcessingShare(value=r.share_value, unit=r.share_unit), started_at=r.started_at,
                    due_at=r.due_at, finished_at=r.finished_at, timeliness=r.timeliness,  # type: ignore[arg-type]
                    paused=r.paused_at is not None, overdue=interagency.step_is_overdue(r, now, dossier.status),
                    returned_for_correction=r.returned_for_correction) for r in rows]


def result_out(result: Any) -> ResultOut:
    """``result``: a ``ResultDocument`` or a row with its columns."""
    return ResultOut(code=result.code, sha256=result.blob_sha256, signed_by=result.signed_by,
                     signed_at=result.signed_at, certificate_serial=result.certificate_serial)


def postal_out(shipment: Any) -> PostalOut:
    """``shipment``: a ``Shipment`` or a row with its columns."""
    return PostalOut(tracking_number=shipment.tracking_number, status=shipment.status,
                     dispatched_at=shipment.dispatched_at, expected_by=shipment.expected_by,
                     delivered_at=shipment.delivered_at, postage_vnd=shipment.postage_vnd, zone=shipment.zone,
                     failed_at=shipment.failed_at, carrier_late=shipment.carrier_late)


def _present_one(d: Dossier, procedure_name: str, assignee: str | None, documents: list[DocumentOut],
                 result: Any, shipment: Any, now: datetime,
                 ahead: DeadlineAhead, steps: list[DossierStep] | None = None) -> DossierOut:
    status = Status(d.status)
    holder = steps[d.current_step - 1].agency_code if steps and d.current_step else d.agency_code
    return DossierOut(
        code=d.code,
        procedure_code=d.procedure_code,
        procedure_version=d.procedure_version,
        procedure_name=procedure_name,
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
