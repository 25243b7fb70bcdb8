"""Staff lists and searches of inter-agency dossiers found through the steps an agency started (staff
visibility's third branch, read in list order: ``service.dossiers.queries.interagency_part``): the same pages
as the plain visibility condition, for both orders, with and without a search, page by page."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

from service.db import Database
from service.dossiers import queries
from service.models import Dossier, DossierStep
from service.operations import interagency
from tests.api.test_interagency import DEPARTMENT
from tests.api.test_interagency import world as department_world  # noqa: F401  (the fixture)
from tests.builders import OTHER_COMMUNE, World, procedure_body

THROUGH_QL = "1.004300.000.00.00.H49"
"""The department receives and decides; the Quảng La commune does a step in between."""
TWICE_THROUGH_QL = "1.004301.000.00.00.H49"
"""The Quảng La commune does two steps of it."""
PARAMS = [{}, {"sort": "due_at"}, {"q": "thi"}, {"q": "thi", "sort": "due_at"}, {"q": "H49-26"},
          {"status": "processing"}, {"status": "processing", "sort": "due_at"}]


def publish(world: World, code: str, steps: list[tuple[str, int]]) -> None:
    body = procedure_body(code, name="Cấp giấy phép liên thông", agency_code=DEPARTMENT, service_level=2,
                          processing_time={"value": 7, "unit": "working_days"},
                          steps=[{"agency_code": agency, "value": value} for agency, value in steps])
    response = world.client.post("/api/v1/procedures", json=body, headers=world.as_("admin"))
    assert response.status_code == 201, response.text


def transfer(world: World, code: str, officer: str) -> None:
    """Hand the dossier to its next step (a received dossier is first given to the department's officer)."""
    if world.client.get(f"/api/v1/dossiers/{code}", headers=world.as_(officer)).json()["status"] == "received":
        world.act(code, "assign", "receiver.so", {"assignee": "chuyenvien.so"})
    world.act(code, "transfer", officer)


@pytest.fixture
def scene(department_world: World) -> tuple[World, dict[str, str]]:  # noqa: F811
    world = department_world
    publish(world, THROUGH_QL, [(DEPARTMENT, 2), (OTHER_COMMUNE, 5)])
    publish(world, TWICE_THROUGH_QL, [(DEPARTMENT, 1), (OTHER_COMMUNE, 2), (DEPARTMENT, 2), (OTHER_COMMUNE, 2)])
    s: dict[str, str] = {}

    def lodge(name: str, procedure: str, clock: str, full_name: str) -> str:
        world.set_clock(clock)
        s[name] = world.submit("receiver.so", procedure_code=procedure,
                               applicant={"national_id": "001190000777", "full_name": full_name})["code"]
        return s[name]

    s["own"] = world.submit("receiver.ql", procedure_code="1.001193.000.00.62.H49")["code"]
    transfer(world, lodge("started", THROUGH_QL, "2026-03-02T09:00:00+07:00", "Trần Thị Thủy"), "processor.so")
    transfer(world, lodge("tied", THROUGH_QL, "2026-03-02T09:00:00+07:00", "Vũ Thị Hoa"),
             "processor.so")  # received at the same instant: the order and the cursor go by id
    lodge("not_started", THROUGH_QL, "2026-03-02T10:00:00+07:00", "Đặng Thị Ánh")  # still at the department
    twice = lodge("twice", TWICE_THROUGH_QL, "2026-03-02T11:00:00+07:00", "Phạm Thị Nhung")
    transfer(world, twice, "processor.so")
    transfer(world, twice, "processor.ql")
    transfer(world, twice, "processor.so")  # the commune's second step
    paused = lodge("paused", THROUGH_QL, "2026-03-03T08:00:00+07:00", "Lê Văn Hùng")
    transfer(world, paused, "processor.so")
    world.set_clock("2026-03-04T08:00:00+07:00")
    world.act(paused, "request_payment", "processor.ql", {"amount_vnd": 100000})  # due date moves on payment
    world.set_clock("2026-03-09T08:00:00+07:00")
    world.act(paused, "pay", "receiver.so")
    s["later_own"] = world.submit("receiver.ql", procedure_code="1.001193.000.00.62.H49",
                                  applicant={"national_id": "001190000888", "full_name": "Ngô Thị Lan"})["code"]
    s["online"] = world.submit("citizen", channel="online", applicant=None,
                               procedure_code="1.001193.000.00.62.H49")["code"]  # not yet received
    return world, s


def listed(world: World, who: str, **params: Any) -> list[str]:
    response = world.client.get("/api/v1/dossiers", params={"limit": 200, **params}, headers=world.as_(who))
    assert response.status_code == 200, response.text
    return [item["code"] for item in response.json()["items"]]


def paged(world: World, who: str, **params: Any) -> list[str]:
    codes: list[str] = []
    cursor = None
    while True:
        response = world.client.get("/api/v1/dossiers", headers=world.as_(who),
                                    params={**params, "limit": 1, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        codes += [item["code"] for item in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return codes


def plain_visibility_page(session: Session, *, agency_code: str, conditions: list[Any], q: str | None,
                          column: Any, descending: bool, sort: str, limit: int,
                          cursor: str | None) -> tuple[list[Dossier], str | None]:
    """The page as the plain ``OR`` of staff visibility gives it (no branch read in order)."""
    query = select(Dossier).where(interagency.staff_visibility(agency_code), *conditions)
    if q:
        query = query.where(queries.search_condition(q))
    return queries.dossier_page(session, query, column=column, descending=descending, sort=sort, limit=limit,
                                cursor=cursor)


def test_the_steps_an_agency_started_show_their_dossiers_once(scene: tuple[World, dict[str, str]]) -> None:
    world, s = scene
    seen = listed(world, "processor.ql")
    assert sorted(seen) == sorted([s["own"], s["started"], s["tied"], s["twice"], s["paused"], s["later_own"],
                                   s["online"]])
    assert seen[-1] == s["online"]  # not yet received: last
    assert listed(world, "processor.ql", q="nhung") == [s["twice"]]
    assert s["not_started"] not in listed(world, "processor.ql", q="anh")
    by_due = listed(world, "processor.ql", sort="due_at")
    assert by_due.index(s["started"]) < by_due.index(s["paused"])  # due later after its pause


@pytest.mark.parametrize("read_whole", [0, 10**6], ids=["in-order", "all-steps"])
def test_lists_and_searches_match_the_plain_visibility_condition(scene: tuple[World, dict[str, str]],
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 read_whole: int) -> None:
    """Each order and search, whole and a dossier per page, for an agency seeing inter-agency dossiers only
    through its steps (the commune) and for one seeing them as its own too (the department): the same as the
    plain condition, whichever way the due order reads the steps."""
    world, _ = scene
    monkeypatch.setattr(queries, "STEPS_READ_WHOLE", read_whole)
    answers = {(who, str(params)): (listed(world, who, **params), paged(world, who, **params))
               for who in ("processor.ql", "receiver.ql", "processor.so") for params in PARAMS}
    assert all(whole == pages for whole, pages in answers.values())
    assert any(len(whole) > 3 for whole, _ in answers.values())
    monkeypatch.setattr(queries, "staff_page", plain_visibility_page)
    plain = {(who, str(params)): (listed(world, who, **params), paged(world, who, **params))
             for who in ("processor.ql", "receiver.ql", "processor.so") for params in PARAMS}
    assert answers == plain


def test_steps_carry_their_dossiers_receipt_instant(scene: tuple[World, dict[str, str]],
                                                    database_url: str) -> None:
    """The list order of the steps is the dossiers' (``dossier_step.received_at`` written at receipt)."""
    with Database(database_url).transaction(read_only=True) as session:
        pairs = session.exec(select(DossierStep.received_at, Dossier.received_at)
                             .join(Dossier, Dossier.id == DossierStep.dossier_id)).all()
    assert len(pairs) >= 8 and all(step == dossier and step is not None for step, dossier in pairs)
