"""The simulated PKI over HTTP: the root certificate and the CRL (public), signature verification (public),
and the certificate register with revocation (admin).

Revocation policy: revoking an officer's certificate takes effect at the legal now; documents signed before
stay valid (the verification reports ``revoked: true`` next to ``valid: true``), the revoked certificate
never signs again, and the officer's next approval is signed with a new certificate issued automatically.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from pydantic import BaseModel, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from service.context import AppContext
from service.deps import AdminUser, ContextDep, NowDep, SessionDep
from service.errors import PayloadTooLarge, Unprocessable
from service.models import PkiCertificate
from service.operations import pki, results
from service.schemas.common import ApiModel, CursorParam, LocalDateTime, Page, Problem
from service.signing.pades import VerificationReport
from service.signing.pki import IssuedCertificate, certificate_to_pem

router = APIRouter(tags=["pki"])

PEM = "application/x-pem-file"
CRL = "application/pkix-crl"
MULTIPART_OVERHEAD = 64 * 1024
CertificateKind = Literal["root", "issuing", "approver", "desk"]


# ---------------------------------------------------------------- schemas


class CertificateOut(BaseModel):
    serial: str = Field(description="Lowercase hex, as in ``result.certificate_serial``")
    kind: CertificateKind
    subject: str
    common_name: str
    owner: str | None = Field(description="Username (approver), agency code (desk), null for the CAs")
    agency_code: str | None
    issuer_serial: str | None
    issued_at: LocalDateTime
    revoked_at: LocalDateTime | None
    revocation_reason: str | None
    revoked_by: str | None


class RevokeIn(ApiModel):
    reason: Annotated[str, Field(min_length=1, max_length=500)] | None = None


class SignatureOut(BaseModel):
    field_name: str
    valid: bool
    intact: bool
    trusted: bool
    revoked: bool
    signer: str | None
    signer_organization: str | None
    certificate_serial: str | None
    signed_at: LocalDateTime | None
    revoked_at: LocalDateTime | None
    reason: str
    container_modified: bool = False


class VerificationOut(BaseModel):
    """Contract fields first (``valid`` … ``reason``); the rest describes the latest signature and every
    signature. ``signed_at`` is the signing time claimed inside the signed bytes, in +07:00."""

    valid: bool
    intact: bool
    trusted: bool
    revoked: bool
    signer: str | None
    signed_at: LocalDateTime | None
    reason: str
    certificate_serial: str | None = None
    container_modified: bool = Field(
        default=False, description="Bytes outside the signed ranges changed: the signature container is not "
                                   "exactly the signature plus zero padding (then `valid` is false; `intact` "
                                   "speaks only of the signed bytes)")
    sha256: str | None = Field(default=None, description="SHA-256 of the uploaded file")
    result_code: str | None = Field(default=None,
                                    description="The stored result with exactly these bytes, if any")
    signatures: list[SignatureOut] = []


def _certificate_out(row: PkiCertificate) -> CertificateOut:
    return CertificateOut(
        serial=row.serial, kind=row.kind,  # type: ignore[arg-type]
        subject=row.subject, common_name=row.common_name,
        owner=None if row.kind in pki.CA_KINDS else row.holder, agency_code=row.owner_agency_code,
        issuer_serial=row.issuer_serial, issued_at=row.issued_at, revoked_at=row.revoked_at,
        revocation_reason=row.revocation_reason, revoked_by=row.revoked_by,
    )


def _verification_out(report: VerificationReport, sha256: str | None,
                      result_code: str | None) -> VerificationOut:
    return VerificationOut(
        valid=report.valid, intact=report.intact, trusted=report.trusted, revoked=report.revoked,
        signer=report.signer, signed_at=report.signed_at, reason=report.reason,
        certificate_serial=report.certificate_serial, container_modified=report.container_modified,
        sha256=sha256, result_code=result_code,
        signatures=[SignatureOut(field_name=s.field_name, valid=s.valid, intact=s.intact,
                                 trusted=s.trusted, revoked=s.revoked, signer=s.signer,
                                 signer_organization=s.signer_organization,
                                 certificate_serial=s.certificate_serial, signed_at=s.signed_at,
                                 revoked_at=s.revoked_at, reason=s.reason,
                                 container_modified=s.container_modified) for s in report.signatures],
    )


# ---------------------------------------------------------------- public: root, CRL


def _issuing(context: AppContext, session: Session) -> IssuedCertificate:
    """The issuing CA; on a fresh system the hierarchy is created now, in a short write transaction."""
    issuing = pki.find_issuing(session, context.settings)
    if issuing is None:
        with context.db.transaction() as write:
            issuing = pki.ensure_authorities(write, context.settings, context.clock.now(write))
    return issuing


@router.get("/pki/root.pem", response_class=Response,
            responses={200: {"content": {PEM: {"schema": {"type": "string"}}},
                             "description": "PEM certificate"}})
def get_root(session: SessionDep, context: ContextDep) -> Response:
    """The simulated root CA ("SIMULATION — NOT FOR LEGAL USE"): the trust anchor for every document signed
    here."""
    pem = pki.root_pem(session)
    if pem is None:
        pem = certificate_to_pem(_issuing(context, session).chain[-1])
    return Response(pem, media_type=PEM,
                    headers={"Content-Disposition": 'inline; filename="motcua-root.pem"'})


@router.get("/pki/crl.der", response_class=Response,
            responses={200: {"content": {CRL: {"schema": {"type": "string", "format": "binary"}}},
                             "description": "DER CRL of the issuing CA"}})
def get_crl(session: SessionDep, context: ContextDep, now: NowDep) -> Response:
    """The issuing CA's certificate revocation list (DER), signed at the legal now; every revoked officer or
    desk certificate with the time its revocation took effect."""
    issuing = _issuing(context, session)
    return Response(pki.crl(session, issuing, now), media_type=CRL,
                    headers={"Content-Disposition": 'inline; filename="motcua.crl"'})


# ---------------------------------------------------------------- public: verification


async def _bounded_body(request: Request, limit: int) -> bytes | None:
    """The raw body, or ``None`` as soon as it exceeds ``limit`` bytes (nothing more is read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _uploaded_file(request: Request, limit: int) -> bytes:
    """The bytes of the multipart field ``file`` (a raw ``application/pdf`` body is accepted too)."""
    too_large = PayloadTooLarge(f"Tệp vượt quá dung lượng cho phép ({limit // (1024 * 1024)} MB).",
                                code="FILE_TOO_LARGE")
    content_type = request.headers.get("content-type", "").lower()
    raw = await _bounded_body(request, limit + MULTIPART_OVERHEAD)
    if raw is None:
        raise too_large
    if content_type.startswith("application/pdf"):
        content: bytes | None = raw
    elif content_type.startswith("multipart/form-data"):
        async def replay() -> dict[str, Any]:
            return {"type": "http.request", "body": raw, "more_body": False}

        try:
            form = await Request(request.scope, replay).form(max_files=1, max_fields=20)
        except Exception:
            form = None
        field = form.get("file") if form is not None else None
        if isinstance(field, UploadFile):
            content = await field.read()
        elif isinstance(field, str):
            content = field.encode()
        else:
            content = None
        if form is not None:
            await form.close()
    else:
        content = None
    if content is None:
        raise Unprocessable("Cần gửi tệp cần kiểm tra trong trường 'file' (multipart/form-data).",
                            code="FILE_REQUIRED")
    if len(content) > limit:
        raise too_large
    return content


def _verify(context: AppContext, content: bytes) -> VerificationOut:
    sha256 = hashlib.sha256(content).hexdigest()
    with context.db.transaction(read_only=True) as session:
        report = pki.verify(session, content)
        code = results.result_by_sha256(session, sha256)
    return _verification_out(report, sha256, code)


VERIFY_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "required": ["file"],
                           "properties": {"file": {"type": "string", "format": "binary"}}},
            },
        },
    },
}


