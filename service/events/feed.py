"""The event feed: positions, cursors and pages (``GET /events`` and its SSE stream).

Event ids follow commit order (writers insert events under the outbox lock, :func:`service.events.outbox.lock`),
so a reader's position is the last id it saw: no event can commit later with a smaller id.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from service.domain.roles import STAFF_ROLES
from service.dossiers.visibility import visibility_filter
from service.errors import Unprocessable
from service.models import Dossier, OutboxEvent, User

MAX_LIMIT = 1000


@dataclass(frozen=True, order=True)
class Position:
    """Where a reader stands in the feed: after the event ``id``."""

    id: int = 0

    def encode(self) -> str:
        return base64.urlsafe_b64encode(f"e1:{self.id}".encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str | None) -> Position:
        if not cursor:
            return cls()
        try:
            tag, last = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split(":")
            position = cls(int(last))
        except (ValueError, UnicodeDecodeError, binascii.Error):
            position = None
        if position is None or tag != "e1" or not 0 <= position.id <= 2**62:
            raise Unprocessable("Con trỏ sự kiện không hợp lệ.", code="INVALID_CURSOR")
        return position

    @classmethod
    def of(cls, event: OutboxEvent) -> Position:
        return cls(event.id)  # type: ignore[arg-type]


def after_condition(position: Position) -> Any:
    return col(OutboxEvent.id) > position.id


def head(session: Session) -> Position:
    """The last event committed so far."""
    return Position(session.exec(select(func.max(OutboxEvent.id))).one() or 0)


def events_visible_to(user: User) -> Any:
    """A citizen sees the events of their own dossiers, staff their agency's, an admin all (the dossiers'
    own visibility rule)."""
    if user.role == "admin":
        return True
    if user.role in STAFF_ROLES:
        return col(OutboxEvent.agency_code) == user.agency_code
    return col(OutboxEvent.dossier_id).in_(select(Dossier.id).where(visibility_filter(user)))


def needs_dossier_check(user: User) -> bool:
    """Whether deciding which events ``user`` sees needs their dossiers (a citizen's), not just the event."""
    return user.role != "admin" and user.role not in STAFF_ROLES


def visible_without_query(user: User, event: OutboxEvent) -> bool:
    """:func:`events_visible_to` for an admin or staff, in Python (for the live feed's fan-out)."""
    return user.role == "admin" or event.agency_code == user.agency_code


def visible_dossier_ids(session: Session, user: User, ids: set[int]) -> set[int]:
    """Which of the dossiers ``ids`` ``user`` may see (:func:`events_visible_to`'s rule for a citizen)."""
    return set(session.exec(select(Dossier.id).where(col(Dossier.id).in_(ids), visibility_filter(user))))  # type: ignore[arg-type]


@dataclass(frozen=True)
class EventFilter:
    types: tuple[str, ...] = ()
    agency_code: str | None = None
    subject: str | None = None


def matches(event: OutboxEvent, filters: EventFilter) -> bool:
    """The filters of :func:`page`, in Python."""
    return ((not filters.types or event.type in filters.types)
            and (not filters.agency_code or event.agency_code == filters.agency_code)
            and (not filters.subject or event.subject == filters.subject))


def page(session: Session, *, user: User, after: Position, filters: EventFilter,
         limit: int) -> tuple[list[OutboxEvent], Position]:
    """Up to ``limit`` events after ``after`` that ``user`` may see, in commit order, and the position to pass
    back (past everything looked at: a short page moves it to the head, so a selective reader does not scan
    the same events again).

    The head is read *before* the page: every event up to it has committed (ids follow commit order), so the page
    (a later snapshot) holds all those the reader may see. Read after, it could take in an event that committed
    between the two statements without returning it, and the reader would never see it."""
    newest = head(session)
    query = select(OutboxEvent).where(after_condition(after), events_visible_to(user),
                                      col(OutboxEvent.id) <= newest.id)
    if filters.types:
        query = query.where(col(OutboxEvent.type).in_(filters.types))
    if filters.agency_code:
        query = query.where(OutboxEvent.agency_code == filters.agency_code)
    if filters.subject:
        query = query.where(OutboxEvent.subject == filters.subject)
    rows = list(session.exec(query.order_by(col(OutboxEvent.id)).limit(limit)))
    if len(rows) == limit:
        return rows, Position.of(rows[-1])
    last = Position.of(rows[-1]) if rows else after
    return rows, max(last, newest)
