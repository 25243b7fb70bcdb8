"""The simulated clock lives in the database, so several API processes agree on legal time (issue 4 §9).

Two apps built by two ``create_app`` calls on the same database stand in for two worker processes: nothing is
shared between them but the database (and the settings, as two workers of one deployment share them).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from service.settings import Settings
from tests.builders import World, build_world


@pytest.fixture
def two_instances(settings: Settings) -> Iterator[tuple[TestClient, TestClient]]:
    first, second = create_app(settings), create_app(settings)
    assert first is not second and first.state.context is not second.state.context
    with (
        TestClient(first, raise_server_exceptions=False) as a,
        TestClient(second, raise_server_exceptions=False) as b,
    ):
        yield a, b


def clock(client: TestClient) -> str:
    response = client.get("/api/v1/sim/clock")
    assert response.status_code == 200
    return response.json()["now"]  # type: ignore[no-any-return]


def test_clock_set_on_one_instance_is_read_on_the_other(two_instances: tuple[TestClient, TestClient]) -> None:
    a, b = two_instances
    world = build_world(a, now="2026-03-02T08:00:00+07:00")
    assert clock(a) == clock(b) == "2026-03-02T08:00:00+07:00"
    admin = world.as_("admin")
    assert b.put("/api/v1/sim/clock", json={"now": "2026-05-04T01:30:00Z"}, headers=admin).status_code == 200
    assert clock(a) == clock(b) == "2026-05-04T08:30:00+07:00"


def test_dossier_times_agree_across_instances(two_instances: tuple[TestClient, TestClient]) -> None:
    a, b = two_instances
    world_a = build_world(a, now="2026-03-06T16:00:00+07:00")
    world_b = World(b, dict(world_a.headers))  # the same accounts and tokens, served by the other instance
    created = world_a.submit("citizen", channel="online", applicant=None)
    world_b.set_clock("2026-03-09T09:15:00+07:00")  # set on B …
    received = world_a.act(created["code"], "receive", "receiver")  # … used by A
    assert received["received_at"] == "2026-03-09T09:15:00+07:00"
    # Mon 09/03 09:15 + 24 working hours: Mon 2.25 + 4 = 6.25 h, Tue 8 (14.25), Wed 8 (22.25),
    # Thu 12/03 07:30 + 1.75 h → 09:15.
    assert received["due_at"] == "2026-03-12T09:15:00+07:00"
    seen_by_b = b.get(f"/api/v1/dossiers/{created['code']}", headers=world_b.as_("receiver")).json()
    for field in ("submitted_at", "received_at", "due_at", "version", "status"):
        assert seen_by_b[field] == received[field]
    # A counter dossier lodged on B at B's reading of the clock, read back on A.
    world_a.set_clock("2026-03-10T14:00:00+07:00")
    counter = world_b.submit()
    assert counter["received_at"] == counter["submitted_at"] == "2026-03-10T14:00:00+07:00"
    seen_by_a = a.get(f"/api/v1/dossiers/{counter['code']}", headers=world_a.as_("receiver")).json()
    assert seen_by_a["received_at"] == counter["received_at"] and seen_by_a["due_at"] == counter["due_at"]
    # Overdue is judged on the shared clock by both instances.
    world_b.set_clock("2026-03-12T09:16:00+07:00")
    for client in (a, b):
        view = client.get(f"/api/v1/dossiers/{created['code']}", headers=world_a.as_("receiver")).json()
        assert view["overdue"] is True
    # The daily sequence is shared too: both instances draw from the same counter.
    world_a.set_clock("2026-03-13T08:00:00+07:00")
    assert [world_a.submit()["code"][-4:], world_b.submit()["code"][-4:], world_a.submit()["code"][-4:]] == [
        "0001",
        "0002",
        "0003",
    ]


def test_a_running_clock_advances_from_where_it_was_set(two_instances: tuple[TestClient, TestClient]) -> None:
    a, b = two_instances
    world = build_world(a)
    response = b.put(
        "/api/v1/sim/clock",
        json={"now": "2026-03-02T08:00:00+07:00", "running": True},
        headers=world.as_("admin"),
    )
    assert response.status_code == 200 and response.json()["running"] is True
    read_a, read_b = clock(a), clock(b)
    # Both read the same day and hour (real seconds pass between the two reads, so no exact equality).
    assert read_a[:13] == read_b[:13] == "2026-03-02T08"
    assert b.get("/api/v1/sim/clock").json()["running"] is True


def test_an_action_on_one_instance_reads_the_clock_the_other_set_running(
        two_instances: tuple[TestClient, TestClient]) -> None:
    # An action reads the simulated clock with the statement that locks its dossier.
    a, b = two_instances
    world_a = build_world(a, now="2026-03-06T16:00:00+07:00")
    created = world_a.submit("citizen", channel="online", applicant=None)
    response = b.put("/api/v1/sim/clock", json={"now": "2026-03-09T09:15:00+07:00", "running": True},
                     headers=world_a.as_("admin"))
    assert response.status_code == 200
    received = world_a.act(created["code"], "receive", "receiver")
    assert received["received_at"][:16] == "2026-03-09T09:15"  # real seconds pass on a running clock
    history = a.get(f"/api/v1/dossiers/{created['code']}/history", headers=world_a.as_("receiver")).json()
    assert history[-1]["action"] == "receive" and history[-1]["at"] == received["received_at"]
