"""Signed webhooks: retries, per-dossier order, two workers, a receiver that fails, hangs and recovers, a killed
worker, giving up and an admin's redelivery, and a slow receiver that delays nobody else."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from service.db import Database
from service.domain.legal_time import utc_now
from service.events import delivery
from service.main import create_app
from service.models import Delivery, DeliveryAttempt
from service.settings import Settings
from tests.builders import World, build_world
from tests.conftest import make_settings
from tests.events.receivers import Receiver, running, wait_until
from tests.events.workers import workers

SECRET = "a-webhook-secret-of-some-length"
FAST = {"webhook_retry_base_seconds": 0.05, "webhook_timeout_seconds": 3, "worker_poll_seconds": 0.05,
        "scan_interval_seconds": 60}
"""Short retries; a timeout long enough for a loaded machine (receivers that hang sleep longer than it)."""


@pytest.fixture
def fast(settings: Settings, tmp_path: Path) -> Settings:
    return make_settings(settings.database_url, tmp_path, **FAST)


@pytest.fixture
def world(fast: Settings) -> Any:
    with TestClient(create_app(fast), raise_server_exceptions=False) as client:
        yield build_world(client)


def subscribe(world: World, url: str, who: str = "admin", **extra: Any) -> int:
    response = world.client.post("/api/v1/subscriptions", json={"url": url, "secret": SECRET, **extra},
                                 headers=world.as_(who))
    assert response.status_code == 201, response.text
    return response.json()["id"]  # type: ignore[no-any-return]


def lifecycle(world: World) -> str:
    code = world.submit()["code"]
    world.act(code, "assign", "receiver", {"assignee": "chuyenvien"})
    world.act(code, "approve", "approver")
    return code


def deliveries(settings: Settings) -> list[Delivery]:
    db = Database(settings.database_url)
    try:
        with db.transaction(read_only=True) as session:
            return list(session.exec(select(Delivery).order_by(col(Delivery.id))))
    finally:
        db.dispose()


def attempts(settings: Settings) -> list[DeliveryAttempt]:
    db = Database(settings.database_url)
    try:
        with db.transaction(read_only=True) as session:
            return list(session.exec(select(DeliveryAttempt).order_by(col(DeliveryAttempt.id))))
    finally:
        db.dispose()


def all_settled(settings: Settings, expected: int) -> bool:
    rows = deliveries(settings)
    return len(rows) == expected and all(d.state != "pending" for d in rows)


def test_two_workers_deliver_everything_in_order_through_failures_and_a_hang(world: World, fast: Settings) -> None:
    before = world.submit()["code"]  # raised before the subscription: never sent
    script = {1: "fail", 2: "fail", 3: "hang", 4: "fail"}
    with running(Receiver(SECRET, lambda n: script.get(n, "ok"), hang_seconds=4)) as receiver:
        subscribe(world, receiver.url)
        codes = [lifecycle(world) for _ in range(3)]
        expected = world.client.get("/api/v1/events", headers=world.as_("admin")).json()["items"]
        expected = [e for e in expected if e["subject"] in codes]
        assert len(expected) == 12
        with workers(fast, count=2):
            wait_until(lambda: all_settled(fast, len(expected)), seconds=60)
        got = receiver.delivered()
    assert all(a.signature_ok and a.content_type == "application/cloudevents+json" for a in receiver.arrivals)
    assert {e["id"] for e in got} == {e["id"] for e in expected}  # at least once, each of them
    assert before not in {e["subject"] for e in got}
    assert {e["id"]: e for e in got} == {e["id"]: e for e in expected}  # the body is the feed's event
    first_seen: dict[str, list[int]] = defaultdict(list)
    for event in got:
        seqs = first_seen[event["subject"]]
        if event["data"]["seq"] not in seqs:
            seqs.append(event["data"]["seq"])
    assert all(seqs == sorted(seqs) for seqs in first_seen.values()), first_seen  # per-dossier order
    log = attempts(fast)
    assert [a.status_code for a in log[:2]] == [500, 500]
    assert any(a.error and "no answer" in a.error for a in log)
    assert len({(a.delivery_id, a.attempt) for a in log}) == len(log)  # no attempt sent twice
    assert all(d.state == "delivered" for d in deliveries(fast))


def test_a_killed_workers_attempt_is_taken_over_when_its_lease_runs_out(world: World, fast: Settings) -> None:
    with running(Receiver(SECRET)) as receiver:
        subscribe(world, receiver.url)
        world.submit()
        db = Database(fast.database_url)
        try:
            with db.transaction() as session:
                delivery.fan_out(session, utc_now())
            with db.transaction() as session:  # a worker leases the first delivery, then dies before posting
                lost = delivery.claim(session, utc_now(), limit=1, lease=timedelta(seconds=1))
        finally:
            db.dispose()
        assert len(lost) == 1
        with workers(fast, count=1):
            wait_until(lambda: all_settled(fast, 2), seconds=30)
        assert len(receiver.delivered()) == 2
    log = attempts(fast)
    taken_over = [a for a in log if a.delivery_id == lost[0].delivery_id]
    assert [(a.attempt, a.delivered) for a in taken_over] == [(2, True)]


def test_a_receiver_that_never_answers_2xx_is_given_up_after_8_tries_then_redelivered_by_an_admin(
        world: World, fast: Settings) -> None:
    healthy = False
    with running(Receiver(SECRET, lambda n: "ok" if healthy else "fail")) as receiver:
        subscription = subscribe(world, receiver.url, types=["motcua.dossier.submit"])
        world.submit()
        with workers(fast, count=1):
            wait_until(lambda: all_settled(fast, 1), seconds=30)
            [given_up] = deliveries(fast)
            assert given_up.state == "given_up" and given_up.attempts == delivery.MAX_TRIES
            log = world.client.get(f"/api/v1/subscriptions/{subscription}/deliveries", headers=world.as_("admin"))
            items = log.json()["items"]
            assert [i["attempt"] for i in items] == list(range(8, 0, -1))  # newest first
            assert all(i["status_code"] == 500 and not i["delivered"] for i in items)
            event_id = items[0]["event_id"]
            path = f"/api/v1/subscriptions/{subscription}/deliveries/{event_id}/redeliver"
            assert world.client.post(path, headers=world.as_("receiver")).status_code == 403
            healthy = True
            again = world.client.post(path, headers=world.as_("admin"))
            assert again.status_code == 202 and again.json()["state"] == "pending"
            wait_until(lambda: all_settled(fast, 1), seconds=30)
            assert world.client.post(path, headers=world.as_("admin")).json()["code"] == "DELIVERY_NOT_GIVEN_UP"
        assert deliveries(fast)[0].state == "delivered"
        assert [e["id"] for e in receiver.delivered()] == [event_id]
    page = world.client.get(f"/api/v1/subscriptions/{subscription}/deliveries?limit=3",
                            headers=world.as_("admin")).json()
    assert page["items"][0]["delivered"] and len(page["items"]) == 3 and page["next_cursor"]


def test_a_hanging_receiver_delays_neither_other_subscriptions_nor_requests(world: World, fast: Settings) -> None:
    with running(Receiver(SECRET, lambda n: "hang", hang_seconds=6)) as slow, \
            running(Receiver(SECRET)) as quick:
        subscribe(world, slow.url)
        subscribe(world, quick.url)
        codes = [world.submit()["code"] for _ in range(3)]
        with workers(fast, count=1):
            wait_until(lambda: len(quick.delivered()) == 6, seconds=30)
            assert slow.arrivals == []  # still hanging on its first events
            assert world.client.get("/health").status_code == 200
        assert {e["subject"] for e in quick.delivered()} == set(codes)


def test_a_subscription_created_while_the_fan_out_runs_gets_every_event_after_its_start(
        world: World, fast: Settings) -> None:
    """PostgreSQL: with no subscription the fan-out jumps to the feed's head. A subscription whose transaction
    read the head before newer events committed must not lose them to that jump: the fan-out waits for it."""
    import threading

    from service.events import subscriptions
    from service.models import User
    from service.schemas.events import SubscriptionIn

    db = Database(fast.database_url)
    if db.dialect != "postgresql":
        db.dispose()
        pytest.skip("SQLite writers take turns anyway (BEGIN IMMEDIATE)")
    fanned: list[int] = []
    try:
        with db.transaction() as creating:
            admin = creating.exec(select(User).where(User.role == "admin")).first()
            assert admin is not None
            subscriptions.create(creating, user=admin, now=utc_now(), allow_private=True,
                                 data=SubscriptionIn(url="http://127.0.0.1:9/hook", secret=SECRET))
            world.submit()  # its two events commit after the subscription's start, before it exists

            def fan_out() -> None:
                with db.transaction() as session:
                    fanned.append(delivery.fan_out(session, utc_now()))

            fanning = threading.Thread(target=fan_out)
            fanning.start()
            fanning.join(2)
            assert fanning.is_alive() and fanned == []  # waits for the subscription's transaction
        fanning.join(30)
        assert fanned == [2]
    finally:
        db.dispose()
    rows = deliveries(fast)
    assert len(rows) == 2 and {r.state for r in rows} == {"pending"}
