"""``GET /events``: one CloudEvent per control-slip row, in commit order, with cursors and visibility."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.builders import CITIZEN_ID, COMMUNE, OTHER_COMMUNE, World, build_world, dossier_body

EVENTS = "/api/v1/events"


@pytest.fixture
def world(client: TestClient) -> World:
    return build_world(client, now="2026-03-02T08:00:00+07:00")


def feed(world: World, who: str = "admin", **params: Any) -> dict[str, Any]:
    response = world.client.get(EVENTS, params=params, headers=world.as_(who))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_every_slip_row_is_one_cloud_event_without_personal_data(world: World) -> None:
    code = world.submit()["code"]
    world.act(code, "assign", "receiver", {"assignee": "chuyenvien"})
    page = feed(world)
    history = world.client.get(f"/api/v1/dossiers/{code}/history", headers=world.as_("receiver")).json()
    assert [e["type"] for e in page["items"]] == [f"motcua.dossier.{row['action']}" for row in history] == [
        "motcua.dossier.submit", "motcua.dossier.receive", "motcua.dossier.assign"]
    receive = page["items"][1]
    assert set(receive) == {"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "data"}
    assert receive["specversion"] == "1.0" and receive["datacontenttype"] == "application/json"
    assert receive["source"] == f"/api/v1/dossiers/{code}" and receive["subject"] == code
    assert receive["time"] == "2026-03-02T08:00:00+07:00"
    assert receive["data"] == {
        "code": code, "agency_code": COMMUNE, "procedure_code": "1.001193.000.00.00.H49", "action": "receive",
        "seq": 2, "from_status": "submitted", "status": "received", "national_status_code": 2,
        "due_at": "2026-03-05T08:00:00+07:00", "timeliness": None}
    assert len({e["id"] for e in page["items"]}) == 3
    text = json.dumps(page, ensure_ascii=False)
    for personal in (CITIZEN_ID, "Lê Văn Hùng", "0912345678", "tiepnhan"):
        assert personal not in text


def test_the_cursor_returns_only_newer_events_and_is_always_present(world: World) -> None:
    assert feed(world)["items"] == [] and feed(world)["next_cursor"]
    code = world.submit()["code"]
    first = feed(world)
    assert len(first["items"]) == 2
    assert feed(world, after=first["next_cursor"])["items"] == []
    world.act(code, "assign", "receiver", {"assignee": "chuyenvien"})
    newer = feed(world, after=first["next_cursor"])
    assert [e["data"]["action"] for e in newer["items"]] == ["assign"]
    one = feed(world, limit=1)
    assert len(one["items"]) == 1
    rest = feed(world, after=one["next_cursor"])
    assert [e["id"] for e in one["items"] + rest["items"]] == [e["id"] for e in feed(world)["items"]]


def test_a_refused_action_writes_no_event(world: World) -> None:
    code = world.submit()["code"]
    before = feed(world)
    world.act(code, "approve", "approver", expect=409)
    assert feed(world, after=before["next_cursor"])["items"] == []


def test_visibility_filters_and_bad_cursors(world: World) -> None:
    mine = world.submit("citizen", channel="online", result_delivery="counter",
                        applicant={"national_id": CITIZEN_ID, "full_name": "Lê Văn Hùng"})["code"]
    stranger = {"national_id": "022000000001", "full_name": "Trần Văn Bình"}  # no account
    desk = world.submit(applicant=stranger)["code"]
    other = world.submit("receiver.ql", procedure_code="1.001193.000.00.62.H49", applicant=stranger)["code"]
    subjects = lambda who, **p: {e["subject"] for e in feed(world, who, **p)["items"]}  # noqa: E731
    assert subjects("admin") == {mine, desk, other}
    assert subjects("processor") == {mine, desk}
    assert subjects("receiver.ql") == {other}
    assert subjects("citizen") == {mine}
    assert subjects("other_citizen") == set()
    assert subjects("admin", agency_code=OTHER_COMMUNE) == {other}
    receive_only = feed(world, type="motcua.dossier.receive")["items"]
    assert {e["subject"] for e in receive_only} == {desk, other}
    assert {e["type"] for e in receive_only} == {"motcua.dossier.receive"}
    forged = [base64.urlsafe_b64encode(text.encode()).decode() for text in ("e2:1:1", "e1:-1:5", "e1:x:1")]
    for bad in ("nonsense", "e1:1:1", *forged):
        response = world.client.get(EVENTS, params={"after": bad}, headers=world.as_("admin"))
        assert response.status_code == 422 and response.json()["code"] == "INVALID_CURSOR", bad
    assert world.client.get(EVENTS).status_code == 401


def test_the_notices_of_the_law_are_listed_in_vietnamese(world: World) -> None:
    code = world.submit()["code"]
    world.act(code, "assign", "receiver", {"assignee": "chuyenvien"})
    world.act(code, "request_payment", "processor", {"amount_vnd": 50000})
    world.act(code, "pay", "receiver")
    world.act(code, "refuse", "approver", {"reason": "Hồ sơ không đủ điều kiện"})
    response = world.client.get(f"/api/v1/dossiers/{code}/notifications", headers=world.as_("receiver"))
    assert response.status_code == 200
    notices = response.json()
    assert [n["subject"] for n in notices] == ["Giấy tiếp nhận hồ sơ và hẹn trả kết quả (Mẫu 01)",
                                               "Thông báo thực hiện nghĩa vụ tài chính",
                                               "Thông báo từ chối giải quyết hồ sơ"]
    assert {(n["channel"], n["recipient"]) for n in notices} == {("sms", "0912345678")}
    assert "08:00 ngày 05/03/2026" in notices[0]["body"]
    assert "50.000 đồng" in notices[1]["body"]
    assert "Hồ sơ không đủ điều kiện" in notices[2]["body"]
    assert all(n["sent_at"] is None for n in notices)  # no sender configured: recorded only
    assert world.client.get(f"/api/v1/dossiers/{code}/notifications",
                            headers=world.as_("receiver.ql")).status_code == 404


def test_events_commit_in_id_order_because_their_insert_waits_for_the_outbox_lock(
        world: World, settings: Any) -> None:
    """PostgreSQL: while another transaction holds the outbox lock, a submission cannot draw event ids (its
    events' INSERT waits), so ids follow commit order and a reader's cursor never passes an event to come."""
    import threading

    from sqlalchemy import text

    from service.db import Database
    from service.events.outbox import OUTBOX_LOCK

    db = Database(settings.database_url)
    if db.dialect != "postgresql":
        db.dispose()
        pytest.skip("SQLite writers take turns anyway (BEGIN IMMEDIATE)")
    before = feed(world)["next_cursor"]
    answered: list[int] = []
    try:
        with db.transaction() as holder:
            holder.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": OUTBOX_LOCK})
            lodging = threading.Thread(target=lambda: answered.append(world.client.post(
                "/api/v1/dossiers", json=dossier_body(), headers=world.as_("receiver")).status_code))
            lodging.start()
            lodging.join(3)
            assert lodging.is_alive() and answered == []  # blocked at its events' INSERT, not failed
            assert feed(world, after=before)["items"] == []
        lodging.join(30)
    finally:
        db.dispose()
    assert answered == [201]
    assert [e["type"] for e in feed(world, after=before)["items"]] == ["motcua.dossier.submit",
                                                                        "motcua.dossier.receive"]
