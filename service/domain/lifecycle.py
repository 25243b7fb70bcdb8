"""The dossier lifecycle as a declarative transition table, with the clock arithmetic of each step.

Legal basis (Decree 61/2018/NĐ-CP as amended by Decree 107/2021, carried into Decree 118/2025/NĐ-CP):
- Art. 17: receipt at the one-stop desk (Mẫu 01 issued, the deadline starts) or refusal to receive (Mẫu 03).
- Art. 19(4): a dossier found insufficient is returned for supplementation within 3 working days of receipt;
  "thời hạn giải quyết được tính lại từ đầu sau khi nhận đủ hồ sơ" — the deadline restarts from zero.
- Art. 19(8): refusal after appraisal, notified within the deadline; it counts in timeliness.
- Art. 19(9): a late dossier may be re-scheduled once, at least one day before the deadline, with an apology
  letter (Mẫu 04 of Circular 01/2018/TT-VPCP).
- Art. 20: return of results at the desk, online, or by public postal service (Decision 45/2016/QĐ-TTg).
- Financial obligations (status 6 on the National Public Service Portal) stop the clock; the remaining working
  time resumes on payment (sector rules, e.g. land registration; modelled as a pause).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from service.domain import deadlines, rulebook, timeliness
from service.domain.calendar import WorkingCalendar
from service.domain.errors import InvalidTransition, NotPermitted, RuleConflict, RuleViolation
from service.domain.legal_time import to_legal_time
from service.domain.roles import Role


class Status(StrEnum):
    SUBMITTED = "submitted"
    RECEIVED = "received"
    REJECTED = "rejected"
    PROCESSING = "processing"
    AWAITING_SUPPLEMENT = "awaiting_supplement"
    AWAITING_PAYMENT = "awaiting_payment"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    RESULT_READY = "result_ready"
    IN_TRANSIT = "in_transit"
    RETURNED = "returned"


class Action(StrEnum):
    RECEIVE = "receive"
    REJECT = "reject"
    ASSIGN = "assign"
    REQUEST_SUPPLEMENT = "request_supplement"
    SUPPLEMENT = "supplement"
    REQUEST_PAYMENT = "request_payment"
    PAY = "pay"
    EXTEND = "extend"
    APPROVE = "approve"
    REFUSE = "refuse"
    WITHDRAW = "withdraw"
    RETURN_RESULT = "return_result"
    DISPATCH_POSTAL = "dispatch_postal"
    CONFIRM_DELIVERY = "confirm_delivery"
    DELIVERY_FAILED = "delivery_failed"
    TRANSFER = "transfer"
    RETURN_FOR_CORRECTION = "return_for_correction"


#: Status codes exchanged with the National Public Service Portal (TrangThaiHoSo).
NATIONAL_STATUS_CODE: Final[dict[Status, int]] = {
    Status.SUBMITTED: 1,
    Status.RECEIVED: 2,
    Status.REJECTED: 3,
    Status.PROCESSING: 4,
    Status.AWAITING_SUPPLEMENT: 5,
    Status.AWAITING_PAYMENT: 6,
    Status.REFUSED: 8,
    Status.WITHDRAWN: 8,
    Status.RESULT_READY: 9,
    Status.IN_TRANSIT: 9,
    Status.RETURNED: 10,
}

STATUS_LABEL: Final[dict[Status, str]] = {
    Status.SUBMITTED: "Mới đăng ký",
    Status.RECEIVED: "Đã tiếp nhận",
    Status.REJECTED: "Không được tiếp nhận",
    Status.PROCESSING: "Đang xử lý",
    Status.AWAITING_SUPPLEMENT: "Chờ bổ sung hồ sơ",
    Status.AWAITING_PAYMENT: "Chờ thực hiện nghĩa vụ tài chính",
    Status.REFUSED: "Từ chối giải quyết",
    Status.WITHDRAWN: "Đã rút hồ sơ",
    Status.RESULT_READY: "Đã có kết quả",
    Status.IN_TRANSIT: "Đang chuyển phát kết quả",
    Status.RETURNED: "Đã trả kết quả",
}

TERMINAL: Final = frozenset({Status.REJECTED, Status.REFUSED, Status.WITHDRAWN, Status.RETURNED})
PAUSED: Final = frozenset({Status.AWAITING_SUPPLEMENT, Status.AWAITING_PAYMENT})
RUNNING: Final = frozenset({Status.RECEIVED, Status.PROCESSING})
SYSTEM_ROLE: Final = Role.SYSTEM
"""The role of automated actors, such as the postal carrier's webhook."""


