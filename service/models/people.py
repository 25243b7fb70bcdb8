from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from service.db import UTCDateTime


class Agency(SQLModel, table=True):
    """A competent agency or one-stop desk, identified by its electronic code (Decision 20/2020/QĐ-TTg)."""

    __tablename__ = "agency"

    code: str = Field(max_length=35, primary_key=True)
    name: str = Field(max_length=255)
    level: str = Field(max_length=16)
    parent_code: str | None = Field(default=None, max_length=35, foreign_key="agency.code")
    office_hours: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    valid_from: date | None = None
    """First day the unit exists (a commune formed by the 2025 merger: 2025-07-01); ``None``: always."""
    valid_to: date | None = None
    """Last day the unit exists (merged away); ``None``: still exists. Its dossiers keep its code."""
    succeeded_by: str | None = Field(default=None, max_length=35, foreign_key="agency.code")
    """The unit it was merged into (statistics after ``valid_to`` roll its dossiers up into the successor)."""
    created_at: datetime = Field(sa_type=UTCDateTime)


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    password_hash: str = Field(max_length=255)
    full_name: str = Field(max_length=255)
    role: str = Field(max_length=16)
    agency_code: str | None = Field(default=None, max_length=35, foreign_key="agency.code", index=True)
    national_id: str | None = Field(default=None, max_length=12, index=True)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=255)
    active: bool = True
    identity_verified: bool = False
    """Whether a receiver or an admin has checked this person's identity papers (contract v2, Identity); only a
    verified citizen account is linked to the dossiers a desk lodges under its national id."""
    identity_verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    identity_verified_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
