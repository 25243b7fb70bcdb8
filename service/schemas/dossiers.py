from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt

from service.schemas.common import ApiModel, LocalDateTime, NationalId, RequestDateTime

Channel = Literal["online", "counter", "postal"]
Delivery = Literal["counter", "online", "postal"]
StatusName = Literal[
    "submitted", "received", "rejected", "processing", "awaiting_supplement", "awaiting_payment", "refused",
    "withdrawn", "result_ready", "in_transit", "returned",
]
Timeliness = Literal["early", "on_time", "late"]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]
PostalZone = Literal["same_commune", "same_province", "special_cities", "other_province"]


class ApplicantIn(ApiModel):
    national_id: NationalId
    full_name: Annotated[str, Field(min_length=1, max_length=255)]
    phone: Annotated[str, Field(pattern=r"^\+?[0-9]{8,15}$")] | None = None
    address: Annotated[str, Field(max_length=500)] | None = None


class ProcessingShare(BaseModel):
    value: int
    unit: str


class DocumentRef(ApiModel):
    code: Annotated[str, Field(pattern=r"^[0-9A-Za-z._-]{1,32}$")]


class PostalHandoverIn(ApiModel):
    """The hand-over record (Biên bản giao nhận hồ sơ) signed by the receiver and the postal staff: the
    dossier is lodged, and its clock starts, at that signing (Decision 45/2016/QĐ-TTg Art. 7(4)), never at
    ``posted_at``."""

    receipt_number: Annotated[str, Field(min_length=1, max_length=64)]
    posted_at: RequestDateTime | None = Field(default=None, description="When the applicant posted it")


class DossierIn(ApiModel):
    procedure_code: Annotated[str, Field(min_length=1, max_length=64)]
    channel: Channel
    result_delivery: Delivery
    delivery_address: Annotated[str, Field(max_length=500)] | None = None
    applicant: ApplicantIn | None = None
    documents: Annotated[list[DocumentRef], Field(max_length=100)] = []  # noqa: RUF012  (pydantic copies defaults)
    assisted: StrictBool = Field(default=False, description="Helped by a community digital technology team")
    postal_handover: PostalHandoverIn | None = Field(default=None, description="Postal channel only")


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
    zone: str | None = None
    failed_at: LocalDateTime | None = None
    carrier_late: bool | None = Field(default=None, description="Concluded after the carrier's J+n level")


class DocumentOut(BaseModel):
    code: str
    name: str
    filename: str | None
    content_type: str | None
    size_bytes: int | None
    sha256: str | None
    uploaded_at: LocalDateTime | None


class PaperOut(BaseModel):
    """A paper (thành phần hồ sơ) of the dossier's procedure version, with its uploaded file if any."""

    code: str
    name: str
    mandatory: bool
    filename: str | None
    content_type: str | None
    size: int | None
    sha256: str | None
    uploaded_at: LocalDateTime | None


class StepOut(BaseModel):
    """One agency's step of an inter-agency dossier, with its own due instant (set when the step starts)."""

    seq: int
    agency_code: str
    share: ProcessingShare
    started_at: LocalDateTime | None
    due_at: LocalDateTime | None
    finished_at: LocalDateTime | None
    timeliness: Timeliness | None
    paused: bool
    overdue: bool
    returned_for_correction: bool = Field(description="This step has sent the dossier back once")


class DossierOut(BaseModel):
    code: str
    procedure_code: str
    procedure_version: int
    procedure_name: str
    agency_code: str
    received_by_agency_code: str = Field(
        description="The one-stop desk that lodged it; equal to agency_code unless lodged elsewhere in the province")
    rule_set: str | None = Field(description="The rulebook in force when received (GET /rules), null before")
    current_step: int | None = Field(description="Inter-agency dossiers: the seq of the step that holds it")
    holding_agency_code: str = Field(description="The agency whose staff process it now")
    steps: list[StepOut] | None = Field(description="Inter-agency dossiers only")
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
    due_soon: bool = Field(description="Running, with more than zero and at most MOTCUA_DUE_SOON_WORKING_HOURS "
                                       "of working time left")
    working_hours_left: float | None = Field(
        description="Working hours left until due_at in the agency's working calendar (negative: overdue by "
                    "that much); null when the clock is not running (not received, paused or finished)")
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
    amount_vnd: Annotated[StrictInt, Field(ge=0, le=10**12)] | None = None
    new_due_at: RequestDateTime | None = None
    at: RequestDateTime | None = None
    note: Annotated[str, Field(max_length=2000)] | None = None
    delivery_zone: PostalZone | None = Field(
        default=None, description="dispatch_postal: overrides the zone read from the delivery address")
    appointment_slip: bool = Field(
        default=False, description="dispatch_postal: an appointment slip travels back too "
                                   "(Circular 17/2017/TT-BTTTT Art. 7: the J+n level doubles)")


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
    satisfied: StrictBool
    comment: Annotated[str, Field(max_length=2000)] | None = None


class RatingOut(BaseModel):
    dossier_code: str
    satisfied: bool
    comment: str | None
    at: LocalDateTime


class WorklistCounts(BaseModel):
    to_receive: int
    to_assign: int
    processing: int
    awaiting_supplement: int
    awaiting_payment: int
    to_return: int
    due_soon: int
    overdue: int
    mine: int


class WorklistOut(BaseModel):
    counts: WorklistCounts
    items: list[DossierOut]
    next_cursor: str | None