@dataclass(frozen=True)
class Transition:
    sources: frozenset[Status]
    target: Status | None
    """``None`` keeps the status (an extension stays in processing)."""
    roles: frozenset[Role]


def _t(sources: set[Status], target: Status | None, *roles: Role) -> Transition:
    return Transition(frozenset(sources), target, frozenset(roles))


TRANSITIONS: Final[dict[Action, Transition]] = {
    Action.RECEIVE: _t({Status.SUBMITTED}, Status.RECEIVED, Role.RECEIVER),
    Action.REJECT: _t({Status.SUBMITTED}, Status.REJECTED, Role.RECEIVER),
    Action.ASSIGN: _t({Status.RECEIVED}, Status.PROCESSING, Role.RECEIVER),
    Action.REQUEST_SUPPLEMENT: _t({Status.PROCESSING}, Status.AWAITING_SUPPLEMENT, Role.PROCESSOR),
    Action.SUPPLEMENT: _t({Status.AWAITING_SUPPLEMENT}, Status.PROCESSING, Role.CITIZEN, Role.RECEIVER),
    Action.REQUEST_PAYMENT: _t({Status.PROCESSING}, Status.AWAITING_PAYMENT, Role.PROCESSOR),
    Action.PAY: _t({Status.AWAITING_PAYMENT}, Status.PROCESSING, Role.CITIZEN, Role.RECEIVER),
    Action.EXTEND: _t({Status.PROCESSING}, None, Role.APPROVER),
    Action.APPROVE: _t({Status.PROCESSING}, Status.RESULT_READY, Role.APPROVER),
    Action.REFUSE: _t({Status.PROCESSING}, Status.REFUSED, Role.APPROVER),
    Action.WITHDRAW: _t({Status.SUBMITTED, Status.RECEIVED, Status.PROCESSING, *PAUSED}, Status.WITHDRAWN,
                        Role.CITIZEN, Role.RECEIVER),
    Action.RETURN_RESULT: _t({Status.RESULT_READY}, Status.RETURNED, Role.RECEIVER),
    Action.DISPATCH_POSTAL: _t({Status.RESULT_READY}, Status.IN_TRANSIT, Role.RECEIVER),
    Action.CONFIRM_DELIVERY: _t({Status.IN_TRANSIT}, Status.RETURNED, Role.RECEIVER, SYSTEM_ROLE),
    Action.DELIVERY_FAILED: _t({Status.IN_TRANSIT}, Status.RESULT_READY, Role.RECEIVER, SYSTEM_ROLE),
    # Inter-agency dossiers (service.domain.steps): the status stays, the holding agency changes.
    Action.TRANSFER: _t({Status.PROCESSING}, None, Role.PROCESSOR),
    Action.RETURN_FOR_CORRECTION: _t({Status.PROCESSING}, None, Role.PROCESSOR),
}


@dataclass(frozen=True)
class DossierState:
    """What the rules need to know of a dossier. Instants are aware datetimes."""

    status: Status
    channel: str
    result_delivery: str
    service_level: int
    supplement_policy: str
    processing_value: int
    processing_unit: str
    received_at: datetime | None = None
    due_at: datetime | None = None
    original_due_at: datetime | None = None
    clock_started_at: datetime | None = None
    paused_at: datetime | None = None
    paused_remaining_minutes: float | None = None
    finished_at: datetime | None = None
    returned_at: datetime | None = None
    withdrawn_at: datetime | None = None
    timeliness: str | None = None
    supplement_count: int = 0
    extension_count: int = 0
    paid: bool = False
    paid_online: bool = False
    payment_amount_vnd: int | None = None
    rule_set: str | None = None
    """The rulebook in force when received (:func:`service.domain.rulebook.rule_set_on`), kept ever after."""


