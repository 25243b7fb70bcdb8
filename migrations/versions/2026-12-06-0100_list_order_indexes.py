"""The first page of ``GET /dossiers`` (with or without ``q=``) read in list order, whatever the table's size.

* ``dossier_search_key`` rows carry the dossier's agency and receipt instant, and an index
  ``(agency_code, key, received_at, dossier_id)`` gives an agency's matches of a key range with their list order
  without reading the dossiers (back-filled from ``dossier``);
* ``ix_dossier_agency_code_due_at``: an agency's dossiers by due date;
* ``ix_dossier_lodged_for_another`` and ``…_due_at``: the dossiers a desk lodged for another agency, in either
  list order (partial);
* ``ix_dossier_applicant_national_id_agency_code`` replaces ``ix_dossier_applicant_national_id``: an exact
  national id within an agency, newest received first.

Revision ID: 0100
Revises: 0090
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from service.db import UTCDateTime

revision: str = "0100"
down_revision: str | None = "0090"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LODGED_FOR_ANOTHER = "received_by_agency_code <> agency_code"  # as service.models.dossier.LODGED_FOR_ANOTHER


def upgrade() -> None:
    op.add_column("dossier_search_key", sa.Column("agency_code", sa.String(35), nullable=True))
    op.add_column("dossier_search_key", sa.Column("received_at", UTCDateTime(), nullable=True))
    op.execute("UPDATE dossier_search_key SET agency_code = d.agency_code, received_at = d.received_at "
               "FROM dossier AS d WHERE d.id = dossier_search_key.dossier_id")
    with op.batch_alter_table("dossier_search_key") as batch_op:
        batch_op.alter_column("agency_code", existing_type=sa.String(35), nullable=False)
        batch_op.create_index("ix_dossier_search_key_agency_code_key",
                              ["agency_code", "key", "received_at", "dossier_id"])
    with op.batch_alter_table("dossier") as batch_op:
        batch_op.drop_index("ix_dossier_applicant_national_id")
        batch_op.create_index("ix_dossier_applicant_national_id_agency_code",
                              ["applicant_national_id", "agency_code", "received_at", "id"],
                              postgresql_ops={"received_at": "NULLS FIRST"})
        batch_op.create_index("ix_dossier_agency_code_due_at", ["agency_code", "due_at", "id"])
        batch_op.create_index("ix_dossier_lodged_for_another", ["received_by_agency_code", "received_at", "id"],
                              postgresql_ops={"received_at": "NULLS FIRST"},
                              postgresql_where=sa.text(LODGED_FOR_ANOTHER), sqlite_where=sa.text(LODGED_FOR_ANOTHER))
        batch_op.create_index("ix_dossier_lodged_for_another_due_at", ["received_by_agency_code", "due_at", "id"],
                              postgresql_where=sa.text(LODGED_FOR_ANOTHER), sqlite_where=sa.text(LODGED_FOR_ANOTHER))


def downgrade() -> None:
    with op.batch_alter_table("dossier") as batch_op:
        batch_op.drop_index("ix_dossier_lodged_for_another_due_at")
        batch_op.drop_index("ix_dossier_lodged_for_another")
        batch_op.drop_index("ix_dossier_agency_code_due_at")
        batch_op.drop_index("ix_dossier_applicant_national_id_agency_code")
        batch_op.create_index("ix_dossier_applicant_national_id", ["applicant_national_id"])
    with op.batch_alter_table("dossier_search_key") as batch_op:
        batch_op.drop_index("ix_dossier_search_key_agency_code_key")
        batch_op.drop_column("received_at")
        batch_op.drop_column("agency_code")
