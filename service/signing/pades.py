"""PAdES signing and verification of result documents and one-stop forms (offline, via pyHanko).

Legal basis being simulated: Decree 45/2020/NĐ-CP Art. 14(3) (an electronic result bears the digital
signature of the competent agency), Circular 01/2018/TT-VPCP Art. 10 (forms Mẫu 01–06 are digitally
signed) and Decree 23/2025/NĐ-CP (e-signatures; validity of a signature is judged at signing time).

Signing time
    A PAdES baseline signature must not carry the CMS ``signingTime`` attribute (ETSI EN 319 142-1); the
    claimed signing time lives in the ``/M`` entry of the PDF signature dictionary, which lies inside the
    signed byte range and is therefore protected by the signature. pyHanko takes ``/M`` from
    ``PdfSigningSession.system_time`` (wall clock) and offers no parameter for it, so
    :class:`_FixedTimePdfSigner` sets that attribute right after the session is created. On
    verification pyHanko reads ``/M`` back as ``signer_reported_dt``; that is ``signed_at``. ``/M`` has
    whole-second precision, so ``signed_at`` is ``signing_time`` truncated to the second.

    This is PAdES B-B: the time is *claimed by the signer*, not attested by a time-stamping authority.
    In this simulator all signing keys are server-held, so the claim is as trustworthy as the server;
    upgrading to B-T needs a TSA on the simulated clock (pyHanko's ``DummyTimeStamper(fixed_dt=…)``).

Revocation
    pyHanko's own revocation check is not used: with ``revocation_mode="soft-fail"`` and
    ``allow_fetching=False`` it accepts a missing CRL, and it only consults CRLs for certificates that
    declare a distribution point (ours do only when ``crl_url`` is given); in "require" mode it demands
    a CRL for every CA level (InsufficientRevinfoError for the issuing CA otherwise). Instead
    :func:`verify_pdf` applies the legal rule itself: the signer's certificate (and any intermediate CA
    in the validated path) is looked up in the caller's ``revocations`` map and in ``crl_der`` (used
    only when the CRL's signature verifies against the issuer in the path). ``revoked`` reports that a
    revocation exists; a revocation strictly *after* ``signed_at`` leaves the signature valid, one at or
    before it (or any revocation when the signing time is unknown) makes it invalid.

Validation moment
    Chain validation runs at the claimed signing time (falling back to now), so later expiry never
    invalidates a historical signature either; certificates are issued for 2000–2099 anyway.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import logging
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.pdf_signer import PdfSigner, PdfSigningSession
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature, async_validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .pki import common_name, serial_from_hex, serial_hex

__all__ = [
    "SignatureDetail",
    "VerificationReport",
    "async_sign_pdf",
    "async_verify_pdf",
    "sign_pdf",
    "verify_pdf",
]

log = logging.getLogger(__name__)

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

REASON_OK = "Chữ ký số hợp lệ"
REASON_NOT_PDF = "Tệp không phải PDF hợp lệ"
REASON_NO_SIGNATURE = "Tệp không có chữ ký số"
REASON_MALFORMED = "Chữ ký số bị lỗi định dạng, không kiểm tra được"
REASON_NOT_INTACT = "Nội dung tệp đã bị thay đổi sau khi ký (dữ liệu không còn khớp với chữ ký số)"
REASON_BAD_SIGNATURE = "Giá trị chữ ký số không hợp lệ"
REASON_NOT_WHOLE_FILE = "Tệp đã bị bổ sung nội dung sau khi ký (chữ ký số không bao phủ toàn bộ tệp)"
REASON_UNTRUSTED = "Chứng thư số của người ký không được cấp bởi tổ chức chứng thực tin cậy của hệ thống"
REASON_CONTAINER_MODIFIED = ("Vùng chứa chữ ký số đã bị sửa (ngoài phần được ký chỉ được phép có đệm số 0): "
                             "tệp không còn đúng từng byte như khi ký")
REASON_BAD_CRL = "Không đọc được danh sách chứng thư số bị thu hồi (CRL)"
REASON_INTERNAL = "Không kiểm tra được chữ ký số"

T = TypeVar("T")

#: Room in the CMS beyond its certificates: signed attributes, signer info, an ECDSA or RSA-4096 signature.
CMS_OVERHEAD_BYTES = 4096


# --- data -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignatureDetail:
    """Outcome for one embedded signature (documents may carry several, e.g. approver + agency seal)."""

    field_name: str
    valid: bool
    intact: bool
    trusted: bool
    revoked: bool
    covers_whole_file: bool
    signer: str | None
    signer_organization: str | None
    certificate_serial: str | None
    issuer: str | None
    signed_at: datetime | None
    revoked_at: datetime | None
    reason: str
    container_modified: bool = False


@dataclass(frozen=True)
class VerificationReport:
    """Answer of :func:`verify_pdf`; the first seven fields are the REST contract of
    ``POST /signatures/verify``.

    * ``intact`` — every byte covered by every signature is unchanged.
    * ``container_modified`` — a byte *outside* the signed ranges changed: the signature container (the
      ``/Contents`` hex string the signature excludes from what it signs) is no longer exactly the signature's
      DER encoding followed by zero padding. Such a file is not ``valid`` even though ``intact`` holds.
    * ``trusted`` — every signer certificate chains to one of the given trust roots.
    * ``revoked`` — the (latest) signer's certificate, or a CA above it, is revoked *now*.
    * ``valid`` — intact, cryptographically sound, trusted, not revoked at or before its signing time,
      and the latest signature covers the whole file (nothing appended after signing).
    * ``signer`` / ``signed_at`` / ``certificate_serial`` — of the latest signature; ``signed_at`` is
      the signer-claimed time (``/M``) in Asia/Ho_Chi_Minh.
    * ``reason`` — a Vietnamese explanation, always present (also for a valid signature).
    """

    valid: bool
    intact: bool
    trusted: bool
    revoked: bool
    signer: str | None
    signed_at: datetime | None
    reason: str
    certificate_serial: str | None = None
    signatures: tuple[SignatureDetail, ...] = field(default=())
    container_modified: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (datetimes as ISO 8601 with +07:00) for the REST layer."""
        return {
            "valid": self.valid,
            "intact": self.intact,
            "trusted": self.trusted,
            "revoked": self.revoked,
            "signer": self.signer,
            "signed_at": self.signed_at.isoformat() if self.signed_at else None,
            "reason": self.reason,
            "certificate_serial": self.certificate_serial,
            "container_modified": self.container_modified,
        }


