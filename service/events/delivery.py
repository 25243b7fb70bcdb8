"""Webhook delivery: events fanned out into deliveries, deliveries leased, POSTed, and their answers recorded.

The queue is the ``delivery`` table itself (see the README, "Workers", for why not an external job queue):

* :func:`fan_out` reads the feed after the worker position ``fan_out`` and writes one ``pending`` delivery per
  matching active subscription (``ON CONFLICT DO NOTHING``: two workers fanning out the same event agree).
* :func:`claim` leases due deliveries: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two workers never take the
  same row; on SQLite writers take turns anyway. A delivery is due when no earlier delivery of the same dossier to
  the same subscription is still pending (per-dossier order), its retry time has come and no live lease holds it.
  A killed worker's lease simply runs out and the next worker takes the attempt over.
* :func:`post` sends one attempt to the address checked by :mod:`netguard` (no redirects, 10 s), and
  :func:`record` writes the log row and the outcome: delivered, retried after ``base · 2^(n-1)`` seconds, or
  given up after the 8th try — only if the lease is still ours.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import exists, func, or_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from service.domain.legal_time import utc_now
from service.events import feed, netguard
from service.events.outbox import cloud_event
from service.models import Delivery, DeliveryAttempt, OutboxEvent, Subscription, WorkerPosition

MAX_TRIES = 8
LEASE = timedelta(seconds=60)
FAN_OUT_BATCH = 500
FAN_OUT = "fan_out"
"""The worker position of the fan-out (the last event turned into deliveries)."""
SIGNATURE_HEADER = "X-Motcua-Signature"
CONTENT_TYPE = "application/cloudevents+json"


def sign(secret: str, body: bytes) -> str:
    """``sha256=<lowercase hex HMAC-SHA256 of the raw body>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def retry_delay(attempt: int, base_seconds: float) -> timedelta:
    """After the ``attempt``-th failed try: ``base``, then doubling (10 s, 20 s, 40 s … by default)."""
    return timedelta(seconds=base_seconds * 2 ** (attempt - 1))


def worker_position(session: Session, name: str, *, lock: bool) -> WorkerPosition:
    query = select(WorkerPosition).where(WorkerPosition.name == name)
    row = session.exec(query.with_for_update() if lock else query).first()
    if row is None:
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(insert(WorkerPosition).values(name=name, last_id=0, updated_at=utc_now())
                        .on_conflict_do_nothing())
        row = session.exec(query.with_for_update() if lock else query).one()
    return row


def _matches(subscription: Subscription, event: OutboxEvent) -> bool:
    return (event.id > subscription.start_event_id  # type: ignore[operator]
            and subscription.agency_code in (None, event.agency_code)
            and (not subscription.types or event.type in subscription.types))


def fan_out(session: Session, now: datetime) -> int:
    """Turn the next events of the feed into pending deliveries; returns how many events were read."""
    position_row = worker_position(session, FAN_OUT, lock=True)
    position = feed.Position(position_row.last_id)
    subscriptions = list(session.exec(select(Subscription).where(col(Subscription.active))))
    if not subscriptions:
        events: list[OutboxEvent] = []
        new_position = max(position, feed.head(session))
    else:
        start = feed.Position(min(s.start_event_id for s in subscriptions))
        position = max(position, start)
        events = list(session.exec(select(OutboxEvent).where(feed.after_condition(position))
                                   .order_by(col(OutboxEvent.id)).limit(FAN_OUT_BATCH)))
        new_position = feed.Position.of(events[-1]) if events else position
        rows = [{"subscription_id": s.id, "event_pk": e.id, "dossier_id": e.dossier_id, "state": "pending",
                 "attempts": 0, "next_attempt_at": now, "created_at": now}
                for e in events for s in subscriptions if _matches(s, e)]
        if rows:
            insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
            session.execute(insert(Delivery).on_conflict_do_nothing(), rows)
    if new_position.id != position_row.last_id:
        position_row.last_id, position_row.updated_at = new_position.id, now
        session.add(position_row)
    return len(events)


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    attempt: int
    subscription_id: int
    url: str
    secret: str
    body: bytes


