"""Reference data kept across requests (:mod:`service.operations.reference`): a change made through one API process,
another process's worker or plain SQL is used by the next request of every process; a change rolled back is not;
the hot path no longer reads the reference tables.

Two apps built by two ``create_app`` calls on the same database stand in for two API processes: each has its own
:class:`~service.db.Database`, hence its own cache; they share nothing but the database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text

from service.db import Database
from service.main import create_app
from service.operations import calendars, catalogue, reference
from service.schemas.catalogue import ProcedureIn
from service.settings import Settings
from tests.builders import COMMUNE, OTHER_COMMUNE, World, build_world, dossier_body, procedure_body

MONDAY = "2026-03-02T08:00:00+07:00"
DUE_BY_DEFAULT = "2026-03-05T08:00:00+07:00"
"""3 working days from Mon 02/03 08:00 (default hours, 8 h a day): Mon 7.5 h, Tue 8, Wed 8, Thu 07:30 + 0.5 h."""
DUE_WITH_TUESDAY_OFF = "2026-03-06T08:00:00+07:00"
DUE_WITH_EIGHT_TO_FIVE = "2026-03-04T17:00:00+07:00"
"""Office hours 08:00–12:00 and 13:00–17:00: Mon 8 h, Tue 8, Wed 8, used up at Wed 17:00."""
EIGHT_TO_FIVE = [["08:00", "12:00"], ["13:00", "17:00"]]
REFERENCE_READ = re.compile(r"\bFROM (procedure|agency|calendar_override)\b")


@pytest.fixture
def two_instances(settings: Settings) -> Iterator[tuple[TestClient, TestClient]]:
    first, second = create_app(settings), create_app(settings)
    with (
        TestClient(first, raise_server_exceptions=False) as a,
        TestClient(second, raise_server_exceptions=False) as b,
    ):
        yield a, b


def worlds(two_instances: tuple[TestClient, TestClient]) -> tuple[World, World]:
    a, b = two_instances
    world_a = build_world(a, now=MONDAY)
    return world_a, World(b, dict(world_a.headers))  # the same accounts, served by the other process


def database_of(client: TestClient) -> Database:
    return client.app.state.context.db  # type: ignore[attr-defined,no-any-return]


class Statements:
    """The SQL statements an engine runs while listening."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.seen: list[str] = []

    def __enter__(self) -> list[str]:
        for engine in self.db.engines:  # on SQLite the writing sessions have an engine of their own
            event.listen(engine, "before_cursor_execute", self._record)
        return self.seen

    def __exit__(self, *_: Any) -> None:
        for engine in self.db.engines:
            event.remove(engine, "before_cursor_execute", self._record)

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.seen.append(" ".join(statement.split()))


def reference_reads(statements: list[str]) -> list[str]:
    return [s for s in statements if REFERENCE_READ.search(s)]


def test_a_calendar_override_put_on_one_process_is_used_by_the_others_next_submission_and_action(
        two_instances: tuple[TestClient, TestClient]) -> None:
    world_a, world_b = worlds(two_instances)
    assert world_b.submit()["due_at"] == DUE_BY_DEFAULT  # B now keeps the overrides and the calendar
    online = world_b.submit("citizen", channel="online", applicant=None)["code"]
    put = world_a.client.put("/api/v1/calendar/overrides/2026-03-03", json={"kind": "holiday", "name": "Nghỉ bù"},
                             headers=world_a.as_("admin"))
    assert put.status_code == 200, put.text
    assert world_b.submit()["due_at"] == DUE_WITH_TUESDAY_OFF
    assert world_b.act(online, "receive", "receiver")["due_at"] == DUE_WITH_TUESDAY_OFF
    deleted = world_a.client.delete("/api/v1/calendar/overrides/2026-03-03", headers=world_a.as_("admin"))
    assert deleted.status_code == 204
    assert world_b.submit()["due_at"] == DUE_BY_DEFAULT


def test_a_procedure_version_published_on_one_process_is_lodged_by_the_others_next_submission(
        two_instances: tuple[TestClient, TestClient]) -> None:
    world_a, world_b = worlds(two_instances)
    first = world_b.submit()
    assert (first["procedure_version"], first["fee_vnd"]) == (1, 0)
    body = procedure_body(fee_vnd=50_000, processing_time={"value": 2, "unit": "working_days"})
    put = world_a.client.put(f"/api/v1/procedures/{body['code']}", json=body, headers=world_a.as_("admin"))
    assert put.status_code == 200, put.text
    second = world_b.submit()
    assert (second["procedure_version"], second["fee_vnd"]) == (2, 50_000)
    assert second["due_at"] == "2026-03-04T08:00:00+07:00"  # 2 working days
    assert world_b.client.get(f"/api/v1/procedures/{body['code']}").json()["version"] == 2


def test_an_agency_changed_elsewhere_is_used_by_the_next_submission(
        two_instances: tuple[TestClient, TestClient], settings: Settings) -> None:
    world_a, world_b = worlds(two_instances)
    assert world_b.submit()["due_at"] == DUE_BY_DEFAULT
    other = Database(settings.database_url)  # another process, writing with plain SQL
    with other.engine.begin() as conn:
        conn.execute(text("UPDATE agency SET office_hours = :hours WHERE code = :code"),
                     {"hours": json.dumps(EIGHT_TO_FIVE), "code": COMMUNE})
    other.dispose()
    assert world_b.submit()["due_at"] == DUE_WITH_EIGHT_TO_FIVE
    merged = world_a.client.post(f"/api/v1/agencies/{COMMUNE}/merge", headers=world_a.as_("admin"),
                                 json={"succeeded_by": OTHER_COMMUNE, "valid_to": "2026-03-01"})
    assert merged.status_code == 200, merged.text
    refused = world_b.client.post("/api/v1/dossiers", headers=world_b.as_("receiver"), json=dossier_body())
    assert refused.status_code == 422 and refused.json()["code"] == "AGENCY_NOT_IN_FORCE"


