"""Every action of the contract's lifecycle table, with the clock arithmetic (issue 4 §3).

Expected due dates are computed by hand from the official 2026 schedule (domain-vn.md §3.3): days off
01/01, 02/01 (swap), Tết 16–20/02, Hùng Vương observed Mon 27/04, 30/04, 01/05, 31/08 (swap), 01–02/09,
24/11; make-up working Saturdays 10/01 and 22/08. Office hours 07:30–11:30 and 13:00–17:00 (8 working
hours = 1 working day).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from service.models import Dossier, DossierEvent, Notification
from tests.builders import COMMUNE, World, build_world, procedure_body

TEN_RESTART = "1.000010.000.00.61.H49"  # 10 working days, supplement policy "restart"
TEN_PAUSE = "1.000011.000.00.61.H49"  # 10 working days, supplement policy "pause"
LEVEL3 = "1.000012.000.00.61.H49"  # level 3: no online payment
MON_0800 = "2026-03-02T08:00:00+07:00"


@pytest.fixture
def world(client: TestClient) -> World:
    world = build_world(client, now=MON_0800)
    ten = {"value": 10, "unit": "working_days"}
    for code, extra in (
        (TEN_RESTART, {"processing_time": ten}),
        (TEN_PAUSE, {"processing_time": ten, "supplement_policy": "pause"}),
        (LEVEL3, {"service_level": 3, "fee_vnd": 50_000}),
    ):
        body = procedure_body(code, agency_code=COMMUNE, **extra)
        assert client.post("/api/v1/procedures", json=body, headers=world.as_("admin")).status_code == 201
    return world


def get(world: World, code: str, who: str = "receiver") -> dict[str, Any]:
    response = world.client.get(f"/api/v1/dossiers/{code}", headers=world.as_(who))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def processing(world: World, **overrides: Any) -> str:
    """A counter dossier received now and assigned to the commune's processor."""
    code = world.submit(**overrides)["code"]
    world.act(code, "assign", "receiver", {"assignee": "chuyenvien"})
    return code


def conflict(world: World, code: str, action: str, who: str, body: dict[str, Any] | None = None) -> str:
    return world.act(code, action, who, body, expect=409)["code"]  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------------------- receipt


def test_online_dossier_starts_its_clock_when_the_desk_receives_it(world: World) -> None:
    world.set_clock("2026-04-22T21:00:00+07:00")
    code = world.submit("citizen", channel="online", applicant=None)["code"]
    world.set_clock("2026-04-24T10:00:00+07:00")
    received = world.act(code, "receive", "receiver")
    # Fri 24/04 10:00 + 24 working hours: Fri 1.5 + 4 = 5.5 h; Sat, Sun off;
    # Mon 27/04 off (Hùng Vương, observed);
    # Tue 28/04 8 h (13.5); Wed 29/04 8 h (21.5); Thu 30/04 and Fri 01/05 off; Sat, Sun off;
    # Mon 04/05 07:30 + 2.5 h → 10:00.
    assert received["status"] == "received" and received["national_status_code"] == 2
    assert received["submitted_at"] == "2026-04-22T21:00:00+07:00"
    assert received["received_at"] == "2026-04-24T10:00:00+07:00"
    assert received["due_at"] == "2026-05-04T10:00:00+07:00"
    assert received["original_due_at"] is None and received["overdue"] is False


def test_receipt_outside_office_hours_counts_from_the_next_session(world: World) -> None:
    world.set_clock("2026-03-07T22:00:00+07:00")  # Saturday night
    code = world.submit("citizen", channel="online", applicant=None)["code"]
    received = world.act(code, "receive", "receiver")
    # The clock starts Mon 09/03 07:30; 3 working days are used up exactly at Wed 11/03 17:00 (a session end,
    # not Thu 07:30).
    assert received["received_at"] == "2026-03-07T22:00:00+07:00"
    assert received["due_at"] == "2026-03-11T17:00:00+07:00"


def test_make_up_saturday_is_a_working_day(world: World) -> None:
    world.set_clock("2026-08-21T14:00:00+07:00")
    # Fri 21/08 14:00–17:00 = 3 h; Sat 22/08 is a make-up working day, 8 h (11); Sun off; Mon 24/08 8 h (19);
    # Tue 25/08 07:30–11:30 4 h (23) then 13:00 + 1 h → 14:00.
    assert world.submit()["due_at"] == "2026-08-25T14:00:00+07:00"


