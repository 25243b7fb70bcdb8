from datetime import datetime
from typing import Any

from sqlalchemy import JSON, LargeBinary
from sqlmodel import Field, SQLModel

from service.db import UTCDateTime


class SimClock(SQLModel, table=True):
    """The simulated legal clock, shared by every API process through the database."""

    __tablename__ = "sim_clock"

    id: int = Field(default=1, primary_key=True)
    now: datetime = Field(sa_type=UTCDateTime)
    running: bool = False
    set_at: datetime = Field(sa_type=UTCDateTime)


class ReferenceRevision(SQLModel, table=True):
    """One row (``id`` 1): a random token that names the current state of the reference data (``procedure``,
    ``agency``, ``calendar_override``). Database triggers (migration 0131) replace it in every transaction that
    changes one of those tables; :mod:`service.operations.reference` keys its in-process cache by it."""

    __tablename__ = "reference_revision"

    id: int = Field(default=1, primary_key=True)
    token: str = Field(max_length=32)


class IdempotencyRecord(SQLModel, table=True):
    """The first answer to a request sent with an ``Idempotency-Key``, replayed for any repeat."""

    __tablename__ = "idempotency_record"

    user_id: int = Field(primary_key=True, foreign_key="user_account.id")
    scope: str = Field(primary_key=True, max_length=200)
    key: str = Field(primary_key=True, max_length=200)
    request_hash: str = Field(max_length=64)
    status_code: int
    response_body: dict[str, Any] = Field(sa_type=JSON)
    headers: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(sa_type=UTCDateTime)


class RateLimitBucket(SQLModel, table=True):
    """A fixed-window counter, kept in the database so every worker process sees the same count."""

    __tablename__ = "rate_limit_bucket"

    key: str = Field(primary_key=True, max_length=200)
    window_start: datetime = Field(primary_key=True, sa_type=UTCDateTime)
    count: int = 0


class Blob(SQLModel, table=True):
    """Content-addressed file storage (uploaded papers, signed PDFs), kept in the database so that every API
    process sees the same files and a file commits together with the state change that produced it."""

    __tablename__ = "blob"

    sha256: str = Field(primary_key=True, max_length=64)
    content_type: str = Field(max_length=100)
    size_bytes: int
    content: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = Field(sa_type=UTCDateTime)


class RefreshToken(SQLModel, table=True):
    """A refresh token (only its SHA-256 is kept). Each use rotates it: the token is marked used and a new one of
    the same family is issued; presenting a used token again revokes the whole family (RFC 9700 §4.14.2)."""

    __tablename__ = "refresh_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    family: str = Field(max_length=32, index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    issued_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
