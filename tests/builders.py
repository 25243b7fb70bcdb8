"""Plain functions that build a small world through the API: agencies, staff, procedures, dossiers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import ADMIN, bearer

PROVINCE = "000.00.00.H49"
COMMUNE = "000.00.61.H49"
OTHER_COMMUNE = "000.00.62.H49"
PASSWORD = "Demo@123456"
CITIZEN_ID = "022090001234"
OTHER_CITIZEN_ID = "022195004321"


@dataclass
class World:
    client: TestClient
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def as_(self, who: str) -> dict[str, str]:
        return self.headers[who]

    def set_clock(self, iso: str) -> None:
        response = self.client.put("/api/v1/sim/clock", json={"now": iso}, headers=self.as_("admin"))
        assert response.status_code == 200, response.text

    def submit(self, who: str = "receiver", **overrides: Any) -> dict[str, Any]:
        response = self.client.post("/api/v1/dossiers", json=dossier_body(**overrides), headers=self.as_(who))
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def act(self, code: str, action: str, who: str, body: dict[str, Any] | None = None,
            expect: int = 200, **headers: str) -> dict[str, Any]:
        response = self.client.post(f"/api/v1/dossiers/{code}/actions/{action}", json=body or {},
                                    headers={**self.as_(who), **headers})
        assert response.status_code == expect, response.text
        return response.json()  # type: ignore[no-any-return]


def procedure_body(code: str = "1.001193.000.00.00.H49", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": code,
        "name": "Đăng ký khai sinh",
        "field": "Hộ tịch",
        "agency_code": COMMUNE,
        "service_level": 4,
        "processing_time": {"value": 3, "unit": "working_days"},
        "fee_vnd": 0,
        "postal_allowed": True,
        "required_documents": [
            {"code": "TP01", "name": "Tờ khai đăng ký khai sinh", "mandatory": True},
            {"code": "TP02", "name": "Giấy chứng sinh", "mandatory": True},
            {"code": "TP03", "name": "Văn bản ủy quyền", "mandatory": False},
        ],
        "supplement_policy": "restart",
    }
    body.update(overrides)
    return body


def dossier_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "procedure_code": "1.001193.000.00.00.H49",
        "channel": "counter",
        "result_delivery": "counter",
        "applicant": {"national_id": CITIZEN_ID, "full_name": "Lê Văn Hùng", "phone": "0912345678"},
        "documents": [{"code": "TP01"}, {"code": "TP02"}],
    }
    body.update(overrides)
    return body


def build_world(client: TestClient, *, now: str = "2026-03-02T08:00:00+07:00") -> World:
    """A province, two communes with a full desk each, two citizens, one level-4 procedure per commune."""
    world = World(client)
    admin = bearer(client, *ADMIN)
    world.headers["admin"] = admin
    world.set_clock(now)
    for body in (
        {"code": PROVINCE, "name": "Ủy ban nhân dân tỉnh Quảng Ninh", "level": "province"},
        {"code": COMMUNE, "name": "Ủy ban nhân dân xã Tiên Yên", "level": "commune", "parent_code": PROVINCE},
        {"code": OTHER_COMMUNE, "name": "Ủy ban nhân dân xã Quảng La", "level": "commune",
         "parent_code": PROVINCE},
    ):
        assert client.post("/api/v1/agencies", json=body, headers=admin).status_code == 201
    for suffix, agency in (("", COMMUNE), (".ql", OTHER_COMMUNE)):
        for role, name in (("receiver", "tiepnhan"), ("processor", "chuyenvien"), ("approver", "lanhdao")):
            username = name + suffix
            response = client.post("/api/v1/users", headers=admin, json={
                "username": username, "password": PASSWORD, "full_name": f"Cán bộ {username}", "role": role,
                "agency_code": agency})
            assert response.status_code == 201, response.text
            world.headers[role + suffix] = bearer(client, username, PASSWORD)
    for key, national_id, name in (("citizen", CITIZEN_ID, "Lê Văn Hùng"),
                                   ("other_citizen", OTHER_CITIZEN_ID, "Nguyễn Thị Mai Phương")):
        response = client.post("/api/v1/auth/register",
                               json={"national_id": national_id, "full_name": name, "password": PASSWORD})
        assert response.status_code == 201, response.text
        world.headers[key] = bearer(client, national_id, PASSWORD)
        # Their papers were checked at a desk: desk dossiers under their national id are theirs (contract v2).
        verified = client.post(f"/api/v1/users/{national_id}/verify-identity", json={}, headers=admin)
        assert verified.status_code == 200, verified.text
    assert client.post("/api/v1/procedures", json=procedure_body(), headers=admin).status_code == 201
    other = procedure_body("1.001193.000.00.62.H49", agency_code=OTHER_COMMUNE)
    assert client.post("/api/v1/procedures", json=other, headers=admin).status_code == 201
    return world
