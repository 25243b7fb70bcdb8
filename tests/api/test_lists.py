"""Dossier lists: filters and keyset pagination in a stable order (issue 4 §7)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.pagination import encode_cursor
from tests.builders import COMMUNE, OTHER_CITIZEN_ID, OTHER_COMMUNE, World, build_world, procedure_body

TEN_DAYS = "1.000010.000.00.61.H49"
OTHER_PROC = "1.001193.000.00.62.H49"


@pytest.fixture
def world(client: TestClient) -> World:
    world = build_world(client)
    body = procedure_body(
        TEN_DAYS, agency_code=COMMUNE, processing_time={"value": 10, "unit": "working_days"}
    )
    assert client.post("/api/v1/procedures", json=body, headers=world.as_("admin")).status_code == 201
    return world


def listing(world: World, who: str, **params: Any) -> dict[str, Any]:
    response = world.client.get("/api/v1/dossiers", params=params, headers=world.as_(who))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def codes(world: World, who: str, **params: Any) -> set[str]:
    return {d["code"] for d in listing(world, who, limit=200, **params)["items"]}


@pytest.fixture
def scene(world: World) -> dict[str, str]:
    """Six dossiers; the clock ends at Fri 06/03/2026 09:00."""
    s: dict[str, str] = {}
    # Mon 02/03 08:00 + 3 working days → due Thu 05/03 08:00.
    s["late_open"] = world.submit()["code"]
    s["late_done"] = world.submit()["code"]
    world.act(s["late_done"], "assign", "receiver", {"assignee": "chuyenvien"})
    world.set_clock("2026-03-03T09:00:00+07:00")
    # Tue 03/03 09:00 + 3 working days → due Fri 06/03 09:00 (Tue 2.5 + 4, Wed 8, Thu 8, Fri 1.5 h).
    other = {"national_id": OTHER_CITIZEN_ID, "full_name": "Nguyễn Thị Mai Phương"}
    s["processing"] = world.submit(applicant=other)["code"]
    world.act(s["processing"], "assign", "receiver", {"assignee": "chuyenvien"})
    s["elsewhere"] = world.submit("receiver.ql", procedure_code=OTHER_PROC)["code"]
    s["online"] = world.submit("citizen", channel="online", applicant=None)["code"]
    world.set_clock("2026-03-04T10:00:00+07:00")
    s["ten_days"] = world.submit(procedure_code=TEN_DAYS)["code"]  # due Wed 18/03 10:00
    world.set_clock("2026-03-06T09:00:00+07:00")
    world.act(s["late_done"], "approve", "approver")  # finished after its due date: late
    return s


def test_status_procedure_and_agency_filters(world: World, scene: dict[str, str]) -> None:
    here = {k: v for k, v in scene.items() if k != "elsewhere"}
    assert codes(world, "receiver") == set(here.values())
    assert codes(world, "receiver", status="processing") == {scene["processing"]}
    assert codes(world, "receiver", status="received") == {scene["late_open"], scene["ten_days"]}
    assert codes(world, "receiver", status="submitted") == {scene["online"]}
    assert codes(world, "receiver", status="result_ready") == {scene["late_done"]}
    assert codes(world, "receiver", procedure_code=TEN_DAYS) == {scene["ten_days"]}
    assert codes(world, "admin", agency_code=OTHER_COMMUNE) == {scene["elsewhere"]}
    assert codes(world, "admin", agency_code=COMMUNE) == set(here.values())
    assert codes(world, "admin", status="received", agency_code=COMMUNE, procedure_code=TEN_DAYS) == {
        scene["ten_days"]
    }


def test_overdue_filter_agrees_with_each_dossier(world: World, scene: dict[str, str]) -> None:
    # At Fri 06/03 09:00: late_open was due Thu 08:00 and is still open; late_done finished late;
    # processing is due exactly now (not yet overdue); ten_days is due on 18/03; the online one has no due
    # date.
    overdue = {scene["late_open"], scene["late_done"]}
    on_track = {scene["processing"], scene["ten_days"], scene["online"]}
    assert codes(world, "receiver", overdue="true") == overdue
    assert codes(world, "receiver", overdue="false") == on_track
    for item in listing(world, "receiver", limit=200)["items"]:
        assert item["overdue"] is (item["code"] in overdue)
    world.set_clock("2026-03-06T09:00:01+07:00")
    assert codes(world, "receiver", overdue="true") == overdue | {scene["processing"]}


def test_received_range_and_applicant_filters(world: World, scene: dict[str, str]) -> None:
    tuesday = {"received_from": "2026-03-03T00:00:00+07:00", "received_to": "2026-03-04T00:00:00+07:00"}
    assert codes(world, "receiver", **tuesday) == {scene["processing"]}
    assert codes(world, "admin", **tuesday) == {scene["processing"], scene["elsewhere"]}
    # The bounds are instants: 10:00 +07:00 is 03:00 Z, so the ten-day dossier is inside [03:00Z, …).
    assert codes(world, "receiver", received_from="2026-03-04T03:00:00Z") == {scene["ten_days"]}
    assert codes(world, "receiver", received_to="2026-03-02T08:00:00+07:00") == set()  # upper bound exclusive
    assert codes(world, "receiver", applicant_national_id=OTHER_CITIZEN_ID) == {scene["processing"]}
    naive = world.client.get(
        "/api/v1/dossiers", params={"received_from": "2026-03-03T00:00:00"}, headers=world.as_("receiver")
    )
    assert naive.status_code == 422


@pytest.mark.parametrize(
    "params",
    [
        {"status": "lost"},
        {"overdue": "maybe"},
        {"limit": 0},
        {"limit": 201},
        {"applicant_national_id": "123"},
    ],
)
def test_bad_list_parameters_are_422(world: World, params: dict[str, Any]) -> None:
    response = world.client.get("/api/v1/dossiers", params=params, headers=world.as_("receiver"))
    assert response.status_code == 422, response.text


FORGED_CURSORS = [
    "!!not-a-cursor!!",
    "bm90LWFuLWlk",
    "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5",  # base64 of a 57-digit number
    "9999999999999999999999999999",
    encode_cursor("dossiers", [2**70]),
    encode_cursor("dossiers", [-1]),
    encode_cursor("dossiers", ["1"]),
    encode_cursor("agencies", ["000"]),  # a cursor of another list
    "x" * 600,
]


@pytest.mark.parametrize("path", ["/api/v1/dossiers", "/api/v1/pki/certificates", "/api/v1/agencies",
                                  "/api/v1/users", "/api/v1/procedures"])
@pytest.mark.parametrize("cursor", FORGED_CURSORS)
def test_malformed_or_forged_cursors_are_invalid_cursor_on_every_list(world: World, path: str,
                                                                       cursor: str) -> None:
    if path == "/api/v1/agencies" and cursor == FORGED_CURSORS[7]:
        cursor = encode_cursor("dossiers", [1])
    response = world.client.get(path, params={"cursor": cursor}, headers=world.as_("admin"))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "INVALID_CURSOR"


def walk(world: World, who: str, limit: int, **params: Any) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = listing(world, who, limit=limit, **({"cursor": cursor} if cursor else {}), **params)
        pages.append([d["code"] for d in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages


def test_keyset_pagination_walks_every_dossier_once_newest_first(world: World) -> None:
    made = [world.submit()["code"] for _ in range(7)]
    pages = walk(world, "receiver", 3)
    assert [len(p) for p in pages] == [3, 3, 1]
    flat = [c for p in pages for c in p]
    assert flat == list(reversed(made))  # newest first
    # Exactly a multiple of the page size: the last full page says there is nothing more.
    assert [len(p) for p in walk(world, "receiver", 7)] == [7]
    # Filters and pagination together.
    world.act(made[0], "assign", "receiver", {"assignee": "chuyenvien"})
    world.act(made[3], "assign", "receiver", {"assignee": "chuyenvien"})
    assert walk(world, "receiver", 1, status="processing") == [[made[3]], [made[0]]]


def test_pagination_is_stable_while_dossiers_change(world: World) -> None:
    made = [world.submit()["code"] for _ in range(6)]
    first = listing(world, "receiver", limit=3)
    assert [d["code"] for d in first["items"]] == made[5:2:-1]
    # Between two pages: new dossiers arrive, and a dossier of the next page changes state.
    newer = [world.submit()["code"] for _ in range(2)]
    world.act(made[1], "assign", "receiver", {"assignee": "chuyenvien"})
    second = listing(world, "receiver", limit=3, cursor=first["next_cursor"])
    assert [d["code"] for d in second["items"]] == made[2::-1]
    assert second["next_cursor"] is None
    # A fresh walk sees the new ones first.
    assert [c for p in walk(world, "receiver", 3) for c in p] == list(reversed(made + newer))
