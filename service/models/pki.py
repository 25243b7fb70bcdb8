from datetime import datetime

from sqlalchemy import Index, Text, text
from sqlmodel import Field, SQLModel

from service.db import UTCDateTime

ACTIVE = "revoked_at IS NULL"


class PkiCertificate(SQLModel, table=True):
    """One certificate of the simulated PKI (Decree 23/2025/NĐ-CP hierarchy, labelled "SIMULATION — NOT FOR
    LEGAL USE"): the root CA, the agency-level issuing CA, and the personal signing certificates of
    approvers and of the one-stop desks (Decree 45/2020/NĐ-CP Art. 14(3); Circular 01/2018/TT-VPCP Art. 10).

    ``holder`` names who the certificate belongs to within its ``kind``: ``"*"`` for the two CAs, the
    username for an approver, the agency code for a desk. At most one unrevoked certificate exists per
    (kind, holder): the partial unique index is what makes lazy creation safe when several API processes
    race for the first one. The private key is stored as encrypted PKCS#8 PEM
    (``settings.ca_key_passphrase``); a revoked certificate keeps its row (and key) so that earlier
    signatures stay verifiable, but it never signs again.
"""

    __tablename__ = "pki_certificate"
    __table_args__ = (
        Index("uq_pki_certificate_active_holder", "kind", "holder", unique=True,
              sqlite_where=text(ACTIVE), postgresql_where=text(ACTIVE)),
    )

    id: int | None = Field(default=None, primary_key=True)
    serial: str = Field(max_length=64, unique=True)
    kind: str = Field(max_length=16)
    holder: str = Field(max_length=64)
    subject: str = Field(max_length=1000)
    common_name: str = Field(max_length=255)
    owner_username: str | None = Field(default=None, max_length=64, index=True)
    owner_agency_code: str | None = Field(default=None, max_length=35)
    issuer_serial: str | None = Field(default=None, max_length=64)
    certificate_pem: str = Field(sa_type=Text)
    encrypted_key_pem: str | None = Field(default=None, sa_type=Text)
    issued_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revocation_reason: str | None = Field(default=None, max_length=500)
    revoked_by: str | None = Field(default=None, max_length=64)
