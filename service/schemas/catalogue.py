from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt, model_validator

from service.schemas.common import AgencyCode, ApiModel, LocalDateTime

ProcessingUnit = Literal["working_days", "working_hours", "calendar_days", "same_day"]
SupplementPolicy = Literal["restart", "pause"]
ProcedureCode = Annotated[str, Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$", max_length=64)]


class ProcessingTime(ApiModel):
    value: Annotated[StrictInt, Field(ge=0, le=3650)]
    unit: ProcessingUnit

    @model_validator(mode="after")
    def _positive_unless_same_day(self) -> ProcessingTime:
        if self.unit != "same_day" and self.value < 1:
            raise ValueError("processing time must be at least 1 unless the unit is same_day")
        return self


class RequiredDocument(ApiModel):
    code: Annotated[str, Field(pattern=r"^[0-9A-Za-z._-]{1,32}$")]
    name: Annotated[str, Field(min_length=1, max_length=500)]
    mandatory: StrictBool = True


class StepIn(ApiModel):
    """One agency's step of an inter-agency procedure and its share of the processing time (same unit)."""

    agency_code: AgencyCode
    value: Annotated[StrictInt, Field(ge=0, le=3650, description="Share of the processing time, in its unit")]


class ProcedureIn(ApiModel):
    code: ProcedureCode
    name: Annotated[str, Field(min_length=1, max_length=500)]
    field: Annotated[str, Field(max_length=255)] | None = None
    agency_code: AgencyCode
    service_level: Literal[2, 3, 4]
    processing_time: ProcessingTime
    fee_vnd: Annotated[StrictInt, Field(ge=0, le=10**12)]
    postal_allowed: StrictBool
    required_documents: Annotated[list[RequiredDocument], Field(max_length=100)] = []  # noqa: RUF012  (pydantic copies defaults)
    supplement_policy: SupplementPolicy = "restart"
    legal_basis: Annotated[str, Field(max_length=1000)] | None = None
    anywhere_in_province: StrictBool = Field(
        default=False, description="Any one-stop desk of the province may lodge it (Decree 118/2025)")
    steps: Annotated[list[StepIn], Field(max_length=20)] | None = Field(
        default=None, description="Inter-agency steps in order; the shares add up to processing_time.value "
                                  "(else 422 STEP_TIMES_INVALID)")

    @model_validator(mode="after")
    def _unique_document_codes(self) -> ProcedureIn:
        codes = [doc.code for doc in self.required_documents]
        if len(codes) != len(set(codes)):
            raise ValueError("required_documents codes must be unique")
        return self


class ProcedureOut(BaseModel):
    code: str
    version: int
    name: str
    field: str | None
    agency_code: str
    service_level: Literal[2, 3, 4]
    processing_time: ProcessingTime
    fee_vnd: int
    postal_allowed: bool
    required_documents: list[RequiredDocument]
    supplement_policy: SupplementPolicy
    legal_basis: str | None
    anywhere_in_province: bool = False
    steps: list[StepIn] | None = None
    effective_from: LocalDateTime
