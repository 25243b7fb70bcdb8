"""Signed outputs of a dossier.

* The result ``<dossier code>-KQ1`` (Decree 45/2020/NĐ-CP Art. 14(3): an electronic result bears the digital
  signature of the competent agency): rendered and signed by the approver's personal certificate inside the
  ``approve`` transaction (:func:`sign_result` is the named effect of ``approve``, see
  :func:`service.bootstrap.compose_effects`). If rendering or signing fails, the effect raises and the request
  rolls back: the dossier stays ``processing``, no result, blob or audit row.
* The receipt, Mẫu 01 "Giấy tiếp nhận hồ sơ và hẹn trả kết quả" (Decree 61/2018/NĐ-CP Art. 17; Circular
  01/2018/TT-VPCP Art. 10: one-stop forms are digitally signed), signed by the agency's one-stop desk
  certificate, dated (and signed) at the reception.
* The apology letter, Mẫu 04 "Phiếu xin lỗi và hẹn lại ngày trả kết quả" (Decree 61/2018 Art. 19(3)), signed
  by the approver who extended the deadline, dated at the extension.

The receipt and the apology letter are rendered on request from the control slip (same content every time;
the ECDSA signature bytes differ between downloads). Every document carries a QR code of the public lookup
URL with the dossier code only: the tracking secret is stored hashed, never printed, and the PDF says so.

Functions here never commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from service.domain.legal_time import to_legal_time
from service.domain.place_names import place_name
from service.dossiers.effects import EffectCall, Outcome
from service.errors import AppError, NotFound
from service.models import Agency, Blob, Dossier, DossierDocument, DossierEvent, Procedure, ResultDocument, User
from service.operations import pki, tracking
from service.operations.uploads import store_blob
from service.settings import Settings
from service.signing import pades
from service.signing import pki as x
from service.signing.documents import (
    ApologyData,
    ReceiptData,
    ResultData,
    format_vn_date,
    render_apology_letter,
    render_receipt,
    render_result,
)

log = logging.getLogger("motcua.results")

PDF = "application/pdf"
RESULT_FIELD, RECEIPT_FIELD, APOLOGY_FIELD = "KetQua", "TiepNhan", "XinLoi"
RESULT_REASON = "Phê duyệt kết quả giải quyết thủ tục hành chính"
RECEIPT_REASON = "Tiếp nhận hồ sơ và hẹn trả kết quả (Mẫu 01)"
APOLOGY_REASON = "Xin lỗi và hẹn lại ngày trả kết quả (Mẫu 04)"
LOOKUP_NOTE = ("Mã QR mở trang tra cứu hồ sơ kèm mã tra cứu: Ông/Bà giữ kín giấy này như giữ mã tra cứu "
               "được cấp lúc nộp hồ sơ.")
UNIT_TEXT = {"working_days": "ngày làm việc", "working_hours": "giờ làm việc", "calendar_days": "ngày"}
DESK_NAME = "Bộ phận Tiếp nhận và Trả kết quả"


def lookup_url(settings: Settings, code: str) -> str:
    """The lookup page with the dossier's code and tracking secret (see :mod:`service.operations.tracking`)."""
    return tracking.lookup_url(settings.public_base_url, code, tracking.tracking_secret(settings.secret_key, code))


def sign(pdf: bytes, signer: x.IssuedCertificate, *, field_name: str, reason: str, location: str,
         at: datetime) -> bytes:
    """PAdES-sign ``pdf`` at legal time ``at``; any failure becomes a 503 ``SIGNING_FAILED``."""
    try:
        return pades.sign_pdf(pdf, key=signer.private_key, cert=signer.certificate, chain=list(signer.chain),
                              field_name=field_name, reason=reason, location=location, signing_time=at)
    except AppError:
        raise
    except Exception as exc:
        log.exception("signing %s failed", field_name)
        raise pki.SigningUnavailable(
            "Không ký số được văn bản; hồ sơ chưa thay đổi, vui lòng thử lại.") from exc


def _render(render: Any, data: Any) -> bytes:
    try:
        return render(data)  # type: ignore[no-any-return]
    except Exception as exc:
        log.exception("rendering %s failed", type(data).__name__)
        raise pki.SigningUnavailable(
            "Không tạo được văn bản PDF; hồ sơ chưa thay đổi, vui lòng thử lại.") from exc


@dataclass(frozen=True)
class _Names:
    agency: str
    parent: str | None
    procedure: str
    place: str | None = None  # the date line's place (Decree 30/2020 Appendix I)