def claim(session: Session, now: datetime, *, limit: int, busy_subscriptions: frozenset[int] = frozenset(),
          lease: timedelta = LEASE) -> list[Claimed]:
    """Lease up to ``limit`` due deliveries (see the module's docstring), skipping ``busy_subscriptions``."""
    earlier = aliased(Delivery)
    blocked = exists().where(earlier.subscription_id == Delivery.subscription_id,
                             earlier.dossier_id == Delivery.dossier_id, earlier.state == "pending",
                             earlier.event_pk < Delivery.event_pk)
    query = (select(Delivery)
             .where(Delivery.state == "pending", col(Delivery.next_attempt_at) <= now,
                    or_(col(Delivery.leased_until).is_(None), col(Delivery.leased_until) < now), ~blocked)
             .order_by(col(Delivery.next_attempt_at), col(Delivery.id)).limit(limit))
    if busy_subscriptions:
        query = query.where(col(Delivery.subscription_id).not_in(busy_subscriptions))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    deliveries = list(session.exec(query))
    if not deliveries:
        return []
    subscriptions = {s.id: s for s in session.exec(select(Subscription).where(
        col(Subscription.id).in_({d.subscription_id for d in deliveries})))}
    events = {e.id: e for e in session.exec(select(OutboxEvent).where(
        col(OutboxEvent.id).in_({d.event_pk for d in deliveries})))}
    claimed = []
    for delivery in deliveries:
        delivery.attempts += 1
        delivery.leased_until = now + lease
        session.add(delivery)
        subscription = subscriptions[delivery.subscription_id]
        body = json.dumps(cloud_event(events[delivery.event_pk]), ensure_ascii=False,
                          separators=(",", ":")).encode()
        claimed.append(Claimed(delivery.id, delivery.attempts, subscription.id, subscription.url,  # type: ignore[arg-type]
                               subscription.secret, body))
    return claimed


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def post(client: httpx.AsyncClient, item: Claimed, *, allow_private: bool, timeout: float) -> Outcome:
    """One attempt: resolve and check the host, connect to that address, POST the signed event."""
    try:
        target = netguard.resolve(item.url, allow_private=allow_private)
    except netguard.ForbiddenTarget as exc:
        return Outcome(None, str(exc)[:500])
    headers = {"Content-Type": CONTENT_TYPE, SIGNATURE_HEADER: sign(item.secret, item.body),
               "Host": target.host_header, "User-Agent": "motcua-webhooks/1"}
    extensions: dict[str, Any] = {"sni_hostname": target.host} if target.scheme == "https" else {}
    try:
        response = await client.post(target.connect_url, content=item.body, headers=headers, timeout=timeout,
                                     follow_redirects=False, extensions=extensions)
    except httpx.TimeoutException:
        return Outcome(None, f"no answer within {timeout:g} s")
    except httpx.HTTPError as exc:
        return Outcome(None, f"{type(exc).__name__}: {exc}"[:500])
    return Outcome(response.status_code, None if 200 <= response.status_code < 300
                   else f"HTTP {response.status_code}")


def record(session: Session, item: Claimed, outcome: Outcome, now: datetime, *, retry_base_seconds: float) -> None:
    """Log the attempt and settle the delivery, if our lease still holds it (same attempt number)."""
    delivery = session.exec(select(Delivery).where(Delivery.id == item.delivery_id).with_for_update()).first()
    if delivery is None or delivery.attempts != item.attempt or delivery.state != "pending":
        return
    session.add(DeliveryAttempt(delivery_id=delivery.id, subscription_id=delivery.subscription_id,  # type: ignore[arg-type]
                                event_pk=delivery.event_pk, attempt=item.attempt, at=now,
                                status_code=outcome.status_code, error=outcome.error, delivered=outcome.delivered))
    delivery.leased_until = None
    if outcome.delivered:
        delivery.state, delivery.finished_at = "delivered", now
    elif item.attempt >= MAX_TRIES:
        delivery.state, delivery.finished_at = "given_up", now
    else:
        delivery.next_attempt_at = now + retry_delay(item.attempt, retry_base_seconds)
    session.add(delivery)


def pending_count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(Delivery).where(Delivery.state == "pending")).one())


__all__ = ["FAN_OUT", "Claimed", "Outcome", "claim", "fan_out", "pending_count", "post", "record", "retry_delay",
           "sign", "worker_position"]
