from datetime import datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.db import UTCDateTime


class Procedure(SQLModel, table=True):
    """One effective-dated version of an administrative procedure (thủ tục hành chính).

    A ``PUT`` closes the current version (``superseded_at``) and opens a new one; dossiers point at the version
    in force when they were created, so their deadline and fee never move.
    """

    __tablename__ = "procedure"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, index=True)
    version: int = 1
    name: str = Field(max_length=500)
    field: str | None = Field(default=None, max_length=255)
    agency_code: str = Field(max_length=35, foreign_key="agency.code", index=True)
    service_level: int
    processing_value: int
    processing_unit: str = Field(max_length=16)
    fee_vnd: int = 0
    postal_allowed: bool = False
    required_documents: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    supplement_policy: str = Field(default="restart", max_length=16)
    legal_basis: str | None = Field(default=None, max_length=1000)
    anywhere_in_province: bool = False
    """Lodged at any one-stop desk of the province (phi địa giới hành chính, Decree 118/2025)."""
    steps: list[dict[str, Any]] | None = Field(default=None, sa_type=JSON)
    """Inter-agency (liên thông) steps: ``[{"agency_code", "value"}]`` in order, each a share of the processing
    time in its unit (the shares add up to the total); ``None`` for a single-agency procedure."""
    search_text: str = Field(default="", max_length=2000)
    effective_from: datetime = Field(sa_type=UTCDateTime)
    superseded_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
