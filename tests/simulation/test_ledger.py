"""The simulator's ledger writes exactly the rows the API's operations write.

One script of requests — every channel, every action, refusals by the rules, the postal carrier, a rating —
is played twice on an empty database: through :func:`service.dossiers.submission.submit` /
:func:`service.dossiers.actions.act` (one transaction per request, as the API does) and through
:class:`service.simulation.ledger.Ledger` (in memory, written by one flush). Every row of every table the
dossier life touches must be the same, hash chain included.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlmodel import Session, select

from service.bootstrap import compose_effects
from service.db import Database
from service.demo import load, read_catalogue
from service.domain import postal as postal_rules
from service.domain.calendar import VN_TZ
from service.domain.errors import DomainError
from service.domain.lifecycle import Action
from service.dossiers import actions, slip, submission
from service.dossiers.effects import EffectCall, Effects, Outcome, without
from service.dossiers.numbering import DailyNumbers
from service.dossiers.visibility import load_visible
from service.errors import AppError
from service.models import Agency, Dossier, Procedure, User
from service.operations import postal, uploads
from service.operations.calendars import calendar_for
from service.operations.ratings import rate
from service.schemas.dossiers import DossierIn
from service.simulation.engine import scanned_paper
from service.simulation.ledger import TABLE, Ledger
from tests.conftest import empty_tables

COMMUNE, LAND = "000.00.61.H49", "000.00.12.H49"
BUSINESS = "1.001612.000.00.00.H49"  # commune, 3 working days, level 4, fee, post allowed, restart on supplement
SAME_DAY = "1.001193.000.00.00.H49"  # commune, same day
LAND_SPLIT = "1.012784.000.00.00.H49"  # land office, 12 working days, the clock pauses on supplement
LAND_STEPS = "1.004227.000.00.00.H49"  # inter-agency: the commune 3 working days, then the land office 7
ITEM_SEED, CARRIER_SEED = 5, 6


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=VN_TZ)


class Driver:
    """The requests of the script; ``error`` is the stable code of a refusal, ``None`` when applied."""

    users: dict[str, User]

    def submit(self, who: str, body: dict[str, Any], now: datetime) -> str: ...
    def act(self, code: str, who: str, action: Action, body: dict[str, Any] | None, now: datetime) -> str | None: ...
    def status(self, code: str) -> str: ...
    def carrier(self, now: datetime, rng: random.Random) -> None: ...
    def rate(self, code: str, who: str, satisfied: bool, comment: str | None, now: datetime) -> None: ...
    def upload(self, code: str, who: str, document: str, content: bytes, now: datetime) -> None: ...


def _error(call: Callable[[], Any]) -> str | None:
    try:
        call()
    except (DomainError, AppError) as exc:
        return exc.code
    return None


class Operations(Driver):
    """The API's path: one transaction per request."""

    def __init__(self, db: Database, users: dict[str, User], effects: Effects) -> None:
        self.db, self.users, self.effects = db, users, effects

    def _dossier(self, session: Session, code: str) -> Dossier:
        return session.exec(select(Dossier).where(Dossier.code == code)).one()

    def submit(self, who: str, body: dict[str, Any], now: datetime) -> str:
        with self.db.transaction() as session:
            data = DossierIn.model_validate(body)
            return submission.submit(session, user=self.users[who], data=data, now=now).dossier.code

    def act(self, code: str, who: str, action: Action, body: dict[str, Any] | None, now: datetime) -> str | None:
        def call() -> None:
            with self.db.transaction() as session:
                actions.act(session, user=self.users[who], dossier=self._dossier(session, code), action=action,
                            payload=body, if_match=None, now=now, effects=self.effects)
        return _error(call)

    def status(self, code: str) -> str:
        with self.db.transaction(read_only=True) as session:
            return self._dossier(session, code).status

    def carrier(self, now: datetime, rng: random.Random) -> None:
        with self.db.transaction() as session:
            postal.run_carrier(session, now, 0.5, rng, effects=self.effects, late_rate=0.3)

    def rate(self, code: str, who: str, satisfied: bool, comment: str | None, now: datetime) -> None:
        with self.db.transaction() as session:
            dossier = load_visible(session, self.users[who], code, for_update=True)
            rate(session, user=self.users[who], dossier=dossier, payload={"satisfied": satisfied, "comment": comment},
                 now=now)

    def upload(self, code: str, who: str, document: str, content: bytes, now: datetime) -> None:
        with self.db.transaction() as session:
            uploads.attach(session, user=self.users[who], dossier=self._dossier(session, code), document_code=document,
                           filename=f"{document}.pdf", content_type="application/pdf", stream=io.BytesIO(content),
                           max_bytes=10 * 1024 * 1024, now=now)


