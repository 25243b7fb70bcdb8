"""Idempotency-Key, If-Match and concurrency (issue 4 §2 and §6).

The parallel tests fire real concurrent requests from threads, each thread with its own ``TestClient`` on the
same app (so requests run in separate event loops and database connections). They run on whichever database
``MOTCUA_DATABASE_URL`` names: SQLite serialises writers, PostgreSQL really interleaves them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.domain.lifecycle import Action
from service.dossiers.effects import Outcome
from tests.builders import COMMUNE, PASSWORD, World, build_world, dossier_body
from tests.conftest import bearer


@pytest.fixture
def world(client: TestClient) -> World:
    return build_world(client)


def parallel(count: int, call: Callable[[TestClient, int], Any], app: Any) -> list[Any]:
    """Run ``call`` ``count`` times at once, each on its own client, released together by a barrier."""
    barrier = threading.Barrier(count)

    def run(i: int) -> Any:
        client = TestClient(app, raise_server_exceptions=False)
        barrier.wait()
        return call(client, i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def history(world: World, code: str) -> list[dict[str, Any]]:
    response = world.client.get(f"/api/v1/dossiers/{code}/history", headers=world.as_("receiver"))
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def all_dossiers(world: World) -> list[dict[str, Any]]:
    return world.client.get("/api/v1/dossiers", params={"limit": 200}, headers=world.as_("admin")).json()[
        "items"
    ]


# ------------------------------------------------------------------------------------------- submission


def test_repeated_submission_with_the_same_key_returns_the_same_dossier(world: World) -> None:
    key = {"Idempotency-Key": "nop-ho-so-0001"}
    first = world.client.post(
        "/api/v1/dossiers", json=dossier_body(), headers={**world.as_("receiver"), **key}
    )
    again = world.client.post(
        "/api/v1/dossiers", json=dossier_body(), headers={**world.as_("receiver"), **key}
    )
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert [d["code"] for d in all_dossiers(world)] == [first.json()["code"]]
    # Same key, another body: refused, and nothing is created.
    other = world.client.post(
        "/api/v1/dossiers",
        json=dossier_body(documents=[{"code": "TP01"}, {"code": "TP02"}, {"code": "TP03"}]),
        headers={**world.as_("receiver"), **key},
    )
    assert other.status_code == 422 and other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    # Keys belong to a user: another officer's identical key is a new request.
    world.headers["receiver2"] = _second_officer(world, "receiver", "tiepnhan2")
    theirs = world.client.post(
        "/api/v1/dossiers", json=dossier_body(), headers={**world.as_("receiver2"), **key}
    )
    assert theirs.status_code == 201 and theirs.json()["code"] != first.json()["code"]
    assert len(all_dossiers(world)) == 2


def test_a_replayed_submission_leaves_no_trace(world: World) -> None:
    """The retry does the submission's work again before it finds the stored answer: all of it is rolled back
    (no second dossier, no event, no slip row). Its number too on SQLite; PostgreSQL draws numbers in a
    transaction of their own, so there the retry, like a failed submission, leaves its number unused."""
    world.set_clock("2026-03-02T08:00:00+07:00")
    headers = {**world.as_("receiver"), "Idempotency-Key": "nop-lai-0001"}
    first = world.client.post("/api/v1/dossiers", json=dossier_body(), headers=headers)
    again = world.client.post("/api/v1/dossiers", json=dossier_body(), headers=headers)
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert first.json()["code"] == f"{COMMUNE}-260302-0001"
    dialect = world.client.app.state.context.db.dialect  # type: ignore[attr-defined]
    following = f"{COMMUNE}-260302-{2 if dialect == 'sqlite' else 3:04d}"
    assert world.submit()["code"] == following
    assert sorted(d["code"] for d in all_dossiers(world)) == [first.json()["code"], following]
    assert [e["action"] for e in history(world, first.json()["code"])] == ["submit", "receive"]
    events = world.client.get("/api/v1/events", headers=world.as_("admin")).json()["items"]
    assert sorted((e["subject"], e["data"]["action"]) for e in events if e["data"].get("action")) == [
        (f"{COMMUNE}-260302-0001", "receive"), (f"{COMMUNE}-260302-0001", "submit"),
        (following, "receive"), (following, "submit")]


def test_idempotency_key_length_is_bounded(world: World) -> None:
    response = world.client.post(
        "/api/v1/dossiers",
        json=dossier_body(),
        headers={**world.as_("receiver"), "Idempotency-Key": "k" * 201},
    )
    assert response.status_code == 422
    assert all_dossiers(world) == []


def test_parallel_retries_of_one_submission_create_one_dossier(world: World) -> None:
    headers = {**world.as_("citizen"), "Idempotency-Key": "retry-storm"}
    body = dossier_body(channel="online", applicant=None)
    answers = parallel(
        6, lambda c, _: c.post("/api/v1/dossiers", json=body, headers=headers), world.client.app
    )
    assert [a.status_code for a in answers] == [201] * 6, [a.text for a in answers]
    assert len({a.json()["code"] for a in answers}) == 1
    assert len(all_dossiers(world)) == 1


def test_parallel_submissions_get_unique_consecutive_codes(world: World) -> None:
    count, per_thread = 8, 3

    def lodge(client: TestClient, i: int) -> list[Any]:
        return [
            client.post("/api/v1/dossiers", json=dossier_body(), headers=world.as_("receiver"))
            for _ in range(per_thread)
        ]

    answers = [a for batch in parallel(count, lodge, world.client.app) for a in batch]
    assert [a.status_code for a in answers] == [201] * (count * per_thread), [a.text for a in answers]
    codes = sorted(a.json()["code"] for a in answers)
    # <agency>-YYMMDD-NNNN: the commune's daily sequence for Mon 02/03/2026, from 0001, no gap, no repeat.
    assert codes == [f"{COMMUNE}-260302-{n:04d}" for n in range(1, count * per_thread + 1)]
    # Another day starts again at 0001.
    world.set_clock("2026-03-03T08:00:00+07:00")
    assert world.submit()["code"] == f"{COMMUNE}-260303-0001"


# ------------------------------------------------------------------------------------------- actions


def test_retried_action_after_a_client_timeout_applies_once(world: World) -> None:
    created = world.submit()
    code = created["code"]
    headers = {
        **world.as_("receiver"),
        "Idempotency-Key": "giao-xu-ly-1",
        "If-Match": f'"{created["version"]}"',
    }
    path = f"/api/v1/dossiers/{code}/actions/assign"
    first = world.client.post(path, json={"assignee": "chuyenvien"}, headers=headers)
    assert first.status_code == 200
    # The client never saw that answer (time-out) and sends the very same request again.
    retry = world.client.post(path, json={"assignee": "chuyenvien"}, headers=headers)
    assert retry.status_code == 200 and retry.json() == first.json()
    assert retry.headers["ETag"] == first.headers["ETag"]
    assert [e["action"] for e in history(world, code)].count("assign") == 1
    # Even after the dossier moved on, the retry replays the first answer and changes nothing.
    world.act(code, "approve", "approver")
    late_retry = world.client.post(path, json={"assignee": "chuyenvien"}, headers=headers)
    assert late_retry.status_code == 200 and late_retry.json()["status"] == "processing"
    current = world.client.get(f"/api/v1/dossiers/{code}", headers=world.as_("receiver")).json()
    assert current["status"] == "result_ready"
    # The same key with another body is a client error, not a second application.
    reused = world.client.post(path, json={"assignee": "chuyenvien", "note": "khác"}, headers=headers)
    assert reused.status_code == 422 and reused.json()["code"] == "IDEMPOTENCY_KEY_REUSED"


@pytest.fixture
def slow_assign(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold every assign inside its transaction a little, so that racing requests overlap for sure."""

    def _slow(call: Any) -> Outcome:
        time.sleep(0.3)
        return Outcome()

    effects = world.client.app.state.context.effects  # type: ignore[attr-defined]
    monkeypatch.setitem(effects, Action.ASSIGN, (*effects.get(Action.ASSIGN, ()), _slow))


