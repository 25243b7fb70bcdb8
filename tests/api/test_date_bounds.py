"""Dates outside the working calendar (years 2000–2100) are 422 DATE_OUT_OF_RANGE, never a 500, and the
bounds are stated in the OpenAPI document so schema-valid input is not refused by a hidden rule."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.builders import World, build_world


@pytest.fixture
def world(client: TestClient) -> World:
    return build_world(client)


@pytest.mark.parametrize("path", [
    "/api/v1/calendar/days?from=2101-01-01&to=2101-01-01",
    "/api/v1/calendar/days?from=1999-12-31&to=2000-01-01",
    "/api/v1/calendar/due-date?start=0001-01-01T00:00:00%2B07:00&unit=working_days&value=1",
    "/api/v1/dossiers?received_to=9999-12-31T23:59:59-12:00",
    "/api/v1/dossiers?received_from=2100-12-31T23:59:59-12:00",
    "/api/v1/stats/processing?from=0001-01-01&to=0002-12-31&group_by=month",
    "/api/v1/stats/index?from=2026-01-01&to=2101-01-01",
])
def test_dates_outside_the_calendar_are_date_out_of_range(world: World, path: str) -> None:
    response = world.client.get(path, headers=world.as_("admin"))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "DATE_OUT_OF_RANGE"


def test_a_due_date_computed_past_the_calendar_is_date_out_of_range(world: World) -> None:
    response = world.client.get("/api/v1/calendar/due-date",
                                params={"start": "2100-12-30T08:00:00+07:00", "unit": "working_days",
                                        "value": 30})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "DATE_OUT_OF_RANGE"


def test_the_simulated_clock_cannot_leave_the_calendar(world: World) -> None:
    for moment in ("0001-01-01T00:00:00+07:00", "2101-01-01T00:00:00+07:00"):
        response = world.client.put("/api/v1/sim/clock", json={"now": moment}, headers=world.as_("admin"))
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "DATE_OUT_OF_RANGE"
    # The clock did not move: a receipt still works for everyone.
    assert world.submit()["status"] == "received"


def test_an_extension_past_the_calendar_is_date_out_of_range(world: World) -> None:
    code = world.submit()["code"]
    world.act(code, "assign", "receiver", {"assignee": "chuyenvien"})
    body = {"new_due_at": "2150-01-01T17:00:00+07:00", "reason": "Cần xác minh thêm thông tin tại địa phương."}
    assert world.act(code, "extend", "approver", body, expect=422)["code"] == "DATE_OUT_OF_RANGE"


def test_the_openapi_document_states_the_date_bounds(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    days = document["paths"]["/api/v1/calendar/days"]["get"]["parameters"]
    from_schema = next(p for p in days if p["name"] == "from")["schema"]
    assert from_schema["pattern"].startswith("^(20[0-9]{2}|2100)")
    clock = document["components"]["schemas"]
    clock_schema = next(s for name, s in clock.items() if name.startswith("Clock") and "now" in s.get(
        "properties", {}))
    assert "2100" in clock_schema["properties"]["now"]["pattern"]
