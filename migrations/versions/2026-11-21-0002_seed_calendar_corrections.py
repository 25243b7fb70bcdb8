"""Seed the known corrections to the built-in holiday calendar (2024–2026).

The ``holidays`` package misses the Government's yearly swaps for public servants: the make-up working Saturdays
and the swapped Friday 02/01/2026. Ngày Văn hóa Việt Nam (24/11/2026) is kept as an override that an admin can
delete while its legal vehicle is unconfirmed. The data is written out here, not imported, so this migration
never changes after it ships.

Revision ID: 0002
Revises: 0001
"""
from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VPCP_12729 = "Công văn 12729/VPCP-KGVX ngày 25/12/2025 (hoán đổi thứ Sáu 02/01/2026 sang thứ Bảy 10/01/2026)"
ROWS = [
    (date(2024, 5, 4), "workday", "Ngày làm bù",
     "Công văn 2450/VPCP-KGVX ngày 12/4/2024 (làm bù cho thứ Hai 29/04/2024)"),
    (date(2025, 4, 26), "workday", "Ngày làm bù",
     "Công văn 8726/VPCP-KGVX ngày 26/11/2024; Thông báo 6150/TB-BLĐTBXH (làm bù cho thứ Sáu 02/05/2025)"),
    (date(2026, 1, 2), "holiday", "Nghỉ hoán đổi", VPCP_12729),
    (date(2026, 1, 10), "workday", "Ngày làm bù", VPCP_12729),
    (date(2026, 8, 22), "workday", "Ngày làm bù",
     "Phương án nghỉ lễ Quốc khánh 2026 đối với cán bộ, công chức (làm bù cho thứ Hai 31/08/2026;"
     " số văn bản chưa đối chiếu)"),
    (date(2026, 11, 24), "holiday", "Ngày Văn hóa Việt Nam",
     "Nghị quyết 80-NQ/TW (chọn ngày 24/11 là Ngày Văn hóa Việt Nam, nghỉ hưởng lương)"),
]

calendar_override = sa.table(
    "calendar_override",
    sa.column("day", sa.Date),
    sa.column("kind", sa.String),
    sa.column("name", sa.String),
    sa.column("legal_basis", sa.String),
    sa.column("updated_at", sa.DateTime),
)


def upgrade() -> None:
    seeded_at = datetime(2026, 11, 21, tzinfo=UTC)
    if op.get_bind().dialect.name == "sqlite":
        seeded_at = seeded_at.replace(tzinfo=None)
    op.bulk_insert(calendar_override, [
        {"day": day, "kind": kind, "name": name, "legal_basis": basis, "updated_at": seeded_at}
        for day, kind, name, basis in ROWS
    ])


def downgrade() -> None:
    op.execute(calendar_override.delete().where(calendar_override.c.day.in_([row[0] for row in ROWS])))
