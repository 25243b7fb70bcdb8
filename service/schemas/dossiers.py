from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from service.schemas.common import ApiModel, LocalDateTime, NationalId, RequestDateTime

Channel = Literal["online", "counter", "postal"]
Delivery = Literal["counter", "online", "postal"]
StatusName = Literal[
    "submitted", "received", "rejected", "processing", "awaiting_supplement", "awaiting_payment", "refused",
    "withdrawn", "result_ready", "in_transit", "returned",
]
Timeliness = Literal["early", "on_time", "late"]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]


class ApplicantIn(ApiModel):
    national_id: NationalId
    full_name: Annotated[str, Field(min_length=1, max_length=255)]
    phone: Annotated[str, Field(pattern=r"^\+?[0-9]{8,15}$")] | None = None
    address: Annotated[str, Field(max_length=500)] | None = None


class DocumentRef(ApiModel):
    code: Annotated[str, Field(pattern=r"^[0-9A-Za-z._-]{1,32}$")]


class DossierIn(ApiModel):
    procedure_code: Annotated[str, Field(min_length=1, max_length=64)]
    channel: Channel
    result_delivery: Delivery
    delivery_address: Annotated[str, Field(max_length=500)] | None = None
    applicant: ApplicantIn | None = None
    documents: Annotated[list[DocumentRef], Field(max_length=100)] = []
    assisted: bool = Field(default=False, description="Helped by a community digital technology team")


class Applicant(BaseModel):
    national_id: str
    full_name: str
    phone: str | None
    address: str | None


class ResultOut(BaseModel):
    code: str
    sha256: str
    signed_by: str
    signed_at: LocalDateTime
    certificate_serial: str


class PostalOut(BaseModel):
    tracking_number: str
    status: str
    dispatched_at: LocalDateTime
    expected_by: LocalDateTime
    delivered_at: LocalDateTime | None
    postage_vnd: int


class DocumentOut(BaseModel):
    code: str
    name: str
    filename: str | None
    content_type: str | None
    size_bytes: int | None
    sha256: str | None
    uploaded_at: LocalDateTime | None


class DossierOut(BaseModel):
    code: str
    procedure_code: str
    procedure_version: int
    procedure_name: str
    agency_code: str
    channel: Channel
    result_delivery: Delivery
    delivery_address: str | None
    status: StatusName
    status_label: str
    national_status_code: int
    applicant: Applicant
    submitted_at: LocalDateTime
    received_at: LocalDateTime | None
    due_at: LocalDateTime | None
    original_due_at: LocalDateTime | None
    finished_at: LocalDateTime | None
    returned_at: LocalDateTime | None
    timeliness: Timeliness | None
    overdue: bool
    supplement_count: int
    extension_count: int
    fee_vnd: int
    paid: bool
    assisted: bool
    assignee: str | None
    documents: list[DocumentOut]
    version: int
    result: ResultOut | None
    postal: PostalOut | None


class DossierCreated(DossierOut):
    tracking_secret: str = Field(description="Shown once: the secret for the public lookup")


class ActionIn(ApiModel):
    """The body of an action; each action reads the fields it needs (see the lifecycle table)."""

    reason: Reason | None = None
    assignee: Annotated[str, Field(max_length=64)] | None = None
    missing_documents: Annotated[list[Annotated[str, Field(max_length=32)]], Field(max_length=100)] | None = None
    amount_vnd: Annotated[int, Field(ge=0, le=10**12)] | None = None
    new_due_at: RequestDateTime | None = None
    at: RequestDateTime | None = None
    note: Annotated[str, Field(max_length=2000)] | None = None


class HistoryEntry(BaseModel):
    seq: int
    at: LocalDateTime
    action: str
    actor: str
    from_status: str | None
    to_status: str
    note: str | None
    hash: str


class ChainCheck(BaseModel):
    valid: bool
    entries: int


class PublicDossier(BaseModel):
    """What anyone holding the code and tracking secret may see: no personal data."""

    code: str
    procedure_code: str
    procedure_name: str
    agency_code: str
    status: StatusName
    status_label: str
    national_status_code: int
    received_at: LocalDateTime | None
    due_at: LocalDateTime | None
    finished_at: LocalDateTime | None
    returned_at: LocalDateTime | None
    timeliness: Timeliness | None


class RatingIn(ApiModel):
    satisfied: bool
    comment: Annotated[str, Field(max_length=2000)] | None = None


class RatingOut(BaseModel):
    dossier_code: str
    satisfied: bool
    comment: str | None
    at: LocalDateTime
