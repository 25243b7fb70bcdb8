from fastapi.testclient import TestClient

from tests.builders import build_world


def _due(client: TestClient, start: str, value: int, unit: str, **extra: str) -> dict:
    response = client.get("/api/v1/calendar/due-date",
                          params={"start": start, "value": value, "unit": unit, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def test_due_date_across_tet_2026_skips_the_nine_day_break(client: TestClient) -> None:
    # Thu 12/02 09:00 + 5 working days: Fri 13/02, [Tết 14–22/02], Mon 23, Tue 24, Wed 25, Thu 26/02 09:00.
    body = _due(client, "2026-02-12T09:00:00+07:00", 5, "working_days")
    assert body["due_at"] == "2026-02-26T09:00:00+07:00"
    reasons = {item["name"] for item in body["explanation"]}
    assert "Tết Nguyên Đán" in reasons
    assert "Cuối tuần" in reasons


def test_due_date_requires_an_offset(client: TestClient) -> None:
    response = client.get("/api/v1/calendar/due-date",
                          params={"start": "2026-02-12T09:00:00", "value": 1, "unit": "working_days"})
    assert response.status_code == 422
    assert response.json()["code"] == "VALIDATION_ERROR"


def test_days_show_the_2026_new_year_swap(client: TestClient) -> None:
    days = client.get("/api/v1/calendar/days", params={"from": "2026-01-01", "to": "2026-01-11"}).json()
    by_date = {d["date"]: d for d in days}
    assert by_date["2026-01-01"] == {"date": "2026-01-01", "working": False, "name": "Tết Dương lịch"}
    assert by_date["2026-01-02"]["working"] is False
    assert by_date["2026-01-10"] == {"date": "2026-01-10", "working": True, "name": "Ngày làm bù"}
    assert by_date["2026-01-11"]["working"] is False


def test_override_applies_to_new_computations_but_never_moves_a_promised_due_date(client: TestClient) -> None:
    world = build_world(client, now="2026-12-01T08:00:00+07:00")
    dossier = world.submit()
    # Tue 01/12 08:00 + 3 working days → Fri 04/12 08:00.
    assert dossier["due_at"] == "2026-12-04T08:00:00+07:00"
    put = client.put("/api/v1/calendar/overrides/2026-12-02", json={"kind": "holiday", "name": "Nghỉ đột xuất"},
                     headers=world.as_("admin"))
    assert put.status_code == 200
    assert _due(client, "2026-12-01T08:00:00+07:00", 3, "working_days")["due_at"] == "2026-12-07T08:00:00+07:00"
    again = client.get(f"/api/v1/dossiers/{dossier['code']}", headers=world.as_("receiver")).json()
    assert again["due_at"] == "2026-12-04T08:00:00+07:00"


def test_admin_can_switch_off_culture_day(client: TestClient) -> None:
    world = build_world(client)
    day = lambda: client.get("/api/v1/calendar/days",  # noqa: E731
                             params={"from": "2026-11-24", "to": "2026-11-24"}).json()[0]
    assert day()["working"] is False
    assert client.delete("/api/v1/calendar/overrides/2026-11-24", headers=world.as_("admin")).status_code == 204
    assert day()["working"] is True


def test_overrides_need_admin(client: TestClient) -> None:
    world = build_world(client)
    response = client.put("/api/v1/calendar/overrides/2026-12-02", json={"kind": "holiday", "name": "X"},
                          headers=world.as_("receiver"))
    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN_ROLE"


def test_an_override_with_a_blank_name_is_refused_and_the_calendar_keeps_working(client: TestClient) -> None:
    # Found by the contract fuzzer on PostgreSQL: a name of spaces was stored, then every working-time
    # computation (lists, submissions) failed with a 500.
    world = build_world(client)
    put = client.put("/api/v1/calendar/overrides/2026-12-02", json={"kind": "holiday", "name": "   "},
                     headers=world.as_("admin"))
    assert put.status_code == 422
    assert world.submit()["status"] == "received"
