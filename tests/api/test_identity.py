"""Identity (contract v2): a self-registered account is unverified and is linked to desk dossiers only once a
receiver or an admin has verified it — before, registering someone's national id took over their dossiers."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.builders import PASSWORD, World, build_world
from tests.conftest import bearer

VICTIM_ID = "038085001122"


@pytest.fixture
def world(client: TestClient) -> World:
    return build_world(client)


def _register(client: TestClient, national_id: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/register",
                           json={"national_id": national_id, "full_name": "Kẻ Mạo Danh", "password": PASSWORD})
    assert response.status_code == 201, response.text
    assert response.json()["identity_verified"] is False
    return bearer(client, national_id, PASSWORD)


def _desk_dossier(world: World) -> dict[str, Any]:
    return world.submit(applicant={"national_id": VICTIM_ID, "full_name": "Phạm Thị Lan", "phone": "0987654321"})


def test_a_self_registered_account_does_not_take_over_a_desk_dossier(world: World) -> None:
    impostor = _register(world.client, VICTIM_ID)
    code = _desk_dossier(world)["code"]
    assert world.client.get(f"/api/v1/dossiers/{code}", headers=impostor).status_code == 404
    assert world.client.get("/api/v1/dossiers", headers=impostor).json()["items"] == []
    withdraw = world.client.post(f"/api/v1/dossiers/{code}/actions/withdraw", json={}, headers=impostor)
    assert withdraw.status_code == 404
    assert world.client.get("/api/v1/auth/me", headers=impostor).json()["identity_verified"] is False


def test_verification_links_earlier_desk_dossiers_and_later_ones(world: World) -> None:
    owner = _register(world.client, VICTIM_ID)
    earlier = _desk_dossier(world)["code"]
    response = world.client.post(f"/api/v1/users/{VICTIM_ID}/verify-identity", json={},
                                 headers=world.as_("receiver"))
    assert response.status_code == 200, response.text
    assert response.json()["identity_verified"] is True
    later = _desk_dossier(world)["code"]
    codes = [d["code"] for d in world.client.get("/api/v1/dossiers", headers=owner).json()["items"]]
    assert sorted(codes) == sorted([earlier, later])
    assert world.client.get("/api/v1/auth/me", headers=owner).json()["identity_verified"] is True


def test_an_unverified_account_sees_the_dossiers_it_lodged_online_itself(world: World) -> None:
    own = _register(world.client, VICTIM_ID)
    response = world.client.post("/api/v1/dossiers", headers=own, json={
        "procedure_code": "1.001193.000.00.00.H49", "channel": "online", "result_delivery": "counter",
        "documents": [{"code": "TP01"}, {"code": "TP02"}]})
    assert response.status_code == 201, response.text
    items = world.client.get("/api/v1/dossiers", headers=own).json()["items"]
    assert [d["code"] for d in items] == [response.json()["code"]]


@pytest.mark.parametrize("who", ["processor", "approver", "citizen"])
def test_only_a_receiver_or_an_admin_verifies(world: World, who: str) -> None:
    _register(world.client, VICTIM_ID)
    response = world.client.post(f"/api/v1/users/{VICTIM_ID}/verify-identity", json={}, headers=world.as_(who))
    assert response.status_code == 403


def test_verifying_an_unknown_or_staff_account_is_refused(world: World) -> None:
    admin = world.as_("admin")
    assert world.client.post("/api/v1/users/000000000000/verify-identity", json={},
                             headers=admin).json()["code"] == "USER_NOT_FOUND"
    staff = world.client.post("/api/v1/users/tiepnhan/verify-identity", json={}, headers=admin)
    assert (staff.status_code, staff.json()["code"]) == (422, "NOT_A_CITIZEN")
