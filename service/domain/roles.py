"""Who acts on a dossier: the roles of the one-stop mechanism (Decree 61/2018/NĐ-CP Arts. 8–9: the one-stop
desk receives and returns, the competent agency's specialist appraises, its leader decides and signs)."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Role(StrEnum):
    CITIZEN = "citizen"
    RECEIVER = "receiver"
    PROCESSOR = "processor"
    APPROVER = "approver"
    ADMIN = "admin"
    SYSTEM = "system"
    """Automated actors, such as the postal carrier's webhook; never a stored account's role."""

    @property
    def label(self) -> str:
        return ROLE_LABEL[self]


ROLE_LABEL: Final[dict[Role, str]] = {
    Role.CITIZEN: "Công dân, tổ chức",
    Role.RECEIVER: "Cán bộ tiếp nhận và trả kết quả (Bộ phận Một cửa)",
    Role.PROCESSOR: "Chuyên viên xử lý",
    Role.APPROVER: "Lãnh đạo (ký duyệt)",
    Role.ADMIN: "Quản trị hệ thống",
    Role.SYSTEM: "Hệ thống (tự động)",
}

STAFF_ROLES: Final = frozenset({Role.RECEIVER, Role.PROCESSOR, Role.APPROVER})
"""Officers of one agency: they see and act on that agency's dossiers only."""

ACCOUNT_ROLES: Final = (Role.CITIZEN, Role.RECEIVER, Role.PROCESSOR, Role.APPROVER, Role.ADMIN)
"""The roles a stored account can have."""


def is_staff(role: str | None) -> bool:
    return role in STAFF_ROLES