def test_national_day_break_is_skipped(world: World) -> None:
    world.set_clock("2026-08-27T09:00:00+07:00")
    # Thu 27/08 2.5 + 4 = 6.5 h; Fri 28/08 8 h (14.5); 29–30/08 weekend, Mon 31/08 swap day, 01–02/09 Quốc
    # khánh; Thu 03/09 8 h (22.5); Fri 04/09 07:30 + 1.5 h → 09:00.
    assert world.submit()["due_at"] == "2026-09-04T09:00:00+07:00"


def test_reject_at_intake_is_never_received(world: World) -> None:
    code = world.submit("citizen", channel="online", applicant=None)["code"]
    assert world.act(code, "reject", "receiver", {}, expect=422)["code"] == "FIELD_REQUIRED"
    rejected = world.act(code, "reject", "receiver", {"reason": "Hồ sơ không thuộc thẩm quyền giải quyết."})
    assert rejected["status"] == "rejected" and rejected["national_status_code"] == 3
    assert rejected["received_at"] is None and rejected["due_at"] is None
    assert rejected["finished_at"] is None and rejected["timeliness"] is None
    assert conflict(world, code, "receive", "receiver") == "INVALID_TRANSITION"


def test_assign_needs_a_processor_of_the_agency(world: World) -> None:
    code = world.submit()["code"]
    for assignee in ("chuyenvien.ql", "lanhdao", "nobody"):
        assert (
            world.act(code, "assign", "receiver", {"assignee": assignee}, expect=422)["code"]
            == "ASSIGNEE_INVALID"
        )
    assigned = world.act(code, "assign", "receiver", {"assignee": "chuyenvien"})
    assert assigned["status"] == "processing" and assigned["assignee"] == "chuyenvien"
    assert assigned["national_status_code"] == 4


# ------------------------------------------------------------------------------------------- supplementation


def test_supplement_window_is_three_working_days_boundary_included(world: World) -> None:
    first, second = (
        processing(world, procedure_code=TEN_RESTART),
        processing(world, procedure_code=TEN_RESTART),
    )
    # Received Mon 02/03 08:00. 24 working hours later: Mon 7.5 h, Tue 8 h (15.5), Wed 8 h (23.5),
    # Thu 07:30–08:00 0.5 h → Thu 05/03 08:00 is the last instant a supplement may be requested.
    world.set_clock("2026-03-05T08:00:00+07:00")
    body = {"reason": "Thiếu bản sao giấy chứng sinh.", "missing_documents": ["TP02"]}
    assert world.act(first, "request_supplement", "processor", body)["status"] == "awaiting_supplement"
    world.set_clock("2026-03-05T08:01:00+07:00")
    assert conflict(world, second, "request_supplement", "processor", body) == "SUPPLEMENT_WINDOW_CLOSED"
    assert get(world, second)["status"] == "processing"


def test_supplement_request_needs_reason_and_papers(world: World) -> None:
    code = processing(world)
    assert (
        world.act(code, "request_supplement", "processor", {"reason": "Thiếu giấy tờ."}, expect=422)["code"]
        == "FIELD_REQUIRED"
    )
    assert (
        world.act(code, "request_supplement", "processor", {"missing_documents": ["TP02"]}, expect=422)[
            "code"
        ]
        == "FIELD_REQUIRED"
    )


def test_restart_policy_counts_the_deadline_again_from_zero(world: World) -> None:
    code = processing(world, procedure_code=TEN_RESTART)
    # Mon 02/03 08:00 + 80 working hours: 7.5 h on Mon, then 8 h a day Tue 03 … Fri 13/03 (79.5 h),
    # Mon 16/03 07:30 + 0.5 h → 08:00.
    assert get(world, code)["due_at"] == "2026-03-16T08:00:00+07:00"
    world.set_clock("2026-03-03T09:00:00+07:00")
    paused = world.act(
        code,
        "request_supplement",
        "processor",
        {"reason": "Thiếu giấy chứng sinh.", "missing_documents": ["TP02"]},
    )
    assert paused["status"] == "awaiting_supplement" and paused["national_status_code"] == 5
    assert paused["supplement_count"] == 1
    # Past the old due date the dossier is not overdue: the clock is stopped while the applicant supplements.
    world.set_clock("2026-03-17T10:00:00+07:00")
    assert get(world, code)["overdue"] is False
    resumed = world.act(code, "supplement", "citizen")  # the applicant of this counter dossier
    # Restarted Tue 17/03 10:00 with 10 full working days (no day off in March 2026): Tue 31/03 10:00.
    assert resumed["status"] == "processing" and resumed["due_at"] == "2026-03-31T10:00:00+07:00"
    assert resumed["received_at"] == "2026-03-02T08:00:00+07:00"
    # The window restarts with the clock: Wed 18/03 10:00 is within 3 working days of Tue 17/03 10:00.
    world.set_clock("2026-03-18T10:00:00+07:00")
    again = world.act(
        code,
        "request_supplement",
        "processor",
        {"reason": "Bản sao chưa chứng thực.", "missing_documents": ["TP01"]},
    )
    assert again["supplement_count"] == 2