_STATE_FIELDS: Final = frozenset(f.name for f in fields(DossierState))


def _changed(state: DossierState, **changes: Any) -> DossierState:
    """``dataclasses.replace(state, **changes)`` for the rules' state, as a copy of its fields with ``changes``
    over them: the same value, without ``replace``'s walk over the 24 fields and the frozen ``__init__`` setting
    each one through ``object.__setattr__`` (every action makes one or two states; the simulator makes
    millions). The state has no ``__post_init__`` to skip."""
    if not changes.keys() <= _STATE_FIELDS:
        raise TypeError(f"DossierState has no field {sorted(changes.keys() - _STATE_FIELDS)}")
    new = object.__new__(DossierState)
    new.__dict__.update(state.__dict__, **changes)
    return new


@dataclass(frozen=True)
class Assignee:
    """The processor an ``assign`` hands the dossier to (already checked to be one of the agency's)."""

    username: str
    full_name: str


@dataclass(frozen=True)
class ActionInput:
    """The validated body of an action (fields unused by an action stay ``None``)."""

    reason: str | None = None
    new_due_at: datetime | None = None
    amount_vnd: int | None = None
    at: datetime | None = None
    note: str | None = None
    missing_documents: list[str] | None = None
    assignee: Assignee | None = None


@dataclass(frozen=True)
class Notice:
    """A notice to the applicant (SMS/e-mail/portal), as Decree 61/2018 Arts. 17, 19 and 20 require."""

    subject: str
    body: str


@dataclass(frozen=True)
class Decision:
    """What one action does to a dossier, decided without the database: the state after it, the control-slip
    row's note and data, and the notices to the applicant. Persisting it is the application layer's job."""

    action: Action
    from_status: Status
    state: DossierState
    note: str | None
    data: dict[str, Any] = field(default_factory=dict)
    notices: tuple[Notice, ...] = ()


def authorize(action: Action, role: str) -> None:
    """403 when the role may never perform the action."""
    if role not in TRANSITIONS[action].roles:
        raise NotPermitted(f"Vai trò '{role}' không được thực hiện thao tác '{action.value}'.")


def guard(state: DossierState, action: Action, *, role: str, now: datetime, calendar: WorkingCalendar) -> None:
    """409 when the dossier's state does not allow the action now."""
    transition = TRANSITIONS[action]
    if state.status not in transition.sources:
        raise InvalidTransition(
            f"Không thể thực hiện '{action.value}' khi hồ sơ ở trạng thái '{state.status.value}'."
        )
    if action is Action.REQUEST_SUPPLEMENT:
        assert state.clock_started_at is not None
        if not deadlines.supplement_window_open(calendar, state.clock_started_at, now):
            raise RuleConflict(
                "Đã quá 03 ngày làm việc kể từ khi bắt đầu tính thời hạn; không được yêu cầu bổ sung "
                "(Nghị định 61/2018/NĐ-CP Điều 19 khoản 4).", code="SUPPLEMENT_WINDOW_CLOSED")
    elif action is Action.PAY and role == Role.CITIZEN and state.service_level < 4:
        raise RuleConflict("Thủ tục này chưa hỗ trợ thanh toán trực tuyến (chỉ mức độ 4).",
                           code="ONLINE_PAYMENT_NOT_OFFERED")
    elif action is Action.EXTEND:
        if state.extension_count >= 1:
            raise RuleConflict("Hồ sơ đã được gia hạn một lần; chỉ được hẹn lại ngày trả kết quả một lần "
                               "(Nghị định 61/2018/NĐ-CP Điều 19 khoản 9).", code="ALREADY_EXTENDED")
        assert state.due_at is not None
        if not deadlines.extension_allowed(calendar, now, state.due_at):
            raise RuleConflict("Phải gia hạn chậm nhất 01 ngày làm việc trước ngày hẹn trả "
                               "(Nghị định 61/2018/NĐ-CP Điều 19 khoản 9).", code="EXTENSION_TOO_LATE")
    elif action is Action.RETURN_RESULT and state.result_delivery == "postal":
        raise InvalidTransition("Kết quả đăng ký nhận qua bưu chính; dùng thao tác 'dispatch_postal'.")
    elif action is Action.DISPATCH_POSTAL and state.result_delivery != "postal":
        raise InvalidTransition("Hồ sơ không đăng ký nhận kết quả qua bưu chính.")


