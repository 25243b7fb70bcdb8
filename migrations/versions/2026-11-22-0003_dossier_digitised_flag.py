"""A flag on the dossier for "at least one paper was uploaded", for Decision 766 indicator 4.2.

The yearly index used to join the uploaded papers of every resolved dossier of the period (about 1.5 million
rows for a million dossiers); the flag, set in the upload's own transaction, makes it a column of the scan.
Existing dossiers are back-filled from their papers.

Revision ID: 0003
Revises: 0002
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dossier") as batch:
        batch.add_column(sa.Column("digitised", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(
        "UPDATE dossier SET digitised = TRUE WHERE EXISTS (SELECT 1 FROM dossier_document d "
        "WHERE d.dossier_id = dossier.id AND d.uploaded_at IS NOT NULL)"
    )


def downgrade() -> None:
    with op.batch_alter_table("dossier") as batch:
        batch.drop_column("digitised")
