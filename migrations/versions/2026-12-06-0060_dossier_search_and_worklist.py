"""Search and worklist: the applicant's name folded for search, trigram indexes, worklist indexes.

* ``applicant_name_normalised``: the name without diacritics or case, đ read as d
  (:func:`service.domain.names.fold_name`), back-filled from ``applicant_full_name``.
* On PostgreSQL the ``pg_trgm`` extension gives GIN trigram indexes on the folded name and on the code, so that
  ``GET /dossiers?q=`` finds a substring without scanning the table.
* ``(agency_code, status, due_at, id)`` serves the worklist's buckets in due order;
  ``(agency_code, received_at, id)`` the default order within an agency (newest received first, not yet received
  last), scanned backwards; on PostgreSQL its ``received_at`` keeps NULLs first so that the backward scan ends
  with them.

Revision ID: 0060
Revises: 0003
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from service.domain.names import fold_name

revision: str = "0060"
down_revision: str | None = "0050"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def _backfill() -> None:
    bind = op.get_bind()
    dossier = sa.table("dossier", sa.column("id", sa.Integer), sa.column("applicant_full_name", sa.String),
                       sa.column("applicant_name_normalised", sa.String))
    last = 0
    while True:
        rows = bind.execute(sa.select(dossier.c.id, dossier.c.applicant_full_name).where(dossier.c.id > last)
                            .order_by(dossier.c.id).limit(BATCH)).all()
        if not rows:
            return
        bind.execute(dossier.update().where(dossier.c.id == sa.bindparam("key"))
                     .values(applicant_name_normalised=sa.bindparam("folded")),
                     [{"key": r.id, "folded": fold_name(r.applicant_full_name)} for r in rows])
        last = rows[-1].id


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.batch_alter_table("dossier") as batch:
        batch.add_column(sa.Column("applicant_name_normalised", sa.String(length=255), nullable=False,
                                   server_default=""))
    _backfill()
    with op.batch_alter_table("dossier") as batch:
        batch.alter_column("applicant_name_normalised", server_default=None)
        batch.create_index("ix_dossier_agency_code_status_due_at", ["agency_code", "status", "due_at", "id"])
        batch.create_index("ix_dossier_agency_code_received_at", ["agency_code", "received_at", "id"],
                           postgresql_ops={"received_at": "NULLS FIRST"})
        batch.create_index("ix_dossier_applicant_name_normalised", ["applicant_name_normalised"],
                           postgresql_using="gin", postgresql_ops={"applicant_name_normalised": "gin_trgm_ops"})
        batch.create_index("ix_dossier_code_trgm", ["code"], postgresql_using="gin",
                           postgresql_ops={"code": "gin_trgm_ops"}, sqlite_where=sa.text("0"))


def downgrade() -> None:
    with op.batch_alter_table("dossier") as batch:
        batch.drop_index("ix_dossier_code_trgm")
        batch.drop_index("ix_dossier_applicant_name_normalised")
        batch.drop_index("ix_dossier_agency_code_received_at")
        batch.drop_index("ix_dossier_agency_code_status_due_at")
        batch.drop_column("applicant_name_normalised")
