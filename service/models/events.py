"""The event outbox, webhook subscriptions, their deliveries and the workers' positions."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.db import UTCDateTime


class OutboxEvent(SQLModel, table=True):
    """One event (CloudEvents 1.0), committed in the same transaction as the control-slip row it reports, or
    raised by the deadline scanner. Never carries personal data. Ids follow commit order (writers take the
    outbox lock first, see :func:`service.events.outbox.lock`), so the feed is read in ``id`` order."""

    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_agency_code_id", "agency_code", "id"),
        Index("ix_event_dossier_id_id", "dossier_id", "id"),
        UniqueConstraint("dossier_id", "type", "warning_due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=36, unique=True)
    type: str = Field(max_length=64)
    dossier_id: int = Field(foreign_key="dossier.id")
    subject: str = Field(max_length=64)
    agency_code: str = Field(max_length=35)
    seq: int | None = None
    time: datetime = Field(sa_type=UTCDateTime)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    warning_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """The due date a warning is about: at most one warning of a kind per dossier and due date."""


class Subscription(SQLModel, table=True):
    """A webhook: events of one agency (or all, for an admin's), optionally of some types, POSTed to ``url``."""

    __tablename__ = "subscription"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000)
    secret: str = Field(max_length=256)
    agency_code: str | None = Field(default=None, max_length=35, foreign_key="agency.code")
    types: list[str] | None = Field(default=None, sa_type=JSON)
    active: bool = True
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by_id: int = Field(foreign_key="user_account.id")
    start_event_id: int = 0
    """The feed position when it was created: only events after it are sent."""


class Delivery(SQLModel, table=True):
    """One event owed to one subscription: pending until a 2xx answer (delivered) or the last try (given up).

    A worker leases a pending delivery (``leased_until``, real time) before it POSTs, so two workers never send
    the same attempt at once, and a killed worker's lease runs out for the next one to take over."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_pk"),
        Index("ix_delivery_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_delivery_subscription_id_dossier_id_event_pk", "subscription_id", "dossier_id", "event_pk"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="subscription.id")
    event_pk: int = Field(foreign_key="event.id")
    dossier_id: int
    state: str = Field(max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    leased_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DeliveryAttempt(SQLModel, table=True):
    """The delivery log: one row per POST (or per refusal to connect), with the receiver's answer."""

    __tablename__ = "delivery_attempt"
    __table_args__ = (Index("ix_delivery_attempt_subscription_id_id", "subscription_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="delivery.id")
    subscription_id: int = Field(foreign_key="subscription.id")
    event_pk: int = Field(foreign_key="event.id")
    attempt: int
    at: datetime = Field(sa_type=UTCDateTime)
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=500)
    delivered: bool = False


class WorkerPosition(SQLModel, table=True):
    """How far a background job has read a stream (the fan-out of events into deliveries; the notices sent)."""

    __tablename__ = "worker_position"

    name: str = Field(primary_key=True, max_length=32)
    last_id: int = 0
    updated_at: datetime = Field(sa_type=UTCDateTime)
