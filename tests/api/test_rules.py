"""``GET /rules?on=``: the rule set in force on a date; a dossier keeps the one in force when it was received."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import select

from service.db import Database
from service.models import Dossier, DossierEvent
from service.settings import Settings
from tests.builders import build_world


def _rules(client: TestClient, on: str) -> dict:  # type: ignore[type-arg]
    response = client.get("/api/v1/rules", params={"on": on})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_the_rule_set_changes_on_1_july_2025(client: TestClient) -> None:
    before, after = _rules(client, "2025-06-30"), _rules(client, "2025-07-01")
    assert before["code"] == "61/2018" and after["code"] == "118/2025"
    assert "Nghị định 107/2021/NĐ-CP" in before["instruments"]
    assert "Thông tư 03/2025/TT-VPCP" in after["instruments"]
    old = {rule["key"]: rule for rule in before["rules"]}
    new = {rule["key"]: rule for rule in after["rules"]}
    assert old.keys() == new.keys()
    assert old["lodging.place"]["parameters"]["allowed"] is False
    assert new["lodging.place"]["parameters"]["allowed"] is True
    assert old["forms"]["parameters"]["circular"] == "01/2018/TT-VPCP"
    assert new["forms"]["parameters"]["circular"] == "03/2025/TT-VPCP"
    assert "district" in old["desk.levels"]["parameters"]["levels"]
    assert "district" not in new["desk.levels"]["parameters"]["levels"]


def test_each_rule_has_a_basis_and_a_confidence_and_unknowns_are_said(client: TestClient) -> None:
    before, after = _rules(client, "2025-06-30"), _rules(client, "2025-07-01")
    for rule in before["rules"] + after["rules"]:
        assert rule["legal_basis"] and rule["confidence"] in {"verified", "secondary", "recalled", "unverified"}
    carried = [rule for rule in after["rules"] if rule["carried_over"]]
    assert {rule["key"] for rule in carried} >= {"supplement.window", "extension.once"}
    for rule in carried:
        assert rule["confidence"] == "unverified"
        assert "Nghị định 61/2018" in rule["legal_basis"]
    window = {r["key"]: r for r in after["rules"]}["supplement.window"]
    assert window["parameters"] == {"working_days": 3}
    assert not any(rule["carried_over"] for rule in before["rules"])


def test_without_a_date_the_rules_of_today_on_the_legal_clock(client: TestClient) -> None:
    world = build_world(client, now="2025-03-03T08:00:00+07:00")
    assert _rules(client, "2025-03-03")["code"] == client.get("/api/v1/rules").json()["code"] == "61/2018"
    world.set_clock("2026-03-02T08:00:00+07:00")
    assert client.get("/api/v1/rules").json()["code"] == "118/2025"


def test_a_bad_date_is_a_422(client: TestClient) -> None:
    assert client.get("/api/v1/rules", params={"on": "2025-13-01"}).status_code == 422


def test_a_dossier_keeps_the_rules_in_force_when_it_was_received(client: TestClient, settings: Settings) -> None:
    world = build_world(client, now="2025-06-27T08:00:00+07:00")
    old = world.submit()
    assert old["rule_set"] == "61/2018"
    online = world.submit("citizen", channel="online", applicant=None)
    assert online["rule_set"] is None  # not received yet
    world.set_clock("2025-07-01T08:00:00+07:00")
    received = world.act(online["code"], "receive", "receiver")
    assert received["rule_set"] == "118/2025"
    assert world.client.get(f"/api/v1/dossiers/{old['code']}", headers=world.as_("receiver")).json()[
        "rule_set"] == "61/2018"
    # The apology letter of an extension uses the form of the dossier's own rule set.
    world.act(old["code"], "assign", "receiver", {"assignee": "chuyenvien"})
    world.act(received["code"], "assign", "receiver", {"assignee": "chuyenvien"})
    forms = {}
    for code in (old["code"], received["code"]):
        world.act(code, "extend", "approver", {"new_due_at": "2025-07-15T16:00:00+07:00", "reason": "Cần xác minh"})
    db = Database(settings.database_url)
    with db.transaction() as session:
        for code in (old["code"], received["code"]):
            dossier = session.exec(select(Dossier).where(Dossier.code == code)).one()
            event = session.exec(select(DossierEvent).where(DossierEvent.dossier_id == dossier.id,
                                                            DossierEvent.action == "extend")).one()
            forms[code] = event.data["apology_letter"]["form"]
    db.dispose()
    assert "hẹn lại ngày trả kết quả" in forms[old["code"]]
    assert "đề nghị gia hạn" in forms[received["code"]]
