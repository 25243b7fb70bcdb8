"""The transition table and :func:`service.domain.lifecycle.decide`, without a database or an app.

The table is checked against the contract's action table row by row; ``decide`` for what each action records
(note, slip data, notices), the required fields, the order of the refusals and its purity.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from service.domain.calendar import VN_TZ, default_calendar
from service.domain.errors import InvalidTransition, NotPermitted, RuleConflict, RuleViolation
from service.domain.lifecycle import (
    NATIONAL_STATUS_CODE,
    STATUS_LABEL,
    TRANSITIONS,
    Action,
    ActionInput,
    Assignee,
    DossierState,
    Notice,
    Status,
    decide,
    start_clock,
)
from service.domain.roles import ROLE_LABEL, STAFF_ROLES, Role

CAL = default_calendar()
CODE = "000.00.61.H49-260302-0001"


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)  # type: ignore[misc]


RECEIVED_AT = vn(2026, 3, 2, 8, 0)  # Monday 02/03/2026 08:00


def lodged(**changes: object) -> DossierState:
    state = DossierState(status=Status.SUBMITTED, channel="online", result_delivery="counter", service_level=4,
                         supplement_policy="restart", processing_value=5, processing_unit="working_days")
    return replace(state, **changes)  # type: ignore[arg-type]


def received() -> DossierState:
    return start_clock(lodged(), now=RECEIVED_AT, calendar=CAL)


def processing() -> DossierState:
    return replace(received(), status=Status.PROCESSING)


S = Status
# The contract's lifecycle table: action → (who, from, to). ``None`` keeps the status.
CONTRACT = {
    Action.RECEIVE: ({Role.RECEIVER}, {S.SUBMITTED}, S.RECEIVED),
    Action.REJECT: ({Role.RECEIVER}, {S.SUBMITTED}, S.REJECTED),
    Action.ASSIGN: ({Role.RECEIVER}, {S.RECEIVED}, S.PROCESSING),
    Action.REQUEST_SUPPLEMENT: ({Role.PROCESSOR}, {S.PROCESSING}, S.AWAITING_SUPPLEMENT),
    Action.SUPPLEMENT: ({Role.CITIZEN, Role.RECEIVER}, {S.AWAITING_SUPPLEMENT}, S.PROCESSING),
    Action.REQUEST_PAYMENT: ({Role.PROCESSOR}, {S.PROCESSING}, S.AWAITING_PAYMENT),
    Action.PAY: ({Role.CITIZEN, Role.RECEIVER}, {S.AWAITING_PAYMENT}, S.PROCESSING),
    Action.EXTEND: ({Role.APPROVER}, {S.PROCESSING}, None),
    Action.APPROVE: ({Role.APPROVER}, {S.PROCESSING}, S.RESULT_READY),
    Action.REFUSE: ({Role.APPROVER}, {S.PROCESSING}, S.REFUSED),
    Action.WITHDRAW: ({Role.CITIZEN, Role.RECEIVER},
                      {S.SUBMITTED, S.RECEIVED, S.PROCESSING, S.AWAITING_SUPPLEMENT, S.AWAITING_PAYMENT},
                      S.WITHDRAWN),
    Action.RETURN_RESULT: ({Role.RECEIVER}, {S.RESULT_READY}, S.RETURNED),
    Action.DISPATCH_POSTAL: ({Role.RECEIVER}, {S.RESULT_READY}, S.IN_TRANSIT),
    Action.CONFIRM_DELIVERY: ({Role.RECEIVER, Role.SYSTEM}, {S.IN_TRANSIT}, S.RETURNED),
    Action.DELIVERY_FAILED: ({Role.RECEIVER, Role.SYSTEM}, {S.IN_TRANSIT}, S.RESULT_READY),
    # Inter-agency dossiers (README, "Across agencies"): the holding agency changes, the status stays.
    Action.TRANSFER: ({Role.PROCESSOR}, {S.PROCESSING}, None),
    Action.RETURN_FOR_CORRECTION: ({Role.PROCESSOR}, {S.PROCESSING}, None),
}


class TestTransitionTable:
    @pytest.mark.parametrize("action", list(Action), ids=str)
    def test_row_matches_the_contract(self, action: Action) -> None:
        roles, sources, target = CONTRACT[action]
        row = TRANSITIONS[action]
        assert (set(row.roles), set(row.sources), row.target) == (roles, sources, target)

    def test_every_action_has_a_row_and_every_status_a_portal_code_and_label(self) -> None:
        assert set(TRANSITIONS) == set(Action)
        assert set(NATIONAL_STATUS_CODE) == set(Status) == set(STATUS_LABEL)

    def test_terminal_statuses_have_no_way_out(self) -> None:
        for status in (S.REJECTED, S.REFUSED, S.WITHDRAWN, S.RETURNED):
            assert not [a for a, row in TRANSITIONS.items() if status in row.sources], status

    def test_roles_have_vietnamese_labels_and_staff_are_the_three_officers(self) -> None:
        assert set(ROLE_LABEL) == set(Role)
        assert {Role.RECEIVER, Role.PROCESSOR, Role.APPROVER} == STAFF_ROLES
        assert Role.RECEIVER.label.startswith("Cán bộ tiếp nhận")


class TestDecide:
    def test_receive_starts_the_clock_and_records_who_did_what(self) -> None:
        decision = decide(lodged(), Action.RECEIVE, ActionInput(), code=CODE, role=Role.RECEIVER,
                          now=RECEIVED_AT, calendar=CAL)
        assert decision.from_status is S.SUBMITTED and decision.state.status is S.RECEIVED
        assert decision.state.received_at == RECEIVED_AT
        assert decision.state.due_at == vn(2026, 3, 9, 8, 0)  # five working days later
        assert decision.note is None
        assert decision.notices == (Notice(  # the receipt and appointment (Mẫu 01) reaches the applicant
            "Giấy tiếp nhận hồ sơ và hẹn trả kết quả (Mẫu 01)",
            f"Hồ sơ {CODE} đã được tiếp nhận lúc 08:00 ngày 02/03/2026. Ngày hẹn trả kết quả: 08:00 ngày 09/03/2026."),)

    def test_assign_names_the_processor_in_note_and_data(self) -> None:
        decision = decide(received(), Action.ASSIGN, ActionInput(assignee=Assignee("chuyenvien", "Trần Thị B")),
                          code=CODE, role=Role.RECEIVER, now=vn(2026, 3, 2, 9), calendar=CAL)
        assert decision.note == "Giao Trần Thị B xử lý"
        assert decision.data == {"assignee": "chuyenvien"}

    def test_supplement_request_stops_the_clock_and_sends_form_02(self) -> None:
        decision = decide(processing(), Action.REQUEST_SUPPLEMENT,
                          ActionInput(reason="Thiếu bản sao", missing_documents=["TP01"]), code=CODE,
                          role=Role.PROCESSOR, now=vn(2026, 3, 3, 8), calendar=CAL)
        assert decision.state.status is S.AWAITING_SUPPLEMENT and decision.state.paused_at == vn(2026, 3, 3, 8)
        assert decision.data == {"missing_documents": ["TP01"]}
        (notice,) = decision.notices
        assert "Mẫu 02" in notice.subject and CODE in notice.body and "TP01" in notice.body

    def test_extension_records_the_apology_letter_and_notifies(self) -> None:
        new_due = vn(2026, 3, 12, 10, 0)
        decision = decide(processing(), Action.EXTEND, ActionInput(reason="Cần xác minh", new_due_at=new_due),
                          code=CODE, role=Role.APPROVER, now=vn(2026, 3, 3, 9), calendar=CAL)
        letter = decision.data["apology_letter"]
        assert letter["original_due_at"] == "2026-03-09T08:00:00+07:00"
        assert letter["new_due_at"] == "2026-03-12T10:00:00+07:00"
        assert decision.state.extension_count == 1 and decision.state.original_due_at == vn(2026, 3, 9, 8)
        assert "10:00 12/03/2026" in decision.notices[0].body

    def test_approve_finishes_with_timeliness_and_tells_the_applicant(self) -> None:
        decision = decide(processing(), Action.APPROVE, ActionInput(), code=CODE, role=Role.APPROVER,
                          now=vn(2026, 3, 9, 9), calendar=CAL)
        assert decision.state.status is S.RESULT_READY and decision.state.timeliness == "late"
        assert [n.subject for n in decision.notices] == ["Hồ sơ đã có kết quả"]

    @pytest.mark.parametrize(("action", "role", "data", "field"), [
        pytest.param(Action.REFUSE, Role.APPROVER, ActionInput(), "reason", id="refuse"),
        pytest.param(Action.REQUEST_SUPPLEMENT, Role.PROCESSOR, ActionInput(reason="x"), "missing_documents",
                     id="supplement-papers"),
        pytest.param(Action.REQUEST_SUPPLEMENT, Role.PROCESSOR, ActionInput(reason="x", missing_documents=[]),
                     "missing_documents", id="supplement-empty"),
        pytest.param(Action.REQUEST_PAYMENT, Role.PROCESSOR, ActionInput(), "amount_vnd", id="payment"),
        pytest.param(Action.EXTEND, Role.APPROVER, ActionInput(reason="x"), "new_due_at", id="extend"),
    ])
    def test_missing_field_is_field_required(self, action: Action, role: Role, data: ActionInput,
                                             field: str) -> None:
        with pytest.raises(RuleViolation) as raised:
            decide(processing(), action, data, code=CODE, role=role, now=vn(2026, 3, 3, 8), calendar=CAL)
        assert raised.value.code == "FIELD_REQUIRED" and field in raised.value.detail

    def test_role_is_refused_before_state(self) -> None:
        with pytest.raises(NotPermitted):  # a citizen may never approve, whatever the status
            decide(lodged(), Action.APPROVE, ActionInput(), code=CODE, role=Role.CITIZEN, now=RECEIVED_AT,
                   calendar=CAL)
        with pytest.raises(InvalidTransition):
            decide(lodged(), Action.APPROVE, ActionInput(), code=CODE, role=Role.APPROVER, now=RECEIVED_AT,
                   calendar=CAL)

    def test_state_is_refused_before_a_missing_field(self) -> None:
        with pytest.raises(InvalidTransition):
            decide(lodged(), Action.REFUSE, ActionInput(), code=CODE, role=Role.APPROVER, now=RECEIVED_AT,
                   calendar=CAL)

    def test_guards_of_the_decree(self) -> None:
        late = vn(2026, 3, 6, 8, 1)  # more than 3 working days after the receipt
        with pytest.raises(RuleConflict) as raised:
            decide(processing(), Action.REQUEST_SUPPLEMENT, ActionInput(reason="x", missing_documents=["TP01"]),
                   code=CODE, role=Role.PROCESSOR, now=late, calendar=CAL)
        assert raised.value.code == "SUPPLEMENT_WINDOW_CLOSED"
        with pytest.raises(RuleConflict) as raised:
            decide(replace(processing(), extension_count=1), Action.EXTEND,
                   ActionInput(reason="x", new_due_at=vn(2026, 3, 12, 10)), code=CODE, role=Role.APPROVER,
                   now=vn(2026, 3, 3, 9), calendar=CAL)
        assert raised.value.code == "ALREADY_EXTENDED"

    def test_deciding_changes_nothing_given(self) -> None:
        state = processing()
        first = decide(state, Action.REFUSE, ActionInput(reason="Không đủ điều kiện"), code=CODE,
                       role=Role.APPROVER, now=vn(2026, 3, 4, 9), calendar=CAL)
        again = decide(state, Action.REFUSE, ActionInput(reason="Không đủ điều kiện"), code=CODE,
                       role=Role.APPROVER, now=vn(2026, 3, 4, 9), calendar=CAL)
        assert state == processing() and first == again
        assert first.note == "Không đủ điều kiện" and first.state.status is S.REFUSED
