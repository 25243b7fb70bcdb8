"""The one-stop forms of Circular 03/2025/TT-VPCP: a dossier's documents, Mẫu 02/03/05/06 as signed PDFs, and
the desk's register (Mẫu 07) for a period as a signed PDF and as CSV."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from service.deps import ContextDep, NowDep, SessionDep, StaffUser, VisibleDossier
from service.operations import forms, pki, results
from service.routers.results import PDF_RESPONSES
from service.schemas.common import AGENCY_CODE_PATTERN, LocalDateTime, Problem
from service.signing.forms import REGISTER_COLUMNS, register_cells
from service.signing.pki import IssuedCertificate

router = APIRouter(tags=["forms"])

ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": Problem} for code in (401, 403, 404, 422)}
From = Annotated[date, Query(alias="from", description="First day of the period (local date, YYYY-MM-DD)")]
To = Annotated[date, Query(alias="to", description="Last day of the period, included (YYYY-MM-DD)")]
AgencyFilter = Annotated[str | None, Query(pattern=AGENCY_CODE_PATTERN, max_length=35,
                                           description="The desk's agency; staff may only ask for their own")]


class FormOut(BaseModel):
    form: str
    title: str
    issued_at: LocalDateTime
    href: str


@router.get("/dossiers/{code}/forms", responses=ERRORS, summary="List the dossier's signed documents (forms)")
def list_forms(dossier: VisibleDossier, session: SessionDep) -> list[FormOut]:
    """The dossier's documents, oldest first: the receipt (Mẫu 01), the supplement request (02), the refusal to
    receive (03), the apology letter (04), the notice to stop processing (05), the result, and the control slip
    (06), each with the path of its signed PDF. Same visibility as the dossier."""
    return [FormOut(form=e.form, title=e.title, issued_at=e.issued_at, href=e.href)
            for e in forms.forms_of(session, dossier)]


def _signed(context: Any, session: Any, issued: forms.Issued) -> bytes:
    settings = context.settings
    desk: IssuedCertificate = pki.on_demand(
        context.db, context.clock, session, lambda s: pki.find_signer(s, settings, pki.DESK, issued.agency_code),
        lambda s, now: pki.desk_signer(s, settings, issued.agency_code, now))
    return forms.sign(issued, desk)


def _pdf(content: bytes, filename: str) -> Response:
    return Response(content, media_type=results.PDF, headers={"Content-Disposition": f'inline; filename="{filename}"'})


@router.get("/dossiers/{code}/forms/{form}", response_class=Response, responses=PDF_RESPONSES,
            summary="Download a signed form (Mẫu 02, 03, 05 or 06)")
def get_form(dossier: VisibleDossier, form: Literal["02", "03", "05", "06"], session: SessionDep,
             context: ContextDep) -> Response:
    """Mẫu 02 (issued with ``request_supplement``), 03 (``reject``), 05 (``withdraw``) or 06 (the control
    slip), signed by the agency's one-stop desk at the time of issue. 404 ``FORM_NOT_ISSUED`` when the action
    never happened."""
    issued = (forms.control_slip(session, dossier, context.settings) if form == "06"
              else forms.notice(session, dossier, form, context.settings))
    return _pdf(_signed(context, session, issued), issued.filename)


@router.get("/register", response_class=Response, responses={**PDF_RESPONSES, **ERRORS},
            summary="Download the desk's register (Mẫu 07) as a signed PDF")
def get_register(user: StaffUser, session: SessionDep, now: NowDep, context: ContextDep, first: From, last: To,
                 agency_code: AgencyFilter = None) -> Response:
    """Mẫu 07 — Sổ theo dõi hồ sơ: every dossier the desk received in the period (local days, at most a year),
    in order of receipt, as a PDF signed by the desk. Staff get their own agency; an admin names one."""
    issued = forms.register(session, forms.register_desk(session, user, agency_code, first, last), first, last,
                            signer=user, now=now)
    return _pdf(_signed(context, session, issued), issued.filename)


@router.get("/register.csv", responses={**ERRORS, 200: {"content": {"text/csv": {}},
                                                        "description": "UTF-8 CSV with BOM"}},
             summary="Download the desk's register (Mẫu 07) as CSV")
def get_register_csv(user: StaffUser, session: SessionDep, first: From, last: To,
                     agency_code: AgencyFilter = None) -> Response:
    """The same register as CSV (UTF-8 with BOM, one header row with the form's Vietnamese column names)."""
    agency = forms.register_desk(session, user, agency_code, first, last)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REGISTER_COLUMNS)
    writer.writerows(register_cells(row) for row in forms.register_rows(session, agency, first, last))
    filename = f"so-theo-doi-ho-so_{agency}_{first.isoformat()}_{last.isoformat()}.csv"
    return Response(content="\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