class Batched(Driver):
    """The simulator's path: a ledger in memory, one transaction, one flush at the end."""

    def __init__(self, session: Session, users: dict[str, User], effects: Effects) -> None:
        self.users = users
        agencies = [a.code for a in session.exec(select(Agency))]
        self.ledger = Ledger(
            lambda: session,
            procedures={p.code: p for p in session.exec(select(Procedure))},
            staff={u.username: u for u in users.values()},
            calendars={code: calendar_for(session, code) for code in agencies},
            origins={code: postal.origin_of(session, code) for code in agencies},
            calendar=calendar_for(session),
            citizens={u.national_id: u.id for u in users.values() if u.role == "citizen" and u.national_id},
            levels=postal.service_levels(), rng=random.Random(ITEM_SEED), effects=effects,
            numbers=DailyNumbers.load(session))
        self.entries: dict[str, Any] = {}

    def submit(self, who: str, body: dict[str, Any], now: datetime) -> str:
        entry = self.ledger.submit(user=self.users[who], data=DossierIn.model_validate(body), now=now)
        self.entries[entry.code] = entry
        return entry.code

    def act(self, code: str, who: str, action: Action, body: dict[str, Any] | None, now: datetime) -> str | None:
        return _error(lambda: self.ledger.act(self.entries[code], user=self.users[who], action=action,
                                              payload=body, now=now))

    def status(self, code: str) -> str:
        return str(self.entries[code].state.status.value)

    def carrier(self, now: datetime, rng: random.Random) -> None:
        self.ledger.run_carrier(now, failure_rate=0.5, late_rate=0.3, rng=rng)

    def rate(self, code: str, who: str, satisfied: bool, comment: str | None, now: datetime) -> None:
        self.ledger.rate(self.entries[code], user=self.users[who], satisfied=satisfied, comment=comment, now=now)

    def upload(self, code: str, who: str, document: str, content: bytes, now: datetime) -> None:
        self.ledger.upload(self.entries[code], user=self.users[who], document_code=document,
                           filename=f"{document}.pdf", content=content, content_type="application/pdf", now=now)


def applicant(national_id: str, **more: Any) -> dict[str, Any]:
    return {"national_id": national_id, "full_name": "Trần Thị Bình", "phone": "0912345678", **more}


