"""Indexes that keep the worklist and the national-id search flat at a million dossiers:

* ``ix_dossier_agency_code_assignee_id`` on ``(agency_code, assignee_id, status, due_at, id)``: a processor's own
  dossiers ("mine" in ``GET /worklist``), their count and first page in due order, without reading the agency's
  open dossiers;
* ``ix_dossier_applicant_national_id_lodged_for_another`` and ``…_interagency`` (partial): an exact national id
  in staff visibility's second and third branches (dossiers a desk lodged for another agency; inter-agency
  dossiers), which read every dossier of that national id in the province before.

Revision ID: 0120
Revises: 0100
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0120"
down_revision: str | None = "0100"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LODGED_FOR_ANOTHER = "received_by_agency_code <> agency_code"  # as service.models.dossier.LODGED_FOR_ANOTHER
INTERAGENCY = "current_step IS NOT NULL"  # as service.models.dossier.INTERAGENCY


def upgrade() -> None:
    op.create_index("ix_dossier_agency_code_assignee_id", "dossier",
                    ["agency_code", "assignee_id", "status", "due_at", "id"])
    op.create_index("ix_dossier_applicant_national_id_lodged_for_another", "dossier",
                    ["applicant_national_id", "received_by_agency_code", "received_at", "id"],
                    postgresql_ops={"received_at": "NULLS FIRST"},
                    postgresql_where=sa.text(LODGED_FOR_ANOTHER), sqlite_where=sa.text(LODGED_FOR_ANOTHER))
    op.create_index("ix_dossier_applicant_national_id_interagency", "dossier",
                    ["applicant_national_id", "received_at", "id"], postgresql_ops={"received_at": "NULLS FIRST"},
                    postgresql_where=sa.text(INTERAGENCY), sqlite_where=sa.text(INTERAGENCY))


def downgrade() -> None:
    op.drop_index("ix_dossier_applicant_national_id_interagency", table_name="dossier")
    op.drop_index("ix_dossier_applicant_national_id_lodged_for_another", table_name="dossier")
    op.drop_index("ix_dossier_agency_code_assignee_id", table_name="dossier")