def start_clock(state: DossierState, *, now: datetime, calendar: WorkingCalendar) -> DossierState:
    """Receipt: ``received_at`` is now and the deadline is computed from it (Decree 61/2018 Art. 17); the
    dossier keeps the rule set in force on the local date of receipt."""
    due = deadlines.compute_due(calendar, now, state.processing_value, state.processing_unit)
    return _changed(state, status=Status.RECEIVED, received_at=now, clock_started_at=now, due_at=due.due_at,
                   rule_set=rulebook.rule_set_on(to_legal_time(now).date()).code)


def _pause(state: DossierState, now: datetime, calendar: WorkingCalendar) -> DossierState:
    assert state.due_at is not None
    remaining = deadlines.remaining_working_minutes(calendar, now, state.due_at)
    return _changed(state, paused_at=now, paused_remaining_minutes=remaining)


def _resume(state: DossierState, now: datetime, calendar: WorkingCalendar) -> DossierState:
    assert state.paused_remaining_minutes is not None
    due_at = deadlines.resume_due(calendar, now, state.paused_remaining_minutes)
    return _changed(state, due_at=due_at, paused_at=None, paused_remaining_minutes=None)


def _finish(state: DossierState, now: datetime, status: Status) -> DossierState:
    assert state.due_at is not None
    return _changed(state, status=status, finished_at=now, timeliness=timeliness.classify(now, state.due_at))


def apply(
    state: DossierState, action: Action, data: ActionInput, *, role: str, now: datetime,
    calendar: WorkingCalendar,
) -> DossierState:
    """The state after ``action``; call :func:`authorize` and :func:`guard` first. 422 on a bad body."""
    target = TRANSITIONS[action].target
    if action is Action.RECEIVE:
        return start_clock(state, now=now, calendar=calendar)
    if action is Action.REQUEST_SUPPLEMENT:
        paused = _pause(state, now, calendar)
        return _changed(paused, status=Status.AWAITING_SUPPLEMENT, supplement_count=state.supplement_count + 1)
    if action is Action.SUPPLEMENT:
        if state.supplement_policy == "restart":
            due = deadlines.compute_due(calendar, now, state.processing_value, state.processing_unit)
            return _changed(state, status=Status.PROCESSING, clock_started_at=now, due_at=due.due_at,
                           paused_at=None, paused_remaining_minutes=None)
        return _changed(_resume(state, now, calendar), status=Status.PROCESSING)
    if action is Action.REQUEST_PAYMENT:
        return _changed(_pause(state, now, calendar), status=Status.AWAITING_PAYMENT,
                       payment_amount_vnd=data.amount_vnd)
    if action is Action.PAY:
        return _changed(_resume(state, now, calendar), status=Status.PROCESSING, paid=True,
                       paid_online=role == Role.CITIZEN)
    if action is Action.EXTEND:
        assert state.due_at is not None and data.new_due_at is not None
        if data.new_due_at <= state.due_at:
            raise RuleViolation("Ngày hẹn trả mới phải sau ngày hẹn trả hiện tại.", code="EXTENSION_DATE_INVALID")
        if not calendar.is_working_day(to_legal_time(data.new_due_at).date()):
            raise RuleViolation("Ngày hẹn trả mới phải là ngày làm việc.", code="EXTENSION_DATE_INVALID")
        if not calendar.is_appointment_instant(data.new_due_at):
            raise RuleViolation("Giờ hẹn trả mới phải trong giờ làm việc của cơ quan.",
                                code="EXTENSION_DATE_INVALID")
        return _changed(state, original_due_at=state.due_at, due_at=data.new_due_at,
                       extension_count=state.extension_count + 1)
    if action in (Action.APPROVE, Action.REFUSE):
        assert target is not None
        return _finish(state, now, target)
    if action is Action.WITHDRAW:
        return _changed(state, status=Status.WITHDRAWN, withdrawn_at=now)
    if action in (Action.RETURN_RESULT, Action.CONFIRM_DELIVERY):
        return _changed(state, status=Status.RETURNED, returned_at=data.at or now)
    if action is Action.DELIVERY_FAILED:
        return _changed(state, status=Status.RESULT_READY, result_delivery="counter")
    if action in (Action.TRANSFER, Action.RETURN_FOR_CORRECTION):
        return state  # the steps move (service.domain.steps); the dossier's own clock runs on
    assert target is not None
    return _changed(state, status=target)