def test_pause_policy_resumes_the_remaining_working_time(world: World) -> None:
    code = processing(world, procedure_code=TEN_PAUSE)
    assert get(world, code)["due_at"] == "2026-03-16T08:00:00+07:00"
    world.set_clock("2026-03-04T13:00:00+07:00")
    world.act(
        code, "request_supplement", "processor", {"reason": "Thiếu tờ khai.", "missing_documents": ["TP01"]}
    )
    # Used so far: Mon 7.5 + Tue 8 + Wed morning 4 = 19.5 h; remaining 80 − 19.5 = 60.5 h.
    world.set_clock("2026-03-12T15:00:00+07:00")
    resumed = world.act(code, "supplement", "receiver")
    # Resume Thu 12/03 15:00: 2 h that day, then 8 h on each of Fri 13, Mon 16 … Mon 23/03 (58 h),
    # Tue 24/03 07:30 + 2.5 h → 10:00.
    assert resumed["due_at"] == "2026-03-24T10:00:00+07:00"
    assert resumed["status"] == "processing"


def test_supplement_actors(world: World) -> None:
    code = processing(world)
    world.act(code, "request_supplement", "processor", {"reason": "Thiếu.", "missing_documents": ["TP02"]})
    for who in ("processor", "approver"):
        assert world.act(code, "supplement", who, expect=403)["code"] == "FORBIDDEN_ROLE"
    # Another citizen cannot even see the dossier.
    assert world.act(code, "supplement", "other_citizen", expect=404)["code"] == "DOSSIER_NOT_FOUND"


# ------------------------------------------------------------------------------------------- payment


def test_payment_pause_resumes_the_remaining_time(world: World) -> None:
    code = processing(world)  # due Thu 05/03 08:00
    world.set_clock("2026-03-02T14:00:00+07:00")
    asked = world.act(code, "request_payment", "processor", {"amount_vnd": 50_000})
    assert (
        asked["status"] == "awaiting_payment"
        and asked["national_status_code"] == 6
        and asked["paid"] is False
    )
    # Remaining at Mon 14:00: Mon 3 h + Tue 8 + Wed 8 + Thu 0.5 = 19.5 h.
    world.set_clock("2026-03-06T09:00:00+07:00")
    assert get(world, code)["overdue"] is False  # past Thu 08:00 but the clock is stopped
    paid = world.act(code, "pay", "citizen")  # level 4: online payment is offered
    # Resume Fri 06/03 09:00: Fri 2.5 + 4 = 6.5 h; Mon 09/03 8 h (14.5); Tue 10/03 morning 4 h (18.5),
    # 13:00 + 1 h → Tue 10/03 14:00.
    assert paid["status"] == "processing" and paid["paid"] is True
    assert paid["due_at"] == "2026-03-10T14:00:00+07:00"


def test_online_payment_needs_level_4(world: World) -> None:
    code = processing(world, procedure_code=LEVEL3)
    assert get(world, code)["fee_vnd"] == 50_000
    assert world.act(code, "request_payment", "processor", {}, expect=422)["code"] == "FIELD_REQUIRED"
    world.act(code, "request_payment", "processor", {"amount_vnd": 50_000})
    assert conflict(world, code, "pay", "citizen") == "ONLINE_PAYMENT_NOT_OFFERED"
    assert world.act(code, "pay", "receiver")["paid"] is True  # paid at the desk


# ------------------------------------------------------------------------------------------- extension


def extend_body(new_due_at: str = "2026-03-10T17:00:00+07:00") -> dict[str, Any]:
    return {"new_due_at": new_due_at, "reason": "Cần xác minh thêm thông tin tại địa phương."}


def test_extension_at_least_one_working_day_ahead_boundary_included(world: World) -> None:
    early, late = processing(world), processing(world)  # both due Thu 05/03 08:00
    # From Wed 04/03 08:00 to Thu 08:00: Wed 3.5 + 4 h, Thu 0.5 h = 8 h = exactly one working day: allowed.
    world.set_clock("2026-03-04T08:00:00+07:00")
    assert world.act(early, "extend", "approver", extend_body())["extension_count"] == 1
    world.set_clock("2026-03-04T08:01:00+07:00")  # 7 h 59 min left
    assert conflict(world, late, "extend", "approver", extend_body()) == "EXTENSION_TOO_LATE"


