from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Index, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from service.db import UTCDateTime

LONG_RUNNING_DAYS = 62
"""Statistics look back this many days before a period for the dossiers carried into it; older ones that were
still open are found through ``ix_dossier_long_running`` (see service/operations/statistics.py)."""
LONG_RUNNING_WHERE = {
    "postgresql": "received_at IS NOT NULL AND (coalesce(finished_at, withdrawn_at) IS NULL OR "
                  f"coalesce(finished_at, withdrawn_at) - received_at > interval '{LONG_RUNNING_DAYS} days')",
    "sqlite": "received_at IS NOT NULL AND (coalesce(finished_at, withdrawn_at) IS NULL OR "
              "julianday(coalesce(finished_at, withdrawn_at)) - julianday(received_at) > "
              f"{LONG_RUNNING_DAYS})",
}
"""Received dossiers still open, or open more than ``LONG_RUNNING_DAYS`` before they ended (statistics)."""
LODGED_FOR_ANOTHER = "received_by_agency_code <> agency_code"
"""A dossier lodged at one agency's desk for another agency (the condition of ``ix_dossier_lodged_for_another``,
repeated word for word by the query that uses it, as SQLite requires)."""


INTERAGENCY = "current_step IS NOT NULL"
"""A dossier processed in steps by several agencies (the condition of
``ix_dossier_applicant_national_id_interagency`` and ``ix_dossier_interagency_due_at``, as
:func:`service.operations.interagency.and_interagency` writes it)."""
STEP_STARTED = "started_at IS NOT NULL"
"""A step its agency has started (the condition of ``ix_dossier_step_agency_code_received_at``)."""


