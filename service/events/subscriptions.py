"""Webhook subscriptions: who may create which, the URL check, the delivery log and an admin's redelivery.

Functions here never commit: the request's transaction does.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from service.domain.roles import STAFF_ROLES
from service.errors import Conflict, ForbiddenRole, NotFound, Unprocessable
from service.events import feed, netguard
from service.events.delivery import FAN_OUT, worker_position
from service.models import Delivery, DeliveryAttempt, OutboxEvent, Subscription, User
from service.schemas.events import DeliveryOut, RedeliveryOut, SubscriptionIn, SubscriptionOut


def check_url(url: str, *, allow_private: bool) -> None:
    """422 ``WEBHOOK_URL_FORBIDDEN`` for a URL that is not http(s) or resolves inside (see :mod:`netguard`)."""
    try:
        netguard.resolve(url, allow_private=allow_private)
    except netguard.ForbiddenTarget as exc:
        raise Unprocessable(str(exc), code="WEBHOOK_URL_FORBIDDEN") from None


def create(session: Session, *, user: User, data: SubscriptionIn, allow_private: bool,
           now: datetime) -> Subscription:
    """An admin subscribes to any agency's events (or all); staff only to their own agency's (403 else). Only
    events after the feed's current head are sent to it.

    The head is read under the fan-out's position lock, so the fan-out runs wholly before or wholly after this
    transaction: it can never advance past events the new subscription starts before without seeing it (with no
    subscription at all it jumps straight to the head, and would otherwise skip them for good)."""
    agency_code = data.agency_code
    if user.role in STAFF_ROLES:
        if agency_code not in (None, user.agency_code):
            raise ForbiddenRole("Cán bộ chỉ đăng ký nhận sự kiện của cơ quan mình.")
        agency_code = user.agency_code
    elif user.role != "admin":
        raise ForbiddenRole()
    check_url(data.url, allow_private=allow_private)
    worker_position(session, FAN_OUT, lock=True)
    start = feed.head(session)
    subscription = Subscription(url=data.url, secret=data.secret, agency_code=agency_code, types=data.types,
                                active=True, created_at=now, created_by_id=user.id,  # type: ignore[arg-type]
                                start_event_id=start.id)
    session.add(subscription)
    session.flush()
    return subscription


def visible(user: User) -> Any:
    if user.role == "admin":
        return col(Subscription.active)
    if user.role in STAFF_ROLES:
        return col(Subscription.active) & (col(Subscription.agency_code) == user.agency_code)
    raise ForbiddenRole()


def listed(session: Session, user: User) -> list[Subscription]:
    return list(session.exec(select(Subscription).where(visible(user)).order_by(col(Subscription.id))))


def get(session: Session, user: User, subscription_id: int) -> Subscription:
    found = session.exec(select(Subscription).where(Subscription.id == subscription_id, visible(user))).first()
    if found is None:
        raise NotFound(f"Không tìm thấy đăng ký nhận sự kiện {subscription_id}.", code="SUBSCRIPTION_NOT_FOUND")
    return found


def delete(session: Session, user: User, subscription_id: int, now: datetime) -> None:
    """Stop sending: the subscription disappears, its pending deliveries are dropped (the log stays)."""
    subscription = get(session, user, subscription_id)
    subscription.active = False
    session.add(subscription)
    for delivery in session.exec(select(Delivery).where(Delivery.subscription_id == subscription.id,
                                                        Delivery.state == "pending")):
        delivery.state, delivery.finished_at = "cancelled", now
        session.add(delivery)


def present(subscription: Subscription) -> SubscriptionOut:
    return SubscriptionOut(id=subscription.id, url=subscription.url,  # type: ignore[arg-type]
                           agency_code=subscription.agency_code, types=subscription.types,
                           active=subscription.active, created_at=subscription.created_at)


def _cursor(attempt_id: int) -> str:
    return base64.urlsafe_b64encode(f"d1:{attempt_id}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> int:
    try:
        tag, value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split(":")
        if tag == "d1" and 0 < int(value) < 2**62:
            return int(value)
    except ValueError:
        pass
    raise Unprocessable("Con trỏ phân trang không hợp lệ.", code="INVALID_CURSOR")


def deliveries(session: Session, user: User, subscription_id: int, *, limit: int,
               cursor: str | None) -> tuple[list[DeliveryOut], str | None]:
    """The delivery log of a subscription, newest first."""
    subscription = get(session, user, subscription_id)
    query = (select(DeliveryAttempt, OutboxEvent)
             .join(OutboxEvent, col(OutboxEvent.id) == DeliveryAttempt.event_pk)
             .where(DeliveryAttempt.subscription_id == subscription.id))
    if cursor:
        query = query.where(col(DeliveryAttempt.id) < _decode(cursor))
    rows = list(session.exec(query.order_by(col(DeliveryAttempt.id).desc()).limit(limit + 1)))
    items = [DeliveryOut(event_id=event.event_id, type=event.type, subject=event.subject, attempt=a.attempt,
                         at=a.at, status_code=a.status_code, error=a.error, delivered=a.delivered)
             for a, event in rows[:limit]]
    return items, (_cursor(rows[limit - 1][0].id) if len(rows) > limit else None)  # type: ignore[arg-type]


def redeliver(session: Session, user: User, subscription_id: int, event_id: str, now: datetime) -> RedeliveryOut:
    """An admin sends a given-up event again: up to 8 new tries, from now (409 unless it was given up)."""
    if user.role != "admin":
        raise ForbiddenRole()
    subscription = get(session, user, subscription_id)
    row = session.exec(select(Delivery, OutboxEvent).join(OutboxEvent, col(OutboxEvent.id) == Delivery.event_pk)
                       .where(Delivery.subscription_id == subscription.id, OutboxEvent.event_id == event_id)
                       .with_for_update()).first()
    if row is None:
        raise NotFound(f"Sự kiện {event_id} chưa từng được gửi tới đăng ký này.", code="DELIVERY_NOT_FOUND")
    delivery, event = row
    if delivery.state != "given_up":
        raise Conflict("Chỉ gửi lại được sự kiện đã ngừng thử gửi.", code="DELIVERY_NOT_GIVEN_UP")
    delivery.state, delivery.attempts, delivery.next_attempt_at = "pending", 0, now
    delivery.leased_until = delivery.finished_at = None
    session.add(delivery)
    return RedeliveryOut(event_id=event.event_id, state="pending", attempts=0, next_attempt_at=now)
