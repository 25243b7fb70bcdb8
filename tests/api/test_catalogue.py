from fastapi.testclient import TestClient

from tests.builders import COMMUNE, build_world, procedure_body


def test_agency_codes_follow_decision_20_2020(client: TestClient, admin_headers: dict) -> None:
    for bad in ("000.26.01.h26", "000..01", "A" * 36, "000-26-01"):
        response = client.post("/api/v1/agencies", json={"code": bad, "name": "X", "level": "province"},
                               headers=admin_headers)
        assert response.status_code == 422, bad
    ok = client.post("/api/v1/agencies", json={"code": "000.00.00.H49", "name": "UBND tỉnh", "level": "province"},
                     headers=admin_headers)
    assert ok.status_code == 201
    assert ok.headers["location"] == "/api/v1/agencies/000.00.00.H49"
    assert client.get("/api/v1/agencies/000.00.00.H49").json()["name"] == "UBND tỉnh"


def test_staff_need_an_agency(client: TestClient, admin_headers: dict) -> None:
    response = client.post("/api/v1/users", headers=admin_headers, json={
        "username": "tiepnhan", "password": "Demo@123456", "full_name": "Cán bộ", "role": "receiver"})
    assert response.status_code == 422
    assert response.json()["code"] == "AGENCY_REQUIRED"


def test_a_new_version_never_changes_an_existing_dossier(client: TestClient) -> None:
    world = build_world(client)
    before = world.submit()
    changed = procedure_body(processing_time={"value": 10, "unit": "working_days"}, fee_vnd=50000)
    put = client.put(f"/api/v1/procedures/{changed['code']}", json=changed, headers=world.as_("admin"))
    assert put.status_code == 200
    assert put.json()["version"] == 2
    after = world.submit()
    old = client.get(f"/api/v1/dossiers/{before['code']}", headers=world.as_("receiver")).json()
    assert (old["procedure_version"], old["fee_vnd"], old["due_at"]) == (1, 0, before["due_at"])
    assert (after["procedure_version"], after["fee_vnd"]) == (2, 50000)
    assert after["due_at"] > before["due_at"]


def test_search_ignores_diacritics_and_filters_by_level_and_agency(client: TestClient) -> None:
    world = build_world(client)
    admin = world.as_("admin")
    client.post("/api/v1/procedures", headers=admin, json=procedure_body(
        "2.000815.000.00.00.H49", name="Chứng thực bản sao từ bản chính", service_level=3,
        processing_time={"value": 1, "unit": "same_day"}))
    found = client.get("/api/v1/procedures", params={"q": "chung thuc ban sao"}).json()["items"]
    assert [p["code"] for p in found] == ["2.000815.000.00.00.H49"]
    level3 = client.get("/api/v1/procedures", params={"service_level": 3}).json()["items"]
    assert {p["service_level"] for p in level3} == {3}
    commune = client.get("/api/v1/procedures", params={"agency_code": COMMUNE}).json()["items"]
    assert {p["agency_code"] for p in commune} == {COMMUNE}


def test_procedure_pages_follow_the_cursor_without_gaps(client: TestClient) -> None:
    world = build_world(client)
    for i in range(5):
        client.post("/api/v1/procedures", headers=world.as_("admin"),
                    json=procedure_body(f"9.00000{i}.000.00.00.H49", name=f"Thủ tục {i}"))
    seen, cursor = [], None
    while True:
        page = client.get("/api/v1/procedures", params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += [p["code"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 7
