"""Staff visibility's third branch (inter-agency dossiers one of whose steps the agency started) in list order,
so that a staff list page or search reads rows in proportion to the page, not to the agency's inter-agency
history:

* ``dossier_step.received_at``: the dossier's receipt instant on each of its steps (written at receipt, when the
  steps are; back-filled here from the dossier), and the partial index
  ``ix_dossier_step_agency_code_received_at`` on ``(agency_code, received_at, dossier_id)`` of the started
  steps: an agency's inter-agency dossiers newest received first, from the index alone;
* ``ix_dossier_interagency_due_at`` on ``(due_at, id)`` of the inter-agency dossiers: the same branch soonest due
  first, for an agency with many started steps.

Revision ID: 0130
Revises: 0120
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from service.db import UTCDateTime

revision: str = "0130"
down_revision: str | None = "0120"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INTERAGENCY = "current_step IS NOT NULL"  # as service.models.dossier.INTERAGENCY
STEP_STARTED = "started_at IS NOT NULL"  # as service.models.dossier.STEP_STARTED


def upgrade() -> None:
    with op.batch_alter_table("dossier_step") as batch:
        batch.add_column(sa.Column("received_at", UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE dossier_step SET received_at = "
               "(SELECT dossier.received_at FROM dossier WHERE dossier.id = dossier_step.dossier_id)")
    op.create_index("ix_dossier_step_agency_code_received_at", "dossier_step",
                    ["agency_code", "received_at", "dossier_id"],
                    postgresql_where=sa.text(STEP_STARTED), sqlite_where=sa.text(STEP_STARTED))
    op.create_index("ix_dossier_interagency_due_at", "dossier", ["due_at", "id"],
                    postgresql_where=sa.text(INTERAGENCY), sqlite_where=sa.text(INTERAGENCY))


def downgrade() -> None:
    op.drop_index("ix_dossier_interagency_due_at", table_name="dossier")
    op.drop_index("ix_dossier_step_agency_code_received_at", table_name="dossier_step")
    with op.batch_alter_table("dossier_step") as batch:
        batch.drop_column("received_at")
