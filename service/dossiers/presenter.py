"""Dossier representations (``DossierOut``), reading what they need of other tables in one statement."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, bindparam, func, literal_column
from sqlalchemy import select as sa_select
from sqlmodel import Session

from service.db import stored_in_utc
from service.domain import lifecycle
from service.domain.deadlines_ahead import DeadlineAhead, deadline_ahead
from service.domain.lifecycle import Status
from service.dossiers.persist import state_of
from service.models import Dossier, DossierDocument, DossierStep, Procedure, ResultDocument, Shipment, User
from service.operations import interagency
from service.operations.calendars import calendar_for
from service.operations.reference import AnyProcedure
from service.schemas.dossiers import (
    Applicant,
    DocumentOut,
    DossierOut,
    PostalOut,
    ProcessingShare,
    ResultOut,
    StepOut,
)

_DOSSIERS = Dossier.__table__  # type: ignore[attr-defined]
_PAPER_TABLE = DossierDocument.__table__  # type: ignore[attr-defined]
_PAPER_FIELDS = ("id", *DocumentOut.model_fields)
_SHIPMENT_TABLE = Shipment.__table__  # type: ignore[attr-defined]
_RESULT_TABLE = ResultDocument.__table__  # type: ignore[attr-defined]
_EARLIER_SHIPMENT = _SHIPMENT_TABLE.alias("earlier_shipment")
_LAST_SHIPMENT_ID = (sa_select(func.max(_EARLIER_SHIPMENT.c.id))
                     .where(_EARLIER_SHIPMENT.c.dossier_id == _DOSSIERS.c.id)
                     .correlate(_DOSSIERS).scalar_subquery())


def _papers_json(dialect: str) -> Any:
    """The dossier's papers as one JSON array of objects (``_PAPER_FIELDS``), a correlated sub-query of
    :data:`_RELATED` (a SELECT of its own cost more CPU in SQLAlchemy and the driver than its rows): SQLite's
    ``json_group_array``, PostgreSQL's ``json_agg`` (``NULL`` for none)."""
    build, gather = (func.json_object, func.json_group_array) if dialect == "sqlite" else \
        (func.json_build_object, func.json_agg)
    fields: list[Any] = []
    for name in _PAPER_FIELDS:
        fields += (literal_column(f"'{name}'"), _PAPER_TABLE.c[name])
    return (sa_select(gather(build(*fields), type_=JSON))
            .where(_PAPER_TABLE.c.dossier_id == _DOSSIERS.c.id)
            .correlate(_DOSSIERS).scalar_subquery().label("papers"))


_RELATED = {dialect: (
    sa_select(_DOSSIERS.c.id.label("dossier_id"), _papers_json(dialect),
              Procedure.__table__.c.name.label("procedure_name"),  # type: ignore[attr-defined]
              User.__table__.c.username.label("assignee"),  # type: ignore[attr-defined]
              _RESULT_TABLE.c.code, _RESULT_TABLE.c.blob_sha256, _RESULT_TABLE.c.signed_by,
              _RESULT_TABLE.c.signed_at, _RESULT_TABLE.c.certificate_serial,
              _SHIPMENT_TABLE.c.tracking_number, _SHIPMENT_TABLE.c.status,
              _SHIPMENT_TABLE.c.dispatched_at, _SHIPMENT_TABLE.c.expected_by, _SHIPMENT_TABLE.c.delivered_at,
              _SHIPMENT_TABLE.c.postage_vnd, _SHIPMENT_TABLE.c.zone, _SHIPMENT_TABLE.c.failed_at,
              _SHIPMENT_TABLE.c.carrier_late)
    .select_from(_DOSSIERS
                 .join(Procedure.__table__,  # type: ignore[attr-defined]
                       Procedure.__table__.c.id == _DOSSIERS.c.procedure_id)  # type: ignore[attr-defined]
                 .outerjoin(User.__table__, User.__table__.c.id == _DOSSIERS.c.assignee_id)  # type: ignore[attr-defined]
                 .outerjoin(_RESULT_TABLE, _RESULT_TABLE.c.dossier_id == _DOSSIERS.c.id)
                 .outerjoin(_SHIPMENT_TABLE, _SHIPMENT_TABLE.c.id == _LAST_SHIPMENT_ID))
    .where(_DOSSIERS.c.id.in_(bindparam("ids", expanding=True)))) for dialect in ("sqlite", "postgresql")}
"""Per dossier, in one statement (per dialect): its papers, its procedure's name, its assignee's username, its
result and its last shipment (six SELECTs before: each costs more CPU in SQLAlchemy and the driver than the rows
it reads). The result's and the shipment's columns keep their names (none is in both), so :func:`result_out` and
:func:`postal_out` read the row."""


def _papers_out(papers: list[dict[str, Any]] | None) -> list[DocumentOut]:
    """:func:`_papers_json`'s array as the representation's papers, in the order they were declared (their
    ids). An instant comes as JSON text (SQLite: the stored UTC text; PostgreSQL: ISO 8601 with its offset)."""
    return [DocumentOut(code=p["code"], name=p["name"], filename=p["filename"], content_type=p["content_type"],
                        size_bytes=p["size_bytes"], sha256=p["sha256"],
                        uploaded_at=_instant(p["uploaded_at"]))
            for p in sorted(papers or (), key=itemgetter("id"))]


def _instant(text: str | None) -> datetime | None:
    return None if text is None else stored_in_utc(datetime.fromisoformat(text))


def present(session: Session, dossiers: Sequence[Dossier], *, now: datetime,
            due_soon_hours: float) -> list[DossierOut]:
    """Dossier representations, loading related rows in one statement whatever their number (no N+1; plain
    columns, no ORM objects): one row per dossier (:data:`_RELATED`); ``due_soon`` with at most
    ``due_soon_hours`` of working time left (``MOTCUA_DUE_SOON_WORKING_HOURS``)."""
    if not dossiers:
        return []
    ids = [d.id for d in dossiers]
    if session.autoflush:
        session.flush()  # what the first session.execute did: the reads below see this transaction's changes
    connection = session.connection()
    related = {row.dossier_id: row for row in connection.execute(_RELATED[connection.dialect.name], {"ids": ids})}
    calendars = {code: calendar_for(session, code) for code in {d.agency_code for d in dossiers}}
    steps = interagency.steps_by_dossier(session, [d.id for d in dossiers if d.current_step is not None])  # type: ignore[misc]
    views = []
    for d in dossiers:
        assert d.id is not None
        row = related[d.id]
        views.append(_present_one(
            d, row.procedure_name, row.assignee if d.assignee_id else None, _papers_out(row.papers),
            result_out(row) if row.code is not None else None,
            postal_out(row) if row.tracking_number is not None else None, now,
            deadline_ahead(calendars[d.agency_code], now, status=d.status, due_at=d.due_at,
                           threshold_hours=due_soon_hours),
            steps.get(d.id)))
    return views


def present_lodged(session: Session, dossier: Dossier, procedure: AnyProcedure, papers: Sequence[tuple[str, str]], *,
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
                 result: ResultOut | None, shipment: PostalOut | None, now: datetime,
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
        result=result,
        postal=shipment,
    )
