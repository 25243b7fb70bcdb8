"""Response models of ``/stats/*`` (the counts are the contract's, § Statistics)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from service.schemas.common import LocalDateTime


class Counts(BaseModel):
    received_total: int
    received_online: int
    received_counter: int
    received_postal: int
    carried_over: int
    resolved_total: int
    resolved_early: int
    resolved_on_time: int
    resolved_late: int
    in_progress_total: int
    in_progress_on_track: int
    in_progress_overdue: int
    paused: int
    withdrawn: int
    on_time_rate: float | None = Field(description="100·(early + on_time) / resolved_total, 2 decimals")
    online_rate: float | None = Field(description="100·received_online / received_total, 2 decimals")


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
    weight: str = Field(description="'published' by Decision 766, or 'assumed' by this system")
    formula: str
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


class ServiceIndexOut(BaseModel):
    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    as_of: LocalDateTime
    complete: bool
    agency_code: str | None
    score_total: float | None = Field(description="0–100: points earned over the assessed indicators' total")
    points_earned: float
    points_assessed: float
    groups: list[IndexGroupOut]
    assumptions: list[str]

    model_config = {"populate_by_name": True}
