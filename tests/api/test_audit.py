"""The control slip (Phiếu kiểm soát, Circular 01/2018 Mẫu 05), hash-chained (issue 4 §5).

Every transition appends one row in the same transaction as the state change; ``/history`` shows them,
``/history/verify`` recomputes the chain, and a row changed behind the API's back breaks it.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, update
from sqlmodel import select

from service.domain.lifecycle import Action
from service.dossiers.slip import slip_content
from service.models import Dossier, DossierEvent
from tests.builders import World, build_world

HEX64 = re.compile(r"[0-9a-f]{64}")


@pytest.fixture
def world(client: TestClient) -> World:
    return build_world(client)


def history(world: World, code: str, who: str = "receiver") -> list[dict[str, Any]]:
    response = world.client.get(f"/api/v1/dossiers/{code}/history", headers=world.as_(who))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def verify(world: World, code: str, who: str = "receiver") -> dict[str, Any]:
    response = world.client.get(f"/api/v1/dossiers/{code}/history/verify", headers=world.as_(who))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def full_life(world: World) -> str:
    """An online dossier taken through every kind of step, one clock tick per step."""
    steps: list[tuple[str, str, str, dict[str, Any]]] = [
        ("2026-03-02T08:10:00+07:00", "receive", "receiver", {}),
        ("2026-03-02T08:20:00+07:00", "assign", "receiver", {"assignee": "chuyenvien"}),
        (
            "2026-03-02T09:00:00+07:00",
            "request_supplement",
            "processor",
            {"reason": "Thiếu giấy chứng sinh.", "missing_documents": ["TP02"]},
        ),
        ("2026-03-03T10:00:00+07:00", "supplement", "citizen", {}),
        ("2026-03-03T14:00:00+07:00", "request_payment", "processor", {"amount_vnd": 8_000}),
        ("2026-03-04T09:00:00+07:00", "pay", "citizen", {}),
        (
            "2026-03-04T10:00:00+07:00",
            "extend",
            "approver",
            {"new_due_at": "2026-03-12T17:00:00+07:00", "reason": "Cần xác minh thêm."},
        ),
        ("2026-03-09T15:00:00+07:00", "approve", "approver", {}),
        ("2026-03-10T08:00:00+07:00", "return_result", "receiver", {}),
    ]
    code = world.submit("citizen", channel="online", applicant=None)["code"]
    for at, action, who, body in steps:
        world.set_clock(at)
        world.act(code, action, who, body)
    return code


def test_every_transition_appends_one_chained_row(world: World) -> None:
    code = full_life(world)
    rows = history(world, code)
    assert [r["action"] for r in rows] == [
        "submit",
        "receive",
        "assign",
        "request_supplement",
        "supplement",
        "request_payment",
        "pay",
        "extend",
        "approve",
        "return_result",
    ]
    assert [r["seq"] for r in rows] == list(range(1, 11))
    assert [r["to_status"] for r in rows] == [
        "submitted",
        "received",
        "processing",
        "awaiting_supplement",
        "processing",
        "awaiting_payment",
        "processing",
        "processing",
        "result_ready",
        "returned",
    ]
    # Each row starts where the previous one ended; the first has no previous status.
    assert rows[0]["from_status"] is None
    assert all(later["from_status"] == earlier["to_status"] for earlier, later in pairwise(rows))
    # Legal time from the simulated clock, rendered in +07:00; the acting officer by name.
    assert rows[0]["at"] == "2026-03-02T08:00:00+07:00" and rows[-1]["at"] == "2026-03-10T08:00:00+07:00"
    assert [r["actor"] for r in rows][:3] == ["022090001234", "tiepnhan", "tiepnhan"]
    assert rows[3]["note"] == "Thiếu giấy chứng sinh."
    assert all(HEX64.fullmatch(r["hash"]) for r in rows)
    assert len({r["hash"] for r in rows}) == len(rows)
    assert verify(world, code) == {"valid": True, "entries": 10}
    # The applicant reads the same slip.
    assert history(world, code, "citizen") == rows


def test_counter_dossier_records_submission_and_receipt(world: World) -> None:
    code = world.submit()["code"]
    rows = history(world, code)
    assert [(r["action"], r["from_status"], r["to_status"]) for r in rows] == [
        ("submit", None, "submitted"),
        ("receive", "submitted", "received"),
    ]
    assert verify(world, code)["valid"] is True


def _tamper(world: World, code: str, how: str) -> None:
    db = world.client.app.state.context.db  # type: ignore[attr-defined]
    with db.transaction() as session:
        dossier_id = session.exec(select(Dossier.id).where(Dossier.code == code)).one()
        where = (DossierEvent.dossier_id == dossier_id, DossierEvent.seq == 4)
        if how == "note":
            session.execute(update(DossierEvent).where(*where).values(note="Không yêu cầu bổ sung."))
        elif how == "status":
            session.execute(update(DossierEvent).where(*where).values(to_status="processing"))
        elif how == "time":
            row = session.exec(select(DossierEvent).where(*where)).one()
            session.execute(
                update(DossierEvent).where(*where).values(at=row.at.replace(hour=row.at.hour - 1))
            )
        elif how == "delete":
            session.execute(delete(DossierEvent).where(*where))
        elif how == "rehash":
            # Recomputing the changed row's own hash is not enough: the next row still points at the old one.
            row = session.exec(select(DossierEvent).where(*where)).one()
            row.note = "Không yêu cầu bổ sung."
            content = slip_content(code, row)
            from service.domain import audit

            session.execute(
                update(DossierEvent)
                .where(*where)
                .values(note=row.note, hash=audit.entry_hash(row.prev_hash, content))
            )


@pytest.mark.parametrize("how", ["note", "status", "time", "delete", "rehash"])
def test_an_altered_stored_row_breaks_the_chain(world: World, how: str) -> None:
    code = full_life(world)
    other = world.submit()["code"]
    assert verify(world, code)["valid"] is True
    _tamper(world, code, how)
    assert verify(world, code)["valid"] is False
    # Only that dossier's chain is affected.
    assert verify(world, other)["valid"] is True


def test_refused_actions_leave_no_row(world: World) -> None:
    code = world.submit()["code"]
    before = history(world, code)
    world.act(code, "approve", "approver", expect=409)
    world.act(code, "approve", "processor", expect=403)
    world.act(code, "assign", "receiver", {"assignee": "lanhdao"}, expect=422)
    world.act(code, "assign", "receiver", {"assignee": "chuyenvien"}, expect=412, **{"If-Match": '"99"'})
    assert history(world, code) == before


def test_state_change_and_row_commit_together_or_not_at_all(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = world.submit()["code"]
    before = world.client.get(f"/api/v1/dossiers/{code}", headers=world.as_("receiver")).json()

    def crash(call: Any) -> None:
        raise RuntimeError("simulated failure of an effect, inside the action's transaction")

    effects = world.client.app.state.context.effects  # type: ignore[attr-defined]
    monkeypatch.setitem(effects, Action.ASSIGN, (crash,))
    response = world.client.post(
        f"/api/v1/dossiers/{code}/actions/assign",
        json={"assignee": "chuyenvien"},
        headers=world.as_("receiver"),
    )
    assert response.status_code == 500 and response.json()["code"] == "INTERNAL_ERROR"
    after = world.client.get(f"/api/v1/dossiers/{code}", headers=world.as_("receiver")).json()
    assert after == before  # status, version and assignee all rolled back
    assert [r["action"] for r in history(world, code)] == ["submit", "receive"]
    monkeypatch.setitem(effects, Action.ASSIGN, ())
    assert world.act(code, "assign", "receiver", {"assignee": "chuyenvien"})["status"] == "processing"
    assert verify(world, code) == {"valid": True, "entries": 3}


def _dossier_id(session: Any, code: str) -> int:
    return session.exec(select(Dossier.id).where(Dossier.code == code)).one()  # type: ignore[no-any-return]


@pytest.mark.parametrize("how", ["last row", "all rows", "moved away", "status changed"])
def test_a_truncated_or_detached_slip_is_caught_by_the_anchor(world: World, how: str) -> None:
    """Before the anchor, each of these still verified as valid: a shorter chain is still a valid chain."""
    code = full_life(world)
    other = world.submit()["code"]
    assert verify(world, code)["valid"] is True
    db = world.client.app.state.context.db  # type: ignore[attr-defined]
    with db.transaction() as session:
        dossier_id, other_id = _dossier_id(session, code), _dossier_id(session, other)
        rows = select(DossierEvent).where(DossierEvent.dossier_id == dossier_id)
        last = session.exec(rows.order_by(DossierEvent.seq.desc())).first()  # type: ignore[union-attr]
        if how == "last row":
            session.execute(delete(DossierEvent).where(DossierEvent.id == last.id))
        elif how == "all rows":
            session.execute(delete(DossierEvent).where(DossierEvent.dossier_id == dossier_id))
        elif how == "moved away":
            session.execute(update(DossierEvent).where(DossierEvent.id == last.id)
                            .values(dossier_id=other_id, seq=100))
        else:  # the dossier says "processing" but its slip ends elsewhere
            session.execute(update(Dossier).where(Dossier.id == dossier_id).values(status="processing"))
    assert verify(world, code, who="admin")["valid"] is False
    if how == "moved away":
        assert verify(world, other)["valid"] is False
    else:
        assert verify(world, other)["valid"] is True


def test_the_anchor_follows_every_row(world: World) -> None:
    code = full_life(world)
    db = world.client.app.state.context.db  # type: ignore[attr-defined]
    with db.transaction(read_only=True) as session:
        dossier = session.exec(select(Dossier).where(Dossier.code == code)).one()
        rows = history(world, code)
        assert (dossier.slip_rows, dossier.slip_head) == (len(rows), rows[-1]["hash"])