def is_overdue(state: DossierState, now: datetime) -> bool:
    """Overdue per the contract: unfinished, unpaused and past ``due_at``, or finished late."""
    return timeliness.is_overdue(
        now, state.due_at, state.finished_at, state.status in PAUSED, state.timeliness,  # type: ignore[arg-type]
        withdrawn=state.status is Status.WITHDRAWN,
    )


# ---------------------------------------------------------------- deciding one action


def check(state: DossierState, action: Action, *, role: str, now: datetime, calendar: WorkingCalendar) -> None:
    """The checks that come before the body in the contract's order: the role (403), then the state (409)."""
    authorize(action, role)
    guard(state, action, role=role, now=now, calendar=calendar)


def required(value: Any, name: str) -> Any:
    """422 ``FIELD_REQUIRED`` when an action's field is missing (or an empty list)."""
    if value is None or value == []:
        raise RuleViolation(f"Thao tác này cần trường '{name}'.", code="FIELD_REQUIRED")
    return value


def apology_letter(original_due_at: datetime | None, new_due_at: datetime | None,
                   reason: str | None, *, rule_set: str | None = None) -> dict[str, Any]:
    """What the control slip records of a re-scheduling: the apology letter, Mẫu 04 of Circular 01/2018/TT-VPCP
    (Decree 61/2018 Art. 19(9)), or of Circular 03/2025/TT-VPCP for a dossier under Decree 118/2025 (the form
    named by the dossier's ``rule_set``, :mod:`service.domain.rulebook`)."""
    return {"form": rulebook.rule_set(rule_set).rule("forms").parameters["apology_form"],
            "original_due_at": to_legal_time(original_due_at).isoformat() if original_due_at else None,
            "new_due_at": to_legal_time(new_due_at).isoformat() if new_due_at else None, "reason": reason}


def _when(moment: datetime | None) -> str:
    """``HH:MM ngày DD/MM/YYYY`` in legal time (written out rather than with strftime, which looks at the time zone
    on every call: every receipt notice formats two instants)."""
    if not moment:
        return "chưa xác định"
    t = to_legal_time(moment)
    return f"{t.hour:02d}:{t.minute:02d} ngày {t.day:02d}/{t.month:02d}/{t.year}"


def _vnd(amount: int | None) -> str:
    return f"{amount or 0:,}".replace(",", ".") + " đồng"


def receipt_notice(code: str, received_at: datetime | None, due_at: datetime | None) -> Notice:
    """The receipt and appointment (Giấy tiếp nhận hồ sơ và hẹn trả kết quả, Mẫu 01 of Circular
    01/2018/TT-VPCP; Decree 61/2018 Art. 16), sent to the applicant when the dossier is received."""
    return Notice("Giấy tiếp nhận hồ sơ và hẹn trả kết quả (Mẫu 01)",
                  f"Hồ sơ {code} đã được tiếp nhận lúc {_when(received_at)}. Ngày hẹn trả kết quả: {_when(due_at)}.")


