"""GET /worklist: counts per step, due-soon and overdue buckets as of the legal clock, most urgent first."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.builders import OTHER_COMMUNE, World, build_world


def worklist(world: World, who: str, **params: Any) -> dict[str, Any]:
    response = world.client.get("/api/v1/worklist", params=params, headers=world.as_(who))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.fixture
def scene(client: TestClient) -> tuple[World, dict[str, str]]:
    """Mon 02/03/2026 08:00 (3 working days → due Thu 05/03 08:00); the clock ends on Wed 04/03 08:30."""
    world = build_world(client)
    s: dict[str, str] = {}
    s["received"] = world.submit()["code"]
    s["online"] = world.submit("citizen", channel="online", applicant=None)["code"]
    s["mine"] = world.submit()["code"]
    world.act(s["mine"], "assign", "receiver", {"assignee": "chuyenvien"})
    s["paused"] = world.submit()["code"]
    world.act(s["paused"], "assign", "receiver", {"assignee": "chuyenvien"})
    world.act(s["paused"], "request_supplement", "processor",
              {"reason": "Thiếu giấy chứng sinh bản chính", "missing_documents": ["TP02"]})
    s["elsewhere"] = world.submit("receiver.ql", procedure_code="1.001193.000.00.62.H49")["code"]
    world.set_clock("2026-03-04T08:30:00+07:00")
    s["fresh"] = world.submit()["code"]  # due Mon 09/03 08:30: on track
    return world, s


def test_counts_per_step_and_the_due_soon_bucket(scene: tuple[World, dict[str, str]]) -> None:
    world, s = scene
    page = worklist(world, "receiver")
    # Wed 08:30 → Thu 08:00 is 7.5 working hours: the two running dossiers received on Monday are due soon.
    assert page["counts"] == {"to_receive": 1, "to_assign": 2, "processing": 1, "awaiting_supplement": 1,
                              "awaiting_payment": 0, "to_return": 0, "due_soon": 2, "overdue": 0, "mine": 0}
    assert worklist(world, "processor")["counts"]["mine"] == 2  # assigned to chuyenvien: processing + paused
    codes = [item["code"] for item in page["items"]]
    assert set(codes) == {s["received"], s["online"], s["mine"], s["paused"], s["fresh"]}
    assert codes[:2] == [s["received"], s["mine"]]  # the same due instant: by id
    assert codes[-1] == s["online"]  # no due date: last
    soon = worklist(world, "receiver", bucket="due_soon")["items"]
    assert {item["code"] for item in soon} == {s["received"], s["mine"]}
    assert all(item["due_soon"] and item["working_hours_left"] == 7.5 for item in soon)
    paused = next(item for item in page["items"] if item["code"] == s["paused"])
    assert paused["due_soon"] is False and paused["working_hours_left"] is None  # the clock is stopped
    mine = worklist(world, "processor", bucket="mine")["items"]
    assert {item["code"] for item in mine} == {s["mine"], s["paused"]}
    assert worklist(world, "receiver", bucket="mine")["items"] == []


def test_overdue_replaces_due_soon_once_the_clock_passes_the_due_date(scene: tuple[World, dict[str, str]]) -> None:
    world, s = scene
    world.set_clock("2026-03-05T09:00:00+07:00")
    page = worklist(world, "receiver", bucket="overdue")
    assert page["counts"]["overdue"] == 2 and page["counts"]["due_soon"] == 0
    assert [item["code"] for item in page["items"]] == [s["received"], s["mine"]]
    assert all(item["overdue"] and not item["due_soon"] and item["working_hours_left"] == -1.0
               for item in page["items"])
    # Fri 06/03 17:00: the fresh one (due Mon 09/03 08:30) has one hour left across the weekend.
    world.set_clock("2026-03-06T17:00:00+07:00")
    soon = worklist(world, "receiver", bucket="due_soon")["items"]
    assert [(item["code"], item["working_hours_left"]) for item in soon] == [(s["fresh"], 1.0)]


def test_keyset_pages_cover_the_list_once(scene: tuple[World, dict[str, str]]) -> None:
    world, _ = scene
    everything = [item["code"] for item in worklist(world, "receiver")["items"]]
    seen: list[str] = []
    cursor = None
    while True:
        page = worklist(world, "receiver", limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [item["code"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == everything


def test_other_agencies_never_appear(scene: tuple[World, dict[str, str]]) -> None:
    world, s = scene
    theirs = worklist(world, "receiver.ql")
    assert [item["code"] for item in theirs["items"]] == [s["elsewhere"]]
    assert all(item["agency_code"] == OTHER_COMMUNE for item in theirs["items"])


@pytest.mark.parametrize(("who", "params", "status", "code", "mentions"), [
    ("citizen", {}, 403, "FORBIDDEN_ROLE", None),
    ("admin", {}, 403, "FORBIDDEN_ROLE", None),
    ("receiver", {"bucket": "late"}, 422, "VALIDATION_ERROR", "due_soon"),
    ("receiver", {"cursor": "bm90LWEtY3Vyc29y"}, 422, "INVALID_CURSOR", None),
])
def test_bad_callers_and_bad_input(scene: tuple[World, dict[str, str]], who: str, params: dict[str, str],
                                   status: int, code: str, mentions: str | None) -> None:
    world, _ = scene
    response = world.client.get("/api/v1/worklist", params=params, headers=world.as_(who))
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    if mentions:
        assert mentions in response.json()["detail"]


def statements_of(world: World, who: str, **params: Any) -> int:
    """How many SQL statements one GET /worklist runs."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        worklist(world, who, **params)
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    return len(seen)


def test_no_query_per_row(scene: tuple[World, dict[str, str]]) -> None:
    world, _ = scene
    before = statements_of(world, "processor")
    for _ in range(6):
        code = world.submit()["code"]
        world.act(code, "assign", "receiver", {"assignee": "chuyenvien"})
    assert len(worklist(world, "processor")["items"]) == 11
    assert statements_of(world, "processor") == before