def script(d: Driver) -> list[str | None]:
    """Every path of the lifecycle; returns the refusals, which must match too."""
    refusals: list[str | None] = []
    docs = [{"code": "TP01"}]
    # 1. online, level 4: receive, assign, supplement (restart), payment online, extension (Mẫu 04), a second
    #    extension refused, approval, return online, rating.
    one = d.submit("022090001234", {"procedure_code": BUSINESS, "channel": "online", "result_delivery": "online",
                                    "documents": docs}, at("2025-01-06T08:00"))
    d.upload(one, "022090001234", "TP01", scanned_paper(one, "TP01"), at("2025-01-06T08:00:20"))
    d.act(one, "tiepnhan", Action.RECEIVE, None, at("2025-01-06T08:30"))
    d.act(one, "tiepnhan", Action.ASSIGN, {"assignee": "chuyenvien"}, at("2025-01-06T09:00"))
    d.act(one, "chuyenvien", Action.REQUEST_SUPPLEMENT,
          {"reason": "Thiếu bản sao giấy tờ", "missing_documents": ["TP01"]}, at("2025-01-06T10:00"))
    d.act(one, "022090001234", Action.SUPPLEMENT, None, at("2025-01-07T09:00"))
    d.act(one, "chuyenvien", Action.REQUEST_PAYMENT, {"amount_vnd": 100000}, at("2025-01-07T10:00"))
    d.act(one, "022090001234", Action.PAY, None, at("2025-01-07T11:00"))
    extend = {"reason": "Cần xác minh thêm", "new_due_at": "2025-01-17T17:00:00+07:00"}
    refusals.append(d.act(one, "lanhdao", Action.EXTEND, extend, at("2025-01-08T08:00")))
    refusals.append(d.act(one, "lanhdao", Action.EXTEND, extend, at("2025-01-08T08:05")))
    refusals.append(d.act(one, "lanhdao", Action.APPROVE, None, at("2025-01-14T09:00")))
    d.act(one, "tiepnhan", Action.RETURN_RESULT, None, at("2025-01-14T09:10"))
    d.rate(one, "022090001234", True, "Cán bộ nhiệt tình", at("2025-01-14T10:00"))

    # 2. counter, result by post; 3. by post with a hand-over record, result by post: the carrier decides.
    posted = []
    for i, (channel, address) in enumerate((("counter", "Số 5 Lê Lợi, phường Hồng Gai, tỉnh Quảng Ninh"),
                                             ("postal", "Thôn 3, xã Yên Thọ, thành phố Hà Nội"))):
        body = {"procedure_code": BUSINESS, "channel": channel, "result_delivery": "postal", "documents": docs,
                "delivery_address": address, "applicant": applicant(f"02208000011{i}", address=address)}
        if channel == "postal":
            body["postal_handover"] = {"receipt_number": "BBGN-250106-00042",
                                       "posted_at": "2025-01-04T15:00:00+07:00"}
        code = d.submit("tiepnhan", body, at(f"2025-01-06T09:0{i}"))
        d.act(code, "tiepnhan", Action.ASSIGN, {"assignee": "chuyenvien"}, at("2025-01-06T09:30"))
        d.act(code, "lanhdao", Action.APPROVE, None, at("2025-01-06T10:00"))
        refusals.append(d.act(code, "tiepnhan", Action.RETURN_RESULT, None, at("2025-01-06T10:10")))
        d.act(code, "tiepnhan", Action.DISPATCH_POSTAL, None, at("2025-01-06T10:30"))
        posted.append(code)
    d.carrier(at("2025-01-15T23:00"), random.Random(CARRIER_SEED))
    for code in posted:
        if d.status(code) == "result_ready":  # the carrier failed: collected at the desk
            d.act(code, "tiepnhan", Action.RETURN_RESULT, None, at("2025-01-16T08:00"))

    # 4. rejected at intake; 5. refused by the approver; 6. withdrawn.
    four = d.submit("022195004321", {"procedure_code": SAME_DAY, "channel": "online", "result_delivery": "counter",
                                     "documents": [{"code": "TP01"}, {"code": "TP02"}]}, at("2025-01-11T21:00"))
    refusals.append(d.act(four, "tiepnhan", Action.REJECT, {}, at("2025-01-13T08:00")))
    d.act(four, "tiepnhan", Action.REJECT, {"reason": "Hồ sơ nộp trùng"}, at("2025-01-13T08:01"))
    five = d.submit("tiepnhan", {"procedure_code": BUSINESS, "channel": "counter", "result_delivery": "counter",
                                 "documents": docs, "applicant": applicant("022080000222")}, at("2025-01-13T08:00"))
    refusals.append(d.act(five, "tiepnhan", Action.ASSIGN, {"assignee": "lanhdao"}, at("2025-01-13T08:09")))
    d.act(five, "tiepnhan", Action.ASSIGN, {"assignee": "chuyenvien"}, at("2025-01-13T08:10"))
    d.act(five, "lanhdao", Action.REFUSE, {"reason": "Không đủ điều kiện"}, at("2025-01-15T16:00"))
    six = d.submit("tiepnhan", {"procedure_code": BUSINESS, "channel": "counter", "result_delivery": "counter",
                                "documents": docs, "applicant": applicant("022090001234")}, at("2025-01-13T09:00"))
    d.upload(six, "tiepnhan", "TP01", scanned_paper(six, "TP01"), at("2025-01-13T09:00:20"))
    d.act(six, "tiepnhan", Action.WITHDRAW, {"reason": "Người nộp đề nghị rút"}, at("2025-01-13T10:00"))

    # 7. the clock pauses (land office): a supplement in time, a second one too late, a late approval.
    seven = d.submit("tiepnhan12", {"procedure_code": LAND_SPLIT, "channel": "counter", "result_delivery": "counter",
                                    "documents": [{"code": c} for c in ("TP01", "TP02", "TP03")],
                                    "applicant": applicant("022080000333")}, at("2025-01-13T08:00"))
    d.act(seven, "tiepnhan12", Action.ASSIGN, {"assignee": "chuyenvien12"}, at("2025-01-13T08:30"))
    d.act(seven, "chuyenvien12", Action.REQUEST_SUPPLEMENT,
          {"reason": "Thiếu bản vẽ", "missing_documents": ["TP02"]}, at("2025-01-14T08:00"))
    d.act(seven, "tiepnhan12", Action.SUPPLEMENT, None, at("2025-01-20T14:00"))
    refusals.append(d.act(seven, "chuyenvien12", Action.REQUEST_SUPPLEMENT,
                          {"reason": "Thiếu", "missing_documents": ["TP01"]}, at("2025-01-24T08:00")))
    refusals.append(d.act(seven, "chuyenvien12", Action.TRANSFER, None, at("2025-01-24T08:10")))
    d.act(seven, "lanhdao12", Action.APPROVE, None, at("2025-02-20T08:00"))

    # 8. inter-agency (commune receives and checks, the land office decides): transferred, sent back for
    #    correction once, a second return refused, transferred again, paused for a supplement (restart), approved
    #    after an early approval was refused, the result returned at the commune's desk.
    eight = d.submit("tiepnhan", {"procedure_code": LAND_STEPS, "channel": "counter", "result_delivery": "counter",
                                  "documents": [{"code": "TP01"}, {"code": "TP02"}],
                                  "applicant": applicant("022080000444")}, at("2025-01-13T08:00"))
    d.act(eight, "tiepnhan", Action.ASSIGN, {"assignee": "chuyenvien"}, at("2025-01-13T08:15"))
    refusals.append(d.act(eight, "lanhdao", Action.APPROVE, None, at("2025-01-14T08:00")))
    d.act(eight, "chuyenvien", Action.TRANSFER, {"note": "Đã kiểm tra"}, at("2025-01-15T10:00"))
    d.act(eight, "chuyenvien12", Action.RETURN_FOR_CORRECTION, {"reason": "Thiếu xác nhận"},
          at("2025-01-16T10:00"))
    d.act(eight, "chuyenvien", Action.TRANSFER, None, at("2025-01-17T09:00"))
    refusals.append(d.act(eight, "chuyenvien12", Action.RETURN_FOR_CORRECTION, {"reason": "Lại thiếu"},
                          at("2025-01-17T10:00")))
    d.act(eight, "chuyenvien12", Action.REQUEST_SUPPLEMENT,
          {"reason": "Thiếu bản gốc", "missing_documents": ["TP02"]}, at("2025-01-17T11:00"))
    d.act(eight, "tiepnhan", Action.SUPPLEMENT, None, at("2025-01-20T09:00"))
    d.act(eight, "lanhdao12", Action.APPROVE, None, at("2025-01-30T09:00"))
    d.act(eight, "tiepnhan", Action.RETURN_RESULT, None, at("2025-01-31T09:00"))
    return refusals