def _names(session: Session, dossier: Dossier, agency_code: str | None = None) -> _Names:
    """The names printed on a paper: the agency (``agency_code``, default the competent one), its parent and the
    procedure."""
    agency = session.get(Agency, agency_code or dossier.agency_code)
    parent = session.get(Agency, agency.parent_code) if agency and agency.parent_code else None
    grandparent = session.get(Agency, parent.parent_code) if parent and parent.parent_code else None
    procedure = session.get(Procedure, dossier.procedure_id)
    return _Names(agency=agency.name if agency else dossier.agency_code,
                  parent=parent.name if parent else None,
                  procedure=procedure.name if procedure else dossier.procedure_code,
                  place=place_name(a.name for a in (agency, parent, grandparent) if a is not None))


# ---------------------------------------------------------------- the result (approve)


def _decision_text(dossier: Dossier, names: _Names, note: str | None, settings: Settings) -> str:
    received = format_vn_date(dossier.received_at) if dossier.received_at else None
    lines = [
        f"Xét hồ sơ mã số {dossier.code} của Ông/Bà {dossier.applicant_full_name}"
        + (f", tiếp nhận {received}," if received else "")
        + f" đề nghị giải quyết thủ tục hành chính “{names.procedure}”;",
        f"{names.agency} đã thẩm định hồ sơ và chấp thuận đề nghị của Ông/Bà.",
    ]
    if note:
        lines.append(f"Ghi chú: {note}")
    lines.append("Văn bản điện tử này được ký số theo khoản 3 Điều 14 Nghị định 45/2020/NĐ-CP; kiểm tra "
                 f"chữ ký số tại {settings.public_base_url.rstrip('/')}/api/v1/signatures/verify.")
    return "\n".join(lines)


def sign_result(call: EffectCall, *, settings: Settings | None) -> Outcome:
    """The effect of ``approve``: render the result ``<code>-KQ1`` and sign it with the approver's certificate,
    in the approve transaction; the control-slip row records its code, hash, certificate and signer. 503
    ``SIGNING_UNAVAILABLE`` when composed without the signing settings."""
    if settings is None:
        raise pki.SigningUnavailable("Hạ tầng ký số chưa được cấu hình cho cơ sở dữ liệu này.",
                                     code="SIGNING_UNAVAILABLE")
    session, dossier, user, now, body = call.session, call.dossier, call.actor, call.now, call.body
    signer = pki.approver_signer(session, settings, user, now)
    names = _names(session, dossier)
    data = ResultData(
        dossier_code=dossier.code, agency_name=names.agency, parent_agency_name=names.parent,
        procedure_name=names.procedure, applicant_name=dossier.applicant_full_name,
        applicant_address=dossier.applicant_address,
        decision_text=_decision_text(dossier, names, body.note, settings),
        approver_name=user.full_name, decided_at=now, lookup_url=lookup_url(settings, dossier.code),
        lookup_note=LOOKUP_NOTE, place_name=names.place,
    )
    pdf = sign(_render(render_result, data), signer, field_name=RESULT_FIELD, reason=RESULT_REASON,
               location=names.agency, at=now)
    digest = store_blob(session, pdf, PDF, now=now)
    result = ResultDocument(dossier_id=dossier.id, code=data.code, blob_sha256=digest,  # type: ignore[arg-type]
                            signed_by=user.full_name, signer_username=user.username,
                            signed_at=now.replace(microsecond=0), certificate_serial=signer.serial_hex)
    session.add(result)
    session.flush()
    return Outcome({"result_code": result.code, "result_sha256": digest,
                    "certificate_serial": result.certificate_serial, "signed_by": result.signed_by})


def get_result(session: Session, dossier: Dossier) -> ResultDocument:
    result = session.get(ResultDocument, dossier.id)
    if result is None:
        raise NotFound(f"Hồ sơ {dossier.code} chưa có kết quả giải quyết.", code="RESULT_NOT_FOUND")
    return result


def result_document(session: Session, dossier: Dossier) -> tuple[ResultDocument, bytes]:
    """The result and its signed PDF, exactly as stored at approval."""
    result = get_result(session, dossier)
    blob = session.get(Blob, result.blob_sha256)
    if blob is None:  # pragma: no cover - the foreign key keeps them together
        raise NotFound(f"Không tìm thấy tệp kết quả {result.code}.", code="RESULT_NOT_FOUND")
    return result, blob.content


def result_by_sha256(session: Session, sha256: str) -> str | None:
    """The code of the stored result whose signed PDF has exactly these bytes, if any."""
    return session.exec(select(ResultDocument.code).where(ResultDocument.blob_sha256 == sha256)).first()


# ---------------------------------------------------------------- the receipt (Mẫu 01)


def processing_time_text(value: int, unit: str) -> str:
    """``"03 ngày làm việc"``; ``same_day`` reads "Trong ngày"."""
    if unit == "same_day":
        return "Trong ngày làm việc"
    return f"{value:02d} {UNIT_TEXT.get(unit, unit)}"


def _delivery_place(dossier: Dossier, names: _Names) -> str:
    if dossier.result_delivery == "online":
        return "Trực tuyến, trên Cổng Dịch vụ công"
    if dossier.result_delivery == "postal":
        return f"Qua dịch vụ bưu chính công ích, địa chỉ: {dossier.delivery_address or '—'}"
    return f"{DESK_NAME} — {names.agency}"


