"""A dossier's signed documents: the result ``<code>-KQ1``, the receipt (Mẫu 01) and the apology letter (Mẫu
04).

"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from sqlmodel import Session, select

from service.context import AppContext
from service.deps import ContextDep, SessionDep, VisibleDossier
from service.dossiers.presenter import result_out
from service.errors import NotFound
from service.models import Blob, User
from service.operations import pki, results
from service.schemas.common import Problem
from service.schemas.dossiers import ResultOut
from service.signing.pki import IssuedCertificate

router = APIRouter(prefix="/dossiers", tags=["results"])

ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": Problem} for code in (401, 404, 503)}
PDF_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {results.PDF: {"schema": {"type": "string", "format": "binary"}}},
          "description": "The signed PDF (PAdES)"},
    **ERRORS,
}


def _pdf(content: bytes, filename: str) -> Response:
    return Response(content, media_type=results.PDF,
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


def obtain_signer(context: AppContext, session: Session,
                  find: Callable[[Session], IssuedCertificate | None],
                  issue: Callable[[Session, datetime], IssuedCertificate]) -> IssuedCertificate:
    """A signing certificate for a read request: the current one, or one issued (and kept) in a short write
    transaction of its own when none exists yet (the request's own session is read-only)."""
    signer = find(session)
    if signer is None:
        with context.db.transaction() as write:
            signer = issue(write, context.clock.now(write))
    return signer


@router.get("/{code}/result", responses=ERRORS)
def get_result(dossier: VisibleDossier, session: SessionDep) -> ResultOut:
    """The signed result's metadata; 404 ``RESULT_NOT_FOUND`` until the dossier is approved."""
    return result_out(results.get_result(session, dossier))


@router.get("/{code}/result/document", response_class=Response, responses=PDF_RESPONSES)
def get_result_document(dossier: VisibleDossier, session: SessionDep) -> Response:
    """The result ``<code>-KQ1`` exactly as signed by the approver at approval (its SHA-256 is
    ``result.sha256``). Check it with ``POST /signatures/verify`` or any PAdES validator trusting ``GET
    /pki/root.pem``."""
    result = results.get_result(session, dossier)
    blob = session.get(Blob, result.blob_sha256)
    if blob is None:  # pragma: no cover - the foreign key keeps them together
        raise NotFound(f"Không tìm thấy tệp kết quả {result.code}.", code="RESULT_NOT_FOUND")
    response = _pdf(blob.content, f"{result.code}.pdf")
    response.headers["ETag"] = f'"{result.blob_sha256}"'
    return response


@router.get("/{code}/receipt", response_class=Response, responses=PDF_RESPONSES)
def get_receipt(dossier: VisibleDossier, session: SessionDep, context: ContextDep) -> Response:
    """The receipt, Mẫu 01 "Giấy tiếp nhận hồ sơ và hẹn trả kết quả", signed by the agency's one-stop desk
    certificate (issued on first need) at the time of reception. 404 ``RECEIPT_NOT_FOUND`` for a dossier not
    received (yet)."""
    settings = context.settings
    plan = results.receipt(session, dossier, settings)
    desk = obtain_signer(
        context, session, lambda s: pki.find_signer(s, settings, pki.DESK, plan.agency_code),
        lambda s, now: pki.desk_signer(s, settings, plan.agency_code, now))
    return _pdf(results.signed_receipt(plan, desk), f"{dossier.code}-TNHS.pdf")


@router.get("/{code}/apology-letter", response_class=Response, responses=PDF_RESPONSES)
def get_apology_letter(dossier: VisibleDossier, session: SessionDep, context: ContextDep) -> Response:
    """Mẫu 04 "Phiếu xin lỗi và hẹn lại ngày trả kết quả", signed by the approver who extended the deadline,
    at the time of the extension. 404 ``APOLOGY_LETTER_NOT_FOUND`` if the deadline was never extended."""
    settings = context.settings
    plan = results.apology(session, dossier, settings)

    def issue(write: Session, now: datetime) -> IssuedCertificate:
        approver = write.exec(select(User).where(User.username == plan.signer_username)).one()
        return pki.approver_signer(write, settings, approver, now)

    signer = obtain_signer(
        context, session, lambda s: pki.find_signer(s, settings, pki.APPROVER, plan.signer_username), issue)
    return _pdf(results.signed_apology(plan, signer), f"{dossier.code}-PXL.pdf")
