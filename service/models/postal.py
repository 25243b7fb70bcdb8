from datetime import datetime

from sqlmodel import Field, SQLModel

from service.db import UTCDateTime


class PostalEvent(SQLModel, table=True):
    """Every event the postal carrier reported on its webhook, kept once: a replayed event finds its row and
    changes nothing (Decision 45/2016/QĐ-TTg Arts. 9–10: delivery or return of the result to the desk)."""

    __tablename__ = "postal_event"

    key: str = Field(primary_key=True, max_length=64)
    """SHA-256 of (tracking number, event, instant): see ``service.domain.postal.event_key``."""
    shipment_id: int = Field(foreign_key="shipment.id", index=True)
    tracking_number: str = Field(max_length=32)
    event: str = Field(max_length=16)
    at: datetime = Field(sa_type=UTCDateTime)
    outcome: str = Field(max_length=16)
    """``applied`` (it moved the dossier) or ``ignored`` (the shipment had already concluded)."""
    source: str = Field(max_length=16)
    """``webhook`` or ``simulator``."""
    received_at: datetime = Field(sa_type=UTCDateTime)
    """Legal time of receipt."""
    recorded_at: datetime = Field(sa_type=UTCDateTime)
    """Real time of receipt."""
