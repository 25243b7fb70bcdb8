"""The event feed: positions, cursors, the visible horizon and pages (``GET /events`` and its SSE stream).

Events are read in ``(txid, id)`` order. On SQLite writers take turns (``BEGIN IMMEDIATE``), so ``txid`` is 0
and ids grow in commit order. On PostgreSQL ids are drawn when rows are inserted, not when they commit: a reader
could see id 7 before id 6 commits and never come back for 6. Each row therefore carries its transaction's id
(``txid``), and a reader returns only rows whose transaction is older than the oldest one still running
(``pg_snapshot_xmin``): every such transaction has finished, and any later row has a larger ``txid``, so a
cursor never passes an event that is still to come.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from sqlalchemy import literal, text, tuple_
from sqlmodel import Session, col, select

from service.errors import Unprocessable
from service.models import Dossier, OutboxEvent, User
from service.operations.dossiers import STAFF_ROLES, visibility_filter

MAX_LIMIT = 1000


@dataclass(frozen=True, order=True)
class Position:
    """Where a reader stands in the feed: after the event ``(txid, id)``."""

    txid: int = 0
    id: int = 0

    def encode(self) -> str:
        return base64.urlsafe_b64encode(f"e1:{self.txid}:{self.id}".encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str | None) -> Position:
        if not cursor:
            return cls()
        try:
            tag, txid, last = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split(":")
            position = cls(int(txid), int(last))
        except (ValueError, UnicodeDecodeError, binascii.Error):
            position = None
        if position is None or tag != "e1" or position.txid < 0 or position.id < 0 \
                or max(position.txid, position.id) > 2**62:
            raise Unprocessable("Con trỏ sự kiện không hợp lệ.", code="INVALID_CURSOR")
        return position

    @classmethod
    def of(cls, event: OutboxEvent) -> Position:
        return cls(event.txid, event.id)  # type: ignore[arg-type]


def horizon(session: Session) -> int | None:
    """The smallest ``txid`` that may still commit (PostgreSQL); ``None`` on SQLite (no bound needed)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    return int(session.execute(text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")).scalar_one())


def after_condition(position: Position) -> Any:
    return tuple_(col(OutboxEvent.txid), col(OutboxEvent.id)) > tuple_(literal(position.txid), literal(position.id))


def head(session: Session, bound: int | None) -> Position:
    """The last event every reader can see now (nothing can commit before it any more)."""
    query = select(OutboxEvent.txid, OutboxEvent.id)
    if bound is not None:
        query = query.where(col(OutboxEvent.txid) < bound)
    row = session.exec(query.order_by(col(OutboxEvent.txid).desc(), col(OutboxEvent.id).desc()).limit(1)).first()
    return Position(row[0], row[1]) if row else Position()


def events_visible_to(user: User) -> Any:
    """A citizen sees the events of their own dossiers, staff their agency's, an admin all (the dossiers'
    own visibility rule)."""
    if user.role == "admin":
        return True
    if user.role in STAFF_ROLES:
        return col(OutboxEvent.agency_code) == user.agency_code
    return col(OutboxEvent.dossier_id).in_(select(Dossier.id).where(visibility_filter(user)))


@dataclass(frozen=True)
class EventFilter:
    types: tuple[str, ...] = ()
    agency_code: str | None = None
    subject: str | None = None


def page(session: Session, *, user: User, after: Position, filters: EventFilter,
         limit: int) -> tuple[list[OutboxEvent], Position]:
    """Up to ``limit`` events after ``after`` that ``user`` may see, in commit order, and the position to pass
    back (past everything looked at: a short page moves it to the head, so a selective reader does not scan
    the same events again)."""
    bound = horizon(session)
    query = select(OutboxEvent).where(after_condition(after), events_visible_to(user))
    if bound is not None:
        query = query.where(col(OutboxEvent.txid) < bound)
    if filters.types:
        query = query.where(col(OutboxEvent.type).in_(filters.types))
    if filters.agency_code:
        query = query.where(OutboxEvent.agency_code == filters.agency_code)
    if filters.subject:
        query = query.where(OutboxEvent.subject == filters.subject)
    rows = list(session.exec(query.order_by(col(OutboxEvent.txid), col(OutboxEvent.id)).limit(limit)))
    if len(rows) == limit:
        return rows, Position.of(rows[-1])
    newest = head(session, bound)
    last = Position.of(rows[-1]) if rows else after
    return rows, max(last, newest)
