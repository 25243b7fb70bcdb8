"""``act``: decide → effects → persist, on a database, with effects tables built for the test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlmodel import Session, col, select

from service.bootstrap import compose_effects
from service.db import Database
from service.demo import load, read_catalogue
from service.domain.calendar import VN_TZ
from service.domain.lifecycle import Action, Notice, Status
from service.dossiers import actions, submission
from service.dossiers.effects import EffectCall, Effects, Outcome, effect_name
from service.models import Dossier, DossierEvent, Notification, User
from service.schemas.dossiers import DossierIn
from tests.conftest import empty_tables

BUSINESS = "1.001612.000.00.00.H49"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=VN_TZ)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    empty_tables(database_url)
    database = Database(database_url)
    with database.transaction() as session:
        load(session, read_catalogue(), now=at("2025-01-01T00:00"))
    yield database
    database.dispose()


def user(session: Session, username: str) -> User:
    return session.exec(select(User).where(User.username == username)).one()


def lodge(db: Database) -> str:
    with db.transaction() as session:
        data = DossierIn.model_validate({
            "procedure_code": BUSINESS, "channel": "counter", "result_delivery": "counter",
            "documents": [{"code": "TP01"}],
            "applicant": {"national_id": "022080000111", "full_name": "Trần Thị Bình", "phone": "0912345678"}})
        return submission.submit(session, user=user(session, "tiepnhan"), data=data, now=at("2025-01-06T08:00")
                                 ).dossier.code


def assign(db: Database, code: str, effects: Effects) -> None:
    with db.transaction() as session:
        dossier = session.exec(select(Dossier).where(Dossier.code == code)).one()
        actions.act(session, user=user(session, "tiepnhan"), dossier=dossier, action=Action.ASSIGN,
                    payload={"assignee": "chuyenvien"}, if_match=None, now=at("2025-01-06T09:00"), effects=effects)


def slip(db: Database, code: str) -> list[DossierEvent]:
    with db.transaction(read_only=True) as session:
        dossier = session.exec(select(Dossier).where(Dossier.code == code)).one()
        return list(session.exec(select(DossierEvent).where(DossierEvent.dossier_id == dossier.id)
                                 .order_by(col(DossierEvent.seq))))


def test_the_actions_effects_run_by_name_and_their_outcome_is_recorded(db: Database) -> None:
    seen: list[tuple[str, str, str]] = []

    def stamp(call: EffectCall) -> Outcome:
        seen.append((call.decision.action.value, call.dossier.status, call.decision.state.status.value))
        return Outcome({"stamp": "DT-1"}, (Notice("Đã phân công", "Hồ sơ đã được giao xử lý."),))

    def never(call: EffectCall) -> Outcome:
        raise AssertionError("an effect of another action ran")

    code = lodge(db)
    assign(db, code, {Action.ASSIGN: (stamp,), Action.APPROVE: (never,)})
    # The effect saw the decision before the row changed; what it returned is on the slip and in the notices.
    assert seen == [("assign", "received", "processing")]
    row = slip(db, code)[-1]
    assert row.action == "assign" and row.data == {"assignee": "chuyenvien", "stamp": "DT-1"}
    with db.transaction(read_only=True) as session:
        subjects = session.exec(select(Notification.subject)).all()
    # the receipt's notice (Mẫu 01) came with the lodging; the effect's notice follows, once
    assert subjects[-1] == "Đã phân công" and subjects.count("Đã phân công") == 1


def test_a_failing_effect_leaves_nothing_written(db: Database) -> None:
    def broken(call: EffectCall) -> Outcome:
        raise RuntimeError("the signing device is unplugged")

    code = lodge(db)
    before = [(r.seq, r.hash) for r in slip(db, code)]
    with pytest.raises(RuntimeError):
        assign(db, code, {Action.ASSIGN: (broken,)})
    assert [(r.seq, r.hash) for r in slip(db, code)] == before
    with db.transaction(read_only=True) as session:
        dossier = session.exec(select(Dossier).where(Dossier.code == code)).one()
        assert (dossier.status, dossier.version, dossier.assignee_id) == (Status.RECEIVED.value, 1, None)


def test_the_apps_table_names_each_effect() -> None:
    table: dict[Action, Any] = compose_effects(None)
    assert {action: [effect_name(e).rsplit(".", 1)[-1] for e in found] for action, found in table.items()} == {
        Action.APPROVE: ["sign_result"], Action.DISPATCH_POSTAL: ["create_shipment"],
        Action.CONFIRM_DELIVERY: ["close_shipment_delivered"], Action.DELIVERY_FAILED: ["close_shipment_failed"]}