def _setup(db: Database) -> dict[str, User]:
    with db.transaction() as session:
        load(session, read_catalogue(), now=at("2025-01-01T00:00"))
        for role, name in (("receiver", "tiepnhan12"), ("processor", "chuyenvien12"), ("approver", "lanhdao12")):
            session.add(User(username=name, password_hash="!", full_name=f"Cán bộ {name}", role=role,
                             agency_code=LAND, created_at=at("2025-01-01T00:00")))
    with db.transaction(read_only=True) as session:
        return {u.username: u for u in session.exec(select(User))}


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the script wrote (the outbox's events included), without surrogate keys, write times and
    tracking secrets."""
    skip = {"id", "recorded_at", "tracking_secret_hash"}
    out: dict[str, list[tuple[Any, ...]]] = {}
    with db.transaction(read_only=True) as session:
        codes = dict(session.execute(select(Dossier.id, Dossier.code)).all())  # type: ignore[call-overload]
        shipments = dict(session.execute(select(TABLE["shipment"].c.id, TABLE["shipment"].c.tracking_number)).all())
        for name in (*TABLE, "daily_sequence", "event"):
            table = Dossier.metadata.tables[name]
            rows = []
            for row in session.execute(select(table)).mappings():
                values = {k: v for k, v in row.items() if k not in skip}
                if "dossier_id" in values:
                    values["dossier_id"] = codes[values["dossier_id"]]
                if "shipment_id" in values:
                    values["shipment_id"] = shipments[values["shipment_id"]]
                rows.append(tuple(sorted((k, repr(v)) for k, v in values.items())))
            out[name] = sorted(rows)
    return out


def test_the_ledger_writes_what_the_operations_write(database_url: str) -> None:
    # The API draws postal item numbers from `secrets`; here both paths draw them from the same seeded stream.
    # Result signing (the `approve` effect the ledger hands to the ORM) is left out: signatures carry their time.
    items = random.Random(ITEM_SEED)
    effects = without(compose_effects(None, tracking_numbers=lambda session: postal_rules.make_tracking_number(
        items.randrange(100_000_000))), Action.APPROVE)
    empty_tables(database_url)
    db = Database(database_url)
    try:
        refused_by_operations = script(Operations(db, _setup(db), effects))
        expected = snapshot(db)
        with db.transaction() as session:
            valid = [slip.verify_history(session, d)[0] for d in session.exec(select(Dossier))]
        assert valid and all(valid)
    finally:
        db.dispose()

    empty_tables(database_url)
    db = Database(database_url)
    try:
        users = _setup(db)
        with db.transaction() as session:
            batched = Batched(session, users, effects)
            refused_by_ledger = script(batched)
            batched.ledger.flush(session)
        actual = snapshot(db)
    finally:
        db.dispose()

    assert refused_by_ledger == refused_by_operations
    assert refused_by_operations == [None, "ALREADY_EXTENDED", None, "INVALID_TRANSITION", "INVALID_TRANSITION",
                                     "FIELD_REQUIRED", "ASSIGNEE_INVALID", "SUPPLEMENT_WINDOW_CLOSED",
                                     "NOT_INTERAGENCY", "STEPS_REMAINING", "CORRECTION_ALREADY_RETURNED"]
    # The script reached every table, the carrier both delivered and failed, and both paths agree row for row.
    assert all(expected[name] for name in expected), {name: len(rows) for name, rows in expected.items()}
    assert {dict(r)["event"] for r in expected["postal_event"]} == {"'delivered'", "'failed'"}
    # One event per control-slip row, in both paths.
    assert len(expected["event"]) == len(expected["dossier_event"])
    for name in expected:
        assert actual[name] == expected[name], name


def test_the_ledger_refuses_an_effect_it_cannot_persist(database_url: str) -> None:
    """A side effect attached to dispatch (say, an SMS gateway) would be silently skipped by the simulator: the
    ledger refuses to start instead."""
    def sms_gateway(call: EffectCall) -> Outcome:
        return Outcome()

    effects = compose_effects(None)
    effects[Action.DISPATCH_POSTAL] = (*effects[Action.DISPATCH_POSTAL], sms_gateway)
    empty_tables(database_url)
    db = Database(database_url)
    try:
        users = _setup(db)
        with db.transaction() as session, pytest.raises(RuntimeError, match="sms_gateway"):
            Batched(session, users, effects)
    finally:
        db.dispose()
