"""Inter-agency (liên thông) procedures: split deadlines, transfer, a pause, a late department, statistics."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from service.domain.statistics import STEP_COLUMNS
from tests.builders import COMMUNE, PASSWORD, PROVINCE, World, build_world, dossier_body, procedure_body
from tests.conftest import bearer

DEPARTMENT = "000.30.00.H49"
LAND = "1.004227.000.00.00.H49"


def land_procedure(**overrides: Any) -> dict[str, Any]:
    """Commune receives and checks (2 working days), the land registration office decides (5 days)."""
    values: dict[str, Any] = {
        "name": "Đăng ký biến động quyền sử dụng đất", "field": "Đất đai", "agency_code": DEPARTMENT,
        "service_level": 2, "postal_allowed": False, "processing_time": {"value": 7, "unit": "working_days"},
        "steps": [{"agency_code": COMMUNE, "value": 2}, {"agency_code": DEPARTMENT, "value": 5}],
    }
    return procedure_body(overrides.pop("code", LAND), **(values | overrides))


@pytest.fixture
def world(client: TestClient) -> World:
    world = build_world(client)
    admin = world.as_("admin")
    body = {"code": DEPARTMENT, "name": "Văn phòng Đăng ký đất đai tỉnh Quảng Ninh", "level": "province",
            "parent_code": PROVINCE}
    assert client.post("/api/v1/agencies", json=body, headers=admin).status_code == 201
    for role, username in (("receiver", "tiepnhan.so"), ("processor", "chuyenvien.so"), ("approver", "lanhdao.so")):
        response = client.post("/api/v1/users", headers=admin, json={
            "username": username, "password": PASSWORD, "full_name": f"Cán bộ {username}", "role": role,
            "agency_code": DEPARTMENT})
        assert response.status_code == 201, response.text
        world.headers[f"{role}.so"] = bearer(client, username, PASSWORD)
    response = client.post("/api/v1/procedures", json=land_procedure(), headers=admin)
    assert response.status_code == 201, response.text
    return world


def lodge(world: World) -> dict[str, Any]:
    return world.submit("receiver", procedure_code=LAND, documents=[{"code": "TP01"}, {"code": "TP02"}])


def get(world: World, code: str, who: str) -> Any:
    return world.client.get(f"/api/v1/dossiers/{code}", headers=world.as_(who))


@pytest.mark.parametrize(("steps", "processing_time"), [
    ([{"agency_code": COMMUNE, "value": 2}, {"agency_code": DEPARTMENT, "value": 4}], {"value": 7,
                                                                                      "unit": "working_days"}),
    ([{"agency_code": DEPARTMENT, "value": 7}], {"value": 7, "unit": "working_days"}),
    ([{"agency_code": COMMUNE, "value": 0}, {"agency_code": DEPARTMENT, "value": 7}], {"value": 7,
                                                                                      "unit": "working_days"}),
    ([{"agency_code": COMMUNE, "value": 1}, {"agency_code": DEPARTMENT, "value": 0}], {"value": 0,
                                                                                      "unit": "same_day"}),
    ([{"agency_code": COMMUNE, "value": 3}, {"agency_code": "000.00.62.H49", "value": 4}],
     {"value": 7, "unit": "working_days"}),  # the competent agency holds no step
])
def test_step_shares_that_do_not_add_up_are_refused(world: World, steps: list[dict[str, Any]],
                                                    processing_time: dict[str, Any]) -> None:
    body = land_procedure(code="1.004228.000.00.00.H49", steps=steps, processing_time=processing_time)
    response = world.client.post("/api/v1/procedures", json=body, headers=world.as_("admin"))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "STEP_TIMES_INVALID"


def test_a_dossier_runs_through_two_agencies_and_the_late_one_is_named(world: World) -> None:
    # Monday 2 March 2026, 08:00: the commune receives. The whole procedure is due in 7 working days (Wed 11/03
    # 08:00); the commune's step in 2 (Wed 04/03 08:00); the department's is not computed before it starts.
    dossier = lodge(world)
    code = dossier["code"]
    assert code.startswith(f"{DEPARTMENT}-") and dossier["agency_code"] == DEPARTMENT
    assert dossier["received_by_agency_code"] == COMMUNE and dossier["holding_agency_code"] == COMMUNE
    assert dossier["due_at"] == "2026-03-11T08:00:00+07:00"
    first, second = dossier["steps"]
    assert (first["agency_code"], first["due_at"]) == (COMMUNE, "2026-03-04T08:00:00+07:00")
    assert (second["agency_code"], second["started_at"], second["due_at"]) == (DEPARTMENT, None, None)
    # The department, competent for the decision, sees its dossier from the start but acts only in its step.
    assert get(world, code, "processor.so").status_code == 200
    assert world.act(code, "transfer", "processor.so", expect=403)["code"] == "AGENCY_NOT_HOLDING"

    world.act(code, "assign", "receiver", {"assignee": "chuyenvien"})
    world.set_clock("2026-03-03T08:00:00+07:00")
    moved = world.act(code, "transfer", "processor")
    assert moved["current_step"] == 2 and moved["holding_agency_code"] == DEPARTMENT
    first, second = moved["steps"]
    assert first["timeliness"] == "early" and first["finished_at"] == "2026-03-03T08:00:00+07:00"
    assert second["started_at"] == "2026-03-03T08:00:00+07:00"
    assert second["due_at"] == "2026-03-10T08:00:00+07:00"  # 5 working days from when the step started

    # The commune still sees it, read-only; an unrelated commune does not see it at all.
    assert get(world, code, "processor").status_code == 200
    again = world.act(code, "transfer", "processor", expect=403)
    assert again["code"] == "AGENCY_NOT_HOLDING"
    assert get(world, code, "processor.ql").status_code == 404

    # Wednesday: the department asks for the fee; both clocks stop (4 working days left on the step, 5 on the
    # dossier). Friday: paid at the commune's desk; both resume.
    world.set_clock("2026-03-04T08:00:00+07:00")
    paused = world.act(code, "request_payment", "processor.so", {"amount_vnd": 500000})
    assert paused["steps"][1]["paused"] is True
    world.set_clock("2026-03-06T08:00:00+07:00")
    resumed = world.act(code, "pay", "receiver")
    assert resumed["steps"][1]["due_at"] == "2026-03-12T08:00:00+07:00"
    assert resumed["due_at"] == "2026-03-13T08:00:00+07:00"

    # The commune's leader may not decide; the department's decides, late, on Monday 16 March.
    world.set_clock("2026-03-16T08:00:00+07:00")
    assert get(world, code, "processor.so").json()["steps"][1]["overdue"] is True
    refused = world.act(code, "approve", "approver", expect=403)
    assert refused["code"] == "AGENCY_NOT_HOLDING"
    decided = world.act(code, "approve", "approver.so")
    assert decided["timeliness"] == "late" and decided["steps"][1]["timeliness"] == "late"
    returned = world.act(code, "return_result", "receiver")  # at the desk that received it
    assert returned["status"] == "returned"

    history = world.client.get(f"/api/v1/dossiers/{code}/history", headers=world.as_("receiver")).json()
    assert [row["action"] for row in history] == ["submit", "receive", "assign", "transfer", "request_payment",
                                                  "pay", "approve", "return_result"]

    # Officially the dossier is late once, at the competent agency; the step columns say the department lost
    # the time, not the commune.
    stats = world.client.get("/api/v1/stats/processing", params={"from": "2026-03-01", "to": "2026-03-31"},
                             headers=world.as_("admin")).json()
    rows = {row["key"]: row for row in stats["rows"]}
    assert rows[DEPARTMENT]["resolved_late"] == 1 and rows[DEPARTMENT]["received_total"] == 1
    assert rows[COMMUNE]["received_total"] == 0 and rows[COMMUNE]["resolved_total"] == 0
    assert (rows[COMMUNE]["step_resolved_total"], rows[COMMUNE]["step_resolved_late"]) == (1, 0)
    assert (rows[DEPARTMENT]["step_resolved_total"], rows[DEPARTMENT]["step_resolved_late"]) == (1, 1)
    assert stats["total"]["resolved_total"] == 1 and stats["total"]["step_resolved_late"] == 1

    # The CSV and the workbook carry the same step columns, under Vietnamese headings, row by row.
    params = {"from": "2026-03-01", "to": "2026-03-31"}
    csv_text = world.client.get("/api/v1/stats/processing.csv", params=params,
                                headers=world.as_("admin")).content.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(csv_text)))
    steps = [c.field for c in STEP_COLUMNS]
    assert table[0][-4:] == [c.csv_header for c in STEP_COLUMNS]
    assert table[0][-4] == "Bước liên thông do cơ quan thực hiện - Số bước đã kết thúc"
    by_code = {line[1]: line[-4:] for line in table[1:-1]}
    assert {code: [int(v) for v in values] for code, values in by_code.items()} == {
        key: [row[f] for f in steps] for key, row in rows.items()}
    assert [int(v) for v in table[-1][-4:]] == [stats["total"][f] for f in steps]
    workbook = world.client.get("/api/v1/stats/processing.xlsx", params=params, headers=world.as_("admin"))
    sheet = load_workbook(io.BytesIO(workbook.content)).active
    width = sheet.max_column
    assert sheet.cell(4, width - 3).value == "Bước liên thông do cơ quan thực hiện"
    assert [sheet.cell(5, c).value for c in range(width - 3, width + 1)] == [c.heading for c in STEP_COLUMNS]
    xlsx = {r[1]: list(r[-4:]) for r in sheet.iter_rows(min_row=6, values_only=True) if r[1]}
    assert xlsx == {key: [row[f] for f in steps] for key, row in rows.items()}


def test_a_step_still_running_at_the_period_end_is_counted_where_it_is(world: World) -> None:
    code = lodge(world)["code"]
    world.act(code, "assign", "receiver", {"assignee": "chuyenvien"})
    world.set_clock("2026-03-05T08:00:00+07:00")  # the commune's step was due on 04/03 08:00
    world.act(code, "transfer", "processor")
    for last, overdue in (("2026-03-03", 0), ("2026-03-04", 1)):
        stats = world.client.get("/api/v1/stats/processing", params={"from": "2026-03-01", "to": last},
                                 headers=world.as_("admin")).json()
        rows = {row["key"]: row for row in stats["rows"]}
        assert (rows[COMMUNE]["step_in_progress_total"], rows[COMMUNE]["step_in_progress_overdue"]) == (1, overdue)
    later = world.client.get("/api/v1/stats/processing", params={"from": "2026-03-01", "to": "2026-03-05"},
                             headers=world.as_("admin")).json()
    rows = {row["key"]: row for row in later["rows"]}
    assert (rows[COMMUNE]["step_resolved_total"], rows[COMMUNE]["step_resolved_late"]) == (1, 1)
    assert rows[DEPARTMENT]["step_in_progress_total"] == 1


def test_the_department_sends_it_back_once_within_its_time(world: World) -> None:
    code = lodge(world)["code"]
    world.act(code, "assign", "receiver", {"assignee": "chuyenvien"})
    world.set_clock("2026-03-03T08:00:00+07:00")  # the commune hands over with 1 working day to spare
    world.act(code, "transfer", "processor")
    assert world.act(code, "return_for_correction", "processor.so", expect=422)["code"] == "FIELD_REQUIRED"
    world.set_clock("2026-03-04T08:00:00+07:00")  # the department used 1 of its 5 days
    back = world.act(code, "return_for_correction", "processor.so", {"reason": "Thiếu xác nhận của xã"})
    assert back["current_step"] == 1 and back["holding_agency_code"] == COMMUNE
    first, second = back["steps"]
    assert first["finished_at"] is None and first["due_at"] == "2026-03-05T08:00:00+07:00"  # 1 day it had left
    assert second["paused"] is True and second["returned_for_correction"] is True
    # The department still sees it read-only, and cannot act while the commune holds it.
    assert get(world, code, "processor.so").status_code == 200
    assert world.act(code, "transfer", "processor.so", expect=403)["code"] == "AGENCY_NOT_HOLDING"

    world.set_clock("2026-03-05T08:00:00+07:00")
    again = world.act(code, "transfer", "processor")
    assert again["steps"][0]["timeliness"] == "on_time"
    assert again["steps"][1]["due_at"] == "2026-03-11T08:00:00+07:00"  # its 4 remaining days, resumed
    refused = world.act(code, "return_for_correction", "processor.so", {"reason": "Lần hai"}, expect=409)
    assert refused["code"] == "CORRECTION_ALREADY_RETURNED"


def test_a_failed_transfer_changes_nothing(world: World) -> None:
    code = lodge(world)["code"]
    world.act(code, "assign", "receiver", {"assignee": "chuyenvien"})
    before = get(world, code, "processor").json()
    stale = world.act(code, "transfer", "processor", expect=412, **{"If-Match": '"1"'})
    assert stale["code"] == "VERSION_MISMATCH"
    assert world.act(code, "approve", "approver", expect=409)["code"] == "STEPS_REMAINING"
    after = get(world, code, "processor").json()
    assert after == before
    history = world.client.get(f"/api/v1/dossiers/{code}/history", headers=world.as_("processor")).json()
    assert [row["action"] for row in history] == ["submit", "receive", "assign"]


def test_transfer_needs_an_inter_agency_dossier_with_a_next_step(world: World) -> None:
    plain = world.submit()["code"]
    world.act(plain, "assign", "receiver", {"assignee": "chuyenvien"})
    assert world.act(plain, "transfer", "processor", expect=409)["code"] == "NOT_INTERAGENCY"
    code = lodge(world)["code"]
    world.act(code, "assign", "receiver", {"assignee": "chuyenvien"})
    world.act(code, "transfer", "processor")
    assert world.act(code, "transfer", "processor.so", expect=409)["code"] == "NO_NEXT_STEP"
    assert world.act(code, "transfer", "receiver.so", expect=403)["code"] == "FORBIDDEN_ROLE"


def test_an_online_inter_agency_dossier_waits_at_the_first_steps_desk(world: World) -> None:
    world.client.put(f"/api/v1/procedures/{LAND}", json=land_procedure(service_level=3),
                     headers=world.as_("admin"))
    body = dossier_body(procedure_code=LAND, channel="online", applicant=None)
    response = world.client.post("/api/v1/dossiers", json=body, headers=world.as_("citizen"))
    assert response.status_code == 201, response.text
    code = response.json()["code"]
    assert response.json()["received_by_agency_code"] == COMMUNE and response.json()["steps"] is None
    received = world.act(code, "receive", "receiver")
    assert received["current_step"] == 1 and received["steps"][0]["started_at"] == received["received_at"]
