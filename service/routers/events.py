"""``/events``: the event feed (JSON pages and Server-Sent Events) and ``/subscriptions`` (webhooks)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from service.deps import ContextDep, CurrentUser, SessionDep
from service.domain.legal_time import utc_now
from service.events import feed, live, subscriptions
from service.events.outbox import cloud_event
from service.models import User
from service.schemas.common import AgencyCode, CursorParam, Problem
from service.schemas.events import (
    DeliveryPage,
    EventPage,
    EventType,
    RedeliveryOut,
    SubscriptionIn,
    SubscriptionOut,
)

router = APIRouter(tags=["events"])
ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": Problem} for code in (401, 403, 422)}
"""What every route here can answer; a path id adds 404 (see :func:`service.apidoc.error_codes`)."""
REDELIVERY_ERRORS = {**ERRORS, 409: {"model": Problem}}
FEED_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": Problem} for code in (401, 422)}
"""Anyone signed in reads the feed (each sees only what they may): no 403."""

After = Annotated[str | None, Query(max_length=200, description="A cursor from `next_cursor` or an SSE `id:`.")]
Types = Annotated[list[EventType] | None, Query(alias="type", description="One or more event types.")]
AgencyFilter = Annotated[AgencyCode | None, Query()]
SubscriptionId = Annotated[int, Path(ge=1, le=2_147_483_647)]
Subject = Annotated[str | None, Query(max_length=64, description="Only the events of this dossier code.")]


def _filters(types: list[str] | None, agency_code: str | None, subject: str | None) -> feed.EventFilter:
    return feed.EventFilter(types=tuple(t for value in types or () for t in value.split(",") if t),
                            agency_code=agency_code, subject=subject)


@router.get("/events", response_model=EventPage, responses=FEED_ERRORS, summary="Read the event feed (CloudEvents)")
def list_events(user: CurrentUser, session: SessionDep, after: After = None, type_: Types = None,
                agency_code: AgencyFilter = None, subject: Subject = None,
                limit: Annotated[int, Query(ge=1, le=feed.MAX_LIMIT)] = 100) -> dict[str, Any]:
    """Events in commit order after the cursor `after` (from the beginning without it): a citizen sees those
    of their own dossiers, staff their agency's, an admin all. `next_cursor` is always present."""
    rows, position = feed.page(session, user=user, after=feed.Position.decode(after),
                               filters=_filters(type_, agency_code, subject), limit=limit)
    return {"items": [cloud_event(e) for e in rows], "next_cursor": position.encode()}


@router.get("/events/stream", responses={200: {"content": {"text/event-stream": {}},
                                               "description": "Server-Sent Events"}, **FEED_ERRORS},
            response_class=StreamingResponse, summary="Follow the event feed as Server-Sent Events")
async def stream_events(request: Request, user: CurrentUser, context: ContextDep, after: After = None,
                        type_: Types = None, agency_code: AgencyFilter = None, subject: Subject = None,
                        last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=200)] = None,
                        ) -> StreamingResponse:
    """The same feed as Server-Sent Events: `id:` is the cursor, `event:` the type, `data:` the CloudEvent.
    `Last-Event-ID` (or `after`) resumes after that cursor. A comment line is sent as a heart-beat when nothing
    happened for `MOTCUA_SSE_HEARTBEAT_SECONDS` (15 s). One reader per API process polls the database and fans
    events out to its streams, so idle streams cost no query and every stream sees the events of every API
    process."""
    start = feed.Position.decode(last_event_id or after)
    filters = _filters(type_, agency_code, subject)
    return StreamingResponse(_sse(request, context, user, start, filters), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _sse(request: Request, context: Any, user: User, position: feed.Position,
         filters: feed.EventFilter) -> AsyncIterator[bytes]:
    settings = context.settings
    return live.server_sent_events(
        live=live.live_feed(context.extras, context.db, settings.worker_poll_seconds), db=context.db, user=user,
        start=position, filters=filters, heartbeat_seconds=settings.sse_heartbeat_seconds,
        disconnected=request.is_disconnected)


@router.post("/subscriptions", status_code=status.HTTP_201_CREATED, response_model=SubscriptionOut,
             responses=ERRORS, summary="Subscribe a webhook to events")
def create_subscription(data: SubscriptionIn, user: CurrentUser, session: SessionDep,
                        context: ContextDep) -> SubscriptionOut:
    """Subscribe a webhook (admin: any agency or all; staff: their own agency). The URL must be http(s) and, unless
    `MOTCUA_WEBHOOK_ALLOW_PRIVATE`, resolve to public addresses only (422 `WEBHOOK_URL_FORBIDDEN`). The secret
    signs every delivery (`X-Motcua-Signature: sha256=<hex HMAC-SHA256 of the raw body>`) and is never shown."""
    return subscriptions.present(subscriptions.create(
        session, user=user, data=data, allow_private=context.settings.webhook_allow_private, now=utc_now()))


@router.get("/subscriptions", response_model=list[SubscriptionOut], responses=ERRORS,
            summary="List webhook subscriptions")
def list_subscriptions(user: CurrentUser, session: SessionDep) -> list[SubscriptionOut]:
    """Webhook subscriptions the caller may see: an admin's all, staff their agency's. The secret is never
    returned."""
    return [subscriptions.present(s) for s in subscriptions.listed(session, user)]


@router.get("/subscriptions/{subscription_id}", response_model=SubscriptionOut, responses=ERRORS,
            summary="Read one webhook subscription")
def read_subscription(subscription_id: SubscriptionId, user: CurrentUser, session: SessionDep) -> SubscriptionOut:
    """One webhook subscription (an admin's any, staff their agency's; else 404). The secret is never
    returned."""
    return subscriptions.present(subscriptions.get(session, user, subscription_id))


@router.delete("/subscriptions/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS,
               summary="Delete a webhook subscription")
def delete_subscription(subscription_id: SubscriptionId, user: CurrentUser, session: SessionDep) -> Response:
    """Stop the webhook; its pending deliveries are dropped, its delivery log stays readable by nobody."""
    subscriptions.delete(session, user, subscription_id, utc_now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/subscriptions/{subscription_id}/deliveries", response_model=DeliveryPage, responses=ERRORS,
            summary="List a subscription's delivery attempts")
def list_deliveries(subscription_id: SubscriptionId, user: CurrentUser, session: SessionDep,
                    limit: Annotated[int, Query(ge=1, le=500)] = 50,
                    cursor: CursorParam = None) -> DeliveryPage:
    """The delivery log, newest first: one row per attempt, with the receiver's status code or the error."""
    items, next_cursor = subscriptions.deliveries(session, user, subscription_id, limit=limit, cursor=cursor)
    return DeliveryPage(items=items, next_cursor=next_cursor)


@router.post("/subscriptions/{subscription_id}/deliveries/{event_id}/redeliver", response_model=RedeliveryOut,
             status_code=status.HTTP_202_ACCEPTED, responses=REDELIVERY_ERRORS,
             summary="Deliver a given-up event again (admin)")
def redeliver(subscription_id: SubscriptionId, event_id: Annotated[str, Path(max_length=36)], user: CurrentUser,
              session: SessionDep) -> RedeliveryOut:
    """An admin sends a given-up event again (up to 8 new tries; 409 `DELIVERY_NOT_GIVEN_UP` otherwise)."""
    return subscriptions.redeliver(session, user, subscription_id, event_id, utc_now())
