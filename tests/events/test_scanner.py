"""Deadline warnings: ``due_soon`` and ``overdue`` events follow the legal clock, jumps included, once per due
date, never for a paused dossier."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.clock import LegalClock
from service.db import Database
from service.events.worker import EventWorker
from service.main import create_app
from service.settings import Settings
from tests.builders import World, build_world
from tests.conftest import make_settings
from tests.events.receivers import wait_until

MON_0800 = "2026-03-02T08:00:00+07:00"  # a counter dossier received now is due Thu 05/03 08:00 (3 working days)


@pytest.fixture
def working(settings: Settings, tmp_path: Path) -> Settings:
    """The app itself works (MOTCUA_WORKER=true), scanning every 0.1 s."""
    return make_settings(settings.database_url, tmp_path, worker=True, scan_interval_seconds=0.1,
                         worker_poll_seconds=0.05)


@pytest.fixture
def world(client: TestClient) -> World:
    return build_world(client, now=MON_0800)


def warnings(world: World, who: str = "admin") -> list[dict[str, Any]]:
    items = world.client.get("/api/v1/events", params={"type": ["motcua.dossier.due_soon",
                                                                "motcua.dossier.overdue"]},
                             headers=world.as_(who)).json()["items"]
    return items  # type: ignore[no-any-return]


def scan(settings: Settings) -> int:
    db = Database(settings.database_url)
    try:
        return EventWorker(db, LegalClock(simulation=True), settings).scan_once()
    finally:
        db.dispose()


def test_the_app_raises_warnings_within_seconds_of_a_clock_jump(working: Settings) -> None:
    with TestClient(create_app(working), raise_server_exceptions=False) as client:
        world = build_world(client, now=MON_0800)
        code = world.submit()["code"]
        world.set_clock("2026-03-04T09:00:00+07:00")  # 7 working hours left
        [soon] = wait_until(lambda: warnings(world), seconds=10)
        assert soon["type"] == "motcua.dossier.due_soon" and soon["subject"] == code
        assert soon["time"] == "2026-03-04T08:00:00+07:00"  # when one working day was left
        assert soon["data"]["seq"] is None and soon["data"]["status"] == "received"
        assert soon["data"]["due_at"] == "2026-03-05T08:00:00+07:00"
        world.set_clock("2026-03-06T10:00:00+07:00")
        both = wait_until(lambda: len(warnings(world)) == 2 and warnings(world), seconds=10)
        late = both[1]
        assert late["type"] == "motcua.dossier.overdue" and late["time"] == "2026-03-05T08:00:00+07:00"
        assert {e["subject"] for e in warnings(world, "processor")} == {code}
        assert warnings(world, "receiver.ql") == []


def test_once_per_due_date_none_while_paused_and_again_for_a_new_due_date(world: World, settings: Settings) -> None:
    paused = world.submit()["code"]
    world.act(paused, "assign", "receiver", {"assignee": "chuyenvien"})
    world.act(paused, "request_supplement", "processor", {"reason": "Thiếu giấy", "missing_documents": ["TP02"]})
    extended = world.submit()["code"]
    world.act(extended, "assign", "receiver", {"assignee": "chuyenvien"})
    jumped = world.submit()["code"]
    world.set_clock("2026-03-03T09:00:00+07:00")
    world.act(extended, "extend", "approver", {"reason": "Cần xác minh thêm",
                                               "new_due_at": "2026-03-12T17:00:00+07:00"})
    world.set_clock("2026-03-04T10:00:00+07:00")
    assert scan(settings) == 1  # only `jumped` is due soon (the others are paused or extended)
    assert scan(settings) == 0  # at most once per due date
    world.set_clock("2026-03-09T10:00:00+07:00")
    assert scan(settings) == 1  # `jumped` is overdue; the paused one, past its old due date, is not
    world.act(paused, "supplement", "receiver")  # restart: due 12/03 10:00
    world.set_clock("2026-03-12T09:00:00+07:00")
    assert scan(settings) == 2  # both due soon for their new due dates
    assert scan(settings) == 0
    kinds = [(e["subject"], e["data"]["action"], e["data"]["due_at"]) for e in warnings(world)]
    assert kinds == [
        (jumped, "due_soon", "2026-03-05T08:00:00+07:00"),
        (jumped, "overdue", "2026-03-05T08:00:00+07:00"),
        (paused, "due_soon", "2026-03-12T10:00:00+07:00"),
        (extended, "due_soon", "2026-03-12T17:00:00+07:00"),
    ]


def test_a_jump_past_the_due_date_raises_only_overdue(world: World, settings: Settings) -> None:
    code = world.submit()["code"]
    world.set_clock("2026-04-01T09:00:00+07:00")
    assert scan(settings) == 1
    assert [(e["subject"], e["type"]) for e in warnings(world)] == [(code, "motcua.dossier.overdue")]
