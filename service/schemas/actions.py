"""One request schema per lifecycle action, for the OpenAPI document and the clients generated from it.

The server reads every action's body through :class:`~service.schemas.dossiers.ActionIn` (after the
visibility, role, state and version checks, in the contract's order); each schema here is the part of it that
one action reads, so a generated client knows exactly what to send to ``POST /dossiers/{code}/actions/<action>``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictInt

from service.domain.lifecycle import Action
from service.schemas.common import ApiModel, RequestDateTime
from service.schemas.dossiers import PostalZone, Reason

Note = Annotated[str, Field(max_length=2000, description="Free text recorded on the control slip")]


class ReceiveIn(ApiModel):
    """``receive``: no field; the clock starts now."""

    note: Note | None = None


class RejectIn(ApiModel):
    reason: Reason = Field(examples=["Hồ sơ không thuộc thẩm quyền giải quyết"])


class AssignIn(ApiModel):
    assignee: Annotated[str, Field(max_length=64, description="Username of a processor of the agency",
                                   examples=["chuyenvien"])]
    note: Note | None = None


class RequestSupplementIn(ApiModel):
    reason: Reason = Field(examples=["Giấy chứng sinh bị mờ"])
    missing_documents: Annotated[list[Annotated[str, Field(max_length=32)]], Field(
        min_length=1, max_length=100, description="Codes of the papers to supply", examples=[["TP02"]])]


class SupplementIn(ApiModel):
    note: Note | None = None


class RequestPaymentIn(ApiModel):
    amount_vnd: Annotated[StrictInt, Field(ge=0, le=10**12, examples=[50000])]
    reason: Reason | None = None


class PayIn(ApiModel):
    note: Note | None = None


class ExtendIn(ApiModel):
    new_due_at: RequestDateTime = Field(examples=["2026-03-10T17:00:00+07:00"])
    reason: Reason = Field(examples=["Cần xác minh thêm thông tin tại địa phương"])


class ApproveIn(ApiModel):
    note: Note | None = Field(default=None, description="Printed in the result's decision text")


class RefuseIn(ApiModel):
    reason: Reason = Field(examples=["Không đủ điều kiện theo quy định"])


class WithdrawIn(ApiModel):
    reason: Reason | None = None


class ReturnResultIn(ApiModel):
    note: Note | None = None


class DispatchPostalIn(ApiModel):
    delivery_zone: PostalZone | None = Field(
        default=None, description="Overrides the zone read from the delivery address")
    appointment_slip: bool = Field(
        default=False, description="An appointment slip travels back too (Circular 17/2017/TT-BTTTT Art. 7: "
                                   "the J+n level doubles)")


class ConfirmDeliveryIn(ApiModel):
    at: RequestDateTime | None = Field(default=None, description="When the carrier delivered (default: now)")


class DeliveryFailedIn(ApiModel):
    at: RequestDateTime | None = Field(default=None, description="When the delivery failed (default: now)")
    reason: Reason | None = None


class TransferIn(ApiModel):
    note: Note | None = Field(default=None, description="Printed on the transfer slip (Phiếu chuyển xử lý)")


class ReturnForCorrectionIn(ApiModel):
    reason: Reason = Field(examples=["Thiếu trích lục bản đồ địa chính"])


ACTION_BODIES: dict[Action, type[ApiModel]] = {
    Action.RECEIVE: ReceiveIn, Action.REJECT: RejectIn, Action.ASSIGN: AssignIn,
    Action.REQUEST_SUPPLEMENT: RequestSupplementIn, Action.SUPPLEMENT: SupplementIn,
    Action.REQUEST_PAYMENT: RequestPaymentIn, Action.PAY: PayIn, Action.EXTEND: ExtendIn,
    Action.APPROVE: ApproveIn, Action.REFUSE: RefuseIn, Action.WITHDRAW: WithdrawIn,
    Action.RETURN_RESULT: ReturnResultIn, Action.DISPATCH_POSTAL: DispatchPostalIn,
    Action.CONFIRM_DELIVERY: ConfirmDeliveryIn, Action.DELIVERY_FAILED: DeliveryFailedIn,
    Action.TRANSFER: TransferIn, Action.RETURN_FOR_CORRECTION: ReturnForCorrectionIn,
}

ACTION_DOCS: dict[Action, tuple[str, str]] = {
    Action.RECEIVE: ("Receive an online dossier (receiver)", "submitted → received; `received_at` = now and "
                     "`due_at` computed on the agency's working calendar."),
    Action.REJECT: ("Refuse to receive a dossier (receiver)", "submitted → rejected; `reason` required; never "
                    "counted as received."),
    Action.ASSIGN: ("Assign to a processor (receiver)", "received → processing; `assignee` must be a processor "
                    "of the dossier's agency (else 422 `ASSIGNEE_INVALID`)."),
    Action.REQUEST_SUPPLEMENT: ("Ask for missing papers (processor)", "processing → awaiting_supplement, the "
                                "clock stops; only within 3 working days of the latest clock start, else 409 "
                                "`SUPPLEMENT_WINDOW_CLOSED` (Decree 61/2018 Art. 19(4))."),
    Action.SUPPLEMENT: ("Supply the missing papers (applicant or receiver)", "awaiting_supplement → processing; "
                        "`restart` policy recomputes `due_at` from now, `pause` resumes the time left."),
    Action.REQUEST_PAYMENT: ("Ask for a fee (processor)", "processing → awaiting_payment; the clock stops."),
    Action.PAY: ("Record the payment (applicant at level 4, or receiver)", "awaiting_payment → processing; the "
                 "time left resumes. A citizen on a level below 4 gets 409 `ONLINE_PAYMENT_NOT_OFFERED`."),
    Action.EXTEND: ("Extend the due date once (approver)", "processing → processing; once (409 "
                    "`ALREADY_EXTENDED`), at least 1 working day before `due_at` (409 `EXTENSION_TOO_LATE`); "
                    "records the apology letter (Mẫu 04)."),
    Action.APPROVE: ("Approve: the result is issued and signed (approver)", "processing → result_ready; "
                     "`finished_at` = now and timeliness set."),
    Action.REFUSE: ("Refuse the request (approver)", "processing → refused; `reason` required; counts in "
                    "timeliness."),
    Action.WITHDRAW: ("Withdraw the dossier (applicant or receiver)", "submitted, received, processing or "
                      "awaiting_* → withdrawn."),
    Action.RETURN_RESULT: ("Hand the result over at the desk (receiver)", "result_ready → returned; 409 "
                           "`INVALID_TRANSITION` while the result goes by post."),
    Action.DISPATCH_POSTAL: ("Send the result by post (receiver)", "result_ready → in_transit; creates the "
                             "shipment."),
    Action.CONFIRM_DELIVERY: ("Confirm the postal delivery (receiver)", "in_transit → returned."),
    Action.DELIVERY_FAILED: ("Record a failed postal delivery (receiver)", "in_transit → result_ready; "
                             "`result_delivery` becomes counter and the applicant is notified."),
    Action.TRANSFER: ("Hand an inter-agency dossier to the next step's agency (processor of the holding agency)",
                      "processing → processing; the current step ends and the next one starts with its own "
                      "`due_at` in working time. 409 `NOT_INTERAGENCY` or `NO_NEXT_STEP`."),
    Action.RETURN_FOR_CORRECTION: ("Send an inter-agency dossier back to the previous step (processor)",
                                   "processing → processing; once per step and within the step's time, "
                                   "`reason` required. 409 `CORRECTION_ALREADY_RETURNED`, `STEP_TIME_OVER` or "
                                   "`NO_PREVIOUS_STEP`."),
}
