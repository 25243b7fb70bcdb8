"""Rules for lodging a dossier: channels, online service levels, postal flag, mandatory papers.

Legal basis:
- Decree 43/2011/NĐ-CP Art. 3(4): level 3 = online submission (fee and result in person or by post);
  level 4 = level 3 + online payment + electronic result. Level 2 and below: no online submission.
- Decree 61/2018/NĐ-CP Art. 16 (and Decree 118/2025): the three channels — at the one-stop desk, by public
  postal service, online.
- Decision 45/2016/QĐ-TTg Arts. 1, 5, 13: postal submission / return only for procedures that do not require
  personal presence; the agency publishes which ones (our ``postal_allowed`` flag).
- Decree 61/2018 Art. 15 and Art. 17(1): the desk checks the dossier's completeness against the published list
  of papers; an incomplete dossier is not received.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from service.domain.errors import NotPermitted, RuleViolation
from service.domain.roles import Role

CHANNELS = ("online", "counter", "postal")
DELIVERIES = ("counter", "online", "postal")


@dataclass(frozen=True)
class DocumentRequirement:
    code: str
    name: str
    mandatory: bool


@dataclass(frozen=True)
class ProcedureTerms:
    service_level: int
    postal_allowed: bool
    documents: Sequence[DocumentRequirement]


def check_channel_for_role(role: str, channel: str) -> None:
    """Citizens lodge online themselves; the desk's receivers lodge counter and postal dossiers."""
    if role == Role.CITIZEN and channel != "online":
        raise NotPermitted("Công dân chỉ nộp hồ sơ trực tuyến; nộp trực tiếp hoặc qua bưu chính do cán bộ "
                           "một cửa tiếp nhận.")
    if role == Role.RECEIVER and channel == "online":
        raise NotPermitted("Hồ sơ trực tuyến do công dân tự nộp trên Cổng dịch vụ công.")
    if role not in (Role.CITIZEN, Role.RECEIVER):
        raise NotPermitted("Chỉ công dân hoặc cán bộ tiếp nhận được nộp hồ sơ.")


def check_submission(
    terms: ProcedureTerms,
    *,
    channel: str,
    result_delivery: str,
    delivery_address: str | None,
    document_codes: Iterable[str],
) -> None:
    """Refuse a dossier the procedure does not allow, in the contract's order of checks."""
    if channel == "online" and terms.service_level < 3:
        raise RuleViolation("Thủ tục này chưa cung cấp dịch vụ công trực tuyến (mức độ 3 trở lên).",
                            code="ONLINE_NOT_OFFERED")
    if result_delivery == "online" and terms.service_level < 4:
        raise RuleViolation("Thủ tục này chưa trả kết quả trực tuyến (chỉ mức độ 4).",
                            code="ONLINE_RESULT_NOT_OFFERED")
    if (channel == "postal" or result_delivery == "postal") and not terms.postal_allowed:
        raise RuleViolation("Thủ tục này không thực hiện qua dịch vụ bưu chính công ích "
                            "(Quyết định 45/2016/QĐ-TTg).", code="POSTAL_NOT_ALLOWED")
    if result_delivery == "postal" and not (delivery_address and delivery_address.strip()):
        raise RuleViolation("Nhận kết quả qua bưu chính cần có địa chỉ nhận.", code="DELIVERY_ADDRESS_REQUIRED")
    codes = set(document_codes)
    known = {doc.code for doc in terms.documents}
    unknown = sorted(codes - known)
    if unknown:
        raise RuleViolation(f"Thành phần hồ sơ không thuộc thủ tục: {', '.join(unknown)}.",
                            code="UNKNOWN_DOCUMENT")
    missing = [doc for doc in terms.documents if doc.mandatory and doc.code not in codes]
    if missing:
        names = "; ".join(f"{doc.code} ({doc.name})" for doc in missing)
        raise RuleViolation(f"Thiếu thành phần hồ sơ bắt buộc: {names}.", code="MISSING_DOCUMENTS")
