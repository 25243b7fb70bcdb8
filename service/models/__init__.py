"""SQLModel tables. Importing this package registers every table on ``SQLModel.metadata``."""

from service.models.calendar import CalendarOverrideRow
from service.models.catalogue import Procedure
from service.models.dossier import (
    DailySequence,
    Dossier,
    DossierDocument,
    DossierEvent,
    DossierSearchKey,
    DossierStep,
    Notification,
    Rating,
    SearchWord,
)
from service.models.events import Delivery, DeliveryAttempt, OutboxEvent, Subscription, WorkerPosition
from service.models.infra import (
    Blob,
    IdempotencyRecord,
    RateLimitBucket,
    ReferenceRevision,
    RefreshToken,
    SimClock,
)
from service.models.outputs import ResultDocument, Shipment
from service.models.people import Agency, User
from service.models.pki import PkiCertificate
from service.models.postal import PostalEvent

__all__ = [
    "Agency",
    "Blob",
    "CalendarOverrideRow",
    "DailySequence",
    "Delivery",
    "DeliveryAttempt",
    "Dossier",
    "DossierDocument",
    "DossierEvent",
    "DossierSearchKey",
    "DossierStep",
    "IdempotencyRecord",
    "Notification",
    "OutboxEvent",
    "PkiCertificate",
    "PostalEvent",
    "Procedure",
    "RateLimitBucket",
    "Rating",
    "ReferenceRevision",
    "RefreshToken",
    "ResultDocument",
    "SearchWord",
    "Shipment",
    "SimClock",
    "Subscription",
    "User",
    "WorkerPosition",
]