def decide(state: DossierState, action: Action, data: ActionInput, *, code: str, role: str, now: datetime,
           calendar: WorkingCalendar) -> Decision:
    """The one function that decides an action: :func:`check` (role 403, state 409), the action's required
    fields (422 ``FIELD_REQUIRED``), :func:`apply`, the control-slip note and data, and the notices of Decree
    61/2018 — the receipt (Mẫu 01, Art. 16), a rejection at intake (Mẫu 03, Art. 16), a payment request, Mẫu 02
    on a supplement request (Art. 19(4)), Mẫu 04 on a re-scheduling (Art. 19(9)), a refusal with its reason
    (Art. 19), the result being ready (Art. 20), a failed postal delivery (Decision 45/2016 Art. 10). ``code``
    is the dossier's code (the notices name it). Pure: nothing is written, the same input gives the same decision."""
    check(state, action, role=role, now=now, calendar=calendar)
    note = data.note or data.reason
    slip: dict[str, Any] = {}
    if action in (Action.REJECT, Action.REFUSE):
        required(data.reason, "reason")
    elif action is Action.ASSIGN:
        assignee: Assignee = required(data.assignee, "assignee")
        slip["assignee"] = assignee.username
        note = note or f"Giao {assignee.full_name} xử lý"
    elif action is Action.REQUEST_SUPPLEMENT:
        required(data.reason, "reason")
        slip["missing_documents"] = required(data.missing_documents, "missing_documents")
    elif action is Action.REQUEST_PAYMENT:
        slip["amount_vnd"] = required(data.amount_vnd, "amount_vnd")
    elif action is Action.EXTEND:
        required(data.reason, "reason")
        required(data.new_due_at, "new_due_at")
    elif action is Action.RETURN_FOR_CORRECTION:
        required(data.reason, "reason")
        note = f"Trả lại cơ quan trước để hoàn thiện: {data.reason}"
    elif action is Action.TRANSFER:
        note = note or "Chuyển hồ sơ liên thông cho cơ quan thực hiện bước tiếp theo (Phiếu chuyển xử lý)"

    after = apply(state, action, data, role=role, now=now, calendar=calendar)
    notices: tuple[Notice, ...] = ()
    if action is Action.RECEIVE:
        notices = (receipt_notice(code, after.received_at, after.due_at),)
    elif action is Action.REJECT:
        notices = (Notice("Phiếu từ chối tiếp nhận hồ sơ (Mẫu 03)",
                          f"Hồ sơ {code} không được tiếp nhận. Lý do: {data.reason}"),)
    elif action is Action.REQUEST_PAYMENT:
        notices = (Notice("Thông báo thực hiện nghĩa vụ tài chính",
                          f"Hồ sơ {code}: đề nghị ông/bà nộp {_vnd(data.amount_vnd)} phí, lệ phí để cơ quan tiếp "
                          "tục giải quyết. Thời hạn giải quyết tạm dừng cho đến khi nộp xong."),)
    elif action is Action.REFUSE:
        notices = (Notice("Thông báo từ chối giải quyết hồ sơ",
                          f"Hồ sơ {code} không được giải quyết. Lý do: {data.reason}"),)
    elif action is Action.EXTEND:
        assert after.due_at is not None
        slip["apology_letter"] = apology_letter(after.original_due_at, after.due_at, data.reason,
                                                rule_set=state.rule_set)
        notices = (Notice("Phiếu xin lỗi và hẹn lại ngày trả kết quả",
                          f"Hồ sơ {code} được hẹn lại ngày trả kết quả: "
                          f"{to_legal_time(after.due_at):%H:%M %d/%m/%Y}. Lý do: {data.reason}"),)
    elif action is Action.REQUEST_SUPPLEMENT:
        notices = (Notice("Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (Mẫu 02)",
                          f"Hồ sơ {code} cần bổ sung: {', '.join(slip['missing_documents'])}. "
                          f"Lý do: {data.reason}"),)
    elif action is Action.DELIVERY_FAILED:
        notices = (Notice("Chuyển phát kết quả không thành công",
                          f"Kết quả hồ sơ {code} chưa giao được; mời ông/bà nhận tại Bộ phận Một cửa."),)
    elif action is Action.APPROVE:
        notices = (Notice("Hồ sơ đã có kết quả", f"Hồ sơ {code} đã có kết quả giải quyết."),)
    return Decision(action, state.status, after, note, slip, notices)
