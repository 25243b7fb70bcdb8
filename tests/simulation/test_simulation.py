"""The simulator: a small scenario over the Tết weeks of 2025, played through the real services.

Each run starts from empty tables (the ``database_url`` fixture's migrated database: SQLite, or PostgreSQL
when ``MOTCUA_DATABASE_URL`` is set).
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from service.db import Database
from service.domain.calendar import VN_TZ, default_calendar
from service.dossiers.persist import Change, SessionWriter, persist, state_of
from service.dossiers.slip import history, verify_history
from service.models import Blob, Dossier, DossierDocument, DossierEvent, DossierStep, ResultDocument, SimClock
from service.simulation import ScenarioError, load, loads, simulate
from service.simulation.arrivals import ArrivalModel, ProcedureMix, tet_breaks
from service.simulation.summary import summarize
from tests.conftest import empty_tables

SMALL = """
name = "tiny"
title = "Bộ phận Một cửa nhỏ"
year = 2025
start = "2025-01-13"
end = "2025-02-23"
dossiers_per_year = 1200
seed = 11
agencies = ["000.00.61.H49", "000.00.62.H49"]
citizens = 40

[procedures]
default = 1.0
"2.000815.000.00.00.H49" = 3.0

[channels]
online = 0.45
postal = 0.05
assisted = 0.3
lodged_elsewhere = 0.3

[staff]
receivers = 1
processors = 1
approvers = 1
processor_capacity = 10.0
approver_capacity = 50.0

[behaviour]
supplement = 0.15
withdraw = 0.03
slow = 0.1
rating = 0.6

