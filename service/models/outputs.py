from datetime import datetime

from sqlmodel import Field, SQLModel

from service.db import UTCDateTime


class ResultDocument(SQLModel, table=True):
    """The signed result of a dossier (``<dossier code>-KQ1``, Decree 45/2020 Art. 14(3))."""

    __tablename__ = "result_document"

    dossier_id: int = Field(primary_key=True, foreign_key="dossier.id")
    code: str = Field(max_length=80, unique=True)
    blob_sha256: str = Field(max_length=64, foreign_key="blob.sha256")
    signed_by: str = Field(max_length=255)
    signer_username: str = Field(max_length=64)
    signed_at: datetime = Field(sa_type=UTCDateTime)
    certificate_serial: str = Field(max_length=64)


class Shipment(SQLModel, table=True):
    """A result travelling to the applicant by public postal service (Decision 45/2016/QĐ-TTg)."""

    __tablename__ = "shipment"

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", index=True)
    tracking_number: str = Field(max_length=32, unique=True)
    status: str = Field(max_length=16)
    address: str = Field(max_length=500)
    zone: str = Field(max_length=16)
    postage_vnd: int
    dispatched_at: datetime = Field(sa_type=UTCDateTime)
    expected_by: datetime = Field(sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    carrier_late: bool | None = None
