"""The simulated PKI's representations: the certificate register and signature verification reports."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from service.schemas.common import ApiModel, LocalDateTime

CertificateKind = Literal["root", "issuing", "approver", "desk"]


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
