"""Events (CloudEvents 1.0), subscriptions, deliveries and notices as the API shows them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from service.domain.lifecycle import Action
from service.schemas.common import AgencyCode, ApiModel, LocalDateTime

EVENT_TYPES: tuple[str, ...] = tuple(sorted({f"motcua.dossier.{a.value}" for a in Action}
                                            | {"motcua.dossier.submit", "motcua.dossier.receive",
                                               "motcua.dossier.due_soon", "motcua.dossier.overdue"}))
EventType = Annotated[str, Field(examples=["motcua.dossier.receive"], max_length=64)]


class EventData(BaseModel):
    """What happened to which dossier; never who the applicant is."""

    code: str
    agency_code: str
    procedure_code: str
    action: str
    seq: int | None = Field(description="The control-slip row's number; null for a deadline warning.")
    from_status: str | None
    status: str
    national_status_code: int
    due_at: str | None = Field(description="ISO 8601 with +07:00.")
    timeliness: Literal["early", "on_time", "late"] | None


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 event in structured JSON."""

    specversion: Literal["1.0"]
    id: str
    source: str = Field(examples=["/api/v1/dossiers/000.00.61.H49-260212-0001"])
    type: EventType
    subject: str
    time: str = Field(description="The legal time of the change (ISO 8601, +07:00).")
    datacontenttype: Literal["application/json"]
    data: EventData


class EventPage(BaseModel):
    items: list[CloudEvent]
    next_cursor: str = Field(description="Pass back as `after` for only newer events (always present).")


class SubscriptionIn(ApiModel):
    url: str = Field(min_length=1, max_length=2000, examples=["https://integration.example.vn/motcua/events"])
    secret: str = Field(min_length=16, max_length=256, description="The HMAC-SHA256 key; never shown again.")
    agency_code: AgencyCode | None = None
    types: list[EventType] | None = Field(default=None, max_length=len(EVENT_TYPES))

    @field_validator("types")
    @classmethod
    def _known_types(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        unknown = [t for t in value if t not in EVENT_TYPES]
        if unknown:
            raise ValueError(f"unknown event types {unknown}; known: {list(EVENT_TYPES)}")
        return list(dict.fromkeys(value))


class SubscriptionOut(BaseModel):
    id: int
    url: str
    agency_code: str | None
    types: list[str] | None
    active: bool
    created_at: LocalDateTime


class DeliveryOut(BaseModel):
    event_id: str
    type: str
    subject: str
    attempt: int
    at: LocalDateTime
    status_code: int | None
    error: str | None
    delivered: bool


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None = None


class RedeliveryOut(BaseModel):
    event_id: str
    state: Literal["pending", "delivered", "given_up"]
    attempts: int
    next_attempt_at: LocalDateTime


class NotificationOut(BaseModel):
    at: LocalDateTime
    channel: Literal["sms", "email", "portal"]
    recipient: str
    subject: str
    body: str
    sent_at: LocalDateTime | None = Field(default=None, description="When a sender accepted it; null: recorded.")
    send_error: str | None = None


__all__ = ["EVENT_TYPES", "CloudEvent", "DeliveryOut", "DeliveryPage", "EventData", "EventPage",
           "NotificationOut", "RedeliveryOut", "SubscriptionIn", "SubscriptionOut"]