@pytest.mark.usefixtures("slow_assign")
def test_retry_racing_the_first_attempt_applies_once(world: World) -> None:
    code = world.submit()["code"]
    headers = {**world.as_("receiver"), "Idempotency-Key": "giao-xu-ly-race"}
    path = f"/api/v1/dossiers/{code}/actions/assign"
    answers = parallel(
        4, lambda c, _: c.post(path, json={"assignee": "chuyenvien"}, headers=headers), world.client.app
    )
    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    assert len({a.text for a in answers}) == 1
    assert [e["action"] for e in history(world, code)].count("assign") == 1


def _second_officer(world: World, role: str, username: str) -> dict[str, str]:
    response = world.client.post(
        "/api/v1/users",
        headers=world.as_("admin"),
        json={
            "username": username,
            "password": PASSWORD,
            "full_name": f"Cán bộ {username}",
            "role": role,
            "agency_code": COMMUNE,
        },
    )
    assert response.status_code == 201, response.text
    return bearer(world.client, username, PASSWORD)


def test_two_approvers_racing_exactly_one_wins(world: World) -> None:
    world.headers["approver2"] = _second_officer(world, "approver", "lanhdao2")
    for round_ in range(3):
        code = world.submit()["code"]
        world.act(code, "assign", "receiver", {"assignee": "chuyenvien"})
        etag = world.client.get(f"/api/v1/dossiers/{code}", headers=world.as_("approver")).headers["ETag"]
        moves = [("approver", "approve", {}), ("approver2", "refuse", {"reason": "Không đủ điều kiện."})]
        if round_ % 2:
            moves.reverse()

        def race(
            client: TestClient,
            i: int,
            code: str = code,
            etag: str = etag,
            moves: list[tuple[str, str, dict[str, Any]]] = moves,
        ) -> Any:
            who, action, body = moves[i]
            return client.post(
                f"/api/v1/dossiers/{code}/actions/{action}",
                json=body,
                headers={**world.as_(who), "If-Match": etag},
            )

        answers = parallel(2, race, world.client.app)
        statuses = sorted(a.status_code for a in answers)
        assert statuses[0] == 200 and statuses[1] in (409, 412), [a.text for a in answers]
        loser = next(a for a in answers if a.status_code != 200)
        assert loser.json()["code"] in ("INVALID_TRANSITION", "VERSION_MISMATCH")
        finishes = [e for e in history(world, code) if e["action"] in ("approve", "refuse")]
        assert len(finishes) == 1


def test_stale_if_match_is_412_when_the_state_still_allows_the_action(world: World) -> None:
    code = world.submit()["code"]
    world.act(code, "assign", "receiver", {"assignee": "chuyenvien"})
    etag = world.client.get(f"/api/v1/dossiers/{code}", headers=world.as_("approver")).headers["ETag"]
    # Officer A extends (the dossier stays in processing); officer B, still holding the old ETag, approves.
    world.act(
        code,
        "extend",
        "approver",
        {"new_due_at": "2026-03-10T17:00:00+07:00", "reason": "Cần xác minh."},
        **{"If-Match": etag},
    )
    stale = world.act(code, "approve", "approver", expect=412, **{"If-Match": etag})
    assert stale["code"] == "VERSION_MISMATCH"
    fresh = world.client.get(f"/api/v1/dossiers/{code}", headers=world.as_("approver")).headers["ETag"]
    assert fresh != etag
    assert world.act(code, "approve", "approver", **{"If-Match": fresh})["status"] == "result_ready"