def _failure(reason: str, *, intact: bool = False) -> VerificationReport:
    return VerificationReport(
        valid=False, intact=intact, trusted=False, revoked=False, signer=None, signed_at=None, reason=reason
    )


# --- conversions ------------------------------------------------------------------------------------


def _to_asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _to_crypto_cert(cert: asn1_x509.Certificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(cert.dump())


def _to_asn1_key(key: ec.EllipticCurvePrivateKey) -> asn1_keys.PrivateKeyInfo:
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return asn1_keys.PrivateKeyInfo.load(der)


def _local(dt: datetime) -> datetime:
    return dt.astimezone(VN_TZ)


def _run_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from synchronous code, even if this thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


# --- signing ----------------------------------------------------------------------------------------


class _FixedTimePdfSigner(PdfSigner):
    """A PdfSigner whose ``/M`` (claimed signing time) is a given instant instead of the wall clock."""

    def __init__(self, *args: Any, signing_time: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._signing_time = signing_time

    def init_signing_session(self, pdf_out: Any, existing_fields_only: bool = False) -> PdfSigningSession:
        session = super().init_signing_session(pdf_out, existing_fields_only=existing_fields_only)
        session.system_time = self._signing_time
        return session


async def async_sign_pdf(
    pdf: bytes,
    *,
    key: ec.EllipticCurvePrivateKey,
    cert: x509.Certificate,
    chain: Sequence[x509.Certificate],
    field_name: str,
    reason: str | None,
    location: str | None,
    signing_time: datetime,
) -> bytes:
    """Async variant of :func:`sign_pdf` (use from ``async def`` code)."""
    if signing_time.tzinfo is None or signing_time.utcoffset() is None:
        raise ValueError("signing_time must be timezone-aware")
    signing_time = _local(signing_time).replace(microsecond=0)
    signer = signers.SimpleSigner(
        signing_cert=_to_asn1_cert(cert),
        signing_key=_to_asn1_key(key),
        cert_registry=SimpleCertificateStore.from_certs([_to_asn1_cert(c) for c in chain]),
    )
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        location=location,
        name=common_name(cert),
    )
    pdf_signer = _FixedTimePdfSigner(meta, signer, signing_time=signing_time)
    # Reserve the CMS space up front (hex digits: signed attributes, signature and the embedded certificates);
    # left to itself pyHanko builds and signs a whole dummy CMS first just to measure it, doubling the cost.
    certificates = sum(len(c.public_bytes(serialization.Encoding.DER)) for c in (cert, *chain))
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        output = await pdf_signer.async_sign_pdf(
            writer, output=io.BytesIO(), bytes_reserved=2 * (CMS_OVERHEAD_BYTES + certificates)
        )
    except SigningError as exc:
        raise ValueError(f"cannot sign PDF: {exc}") from exc
    return bytes(output.getvalue())


def sign_pdf(
    pdf: bytes,
    *,
    key: ec.EllipticCurvePrivateKey,
    cert: x509.Certificate,
    chain: Sequence[x509.Certificate],
    field_name: str,
    reason: str | None,
    location: str | None,
    signing_time: datetime,
) -> bytes:
    """Sign ``pdf`` as PAdES B-B (SHA-256, ECDSA) in an incremental update and return the new bytes.

    ``chain`` holds the issuer certificates (nearest first; the root may be included) embedded so that
    verifiers can build the path. ``signing_time`` is the *simulated legal time* of signing; it becomes
    ``/M`` and is what :func:`verify_pdf` reports as ``signed_at`` (truncated to whole seconds).
    ``field_name`` must be new in the document (each signature gets its own invisible field).
    Raises ``ValueError`` for a naive ``signing_time`` or an unsignable input.
    """
    return _run_blocking(
        async_sign_pdf(
            pdf,
            key=key,
            cert=cert,
            chain=chain,
            field_name=field_name,
            reason=reason,
            location=location,
            signing_time=signing_time,
        )
    )


# --- verification -----------------------------------------------------------------------------------


class _RevocationSource:
    """Revocation facts from the caller's map plus an (optional) CRL whose issuer is in the path."""

    def __init__(
        self,
        revocations: Mapping[str, datetime] | None,
        crl: x509.CertificateRevocationList | None,
        now: datetime | None,
    ) -> None:
        self._map: dict[int, datetime] = {}
        for serial, revoked_at in (revocations or {}).items():
            self._map[serial_from_hex(serial)] = _as_aware(revoked_at)
        self._crl = crl
        self._now = now

    def revoked_at(self, cert: x509.Certificate, issuer: x509.Certificate | None) -> datetime | None:
        """Earliest known revocation time of ``cert`` (ignoring revocations after ``now``), or None."""
        times: list[datetime] = []
        if cert.serial_number in self._map:
            times.append(self._map[cert.serial_number])
        crl = self._crl
        if crl is not None and issuer is not None and crl.issuer == cert.issuer == issuer.subject:
            entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
            if entry is not None and _crl_signed_by(crl, issuer):
                times.append(entry.revocation_date_utc)
        if self._now is not None:
            times = [t for t in times if t <= self._now]
        return min(times) if times else None


def _crl_signed_by(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    try:
        return crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]  # EC/RSA keys
    except (TypeError, ValueError):
        return False


def _as_aware(dt: datetime) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        # cryptography and most DB drivers hand back naive UTC; treat it as such.
        return dt.replace(tzinfo=UTC)
    return dt


def _validated_path(status: PdfSignatureStatus) -> tuple[bool, list[x509.Certificate]]:
    """(trusted, certificates root-first) — just the signer certificate when there is no trusted path."""
    path = status.validation_path
    if status.trust_problem_indic is None and path is not None:
        return True, [_to_crypto_cert(c) for c in path.iter_certs(include_root=True)]
    return False, [_to_crypto_cert(status.signing_cert)]


def _earliest_revocation(
    certs: Sequence[x509.Certificate], trusted: bool, revocation: _RevocationSource
) -> datetime | None:
    """Earliest revocation of the signer or an intermediate CA (never the trust anchor itself)."""
    first = 1 if trusted else 0  # certs[0] is the trust anchor when the path is trusted
    times = [
        when
        for index in range(first, len(certs))
        if (when := revocation.revoked_at(certs[index], certs[index - 1] if index > 0 else None)) is not None
    ]
    return min(times) if times else None


def _name_cn(name: x509.Name) -> str:
    attrs = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else name.rfc4514_string()


def _der_length(data: bytes) -> int | None:
    """The length of the DER value at the start of ``data`` (tag, length and content), or ``None``."""
    if len(data) < 2:
        return None
    first = data[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 4 or len(data) < 2 + count:
        return None
    return 2 + count + int.from_bytes(data[2:2 + count], "big")


def container_modified(pdf: bytes, embedded: EmbeddedPdfSignature) -> bool:
    """Whether the bytes the signature leaves unsigned (its ``/Contents`` hex string) are anything other than
    ``<`` + the hex of the signature's DER encoding + zero padding + ``>``, as the signer wrote them."""
    try:
        _, len1, start2, _ = (int(x) for x in embedded.byte_range)
    except (TypeError, ValueError):
        return True
    content = bytes(embedded.pkcs7_content)
    der_length = _der_length(content)
    if der_length is None or der_length > len(content) or content[der_length:].strip(b"\0"):
        return True
    gap = bytes(pdf[len1:start2])
    return gap not in (b"<" + content.hex().encode() + b">", b"<" + content.hex().upper().encode() + b">")


async def _validate_one(
    embedded: EmbeddedPdfSignature,
    *,
    trust_roots: Sequence[asn1_x509.Certificate],
    revocation: _RevocationSource,
    is_latest: bool,
    pdf: bytes,
) -> SignatureDetail:
    claimed = embedded.self_reported_timestamp
    signed_at = _local(claimed) if claimed is not None and claimed.tzinfo is not None else None
    vc = ValidationContext(
        trust_roots=list(trust_roots),
        allow_fetching=False,
        revocation_mode="soft-fail",
        moment=signed_at,  # point-in-time validation at the claimed signing time (None = now)
    )
    try:
        status: PdfSignatureStatus = await async_validate_pdf_signature(embedded, vc)
    finally:
        await vc.aclose()

    trusted, certs = _validated_path(status)
    signer_cert = certs[-1]
    revoked_at = _earliest_revocation(certs, trusted, revocation)
    revoked_before_signing = revoked_at is not None and (signed_at is None or revoked_at <= signed_at)

    intact = bool(status.intact)
    sound = bool(status.valid)
    modified = container_modified(pdf, embedded)
    covers_whole_file = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    # An earlier signature of a multi-signature file is followed by allowed updates (later signatures).
    coverage_ok = covers_whole_file or (
        not is_latest
        and status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and (status.docmdp_ok or status.modification_level is None)
    )
    if not intact:
        reason = REASON_NOT_INTACT
    elif not sound:
        reason = REASON_BAD_SIGNATURE
    elif modified:
        reason = REASON_CONTAINER_MODIFIED
    elif not coverage_ok:
        reason = REASON_NOT_WHOLE_FILE
    elif not trusted:
        reason = REASON_UNTRUSTED
    elif revoked_at is None:
        reason = REASON_OK
    elif signed_at is None:
        reason = "Chứng thư số đã bị thu hồi và chữ ký không ghi thời điểm ký"
    else:
        when = _local(revoked_at).isoformat()
        reason = (
            f"Chứng thư số đã bị thu hồi trước thời điểm ký (thu hồi lúc {when})"
            if revoked_before_signing
            else f"{REASON_OK}; chứng thư số đã bị thu hồi sau thời điểm ký (thu hồi lúc {when})"
        )

    org = signer_cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return SignatureDetail(
        field_name=str(embedded.field_name),
        valid=intact and sound and not modified and coverage_ok and trusted and not revoked_before_signing,
        intact=intact,
        trusted=trusted,
        revoked=revoked_at is not None,
        covers_whole_file=covers_whole_file,
        signer=common_name(signer_cert),
        signer_organization=str(org[0].value) if org else None,
        certificate_serial=serial_hex(signer_cert),
        issuer=_name_cn(signer_cert.issuer),
        signed_at=signed_at,
        revoked_at=_local(revoked_at) if revoked_at is not None else None,
        reason=reason,
        container_modified=modified,
    )


async def async_verify_pdf(
    pdf: bytes,
    *,
    trust_roots: Sequence[x509.Certificate],
    crl_der: bytes | None = None,
    revocations: Mapping[str, datetime] | None = None,
    now: datetime | None = None,
) -> VerificationReport:
    """Async variant of :func:`verify_pdf` (use from ``async def`` code)."""
    crl: x509.CertificateRevocationList | None = None
    if crl_der:
        try:
            crl = x509.load_der_x509_crl(crl_der)
        except ValueError:
            return _failure(REASON_BAD_CRL)
    try:
        reader = PdfFileReader(io.BytesIO(bytes(pdf)))
        embedded = list(reader.embedded_signatures)
    except Exception:  # pyHanko raises a zoo of parse errors for garbage
        return _failure(REASON_NOT_PDF)
    if not embedded:
        return _failure(REASON_NO_SIGNATURE, intact=True)

    roots = [_to_asn1_cert(c) for c in trust_roots]
    revocation = _RevocationSource(revocations, crl, _as_aware(now) if now is not None else None)
    details: list[SignatureDetail] = []
    for index, sig in enumerate(embedded):
        try:
            detail = await _validate_one(
                sig, trust_roots=roots, revocation=revocation, is_latest=index == len(embedded) - 1,
                pdf=bytes(pdf),
            )
        except Exception:
            log.info("signature %d could not be validated", index, exc_info=True)
            return _failure(REASON_MALFORMED)
        details.append(detail)

    latest = details[-1]
    first_problem = next((d for d in details if not d.valid), None)
    return VerificationReport(
        valid=first_problem is None,
        intact=all(d.intact for d in details),
        trusted=all(d.trusted for d in details),
        revoked=latest.revoked,
        signer=latest.signer,
        signed_at=latest.signed_at,
        reason=first_problem.reason if first_problem is not None else latest.reason,
        certificate_serial=latest.certificate_serial,
        signatures=tuple(details),
        container_modified=any(d.container_modified for d in details),
    )


def verify_pdf(
    pdf: bytes,
    *,
    trust_roots: Sequence[x509.Certificate],
    crl_der: bytes | None = None,
    revocations: Mapping[str, datetime] | None = None,
    now: datetime | None = None,
) -> VerificationReport:
    """Verify every signature of an uploaded PDF offline; never raises for bad input.

    ``trust_roots`` are our root CA certificate(s). Revocation comes from ``revocations``
    (``{serial_hex: revoked_at}``, all CAs mixed — serials are random 159-bit numbers) and/or
    ``crl_der`` (one CRL, honoured for certificates whose issuer signed it). ``now`` (the simulated
    clock) hides revocations recorded after it; ``None`` takes every revocation as already effective.
    See :class:`VerificationReport` for the meaning of each field.
    """
    try:
        return _run_blocking(
            async_verify_pdf(pdf, trust_roots=trust_roots, crl_der=crl_der, revocations=revocations, now=now)
        )
    except Exception:  # last line of defence: the endpoint must answer 200 with valid=false
        log.exception("unexpected failure while verifying a PDF signature")
        return _failure(REASON_INTERNAL)
