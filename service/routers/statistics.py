"""``/stats``: the processing report (JSON and CSV) and the Decision 766 service index."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from service.deps import NowDep, SessionDep, StaffUser
from service.domain import statistics as stats
from service.domain.statistics import GroupBy
from service.operations import statistics as ops
from service.schemas.common import AGENCY_CODE_PATTERN, IsoDate, Problem
from service.schemas.statistics import ProcessingReportOut, ServiceIndexOut

router = APIRouter(prefix="/stats", tags=["statistics"])

ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": Problem} for code in (401, 403, 404, 422)}
From = Annotated[IsoDate, Query(alias="from", description="First day of the period (local date, YYYY-MM-DD)")]
To = Annotated[IsoDate, Query(alias="to", description="Last day of the period, included (YYYY-MM-DD)")]
AgencyFilter = Annotated[str | None, Query(pattern=AGENCY_CODE_PATTERN, max_length=35,
                                           description="One agency; staff may only ask for their own")]
GroupByParam = Annotated[GroupBy, Query(description="One row per agency, procedure, local calendar month, "
                                                    "channel or service level")]


def _report_body(report: ops.ProcessingReport) -> ProcessingReportOut:
    window = report.window
    return ProcessingReportOut.model_validate({
        "from": window.first, "to": window.last, "as_of": window.as_of, "complete": window.complete,
        "agency_code": report.agency_code, "group_by": report.group_by,
        "rows": [{"key": r.key, "label": r.label, **r.counts.as_dict(), **(r.steps.as_dict() if r.steps else {})}
                 for r in report.rows],
        "total": {**report.total.as_dict(), **(report.step_total.as_dict() if report.step_total else {})},
        "merged": [asdict(m) for m in report.merged],
    })


@router.get("/processing", responses=ERRORS)
def processing(user: StaffUser, session: SessionDep, now: NowDep, first: From, last: To,
               agency_code: AgencyFilter = None, group_by: GroupByParam = "agency") -> ProcessingReportOut:
    """Receipt and resolution of dossiers in the period (Circular 01/2018/TT-VPCP Art. 11), computed as of the
    period end — or as of now while the period runs — from the dossiers' own history, so a past period's
    report never changes. Invariant on every row: received_total + carried_over = resolved_total +
    in_progress_total + paused + withdrawn. With ``group_by=month`` each row is one local calendar month,
    reported as of its own end, and the total is the whole period."""
    report = ops.processing_report(session, user=user, first=first, last=last, agency_code=agency_code,
                                   group_by=group_by, now=now)
    return _report_body(report)


@router.get("/processing.csv", responses={**ERRORS, 200: {"content": {"text/csv": {}},
                                                          "description": "UTF-8 CSV with BOM"}})
def processing_csv(user: StaffUser, session: SessionDep, now: NowDep, first: From, last: To,
                   agency_code: AgencyFilter = None, group_by: GroupByParam = "agency") -> Response:
    """The same report as CSV: UTF-8 with BOM, one header row with the report form's Vietnamese column names,
    one row per group and a final total row (Tổng cộng)."""
    report = ops.processing_report(session, user=user, first=first, last=last, agency_code=agency_code,
                                   group_by=group_by, now=now)
    text = stats.render_csv(group_by, [(r.key, r.label, r.counts) for r in report.rows], report.total)
    filename = f"thong-ke-giai-quyet-ho-so_{first.isoformat()}_{last.isoformat()}.csv"
    return Response(content="\ufeff" + text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/index", responses=ERRORS)
def service_index(user: StaffUser, session: SessionDep, now: NowDep, first: From, last: To,
                  agency_code: AgencyFilter = None) -> ServiceIndexOut:
    """The Decision 766/QĐ-TTg service index (0–100) for the period: each group with its indicators' values,
    points, thresholds and formulas; indicators the data cannot support are listed as not assessed, and the
    sub-weights the decision does not publish are stated in ``assumptions``."""
    window, scope, body = ops.service_index(session, user=user, first=first, last=last,
                                            agency_code=agency_code, now=now)
    return ServiceIndexOut.model_validate({
        "from": window.first, "to": window.last, "as_of": window.as_of, "complete": window.complete,
        "agency_code": scope, **body,
    })