def test_a_change_rolled_back_leaves_nothing_behind_and_the_next_committed_one_is_used(
        two_instances: tuple[TestClient, TestClient]) -> None:
    _, world_b = worlds(two_instances)
    assert world_b.submit()["due_at"] == DUE_BY_DEFAULT
    db = database_of(world_b.client)
    session = db.session()
    try:  # B's own cache, read inside a transaction that changes the agency and the procedure, then rolls back
        session.execute(text("UPDATE agency SET office_hours = :hours WHERE code = :code"),
                        {"hours": json.dumps(EIGHT_TO_FIVE), "code": COMMUNE})
        session.execute(text("UPDATE procedure SET fee_vnd = 99 WHERE code = :code"),
                        {"code": procedure_body()["code"]})
        reference.changed(session)
        assert calendars.calendar_for(session, COMMUNE).office_hours.working_day_minutes == 480
        assert catalogue.current_version(session, procedure_body()["code"]).fee_vnd == 99
    finally:
        db.abandon(session)
    lodged = world_b.submit()
    assert (lodged["due_at"], lodged["fee_vnd"]) == (DUE_BY_DEFAULT, 0)
    with db.transaction() as session:  # the same change, committed
        session.execute(text("UPDATE agency SET office_hours = :hours WHERE code = :code"),
                        {"hours": json.dumps(EIGHT_TO_FIVE), "code": COMMUNE})
    assert world_b.submit()["due_at"] == DUE_WITH_EIGHT_TO_FIVE


def test_a_transaction_that_changes_reference_rows_unannounced_shows_its_change_to_no_other(
        two_instances: tuple[TestClient, TestClient]) -> None:
    """Without :func:`reference.changed` the writer reads by the token it read before its change; the calendar it
    builds from its uncommitted office hours is not kept under that token, which every other request uses."""
    _, world_b = worlds(two_instances)
    db = database_of(world_b.client)
    session = db.session()
    try:
        world_b.client.app.state.context.clock.now(session)  # type: ignore[attr-defined]  # reads the token
        session.execute(text("UPDATE agency SET office_hours = :hours WHERE code = :code"),
                        {"hours": json.dumps(EIGHT_TO_FIVE), "code": COMMUNE})
        assert calendars.calendar_for(session, COMMUNE).office_hours.working_day_minutes == 480
    finally:
        db.abandon(session)
    assert world_b.submit()["due_at"] == DUE_BY_DEFAULT


def test_a_submission_and_an_action_read_no_reference_table_once_it_is_kept(
        two_instances: tuple[TestClient, TestClient]) -> None:
    world_a, world_b = worlds(two_instances)
    db = database_of(world_b.client)
    with Statements(db) as first:
        code = world_b.submit()["code"]
    assert len(reference_reads(first)) == 3  # the first request of the process reads them …
    with Statements(db) as submission:
        world_b.submit()
    with Statements(db) as action:
        world_b.act(code, "assign", "receiver", {"assignee": "chuyenvien"})
    assert reference_reads(submission) == [] and reference_reads(action) == []  # … the next ones do not
    put = world_a.client.put("/api/v1/calendar/overrides/2026-03-03", json={"kind": "holiday", "name": "Nghỉ bù"},
                             headers=world_a.as_("admin"))
    assert put.status_code == 200
    with Statements(db) as after_change:
        world_b.submit()
    assert reference_reads(after_change) != []  # a change made elsewhere is read again


def test_outside_simulation_the_token_is_one_statement_in_place_of_the_reads(
        two_instances: tuple[TestClient, TestClient], settings: Settings) -> None:
    worlds(two_instances)
    db = Database(settings.database_url)
    code = procedure_body()["code"]
    with Statements(db) as cold, db.transaction(read_only=True) as session:
        assert catalogue.current_version(session, code).version == 1
        calendars.calendar_for(session, COMMUNE)
    with Statements(db) as warm, db.transaction(read_only=True) as session:
        assert catalogue.current_version(session, code).version == 1
        calendars.calendar_for(session, COMMUNE)
    db.dispose()
    assert len(reference_reads(cold)) == 3
    assert len(warm) == 1 and "FROM reference_revision" in warm[0]


def test_a_transaction_that_changes_reference_data_reads_its_own_changes(client: TestClient) -> None:
    build_world(client, now=MONDAY)
    db = database_of(client)
    code = procedure_body()["code"]
    tuesday = date(2026, 3, 3)
    session = db.session()
    try:
        assert [d.working for d in calendars.calendar_for(session, COMMUNE).days(tuesday, tuesday)] == [True]
        assert catalogue.current_version(session, code).version == 1
        calendars.put_override(session, tuesday, kind="holiday", name="Nghỉ bù", legal_basis=None,
                               now=datetime(2026, 3, 2, 1, tzinfo=UTC))
        catalogue.publish_new_version(session, code, ProcedureIn.model_validate(procedure_body(fee_vnd=7)),
                                      now=datetime(2026, 3, 2, 1, tzinfo=UTC))
        assert [d.working for d in calendars.calendar_for(session, COMMUNE).days(tuesday, tuesday)] == [False]
        assert (catalogue.current_version(session, code).version, catalogue.current_version(session, code).fee_vnd) \
            == (2, 7)
    finally:
        db.abandon(session)
    with db.transaction(read_only=True) as session:  # rolled back: the kept values are those of before
        assert [d.working for d in calendars.calendar_for(session, COMMUNE).days(tuesday, tuesday)] == [True]
        assert catalogue.current_version(session, code).version == 1
