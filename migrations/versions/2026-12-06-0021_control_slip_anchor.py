"""The control slip's anchor on the dossier: its row count and the hash of its last row.

Written in the same transaction as each slip row, so ``/history/verify`` catches a removed last row, a truncated
or emptied slip and a row moved to another dossier (the chain alone could not: a shorter chain is still a valid
chain). Existing dossiers are anchored to the slip they have now.

Revision ID: 0021
Revises: 0020
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64


def upgrade() -> None:
    with op.batch_alter_table("dossier") as batch:
        batch.add_column(sa.Column("slip_rows", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("slip_head", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False,
                                   server_default=GENESIS))
    op.execute(
        "UPDATE dossier SET "
        "slip_rows = (SELECT COUNT(*) FROM dossier_event e WHERE e.dossier_id = dossier.id), "
        f"slip_head = COALESCE((SELECT e.hash FROM dossier_event e WHERE e.dossier_id = dossier.id "
        f"ORDER BY e.seq DESC LIMIT 1), '{GENESIS}')"
    )


def downgrade() -> None:
    with op.batch_alter_table("dossier") as batch:
        batch.drop_column("slip_head")
        batch.drop_column("slip_rows")
