"""The reference data's revision token: ``reference_revision`` (one row) and the triggers that renew it.

Every INSERT, UPDATE or DELETE of ``procedure``, ``agency`` or ``calendar_override`` (and TRUNCATE, on
PostgreSQL) sets a new random token in the same transaction, whoever writes: the API, the demo and simulation
loaders, the table writer's COPY, a hand-run SQL statement. :mod:`service.operations.reference` caches the
reference data in each process by that token (its docstring says why the token is random and why a trigger).

SQLite has row triggers only (one upsert per changed row: these tables change a few rows at a time); PostgreSQL
renews the token once per statement.

A later migration that rebuilds one of these tables on SQLite (``batch_alter_table`` copies it into a new table)
drops its triggers with the old table: it must create them again (``create_triggers`` below);
tests/test_migrations.py checks that they exist at head.

Revision ID: 0131
Revises: 0130
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0131"
down_revision: str | None = "0130"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("procedure", "agency", "calendar_override")
"""The reference tables: renewing the token on their change is what invalidates every process's cache."""
SQLITE_TOKEN = "lower(hex(randomblob(16)))"
POSTGRESQL_TOKEN = "replace(gen_random_uuid()::text, '-', '')"
"""32 hex digits either way (122 random bits on PostgreSQL, 128 on SQLite)."""
FUNCTION = "reference_revision_renew"


def _renew(token: str) -> str:
    return (f"INSERT INTO reference_revision (id, token) VALUES (1, {token}) "
            "ON CONFLICT (id) DO UPDATE SET token = excluded.token")


def create_triggers(table: str) -> None:
    """The triggers of one reference table (the PostgreSQL function must exist)."""
    if op.get_bind().dialect.name == "sqlite":
        for event in ("insert", "update", "delete"):
            op.execute(f"CREATE TRIGGER reference_revision_{table}_{event} AFTER {event.upper()} ON \"{table}\" "
                       f"BEGIN {_renew(SQLITE_TOKEN)}; END")
    else:
        op.execute(f"CREATE TRIGGER reference_revision_{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                   f"ON \"{table}\" FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()")


def drop_triggers(table: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS reference_revision_{table}_{event}")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS reference_revision_{table} ON \"{table}\"")


def upgrade() -> None:
    op.create_table(
        "reference_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_revision")),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute(_renew(SQLITE_TOKEN if sqlite else POSTGRESQL_TOKEN))
    if not sqlite:
        op.execute(f"CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN {_renew(POSTGRESQL_TOKEN)}; RETURN NULL; END $$")
    for table in TABLES:
        create_triggers(table)


def downgrade() -> None:
    for table in TABLES:
        drop_triggers(table)
    if op.get_bind().dialect.name != "sqlite":
        op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
    op.drop_table("reference_revision")