[postal]
failure_rate = 0.2
"""


def run(url: str, seed: int | None = None, *, limit: int | None = None) -> tuple[dict[str, Any], Any]:
    empty_tables(url)
    db = Database(url)
    try:
        result = simulate(db, loads(SMALL), seed=seed, limit=limit)
        summary = summarize(db, result)
        with db.transaction(read_only=True) as session:
            dossiers = [
                (d.code, d.status, d.channel, d.assisted, d.submitted_at, d.received_at, d.due_at,
                 d.finished_at, d.timeliness, d.supplement_count, d.extension_count, d.agency_code,
                 d.received_by_agency_code)
                for d in session.exec(select(Dossier).order_by(Dossier.code))
            ]
            chains = [verify_history(session, d)[0]
                      for d in session.exec(select(Dossier).order_by(Dossier.code).limit(40))]
            extras = {
                "events": session.execute(select(func.count()).select_from(DossierEvent)).scalar_one(),
                "results": session.execute(select(func.count()).select_from(ResultDocument)).scalar_one(),
                "clock": session.get(SimClock, 1).now,  # type: ignore[union-attr]
                "chains": chains,
            }
    finally:
        db.dispose()
    figures = {k: v for k, v in summary.as_dict().items()
               if k not in ("seconds", "setup_seconds", "dossiers_per_second", "actions_per_second")}
    return {"dossiers": dossiers, "figures": figures, **extras}, summary


@pytest.fixture(scope="module")
def runs(database_url: str) -> dict[str, Any]:
    first, summary = run(database_url)
    second, _ = run(database_url)
    other, _ = run(database_url, seed=12, limit=60)
    return {"first": first, "second": second, "other": other, "summary": summary}


def test_the_same_scenario_and_seed_give_the_same_dossiers_and_statistics(runs: dict[str, Any]) -> None:
    first, second = runs["first"], runs["second"]
    assert len(first["dossiers"]) > 100
    assert first["dossiers"] == second["dossiers"]
    assert first["figures"] == second["figures"]
    assert first["events"] == second["events"]


def test_another_seed_gives_other_dossiers(runs: dict[str, Any]) -> None:
    first, other = runs["first"], runs["other"]
    assert len(other["dossiers"]) == 60
    assert other["dossiers"] != first["dossiers"][:60]


def test_statistics_keep_the_report_invariant_and_the_histories_verify(runs: dict[str, Any]) -> None:
    summary = runs["summary"]
    assert summary.invariant_holds, summary.invariant_failures
    total = summary.total
    assert total["received_total"] + total["carried_over"] == (
        total["resolved_total"] + total["in_progress_total"] + total["paused"] + total["withdrawn"])
    assert total["resolved_total"] > 60
    assert len(summary.months) == 2
    assert all(runs["first"]["chains"])


def test_the_world_is_varied_and_results_were_not_signed(runs: dict[str, Any]) -> None:
    summary, first = runs["summary"], runs["first"]
    statuses = summary.statuses
    assert statuses["returned"] > 60
    assert {"awaiting_supplement", "withdrawn", "result_ready"} & set(statuses)
    channels = {d[2] for d in first["dossiers"]}
    assert channels == {"online", "counter", "postal"}
    assert any(d[3] for d in first["dossiers"])  # assisted by the community digital team
    assert summary.ratings > 0
    assert summary.shipments > 0
    assert summary.signing in ("skipped", "none")
    assert first["results"] == 0
    assert first["clock"].astimezone(VN_TZ).date() == date(2025, 2, 24)
    assert summary.index_score is not None
    assert len(summary.slowest) == 5


def test_counters_are_closed_at_weekends_and_during_tet(runs: dict[str, Any]) -> None:
    calendar = default_calendar()
    offline = [d for d in runs["first"]["dossiers"] if d[2] != "online"]
    assert offline
    for d in offline:
        local = d[4].astimezone(VN_TZ)
        assert calendar.is_working_day(local.date()), d
        assert calendar.is_working_instant(local), d
    tet = [d for d in runs["first"]["dossiers"] if date(2025, 1, 25) <= d[4].astimezone(VN_TZ).date()
           <= date(2025, 2, 2)]
    assert all(d[2] == "online" for d in tet)


def test_a_share_of_counter_dossiers_is_lodged_at_another_desk(runs: dict[str, Any]) -> None:
    dossiers = runs["first"]["dossiers"]
    elsewhere = [d for d in dossiers if d[-1] != d[-2]]
    assert elsewhere, "the scenario lodges 30 % of the flagged counter dossiers elsewhere"
    assert all(d[2] == "counter" and d[0].startswith(d[-2]) for d in elsewhere)
    assert {d[-1] for d in elsewhere} <= {"000.00.61.H49", "000.00.62.H49"}


def test_the_online_share_follows_the_scenario(runs: dict[str, Any]) -> None:
    dossiers = runs["first"]["dossiers"]
    share = sum(d[2] == "online" for d in dossiers) / len(dossiers)
    assert abs(share - 0.45) < 0.1, share


def test_control_slip_rows_chain_through_savepoints(runs: dict[str, Any], database_url: str) -> None:
    """Rows appended by :func:`~service.dossiers.persist.persist` inside savepoints, kept or rolled back, never
    leave the chain a stale head."""
    db = Database(database_url)
    now = datetime(2025, 3, 1, 9, 0, tzinfo=VN_TZ)
    try:
        with db.transaction() as session:
            dossier = session.exec(select(Dossier).order_by(Dossier.id)).first()
            assert dossier is not None
            before = len(history(session, dossier))

            def note(text: str) -> None:
                persist(SessionWriter(session), dossier, Change(
                    action="note", actor="kiemtra", actor_role="admin", from_status=dossier.status, at=now,
                    state=state_of(dossier), note=text))

            note("a")
            with session.begin_nested():
                note("b")
            note("c")
            with contextlib.suppress(RuntimeError), session.begin_nested():
                note("d")
                raise RuntimeError("the savepoint is rolled back")
            note("e")
        with db.transaction(read_only=True) as session:
            dossier = session.get(Dossier, dossier.id)
            assert dossier is not None
            valid, count = verify_history(session, dossier)
            rows = history(session, dossier)
    finally:
        db.dispose()
    assert valid and count == before + 4
    assert [r.seq for r in rows] == list(range(1, count + 1))
    assert [r.note for r in rows[before:]] == ["a", "b", "c", "e"]


# ------------------------------------------------------------------------------------------------ pure parts


def test_arrivals_follow_the_calendar_with_a_surge_after_tet() -> None:
    calendar = default_calendar()
    scenario = loads(SMALL.replace('start = "2025-01-13"', 'start = "2025-01-01"')
                     .replace('end = "2025-02-23"', 'end = "2025-12-31"')
                     .replace("dossiers_per_year = 1200", "dossiers_per_year = 100000"))
    import random

    mix = [ProcedureMix("A", 1.0, True, True), ProcedureMix("B", 1.0, False, False)]
    model = ArrivalModel(scenario, calendar, mix, random.Random(1))
    breaks = tet_breaks(calendar, date(2025, 1, 1), date(2025, 12, 31))
    assert breaks == [(date(2025, 1, 25), date(2025, 2, 2))]
    per_day = {}
    day = date(2025, 1, 1)
    while day <= date(2025, 3, 31):
        arrivals = model.day(day)
        per_day[day] = arrivals
        if not calendar.is_working_day(day):
            assert all(a.channel == "online" and not a.assisted for a in arrivals), day
        day += timedelta(days=1)
    tet = sum(len(per_day[date(2025, 1, 27) + timedelta(days=i)]) for i in range(5))
    after = sum(len(per_day[date(2025, 2, 3) + timedelta(days=i)]) for i in range(5))
    march = sum(len(per_day[date(2025, 3, 3) + timedelta(days=i)]) for i in range(5))
    assert tet < march / 5
    assert after > 1.4 * march
    mondays = [len(v) for d, v in per_day.items() if d.weekday() == 0 and d.month == 3]
    thursdays = [len(v) for d, v in per_day.items() if d.weekday() == 3 and d.month == 3]
    assert sum(mondays) / len(mondays) > sum(thursdays) / len(thursdays)
    counter = [a.at.astimezone(VN_TZ) for v in per_day.values() for a in v if a.channel != "online"]
    assert sum(t.hour < 12 for t in counter) / len(counter) > 0.55
    assert abs(model.expected(date(2025, 1, 1), date(2025, 12, 31)) - 100000) < 1


def test_shipped_scenarios_load_and_bad_ones_are_refused() -> None:
    commune, province = load("commune"), load("province")
    assert commune.dossiers_per_year == 20000 and commune.agencies == ("000.00.61.H49",)
    assert province.dossiers_per_year == 500000 and province.agencies == ()
    assert commune.with_year(2024).first_day == date(2024, 1, 1)
    with pytest.raises(ScenarioError, match="unknown key"):
        loads('name = "x"\n[channels]\nonlin = 0.4\n')
    with pytest.raises(ScenarioError, match="probability"):
        loads('name = "x"\n[channels]\nonline = 1.4\n')
    with pytest.raises(ScenarioError, match="name"):
        loads("year = 2025\n")


def test_signed_results_go_through_the_approval_effect(database_url: str, tmp_path: Any) -> None:
    """``--sign-results``: the ledger writes the dossier, then the app's ``approve`` effect signs its result
    through the ORM in the same transaction; every approval gets a signed result and the chains stay valid."""
    from service.domain.lifecycle import Action
    from tests.conftest import make_settings

    empty_tables(database_url)
    db = Database(database_url)
    try:
        result = simulate(db, loads(SMALL), limit=30, sign_results=True,
                          settings=make_settings(database_url, tmp_path))
        assert result.signing == "signed"
        with db.transaction(read_only=True) as session:
            approvals = session.exec(select(DossierEvent).where(DossierEvent.action == Action.APPROVE.value)).all()
            signed = session.exec(select(ResultDocument)).all()
            codes = dict(session.execute(select(Dossier.id, Dossier.code)).all())  # type: ignore[call-overload]
            sorted_codes = [codes[e.dossier_id] for e in sorted(approvals, key=lambda e: e.dossier_id)]
            chains = [verify_history(session, d)[0] for d in session.exec(select(Dossier))]
    finally:
        db.dispose()
    assert approvals and len(signed) == len(approvals)
    assert all(event.data["result_code"] == f"{code}-KQ1" for event, code in zip(
        sorted(approvals, key=lambda e: e.dossier_id), sorted_codes, strict=True))
    assert all(chains)


ACROSS = """
name = "across"
year = 2025
start = "2025-03-03"
end = "2025-04-13"
dossiers_per_year = 4000
seed = 5
agencies = ["000.00.61.H49", "000.00.12.H49"]
citizens = 60