def test_extension_once_keeps_the_original_due_date_and_records_the_apology(
    world: World, client: TestClient
) -> None:
    code = processing(world)
    world.set_clock("2026-03-03T10:00:00+07:00")
    extended = world.act(code, "extend", "approver", extend_body())
    assert extended["status"] == "processing"
    assert extended["original_due_at"] == "2026-03-05T08:00:00+07:00"
    assert extended["due_at"] == "2026-03-10T17:00:00+07:00"
    assert extended["extension_count"] == 1
    assert (
        conflict(world, code, "extend", "approver", extend_body("2026-03-12T17:00:00+07:00"))
        == "ALREADY_EXTENDED"
    )

    history = client.get(f"/api/v1/dossiers/{code}/history", headers=world.as_("approver")).json()
    assert history[-1]["action"] == "extend" and history[-1]["note"] == extend_body()["reason"]
    # The apology letter (Mẫu 04) is recorded with the control-slip row, and the applicant is notified.
    db = client.app.state.context.db  # type: ignore[attr-defined]
    with db.transaction(read_only=True) as session:
        dossier = session.exec(select(Dossier).where(Dossier.code == code)).one()
        event = session.exec(
            select(DossierEvent).where(DossierEvent.dossier_id == dossier.id, DossierEvent.action == "extend")
        ).one()
        letter = event.data["apology_letter"]
        assert letter["form"].startswith("Mẫu 04")
        assert letter["original_due_at"] == "2026-03-05T08:00:00+07:00"
        assert letter["new_due_at"] == "2026-03-10T17:00:00+07:00"
        assert letter["reason"] == extend_body()["reason"]
        notices = session.exec(select(Notification).where(Notification.dossier_id == dossier.id)).all()
        assert any("xin lỗi" in n.subject and "17:00 10/03/2026" in n.body for n in notices)
    # A finished dossier keeps its (extended) due date; timeliness is judged against it.
    world.set_clock("2026-03-09T10:00:00+07:00")
    approved = world.act(code, "approve", "approver")
    assert approved["timeliness"] == "early" and approved["original_due_at"] == "2026-03-05T08:00:00+07:00"


def test_extension_body_rules(world: World) -> None:
    code = processing(world)
    world.set_clock("2026-03-03T10:00:00+07:00")
    for body in ({"reason": "Thiếu ngày."}, {"new_due_at": "2026-03-10T17:00:00+07:00"}):
        assert world.act(code, "extend", "approver", body, expect=422)["code"] == "FIELD_REQUIRED"
    # Not later than the current due date, on a day off (Sun 08/03), after hours or at lunch, or without an offset.
    for bad in ("2026-03-04T17:00:00+07:00", "2026-03-08T10:00:00+07:00", "2026-03-10T19:30:00+07:00",
                "2026-03-10T12:15:00+07:00"):
        assert (
            world.act(code, "extend", "approver", extend_body(bad), expect=422)["code"]
            == "EXTENSION_DATE_INVALID"
        )
    assert (
        world.act(code, "extend", "approver", extend_body("2026-03-10T17:00:00"), expect=422)["code"]
        == "VALIDATION_ERROR"
    )
    for who in ("processor", "receiver", "citizen"):
        assert world.act(code, "extend", who, extend_body(), expect=403)["code"] == "FORBIDDEN_ROLE"
    assert get(world, code)["extension_count"] == 0


# ------------------------------------------------------------------------------------------- finishing


@pytest.mark.parametrize(
    ("finish_at", "timeliness", "overdue"),
    [
        ("2026-03-04T16:00:00+07:00", "early", False),  # Wed, a date before the due date Thu 05/03
        ("2026-03-05T07:45:00+07:00", "on_time", False),  # the due day, before 08:00
        ("2026-03-05T08:00:00+07:00", "on_time", False),  # exactly at due_at: not late (finished_at ≤ due_at)
        ("2026-03-05T08:00:01+07:00", "late", True),  # one second after
    ],
)
def test_timeliness_of_approval(world: World, finish_at: str, timeliness: str, overdue: bool) -> None:
    code = processing(world)
    world.set_clock(finish_at)
    approved = world.act(code, "approve", "approver")
    assert approved["status"] == "result_ready" and approved["national_status_code"] == 9
    assert approved["finished_at"] == finish_at
    assert approved["timeliness"] == timeliness and approved["overdue"] is overdue


def test_unfinished_dossier_becomes_overdue_after_due_at(world: World) -> None:
    code = processing(world)
    world.set_clock("2026-03-05T08:00:00+07:00")
    assert get(world, code)["overdue"] is False
    world.set_clock("2026-03-05T08:00:01+07:00")
    assert get(world, code)["overdue"] is True
    assert get(world, code)["timeliness"] is None