class Dossier(SQLModel, table=True):
    """A dossier (hồ sơ): one application for one procedure version, from submission to returned result."""

    __tablename__ = "dossier"
    __table_args__ = (
        Index("ix_dossier_agency_code_id", "agency_code", "id"),
        Index("ix_dossier_applicant_user_id_id", "applicant_user_id", "id"),
        Index("ix_dossier_status_id", "status", "id"),
        Index("ix_dossier_agency_code_status_due_at", "agency_code", "status", "due_at", "id"),
        # A processor's own open dossiers (the worklist's "mine"): their count and first page in due order.
        Index("ix_dossier_agency_code_assignee_id", "agency_code", "assignee_id", "status", "due_at", "id"),
        # The list by due date (soonest first, no due date last: both databases' ascending order).
        Index("ix_dossier_agency_code_due_at", "agency_code", "due_at", "id"),
        # Staff visibility's second branch (interagency.staff_visibility_branches): the dossiers a desk lodged
        # for another agency, in either list order; only those rows, so the indexes are as small as that branch
        # (and PostgreSQL, which cannot estimate how few they are, still reads them in order from here).
        Index("ix_dossier_lodged_for_another", "received_by_agency_code", "received_at", "id",
              postgresql_ops={"received_at": "NULLS FIRST"},
              postgresql_where=text(LODGED_FOR_ANOTHER), sqlite_where=text(LODGED_FOR_ANOTHER)),
        Index("ix_dossier_lodged_for_another_due_at", "received_by_agency_code", "due_at", "id",
              postgresql_where=text(LODGED_FOR_ANOTHER), sqlite_where=text(LODGED_FOR_ANOTHER)),
        # An exact national id within an agency, newest received first (a citizen's dossiers, a desk's search).
        Index("ix_dossier_applicant_national_id_agency_code", "applicant_national_id", "agency_code",
              "received_at", "id", postgresql_ops={"received_at": "NULLS FIRST"}),
        # The same search in the other two visibility branches: among the dossiers a desk lodged for another
        # agency, and among inter-agency ones (found from the steps). Without them those branches read every
        # dossier of the national id in the province (a frequent applicant's hundreds) to keep a few.
        Index("ix_dossier_applicant_national_id_lodged_for_another", "applicant_national_id",
              "received_by_agency_code", "received_at", "id", postgresql_ops={"received_at": "NULLS FIRST"},
              postgresql_where=text(LODGED_FOR_ANOTHER), sqlite_where=text(LODGED_FOR_ANOTHER)),
        Index("ix_dossier_applicant_national_id_interagency", "applicant_national_id", "received_at", "id",
              postgresql_ops={"received_at": "NULLS FIRST"},
              postgresql_where=text(INTERAGENCY), sqlite_where=text(INTERAGENCY)),
        # Staff visibility's third branch in due order, for an agency with many started steps: the province's
        # inter-agency dossiers soonest due first, each kept if the agency started one of its steps
        # (service/operations/interagency.py: interagency_rows).
        Index("ix_dossier_interagency_due_at", "due_at", "id",
              postgresql_where=text(INTERAGENCY), sqlite_where=text(INTERAGENCY)),
        # The default list order, newest received first and the not yet received last: SQLite scans this index
        # backwards as it is (NULL sorts first there); PostgreSQL needs NULLs first in the index for that.
        Index("ix_dossier_agency_code_received_at", "agency_code", "received_at", "id",
              postgresql_ops={"received_at": "NULLS FIRST"}),
        # Substring search (GET /dossiers?q=): trigram (pg_trgm) indexes on PostgreSQL, so that a rare match is
        # found without a scan. SQLite has no such index type: the name gets a plain index there, and the code's
        # trigram index is an empty partial index (the unique index on code already exists).
        Index("ix_dossier_applicant_name_normalised", "applicant_name_normalised", postgresql_using="gin",
              postgresql_ops={"applicant_name_normalised": "gin_trgm_ops"}),
        Index("ix_dossier_code_trgm", "code", postgresql_using="gin", postgresql_ops={"code": "gin_trgm_ops"},
              sqlite_where=text("0")),
        Index("ix_dossier_long_running", "received_at",
              postgresql_where=text(LONG_RUNNING_WHERE["postgresql"]),
              sqlite_where=text(LONG_RUNNING_WHERE["sqlite"])),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    procedure_id: int = Field(foreign_key="procedure.id")
    procedure_code: str = Field(max_length=64, index=True)
    procedure_version: int
    agency_code: str = Field(max_length=35, foreign_key="agency.code")
    received_by_agency_code: str | None = Field(default=None, max_length=35, foreign_key="agency.code",
                                                index=True)
    """The one-stop desk that lodged it (another desk of the province for an anywhere-in-province procedure);
    ``None`` only for rows written before the column existed, read as ``agency_code``."""
    rule_set: str | None = Field(default=None, max_length=16)
    """The rulebook in force when it was received (:mod:`service.domain.rulebook`); ``None`` until received."""
    current_step: int | None = None
    """Inter-agency dossiers: the ``seq`` of the step that holds it (``None`` for a single-agency dossier)."""
    channel: str = Field(max_length=16)
    result_delivery: str = Field(max_length=16)
    delivery_address: str | None = Field(default=None, max_length=500)
    status: str = Field(max_length=32)

    applicant_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    applicant_national_id: str = Field(max_length=12)
    applicant_full_name: str = Field(max_length=255)
    applicant_name_normalised: str = Field(default="", max_length=255)
    """The name folded for search (:func:`service.domain.names.fold_name`): no diacritics, lower case."""
    applicant_phone: str | None = Field(default=None, max_length=32)
    applicant_address: str | None = Field(default=None, max_length=500)

    submitted_at: datetime = Field(sa_type=UTCDateTime)
    received_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    original_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    clock_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paused_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paused_remaining_minutes: float | None = None
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    returned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    timeliness: str | None = Field(default=None, max_length=16)

    supplement_count: int = 0
    extension_count: int = 0
    fee_vnd: int = 0
    payment_amount_vnd: int | None = None
    paid: bool = False
    paid_online: bool = False
    assisted: bool = False
    digitised: bool = False
    """At least one paper was uploaded (scanned): Decision 766 indicator 4.2 counts such dossiers. Papers can only
    be uploaded before the decision, so for a resolved dossier this holds as of any later instant."""
    assignee_id: int | None = Field(default=None, foreign_key="user_account.id")
    slip_rows: int = 0
    """How many control-slip rows the dossier has: written with each row, in the same transaction."""
    slip_head: str = Field(default="0" * 64, max_length=64)
    """The hash of the last control-slip row (the genesis value before the first): the anchor that makes a
    removed last row, a truncated slip or a row moved away detectable (``verify_history``)."""
    processing_value: int
    processing_unit: str = Field(max_length=16)
    supplement_policy: str = Field(max_length=16)
    service_level: int

    tracking_secret_hash: str = Field(max_length=64)
    created_by_id: int = Field(foreign_key="user_account.id")
    version: int = 1
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class DossierDocument(SQLModel, table=True):
    """A paper (thành phần hồ sơ) declared at submission, with its uploaded file if any."""

    __tablename__ = "dossier_document"
    __table_args__ = (Index("ix_dossier_document_dossier_id_code", "dossier_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id")
    code: str = Field(max_length=32)
    name: str = Field(max_length=500)
    filename: str | None = Field(default=None, max_length=255)
    content_type: str | None = Field(default=None, max_length=100)
    size_bytes: int | None = None
    sha256: str | None = Field(default=None, max_length=64)
    storage_key: str | None = Field(default=None, max_length=255)
    uploaded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)


class DossierEvent(SQLModel, table=True):
    """One row of the control slip (Phiếu kiểm soát quá trình giải quyết hồ sơ), hash-chained per dossier."""

    __tablename__ = "dossier_event"
    __table_args__ = (
        UniqueConstraint("dossier_id", "seq"),
        Index("ix_dossier_event_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id")
    seq: int
    at: datetime = Field(sa_type=UTCDateTime)
    recorded_at: datetime = Field(sa_type=UTCDateTime)
    action: str = Field(max_length=32)
    actor: str = Field(max_length=64)
    actor_role: str = Field(max_length=16)
    from_status: str | None = Field(default=None, max_length=32)
    to_status: str = Field(max_length=32)
    note: str | None = Field(default=None, max_length=2000)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class DossierStep(SQLModel, table=True):
    """One agency's step of an inter-agency (liên thông) dossier, with its own share of the time and its own due
    instant, computed in working time when the step starts (Decree 61/2018 Art. 19(6)–(7): the Phiếu chuyển xử
    lý names each agency's task and deadline)."""

    __tablename__ = "dossier_step"
    __table_args__ = (
        UniqueConstraint("dossier_id", "seq"),
        Index("ix_dossier_step_agency_code_finished_at", "agency_code", "finished_at"),
        # Staff visibility's third branch: an agency's started steps newest received first, each with its
        # dossier's id (the list page read from the index alone; service/operations/interagency.py).
        Index("ix_dossier_step_agency_code_received_at", "agency_code", "received_at", "dossier_id",
              postgresql_where=text(STEP_STARTED), sqlite_where=text(STEP_STARTED)),
    )

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id")
    seq: int
    agency_code: str = Field(max_length=35, foreign_key="agency.code")
    share_value: int
    share_unit: str = Field(max_length=16)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paused_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paused_remaining_minutes: float | None = None
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    timeliness: str | None = Field(default=None, max_length=16)
    returned_for_correction: bool = False
    """This step's agency has sent the dossier back to the previous step once (allowed once per step)."""
    received_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """The dossier's receipt instant (the rows are written at receipt; it never changes afterwards): the
    newest-received list order of the agency's steps, without the dossiers."""


class DailySequence(SQLModel, table=True):
    """The daily dossier counter per agency (``XXXX`` in ``<agency>-YYMMDD-XXXX``)."""

    __tablename__ = "daily_sequence"

    agency_code: str = Field(primary_key=True, max_length=35)
    day: date = Field(primary_key=True)
    last: int = 0


class Notification(SQLModel, table=True):
    """A message to the applicant (SMS / e-mail / portal), recorded when the law requires a notice."""

    __tablename__ = "notification"

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", index=True)
    channel: str = Field(max_length=16)
    recipient: str = Field(max_length=255)
    subject: str = Field(max_length=255)
    body: str = Field(max_length=4000)
    at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When a sender (SMTP, the SMS gateway) accepted it (real time); null while only recorded."""
    send_attempts: int | None = None
    send_error: str | None = Field(default=None, max_length=500)
    send_leased_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Rating(SQLModel, table=True):
    """The applicant's satisfaction rating (Decision 766 indicator 5.4)."""

    __tablename__ = "rating"

    dossier_id: int = Field(primary_key=True, foreign_key="dossier.id")
    satisfied: bool
    comment: str | None = Field(default=None, max_length=2000)
    at: datetime = Field(sa_type=UTCDateTime)


SEARCH_KEY_TYPE: Any = String(300).with_variant(String(300, collation="C"), "postgresql")
"""Search keys compare byte by byte (a key range is a prefix), on PostgreSQL whatever the database's locale."""


class DossierSearchKey(SQLModel, table=True):
    """The keys a dossier is found under by ``GET /dossiers?q=`` (:func:`service.domain.search.search_keys`),
    written with the dossier by :func:`service.dossiers.persist.persist`."""

    __tablename__ = "dossier_search_key"

    __table_args__ = (
        # An agency's matches of a key range with their list order, read from the index alone.
        Index("ix_dossier_search_key_agency_code_key", "agency_code", "key", "received_at", "dossier_id"),
    )

    key: str = Field(primary_key=True, sa_type=SEARCH_KEY_TYPE)
    dossier_id: int = Field(primary_key=True, foreign_key="dossier.id")
    agency_code: str = Field(max_length=35)
    """The dossier's competent agency (never changes)."""
    received_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """The dossier's receipt instant, written when it is received (once: it never changes afterwards)."""


class SearchWord(SQLModel, table=True):
    """Every name word and code part ever stored (:func:`service.domain.search.search_words`): which words can
    start an occurrence of a searched piece. It grows with the names and days seen, not with the dossiers."""

    __tablename__ = "search_word"

    word: str = Field(primary_key=True, sa_type=SEARCH_KEY_TYPE)