@router.post("/signatures/verify", openapi_extra=VERIFY_BODY,
             responses={413: {"model": Problem}, 422: {"model": Problem}})
async def verify_signature(request: Request, context: ContextDep) -> VerificationOut:
    """Verify the digital signature(s) of a PDF (multipart field ``file``), offline, against the simulated
    root: ``intact`` (no signed byte changed), ``trusted`` (chains to ``GET /pki/root.pem``), ``revoked``
    (the signer's certificate is revoked now), ``valid`` (all of it, and not revoked at signing time),
    ``signer``, ``signed_at`` (+07:00) and a Vietnamese ``reason``. Garbage, an unsigned or a tampered file
    is still a 200, with ``valid: false``; a file over the upload limit is a 413 ``FILE_TOO_LARGE``. No
    token needed."""
    content = await _uploaded_file(request, context.settings.max_upload_bytes)
    return await run_in_threadpool(_verify, context, content)


# ---------------------------------------------------------------- admin: register and revocation


@router.get("/pki/certificates", responses={403: {"model": Problem}})
def list_certificates(
    session: SessionDep, _: AdminUser,
    kind: CertificateKind | None = None,
    owner: Annotated[str | None, Query(max_length=64, description="Username or agency code")] = None,
    revoked: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
    cursor: CursorParam = None,
) -> Page[CertificateOut]:
    """Every certificate of the simulated PKI, in issue order (keyset-paginated)."""
    rows, next_cursor = pki.list_certificates(session, kind=kind, owner=owner, revoked=revoked, limit=limit,
                                              cursor=cursor)
    return Page(items=[_certificate_out(r) for r in rows], next_cursor=next_cursor)


RevokeBody = Annotated[RevokeIn | None, Body(description="Optional reason")]


@router.post("/pki/certificates/{serial}/revoke", responses={403: {"model": Problem}, 404: {"model": Problem},
                                                              409: {"model": Problem}})
def revoke_certificate(serial: str, session: SessionDep, now: NowDep, admin: AdminUser,
                       payload: RevokeBody = None) -> CertificateOut:
    """Revoke an officer's or a desk's certificate at the legal now (409 ``CERTIFICATE_ALREADY_REVOKED``,
    409 ``CA_NOT_REVOCABLE``). Earlier signatures stay valid; the next signature uses a new certificate."""
    row = pki.by_serial(session, serial)
    revoked = pki.revoke(session, row, reason=payload.reason if payload else None, by=admin.username, now=now)
    return _certificate_out(revoked)


@router.post("/users/{username}/certificate/revoke",
             responses={403: {"model": Problem}, 404: {"model": Problem}, 409: {"model": Problem}})
def revoke_user_certificate(username: str, session: SessionDep, now: NowDep, admin: AdminUser,
                            payload: RevokeBody = None) -> CertificateOut:
    """Revoke the officer's current personal certificate (404 ``CERTIFICATE_NOT_FOUND`` if there is none);
    their next approval is signed with a new certificate issued automatically."""
    row = pki.revoke_user_certificate(session, username, reason=payload.reason if payload else None,
                                      by=admin.username, now=now)
    return _certificate_out(row)
