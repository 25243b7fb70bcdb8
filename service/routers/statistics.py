"""``/stats``: the processing report (JSON, CSV and XLSX), the service index and the ranking."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from service.deps import NowDep, SessionDep, StaffUser
from service.domain import statistics as stats
from service.domain.service_index import DEFAULT_SCHEME, Scheme
from service.domain.statistics import GroupBy, Period, PeriodKind
from service.errors import Unprocessable
from service.operations import statistics as ops
from service.schemas.common import AGENCY_CODE_PATTERN, IsoDate, Problem
from service.schemas.statistics import ProcessingReportOut, RankingOut, ServiceIndexOut
from service.spreadsheets import XLSX_MEDIA_TYPE, render_xlsx

router = APIRouter(prefix="/stats", tags=["statistics"])

ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": Problem} for code in (401, 403, 404, 422)}
RANGE = f"years {stats.FIRST_YEAR}–{stats.LAST_YEAR}, else 422 DATE_OUT_OF_RANGE"
AgencyFilter = Annotated[str | None, Query(pattern=AGENCY_CODE_PATTERN, max_length=35,
                                           description="One agency; staff may only ask for their own")]
GroupByParam = Annotated[GroupBy, Query(description="One row per agency, procedure, local calendar month, "
                                                    "channel or service level")]
SchemeParam = Annotated[Scheme, Query(description="`portal-2025`: the six groups the National Public Service "
                                                  "Portal scores (default); `qd766-2022`: the five groups of "
                                                  "Decision 766/QĐ-TTg")]


def reporting_period(
    first: Annotated[IsoDate | None, Query(alias="from", description=f"First day of the period ({RANGE})")] = None,
    last: Annotated[IsoDate | None, Query(alias="to", description=f"Last day of the period, included ({RANGE})")]
    = None,
    period: Annotated[PeriodKind | None, Query(description="Instead of from/to: a calendar month, quarter or "
                                                           "year, with `year` and `month` or `quarter`")] = None,
    year: Annotated[int | None, Query(description=f"With `period` ({RANGE})")] = None,
    quarter: Annotated[int | None, Query(description="With `period=quarter`: 1–4")] = None,
    month: Annotated[int | None, Query(description="With `period=month`: 1–12")] = None,
) -> Period:
    """The reporting period: ``from``/``to`` (local dates, both included) or ``period`` + ``year`` (+
    ``quarter`` or ``month``)."""
    try:
        return stats.resolve_period(first, last, period, year, quarter, month)
    except stats.PeriodError as exc:
        raise Unprocessable(str(exc), code=exc.code) from None


PeriodDep = Annotated[Period, Depends(reporting_period)]


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
def processing(user: StaffUser, session: SessionDep, now: NowDep, span: PeriodDep,
               agency_code: AgencyFilter = None, group_by: GroupByParam = "agency") -> ProcessingReportOut:
    """Receipt and resolution of dossiers in the period (Circular 01/2018/TT-VPCP Art. 11), computed as of the
    period end — or as of now while the period runs — from the dossiers' own history, so a past period's
    report never changes. Invariant on every row: received_total + carried_over = total_to_handle =
    resolved_total + in_progress_total + paused + withdrawn. With ``group_by=month`` each row is one local
    calendar month, reported as of its own end, and the total is the whole period. Each count is one column of
    the report form (see the schema's field descriptions); the CSV and XLSX exports carry the same numbers."""
    report = ops.processing_report(session, user=user, first=span.first, last=span.last,
                                   agency_code=agency_code, group_by=group_by, now=now)
    return _report_body(report)


def _step_columns(report: ops.ProcessingReport) -> dict[str, Any]:
    """The inter-agency step columns of a report by agency (as in its JSON), for the CSV and XLSX."""
    if report.group_by != "agency":
        return {}
    return {"steps": [r.steps for r in report.rows], "step_total": report.step_total}


def _filename(span: Period, extension: str) -> str:
    return f"thong-ke-giai-quyet-ho-so_{span.first.isoformat()}_{span.last.isoformat()}.{extension}"


@router.get("/processing.csv", responses={**ERRORS, 200: {"content": {"text/csv": {}},
                                                          "description": "UTF-8 CSV with BOM"}})
def processing_csv(user: StaffUser, session: SessionDep, now: NowDep, span: PeriodDep,
                   agency_code: AgencyFilter = None, group_by: GroupByParam = "agency") -> Response:
    """The same report as CSV: UTF-8 with BOM, one header row with the report form's Vietnamese column names
    ("group - column"), one row per group and a final total row (Tổng cộng)."""
    report = ops.processing_report(session, user=user, first=span.first, last=span.last,
                                   agency_code=agency_code, group_by=group_by, now=now)
    text = stats.render_csv(group_by, [(r.key, r.label, r.counts) for r in report.rows], report.total,
                            **_step_columns(report))
    return Response(content="\ufeff" + text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{_filename(span, "csv")}"'})


@router.get("/processing.xlsx", responses={**ERRORS, 200: {"content": {XLSX_MEDIA_TYPE: {}},
                                                           "description": "Excel workbook"}},
            summary="Processing report as an Excel workbook (Vietnamese headers, merged as on the form)")
def processing_xlsx(user: StaffUser, session: SessionDep, now: NowDep, span: PeriodDep,
                    agency_code: AgencyFilter = None, group_by: GroupByParam = "agency") -> Response:
    """The same report as an Excel workbook, laid out like the report form: Vietnamese headings on two rows,
    the form's group headings merged over their columns, numbers as numbers, a final total row."""
    report = ops.processing_report(session, user=user, first=span.first, last=span.last,
                                   agency_code=agency_code, group_by=group_by, now=now)
    window = report.window
    as_of = window.as_of.strftime("%H:%M %d/%m/%Y")
    subtitle = (f"Kỳ báo cáo: {window.first:%d/%m/%Y} – {window.last:%d/%m/%Y}"
                f"{'' if window.complete else f' (số liệu đến {as_of})'}"
                f"{f'; cơ quan {report.agency_code}' if report.agency_code else ''}")
    content = render_xlsx(group_by, [(r.key, r.label, r.counts) for r in report.rows], report.total,
                          title="TÌNH HÌNH TIẾP NHẬN, GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH", subtitle=subtitle,
                          **_step_columns(report))
    return Response(content=content, media_type=XLSX_MEDIA_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{_filename(span, "xlsx")}"'})


@router.get("/index", responses=ERRORS)
def service_index(user: StaffUser, session: SessionDep, now: NowDep, span: PeriodDep,
                  agency_code: AgencyFilter = None, scheme: SchemeParam = DEFAULT_SCHEME) -> ServiceIndexOut:
    """The real-time service index (0–100) for the period under ``scheme``: each group with its indicators'
    numerator, denominator, value, points, threshold, formula and source; indicators the data cannot
    support are listed as not assessed, and the sub-weights no source publishes are stated in
    ``assumptions``."""
    window, scope, body = ops.service_index(session, user=user, first=span.first, last=span.last,
                                            agency_code=agency_code, now=now, scheme=scheme)
    return ServiceIndexOut.model_validate({
        "from": window.first, "to": window.last, "as_of": window.as_of, "complete": window.complete,
        "agency_code": scope, "period": span.kind, **body,
    })


@router.get("/ranking", responses=ERRORS, summary="Rank agencies by their service index score")
def ranking(user: StaffUser, session: SessionDep, now: NowDep, span: PeriodDep,
            parent_code: Annotated[str | None, Query(pattern=AGENCY_CODE_PATTERN, max_length=35,
                                                     description="Rank the agencies directly under this one "
                                                                 "(a province: its departments and communes); "
                                                                 "default every agency")] = None,
            scheme: SchemeParam = DEFAULT_SCHEME) -> RankingOut:
    """Agencies ranked by their service index (``/stats/index`` of each agency's own dossiers, same period and
    scheme), ``score_total`` descending; ties share a rank and the next rank skips (1, 1, 3); agencies with
    nothing to score come last with ``score_total`` and ``rank`` null. ``previous_rank`` and ``rank_change``
    (places climbed) compare with the period of the same length just before (the previous month, quarter or
    year for a calendar period). Staff see their own agency's row only, with its rank among all."""
    before = stats.previous_period(span)
    result = ops.ranking(session, user=user, first=span.first, last=span.last,
                         previous=(before.first, before.last), parent_code=parent_code, now=now, scheme=scheme)
    return RankingOut.model_validate({
        "from": result.window.first, "to": result.window.last, "as_of": result.window.as_of,
        "complete": result.window.complete, "period": span.kind, "scheme": result.scheme,
        "parent_code": result.parent_code,
        "previous": {"from": result.previous.first, "to": result.previous.last},
        "rows": [{**vars(row), "rank_change": row.rank_change} for row in result.rows],
    })
