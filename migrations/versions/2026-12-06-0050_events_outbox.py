"""Events: the outbox (one row per control-slip row, and the deadline warnings), webhook subscriptions, their
deliveries and delivery log, the workers' positions, and the sending state of notices.

Event ids follow commit order: every writer takes the outbox lock before inserting events (on PostgreSQL a
transaction-level advisory lock; SQLite writers take turns anyway).

Revision ID: 0050
Revises: 0003
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db

revision: str = "0050"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = service.db.UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("agency_code", sa.String(length=35), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("time", UTC, nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("warning_due_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossier.id"], name=op.f("fk_event_dossier_id_dossier")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event")),
        sa.UniqueConstraint("event_id", name=op.f("uq_event_event_id")),
        sa.UniqueConstraint("dossier_id", "type", "warning_due_at",
                            name=op.f("uq_event_dossier_id_type_warning_due_at")),
    )
    op.create_index("ix_event_agency_code_id", "event", ["agency_code", "id"])
    op.create_index("ix_event_dossier_id_id", "event", ["dossier_id", "id"])

    op.create_table(
        "subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("secret", sa.String(length=256), nullable=False),
        sa.Column("agency_code", sa.String(length=35), nullable=True),
        sa.Column("types", sa.JSON(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("start_event_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["agency_code"], ["agency.code"], name=op.f("fk_subscription_agency_code_agency")),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"],
                                name=op.f("fk_subscription_created_by_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription")),
    )
    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("event_pk", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC, nullable=False),
        sa.Column("leased_until", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("finished_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["event_pk"], ["event.id"], name=op.f("fk_delivery_event_pk_event")),
        sa.ForeignKeyConstraint(["subscription_id"], ["subscription.id"],
                                name=op.f("fk_delivery_subscription_id_subscription")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery")),
        sa.UniqueConstraint("subscription_id", "event_pk", name=op.f("uq_delivery_subscription_id_event_pk")),
    )
    op.create_index("ix_delivery_state_next_attempt_at", "delivery", ["state", "next_attempt_at"])
    op.create_index("ix_delivery_subscription_id_dossier_id_event_pk", "delivery",
                    ["subscription_id", "dossier_id", "event_pk"])
    op.create_table(
        "delivery_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("event_pk", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["delivery_id"], ["delivery.id"],
                                name=op.f("fk_delivery_attempt_delivery_id_delivery")),
        sa.ForeignKeyConstraint(["event_pk"], ["event.id"], name=op.f("fk_delivery_attempt_event_pk_event")),
        sa.ForeignKeyConstraint(["subscription_id"], ["subscription.id"],
                                name=op.f("fk_delivery_attempt_subscription_id_subscription")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempt")),
    )
    op.create_index("ix_delivery_attempt_subscription_id_id", "delivery_attempt", ["subscription_id", "id"])
    op.create_table(
        "worker_position",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_position")),
    )
    with op.batch_alter_table("notification") as batch:
        batch.add_column(sa.Column("sent_at", UTC, nullable=True))
        batch.add_column(sa.Column("send_attempts", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("send_error", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("send_leased_until", UTC, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.drop_column("send_leased_until")
        batch.drop_column("send_error")
        batch.drop_column("send_attempts")
        batch.drop_column("sent_at")
    op.drop_table("worker_position")
    op.drop_index("ix_delivery_attempt_subscription_id_id", table_name="delivery_attempt")
    op.drop_table("delivery_attempt")
    op.drop_index("ix_delivery_subscription_id_dossier_id_event_pk", table_name="delivery")
    op.drop_index("ix_delivery_state_next_attempt_at", table_name="delivery")
    op.drop_table("delivery")
    op.drop_table("subscription")
    op.drop_index("ix_event_dossier_id_id", table_name="event")
    op.drop_index("ix_event_agency_code_id", table_name="event")
    op.drop_table("event")
