from datetime import date, datetime

from sqlmodel import Field, SQLModel

from service.db import UTCDateTime


class CalendarOverrideRow(SQLModel, table=True):
    """A day whose status differs from the built-in calendar: a swapped day off or a make-up working Saturday."""

    __tablename__ = "calendar_override"

    day: date = Field(primary_key=True)
    kind: str = Field(max_length=16)
    name: str = Field(max_length=255)
    legal_basis: str | None = Field(default=None, max_length=500)
    updated_at: datetime = Field(sa_type=UTCDateTime)
