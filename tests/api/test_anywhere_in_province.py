"""Contract, Version 2: lodging anywhere in the province (phi địa giới hành chính, Decree 118/2025)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.builders import COMMUNE, OTHER_COMMUNE, PASSWORD, World, build_world, dossier_body, procedure_body
from tests.conftest import bearer

FLAGGED = "2.000001.000.00.61.H49"
OTHER_PROVINCE = "000.00.00.H31"
OTHER_PROVINCE_COMMUNE = "000.00.01.H31"


@pytest.fixture
def world(client: TestClient) -> World:
    world = build_world(client)
    admin = world.as_("admin")
    flagged = procedure_body(FLAGGED, name="Chứng thực bản sao từ bản chính", anywhere_in_province=True)
    assert client.post("/api/v1/procedures", json=flagged, headers=admin).status_code == 201
    for body in ({"code": OTHER_PROVINCE, "name": "Ủy ban nhân dân thành phố Hải Phòng", "level": "province"},
                 {"code": OTHER_PROVINCE_COMMUNE, "name": "Ủy ban nhân dân xã Ninh Giang", "level": "commune",
                  "parent_code": OTHER_PROVINCE}):
        assert client.post("/api/v1/agencies", json=body, headers=admin).status_code == 201
    response = client.post("/api/v1/users", headers=admin, json={
        "username": "tiepnhan.hp", "password": PASSWORD, "full_name": "Cán bộ Hải Phòng", "role": "receiver",
        "agency_code": OTHER_PROVINCE_COMMUNE})
    assert response.status_code == 201, response.text
    world.headers["receiver.hp"] = bearer(client, "tiepnhan.hp", PASSWORD)
    return world


def test_another_desk_of_the_province_lodges_it_for_the_competent_agency(world: World) -> None:
    dossier = world.submit("receiver.ql", procedure_code=FLAGGED)
    assert dossier["agency_code"] == COMMUNE
    assert dossier["code"].startswith(f"{COMMUNE}-")
    assert dossier["received_by_agency_code"] == OTHER_COMMUNE
    assert dossier["status"] == "received"
    assert dossier["due_at"] is not None


def test_the_receiving_desk_sees_it_and_returns_the_result_at_its_counter(world: World) -> None:
    client = world.client
    code = world.submit("receiver.ql", procedure_code=FLAGGED)["code"]
    listed = client.get("/api/v1/dossiers", headers=world.as_("receiver.ql")).json()["items"]
    assert [d["code"] for d in listed] == [code]
    assert client.get(f"/api/v1/dossiers/{code}", headers=world.as_("receiver")).status_code == 200

    world.act(code, "assign", "receiver.ql", {"assignee": "chuyenvien"})
    # The receiving desk's own approver sees the dossier but decides nothing: the competent agency does.
    refused = world.client.post(f"/api/v1/dossiers/{code}/actions/approve", json={},
                                headers=world.as_("approver.ql"))
    assert refused.status_code == 403
    assert refused.json()["code"] == "AGENCY_NOT_HOLDING"
    world.act(code, "approve", "approver")
    returned = world.act(code, "return_result", "receiver.ql")
    assert returned["status"] == "returned"
    assert returned["agency_code"] == COMMUNE
    history = client.get(f"/api/v1/dossiers/{code}/history", headers=world.as_("receiver.ql")).json()
    assert [row["actor"] for row in history if row["action"] == "return_result"] == ["tiepnhan.ql"]


def test_an_assignee_must_be_a_processor_of_the_competent_agency(world: World) -> None:
    code = world.submit("receiver.ql", procedure_code=FLAGGED)["code"]
    refused = world.act(code, "assign", "receiver.ql", {"assignee": "chuyenvien.ql"}, expect=422)
    assert refused["code"] == "ASSIGNEE_INVALID"


def test_without_the_flag_another_desk_is_refused(world: World) -> None:
    response = world.client.post("/api/v1/dossiers", json=dossier_body(), headers=world.as_("receiver.ql"))
    assert response.status_code == 422
    assert response.json()["code"] == "PROCEDURE_OUTSIDE_AGENCY"


def test_a_desk_of_another_province_is_refused(world: World) -> None:
    response = world.client.post("/api/v1/dossiers", json=dossier_body(procedure_code=FLAGGED),
                                 headers=world.as_("receiver.hp"))
    assert response.status_code == 422
    assert response.json()["code"] == "PROCEDURE_OUTSIDE_AGENCY"


def test_before_decree_118_the_flag_does_not_apply(world: World) -> None:
    world.set_clock("2025-06-30T09:00:00+07:00")
    response = world.client.post("/api/v1/dossiers", json=dossier_body(procedure_code=FLAGGED),
                                 headers=world.as_("receiver.ql"))
    assert response.status_code == 422
    assert response.json()["code"] == "PROCEDURE_OUTSIDE_AGENCY"
    assert "01/07/2025" in response.json()["detail"]


def test_a_dossier_lodged_at_its_own_agency_names_that_desk(world: World) -> None:
    dossier = world.submit("receiver", procedure_code=FLAGGED)
    assert dossier["received_by_agency_code"] == dossier["agency_code"] == COMMUNE


def test_staff_of_an_unrelated_desk_do_not_see_it(world: World) -> None:
    code = world.submit("receiver", procedure_code=FLAGGED)["code"]
    assert world.client.get(f"/api/v1/dossiers/{code}", headers=world.as_("receiver.ql")).status_code == 404


def test_the_flag_is_published_with_the_procedure(world: World) -> None:
    body = world.client.get(f"/api/v1/procedures/{FLAGGED}").json()
    assert body["anywhere_in_province"] is True
    assert world.client.get("/api/v1/procedures/1.001193.000.00.00.H49").json()["anywhere_in_province"] is False


def test_the_receipt_is_issued_by_the_desk_that_lodged_it(world: World) -> None:
    code = world.submit("receiver.ql", procedure_code=FLAGGED)["code"]
    receipt = world.client.get(f"/api/v1/dossiers/{code}/receipt", headers=world.as_("receiver.ql"))
    assert receipt.status_code == 200, receipt.text
    checked = world.client.post("/api/v1/signatures/verify", files={"file": ("receipt.pdf", receipt.content)})
    assert checked.json()["valid"] is True
    assert "Quảng La" in checked.json()["signer"]
