"""Response models of ``/stats/*`` (the counts are the contract's, § Statistics)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from service.domain.statistics import COLUMN_DEFINITIONS
from service.schemas.common import LocalDateTime


def _column(name: str) -> Any:
    """The field's description: the report form's column it fills and what that column counts."""
    return Field(description=COLUMN_DEFINITIONS[name])


class Counts(BaseModel):
    """One row of the report form (Circular 01/2018/TT-VPCP Art. 11); the CSV and XLSX exports have one column
    per field, with the heading named in each description."""

    received_total: int = _column("received_total")
    received_online: int = _column("received_online")
    received_counter: int = _column("received_counter")
    received_postal: int = _column("received_postal")
    carried_over: int = _column("carried_over")
    resolved_total: int = _column("resolved_total")
    resolved_early: int = _column("resolved_early")
    resolved_on_time: int = _column("resolved_on_time")
    resolved_late: int = _column("resolved_late")
    in_progress_total: int = _column("in_progress_total")
    in_progress_on_track: int = _column("in_progress_on_track")
    in_progress_overdue: int = _column("in_progress_overdue")
    paused: int = _column("paused")
    withdrawn: int = _column("withdrawn")
    on_time_rate: float | None = _column("on_time_rate")
    online_rate: float | None = _column("online_rate")
    total_to_handle: int = _column("total_to_handle")


class StepColumns(BaseModel):
    """Inter-agency steps attributed to the agency that held them (``group_by=agency`` only, else null)."""

    step_resolved_total: int | None = Field(default=None, description="Steps this agency ended in the period "
                                                                      "(handed over or decided)")
    step_resolved_late: int | None = Field(default=None, description="Of those, ended after the step's due instant")
    step_in_progress_total: int | None = Field(default=None, description="Steps this agency held at the end")
    step_in_progress_overdue: int | None = Field(default=None, description="Of those, past the step's due instant")


class ProcessingRow(Counts, StepColumns):
    key: str = Field(description="Agency code, procedure code, YYYY-MM, channel or service level")
    label: str = Field(description="Vietnamese name of the group")


class TotalRow(Counts, StepColumns):
    pass


class MergedUnit(BaseModel):
    agency_code: str
    agency_name: str
    succeeded_by: str = Field(description="The row its dossiers are counted in")
    valid_to: date


class ProcessingReportOut(BaseModel):
    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    as_of: LocalDateTime = Field(description="The instant the report is computed as of: period end, or now")
    complete: bool = Field(description="True when the period has ended: the report will never change")
    agency_code: str | None
    group_by: str
    rows: list[ProcessingRow]
    total: TotalRow
    merged: list[MergedUnit] = Field(default_factory=list, description="Units merged away before the period "
                                                                        "(group_by=agency), rolled into successors")

    model_config = {"populate_by_name": True}


class IndicatorOut(BaseModel):
    code: str
    name: str
    value: float | None
    unit: str
    numerator: float | None
    denominator: float | None
    points: float | None
    max_points: float
    threshold: float | None = Field(description="Rate (%) at or above which the indicator earns full points")
    weight: Literal["published", "empirical", "assumed"] = Field(
        description="'published' by Decision 766, 'empirical' (matches the national portal's published "
                    "scores) or 'assumed' by this system")
    formula: str
    source: str = Field(description="The legal or empirical source of the indicator and of its points")
    allowed_average_days: float | None = None
    late_rate: float | None = None
    dissatisfied_rate: float | None = None


class NotAssessedOut(BaseModel):
    code: str
    name: str
    reason: str


class IndexGroupOut(BaseModel):
    code: str
    name: str
    max_points: float
    points: float | None
    assessed_max_points: float
    indicators: list[IndicatorOut]
    not_assessed: list[NotAssessedOut]


PeriodKindOut = Literal["month", "quarter", "year"] | None
PERIOD_DESCRIPTION = "The calendar month, quarter or year the period is; null for any other span"


class ServiceIndexOut(BaseModel):
    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    as_of: LocalDateTime
    complete: bool
    period: PeriodKindOut = Field(description=PERIOD_DESCRIPTION)
    agency_code: str | None
    scheme: Literal["portal-2025", "qd766-2022"]
    scheme_name: str
    score_total: float | None = Field(description="0–100: points earned over the assessed indicators' total")
    points_earned: float
    points_assessed: float
    groups: list[IndexGroupOut]
    assumptions: list[str]

    model_config = {"populate_by_name": True}


class RankingRowOut(BaseModel):
    rank: int | None = Field(description="Competition rank (1, 1, 3); null when there is nothing to score")
    agency_code: str
    agency_name: str
    agency_level: str
    score_total: float | None = Field(description="The agency's /stats/index score_total for the period")
    on_time_rate: float | None = Field(description="As in /stats/processing: 100·(early + on_time) / "
                                                   "resolved_total of the agency")
    online_rate: float | None = Field(description="As in /stats/processing: 100·received_online / "
                                                  "received_total of the agency")
    received_total: int = Field(description="As in /stats/processing: dossiers received in the period")
    previous_rank: int | None = Field(description="Rank in the previous period of the same length")
    previous_score_total: float | None
    rank_change: int | None = Field(description="previous_rank − rank: places climbed (negative: fell)")


class PeriodOut(BaseModel):
    from_: date = Field(alias="from", serialization_alias="from")
    to: date

    model_config = {"populate_by_name": True}


class RankingOut(BaseModel):
    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    as_of: LocalDateTime
    complete: bool
    period: PeriodKindOut = Field(description=PERIOD_DESCRIPTION)
    scheme: Literal["portal-2025", "qd766-2022"]
    parent_code: str | None
    previous: PeriodOut = Field(description="The period the rank change is measured against")
    rows: list[RankingRowOut]

    model_config = {"populate_by_name": True}
