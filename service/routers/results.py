"""A dossier's signed documents: the result ``<code>-KQ1``, the receipt (Mẫu 01) and the apology letter (Mẫu
04)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from service.deps import ContextDep, SessionDep, VisibleDossier
from service.dossiers.presenter import result_out
from service.operations import pki, results
from service.schemas.common import Problem
from service.schemas.dossiers import ResultOut

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


@router.get("/{code}/result", responses=ERRORS)
def get_result(dossier: VisibleDossier, session: SessionDep) -> ResultOut:
    """The signed result's metadata; 404 ``RESULT_NOT_FOUND`` until the dossier is approved."""
    return result_out(results.get_result(session, dossier))


@router.get("/{code}/result/document", response_class=Response, responses=PDF_RESPONSES)
def get_result_document(dossier: VisibleDossier, session: SessionDep) -> Response:
    """The result ``<code>-KQ1`` exactly as signed by the approver at approval (its SHA-256 is
    ``result.sha256``). Check it with ``POST /signatures/verify`` or any PAdES validator trusting ``GET
    /pki/root.pem``."""
    result, content = results.result_document(session, dossier)
    response = _pdf(content, f"{result.code}.pdf")
    response.headers["ETag"] = f'"{result.blob_sha256}"'
    return response


@router.get("/{code}/receipt", response_class=Response, responses=PDF_RESPONSES)
def get_receipt(dossier: VisibleDossier, session: SessionDep, context: ContextDep) -> Response:
    """The receipt, Mẫu 01 "Giấy tiếp nhận hồ sơ và hẹn trả kết quả", signed by the agency's one-stop desk
    certificate (issued on first need) at the time of reception. 404 ``RECEIPT_NOT_FOUND`` for a dossier not
    received (yet)."""
    settings = context.settings
    plan = results.receipt(session, dossier, settings)
    desk = pki.on_demand(
        context.db, context.clock, session, lambda s: pki.find_signer(s, settings, pki.DESK, plan.agency_code),
        lambda s, now: pki.desk_signer(s, settings, plan.agency_code, now))
    return _pdf(results.signed_receipt(plan, desk), f"{dossier.code}-TNHS.pdf")


@router.get("/{code}/apology-letter", response_class=Response, responses=PDF_RESPONSES)
def get_apology_letter(dossier: VisibleDossier, session: SessionDep, context: ContextDep) -> Response:
    """Mẫu 04 "Phiếu xin lỗi và hẹn lại ngày trả kết quả", signed by the approver who extended the deadline,
    at the time of the extension. 404 ``APOLOGY_LETTER_NOT_FOUND`` if the deadline was never extended."""
    settings = context.settings
    plan = results.apology(session, dossier, settings)
    signer = pki.on_demand(
        context.db, context.clock, session,
        lambda s: pki.find_signer(s, settings, pki.APPROVER, plan.signer_username),
        lambda s, now: pki.approver_signer_named(s, settings, plan.signer_username, now))
    return _pdf(results.signed_apology(plan, signer), f"{dossier.code}-PXL.pdf")
