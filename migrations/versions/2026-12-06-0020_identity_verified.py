"""Identity verification of accounts (contract v2, Identity).

A self-registered citizen starts unverified; a receiver or an admin verifies them after checking their papers.
Only a verified account is linked to dossiers a desk lodges under its national id. Accounts that exist when this
runs: staff and admins were created by an admin and are verified; citizens start unverified (their existing
links to dossiers are kept: they were made under the earlier rule and removing them would hide dossiers from
their owners; an operator who doubts one can unlink it by hand).

Revision ID: 0020
Revises: 0003
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import service.db

revision: str = "0020"
down_revision: str | None = "0070"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("identity_verified", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("identity_verified_at", service.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("identity_verified_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.execute("UPDATE user_account SET identity_verified = TRUE WHERE role <> 'citizen'")


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("identity_verified_by")
        batch.drop_column("identity_verified_at")
        batch.drop_column("identity_verified")
