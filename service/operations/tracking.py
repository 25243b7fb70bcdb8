"""The public lookup's secrets and the steps it shows, for the API (``/public/dossiers``) and the page
(``/tra-cuu``).

A dossier's tracking secret is derived from its code under the server key (HMAC-SHA256), so the receipt
(Mẫu 01) and the result, rendered whenever they are asked for, can print a QR code that opens the lookup page
with the code and the secret filled in: whoever holds the paper can follow the dossier, as Decree 61/2018/NĐ-CP
Art. 17(3) expects of the receipt's code, while a guessed code alone still shows nothing. Only the secret's
SHA-256 is stored, as before. Rotating the server key leaves existing dossiers' stored hashes (and so their
lookups) valid, but the QR codes of their documents printed after the rotation would carry a secret that no
longer matches: rotate the key only with that in mind (the legal basis says nothing about the secret itself).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from sqlmodel import Session, col, select

from service.domain.lifecycle import STATUS_LABEL, Status
from service.models import Dossier, DossierEvent

SECRET_LENGTH = 24
LOOKUP_PATH = "/tra-cuu"

STEP_LABEL = {
    "submit": "Nộp hồ sơ", "receive": "Tiếp nhận hồ sơ", "reject": "Không tiếp nhận hồ sơ",
    "assign": "Chuyển xử lý", "request_supplement": "Yêu cầu bổ sung hồ sơ", "supplement": "Bổ sung hồ sơ",
    "request_payment": "Yêu cầu thực hiện nghĩa vụ tài chính", "pay": "Nộp phí, lệ phí",
    "extend": "Gia hạn thời gian giải quyết", "approve": "Phê duyệt kết quả", "refuse": "Từ chối giải quyết",
    "withdraw": "Rút hồ sơ", "return_result": "Trả kết quả", "dispatch_postal": "Chuyển phát kết quả",
    "confirm_delivery": "Đã giao kết quả", "delivery_failed": "Chuyển phát không thành công",
}


def tracking_secret(server_key: str, code: str) -> str:
    """The tracking secret of the dossier ``code``: 24 URL-safe characters (144 bits) of an HMAC under the key."""
    digest = hmac.new(server_key.encode(), b"tracking-secret:" + code.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:SECRET_LENGTH]


def lookup_url(base_url: str, code: str, secret: str | None) -> str:
    """The address the QR codes lead to: the lookup page, with the code (and the secret when known)."""
    query = {"code": code} | ({"secret": secret} if secret else {})
    return f"{base_url.rstrip('/')}{LOOKUP_PATH}?{urlencode(query)}"


@dataclass(frozen=True)
class PublicStep:
    at: datetime
    label: str
    status_label: str


def public_steps(session: Session, code: str) -> list[PublicStep]:
    """The control slip of ``code`` without personal data: when, which step, and the status it led to (no
    actor, no note — notes may name people). Call only after the secret was checked."""
    rows = session.exec(select(DossierEvent).join(Dossier, col(Dossier.id) == DossierEvent.dossier_id)
                        .where(Dossier.code == code).order_by(col(DossierEvent.seq))).all()
    return [PublicStep(at=row.at, label=STEP_LABEL.get(row.action, row.action),
                       status_label=STATUS_LABEL[Status(row.to_status)]) for row in rows]