def test_refusal_after_appraisal_counts_in_timeliness(world: World) -> None:
    code = processing(world)
    assert world.act(code, "refuse", "approver", {}, expect=422)["code"] == "FIELD_REQUIRED"
    world.set_clock("2026-03-06T09:00:00+07:00")  # after the due date Thu 05/03 08:00
    refused = world.act(code, "refuse", "approver", {"reason": "Không đủ điều kiện theo quy định."})
    assert refused["status"] == "refused" and refused["national_status_code"] == 8
    assert refused["finished_at"] == "2026-03-06T09:00:00+07:00"
    assert refused["timeliness"] == "late" and refused["overdue"] is True
    for action, who in (("approve", "approver"), ("withdraw", "receiver"), ("return_result", "receiver")):
        assert conflict(world, code, action, who) == "INVALID_TRANSITION"


def test_return_of_results_at_the_counter(world: World) -> None:
    code = processing(world)
    world.set_clock("2026-03-03T15:00:00+07:00")
    world.act(code, "approve", "approver")
    assert conflict(world, code, "dispatch_postal", "receiver") == "INVALID_TRANSITION"
    assert world.act(code, "return_result", "approver", expect=403)["code"] == "FORBIDDEN_ROLE"
    world.set_clock("2026-03-04T09:30:00+07:00")
    returned = world.act(code, "return_result", "receiver")
    assert returned["status"] == "returned" and returned["national_status_code"] == 10
    assert returned["returned_at"] == "2026-03-04T09:30:00+07:00"
    # finished_at stays the approval instant: collection time does not change timeliness.
    assert returned["finished_at"] == "2026-03-03T15:00:00+07:00" and returned["timeliness"] == "early"


def test_postal_result_cannot_be_handed_over_at_the_counter(world: World) -> None:
    code = processing(world, result_delivery="postal", delivery_address="Số 1 Tiên Yên, Quảng Ninh")
    world.act(code, "approve", "approver")
    assert conflict(world, code, "return_result", "receiver") == "INVALID_TRANSITION"
    assert get(world, code)["status"] == "result_ready"


# ------------------------------------------------------------------------------------------- withdrawal


@pytest.mark.parametrize(
    "stage", ["submitted", "received", "processing", "awaiting_supplement", "awaiting_payment"]
)
def test_withdrawal_from_every_open_stage(world: World, stage: str) -> None:
    if stage == "submitted":
        code = world.submit("citizen", channel="online", applicant=None)["code"]
    else:
        code = world.submit()["code"]
    if stage in ("processing", "awaiting_supplement", "awaiting_payment"):
        world.act(code, "assign", "receiver", {"assignee": "chuyenvien"})
    if stage == "awaiting_supplement":
        world.act(
            code, "request_supplement", "processor", {"reason": "Thiếu.", "missing_documents": ["TP02"]}
        )
    if stage == "awaiting_payment":
        world.act(code, "request_payment", "processor", {"amount_vnd": 10_000})
    assert get(world, code)["status"] == stage
    world.set_clock("2026-03-10T09:00:00+07:00")  # long past due: a withdrawn dossier is never overdue
    withdrawn = world.act(code, "withdraw", "citizen")
    assert withdrawn["status"] == "withdrawn" and withdrawn["national_status_code"] == 8
    assert (
        withdrawn["finished_at"] is None and withdrawn["timeliness"] is None and withdrawn["overdue"] is False
    )
    assert conflict(world, code, "withdraw", "receiver") == "INVALID_TRANSITION"


def test_withdrawal_after_the_result_is_too_late(world: World) -> None:
    code = processing(world)
    world.act(code, "approve", "approver")
    assert conflict(world, code, "withdraw", "citizen") == "INVALID_TRANSITION"
    for who in ("processor", "approver"):
        assert world.act(processing(world), "withdraw", who, expect=403)["code"] == "FORBIDDEN_ROLE"


def test_unknown_action_is_404(world: World) -> None:
    code = world.submit()["code"]
    assert world.act(code, "teleport", "receiver", expect=404)["code"] == "ACTION_NOT_FOUND"


def test_every_transition_bumps_the_version_and_etag(world: World, client: TestClient) -> None:
    created = world.submit()
    assigned = world.act(created["code"], "assign", "receiver", {"assignee": "chuyenvien"})
    assert assigned["version"] == created["version"] + 1
    response = client.get(f"/api/v1/dossiers/{created['code']}", headers=world.as_("processor"))
    assert response.headers["ETag"] == f'"{assigned["version"]}"'