[procedures]
default = 0.0
"2.000815.000.00.00.H49" = 2.0    # certified copies at the commune
"1.004227.000.00.00.H49" = 3.0    # inter-agency: the commune 3 working days, then the land office 7

[channels]
online = 0.2
assisted = 0.0
digital_team = 0.5

[staff]
receivers = 1
processors = 1
approvers = 1
processor_capacity = 6.0

[behaviour]
return_for_correction = 0.4
upload_online = 1.0
scan_counter = 0.5

[behaviour.procedures."1.004227.000.00.00.H49"]
slow = 0.3
"""


def _across(url: str) -> dict[str, Any]:
    empty_tables(url)
    db = Database(url)
    try:
        summary = summarize(db, simulate(db, loads(ACROSS)))
        with db.transaction(read_only=True) as session:
            steps = sorted((d.code, s.seq, s.agency_code, s.started_at, s.due_at, s.finished_at, s.timeliness,
                            s.returned_for_correction)
                           for s, d in session.exec(select(DossierStep, Dossier)
                                                    .where(DossierStep.dossier_id == Dossier.id)))
            actions = dict(session.exec(select(DossierEvent.action, func.count()).group_by(DossierEvent.action)).all())
            dossiers = [(d.code, d.status, d.channel, d.assisted, d.digitised, d.current_step, d.due_at, d.timeliness)
                        for d in session.exec(select(Dossier).order_by(Dossier.code))]
            papers = list(session.exec(select(DossierDocument).where(col(DossierDocument.sha256).is_not(None))))
            blobs = {b.sha256: b for b in session.exec(select(Blob))}
    finally:
        db.dispose()
    return {"summary": summary, "steps": steps, "actions": actions, "dossiers": dossiers, "papers": papers,
            "blobs": blobs}


@pytest.fixture(scope="module")
def across(database_url: str) -> dict[str, Any]:
    return {"first": _across(database_url), "second": _across(database_url)}


def test_inter_agency_dossiers_move_between_agencies_and_the_summary_shows_where_time_was_lost(
        across: dict[str, Any]) -> None:
    first, second = across["first"], across["second"]
    assert first["steps"] == second["steps"] and first["dossiers"] == second["dossiers"]
    steps = first["steps"]
    assert {s[2] for s in steps if s[1] == 1} == {"000.00.61.H49"}
    assert {s[2] for s in steps if s[1] == 2} == {"000.00.12.H49"}
    assert first["actions"]["transfer"] > first["actions"]["return_for_correction"] > 0
    assert any(s[7] for s in steps)  # a land office step sent the dossier back once
    # The report's step columns name the agency that was late: the land office's slow appraisals.
    rows = {row["agency"]: row for row in first["summary"].steps}
    assert set(rows) == {"000.00.61.H49", "000.00.12.H49"}
    assert rows["000.00.12.H49"]["step_resolved_late"] > 0
    assert rows["000.00.61.H49"]["step_resolved_total"] > rows["000.00.12.H49"]["step_in_progress_total"]
    assert first["summary"].invariant_holds, first["summary"].invariant_failures


def test_papers_are_digitised_and_the_digital_team_raises_the_online_rate(across: dict[str, Any]) -> None:
    first = across["first"]
    dossiers, papers, blobs = first["dossiers"], first["papers"], first["blobs"]
    online = [d for d in dossiers if d[2] == "online"]
    # online = 0.2 of all dossiers by choice; the team takes half of the counter applicants online on the spot.
    assert len(online) / len(dossiers) > 0.45
    assert sum(d[3] for d in online) > len(online) / 3
    assert all(d[4] for d in online)  # every online applicant attached their papers
    counter = [d for d in dossiers if d[2] != "online"]
    assert 0.3 < sum(d[4] for d in counter) / len(counter) < 0.7  # the desk scanned about half
    assert first["summary"].uploads == len(papers) == first["actions"]["upload_document"]
    assert all(p.sha256 in blobs and blobs[p.sha256].content.startswith(b"%PDF-") for p in papers)
    assert first["summary"].indicators["3.3"] > 45