def _event(session: Session, dossier: Dossier, action: str, *, last: bool = False) -> DossierEvent | None:
    order = col(DossierEvent.seq).desc() if last else col(DossierEvent.seq)
    return session.exec(select(DossierEvent).where(DossierEvent.dossier_id == dossier.id,
                                                   DossierEvent.action == action).order_by(order)).first()


def _full_name(session: Session, username: str) -> str:
    return session.exec(select(User.full_name).where(User.username == username)).first() or username


@dataclass(frozen=True)
class Receipt:
    data: ReceiptData
    agency_code: str
    signed_at: datetime


def receipt(session: Session, dossier: Dossier, settings: Settings) -> Receipt:
    """The receipt as issued at the reception: received time, appointment and officer of the ``receive`` row
    of the control slip. 404 ``RECEIPT_NOT_FOUND`` for a dossier never received (submitted online,
    rejected)."""
    event = _event(session, dossier, "receive")
    if event is None or event.due_at is None:
        raise NotFound(f"Hồ sơ {dossier.code} chưa được tiếp nhận nên chưa có Giấy tiếp nhận.",
                       code="RECEIPT_NOT_FOUND")
    desk = dossier.received_by_agency_code or dossier.agency_code  # the desk that lodged it issues Mẫu 01
    names = _names(session, dossier, desk)
    documents = session.exec(select(DossierDocument.name).where(DossierDocument.dossier_id == dossier.id)
                             .order_by(col(DossierDocument.id))).all()
    received_at = to_legal_time(event.at)
    data = ReceiptData(
        agency_name=f"{DESK_NAME} {names.agency}", parent_agency_name=names.parent, dossier_code=dossier.code,
        applicant_name=dossier.applicant_full_name, applicant_address=dossier.applicant_address or "—",
        applicant_phone=dossier.applicant_phone or "—", procedure_name=names.procedure,
        documents=list(documents),
        processing_time_text=processing_time_text(dossier.processing_value, dossier.processing_unit),
        received_at=received_at, due_at=to_legal_time(event.due_at),
        delivery_place=_delivery_place(dossier, names),
        receiver_name=_full_name(session, event.actor), lookup_url=lookup_url(settings, dossier.code),
        lookup_note=LOOKUP_NOTE, receipt_number=dossier.code.rsplit("-", 1)[-1], place_name=names.place,
    )
    return Receipt(data=data, agency_code=desk, signed_at=received_at)


def signed_receipt(plan: Receipt, desk: x.IssuedCertificate) -> bytes:
    return sign(_render(render_receipt, plan.data), desk, field_name=RECEIPT_FIELD, reason=RECEIPT_REASON,
                location=plan.data.agency_name, at=plan.signed_at)


# ---------------------------------------------------------------- the apology letter (Mẫu 04)


@dataclass(frozen=True)
class Apology:
    data: ApologyData
    signer_username: str
    signed_at: datetime


def apology(session: Session, dossier: Dossier, settings: Settings) -> Apology:
    """Mẫu 04 as recorded by the ``extend`` row of the control slip; 404 ``APOLOGY_LETTER_NOT_FOUND`` if the
    deadline was never extended."""
    event = _event(session, dossier, "extend", last=True)
    letter = (event.data or {}).get("apology_letter") if event else None
    if event is None or not letter or not letter.get("original_due_at") or not letter.get("new_due_at"):
        raise NotFound(f"Hồ sơ {dossier.code} không có Phiếu xin lỗi và hẹn lại ngày trả kết quả.",
                       code="APOLOGY_LETTER_NOT_FOUND")
    names = _names(session, dossier)
    issued_at = to_legal_time(event.at)
    data = ApologyData(
        agency_name=names.agency, parent_agency_name=names.parent, dossier_code=dossier.code,
        applicant_name=dossier.applicant_full_name, procedure_name=names.procedure,
        received_at=to_legal_time(dossier.received_at or event.at),
        original_due_at=datetime.fromisoformat(letter["original_due_at"]),
        new_due_at=datetime.fromisoformat(letter["new_due_at"]),
        reason=letter.get("reason") or event.note or "—",
        signer_name=_full_name(session, event.actor), issued_at=issued_at,
        lookup_url=lookup_url(settings, dossier.code), lookup_note=LOOKUP_NOTE, place_name=names.place,
    )
    return Apology(data=data, signer_username=event.actor, signed_at=issued_at)


def signed_apology(plan: Apology, approver: x.IssuedCertificate) -> bytes:
    return sign(_render(render_apology_letter, plan.data), approver, field_name=APOLOGY_FIELD,
                reason=APOLOGY_REASON, location=plan.data.agency_name, at=plan.signed_at)
