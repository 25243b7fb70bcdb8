"""The simulated PKI over HTTP: the root certificate and the CRL (public), signature verification (public),
and the certificate register with revocation (admin).

Revocation policy: revoking an officer's certificate takes effect at the legal now; documents signed before
stay valid (the verification reports ``revoked: true`` next to ``valid: true``), the revoked certificate
never signs again, and the officer's next approval is signed with a new certificate issued automatically.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from service.deps import AdminUser, ContextDep, NowDep, ReadSessionDep, SessionDep
from service.models import PkiCertificate
from service.multipart import uploaded_file
from service.operations import pki, results
from service.schemas.common import CursorParam, Page, Problem
from service.schemas.pki import CertificateKind, CertificateOut, RevokeIn, SignatureOut, VerificationOut
from service.signing.pades import VerificationReport
from service.signing.pki import certificate_to_pem

router = APIRouter(tags=["pki"])

PEM = "application/x-pem-file"
CRL = "application/pkix-crl"


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


@router.get("/pki/root.pem", response_class=Response,
            responses={200: {"content": {PEM: {"schema": {"type": "string"}}},
                             "description": "PEM certificate"}})
def get_root(session: SessionDep, context: ContextDep) -> Response:
    """The simulated root CA ("SIMULATION — NOT FOR LEGAL USE"): the trust anchor for every document signed
    here."""
    pem = pki.root_pem(session)
    if pem is None:
        issuing = pki.issuing_ca(context.db, context.clock, context.settings, session)
        pem = certificate_to_pem(issuing.chain[-1])
    return Response(pem, media_type=PEM,
                    headers={"Content-Disposition": 'inline; filename="motcua-root.pem"'})


@router.get("/pki/crl.der", response_class=Response,
            responses={200: {"content": {CRL: {"schema": {"type": "string", "format": "binary"}}},
                             "description": "DER CRL of the issuing CA"}})
def get_crl(session: SessionDep, context: ContextDep, now: NowDep) -> Response:
    """The issuing CA's certificate revocation list (DER), signed at the legal now; every revoked officer or
    desk certificate with the time its revocation took effect."""
    issuing = pki.issuing_ca(context.db, context.clock, context.settings, session)
    return Response(pki.crl(session, issuing, now), media_type=CRL,
                    headers={"Content-Disposition": 'inline; filename="motcua.crl"'})


# ---------------------------------------------------------------- public: verification


async def uploaded_pdf(request: Request, context: ContextDep) -> bytes:
    """The file to verify (multipart field ``file``), read no further than the upload limit."""
    return await uploaded_file(request, context.settings.max_upload_bytes)


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
def verify_signature(content: Annotated[bytes, Depends(uploaded_pdf)], session: ReadSessionDep) -> VerificationOut:
    """Verify the digital signature(s) of a PDF (multipart field ``file``), offline, against the simulated
    root: ``intact`` (no signed byte changed), ``trusted`` (chains to ``GET /pki/root.pem``), ``revoked``
    (the signer's certificate is revoked now), ``valid`` (all of it, and not revoked at signing time),
    ``signer``, ``signed_at`` (+07:00) and a Vietnamese ``reason``. Garbage, an unsigned or a tampered file
    is still a 200, with ``valid: false``; a file over the upload limit is a 413 ``FILE_TOO_LARGE``. No
    token needed."""
    sha256 = hashlib.sha256(content).hexdigest()
    return _verification_out(pki.verify(session, content), sha256, results.result_by_sha256(session, sha256))


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
