"""Simulated public-key infrastructure for Một Cửa (no database, no I/O).

Legal context being simulated:

* Decree 45/2020/NĐ-CP Art. 14(3): an electronic result of an administrative procedure bears the
  digital signature of the competent agency.
* Decree 23/2025/NĐ-CP (e-signatures and trust services): a hierarchy of a national root, licensed CAs
  and subscriber certificates; revocation is published in CRLs.
* Circular 01/2018/TT-VPCP Art. 10: the one-stop forms (Mẫu 01–06) are digitally signed.

Hierarchy built here: one *root CA* → one *issuing CA* per agency/province → personal *signer
certificates* for approvers (lãnh đạo) and one-stop desks. Every certificate carries the label
"SIMULATION — NOT FOR LEGAL USE".

The application runs on a simulated clock that may be set years in the past or the future, so every
certificate is valid from 2000-01-01 to 2099-12-31 (stretched further if ``now`` lies outside that
window). Keys are ECDSA P-256.

Everything here is plain functions over ``cryptography`` objects and bytes: the application layer stores
the PEM/DER in its own tables and calls back in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

__all__ = [
    "DOCUMENT_SIGNING_EKU",
    "SIMULATION_LABEL",
    "VALIDITY_END",
    "VALIDITY_START",
    "IssuedCertificate",
    "PrivateKey",
    "build_crl",
    "certificate_from_pem",
    "certificate_to_pem",
    "certificates_from_pem",
    "chain_to_pem",
    "common_name",
    "create_issuing_ca",
    "create_root_ca",
    "crl_revoked_serials",
    "encrypt_private_key",
    "issue_signer_certificate",
    "load_private_key",
    "serial_from_hex",
    "serial_hex",
]

SIMULATION_LABEL = "SIMULATION — NOT FOR LEGAL USE"
ROOT_COMMON_NAME = f"Một Cửa Root CA — {SIMULATION_LABEL}"
ROOT_ORGANIZATION = f"Một Cửa Simulator — {SIMULATION_LABEL}"

VALIDITY_START = datetime(2000, 1, 1, tzinfo=UTC)
VALIDITY_END = datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC)

#: id-kp-documentSigning (RFC 9336).
DOCUMENT_SIGNING_EKU = ObjectIdentifier("1.3.6.1.5.5.7.3.36")

PrivateKey = ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate together with its private key and the chain of issuers above it.

    ``chain`` lists the issuer certificates, nearest first, ending with the root (empty for the root
    itself). It is what :func:`service.signing.pades.sign_pdf` embeds next to the signer certificate.
    """

    certificate: x509.Certificate
    private_key: PrivateKey
    chain: tuple[x509.Certificate, ...] = field(default=())

    @property
    def serial_hex(self) -> str:
        """Serial number as lowercase hex without leading zeros or ``0x``."""
        return serial_hex(self.certificate)

    @property
    def common_name(self) -> str:
        return common_name(self.certificate)

    @property
    def certificate_pem(self) -> bytes:
        return certificate_to_pem(self.certificate)

    @property
    def full_chain(self) -> list[x509.Certificate]:
        """The certificate followed by its issuers, root last."""
        return [self.certificate, *self.chain]


# --- helpers ----------------------------------------------------------------------------------------


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC)


def _validity(now: datetime) -> tuple[datetime, datetime]:
    """A validity window that covers any plausible simulated 'now' (2000–2099 at least)."""
    now = _aware(now)
    return min(VALIDITY_START, now - timedelta(days=1)), max(VALIDITY_END, now + timedelta(days=3650))


def _new_key() -> PrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def serial_hex(cert_or_serial: x509.Certificate | int) -> str:
    """Lowercase hex serial, e.g. ``'5f3a…'`` (the form used in API responses and revocation maps)."""
    serial = cert_or_serial if isinstance(cert_or_serial, int) else cert_or_serial.serial_number
    return f"{serial:x}"


def serial_from_hex(value: str) -> int:
    """Inverse of :func:`serial_hex`; tolerates upper case, ``0x`` and ``:`` separators."""
    cleaned = value.strip().lower().replace(":", "")
    cleaned = cleaned.removeprefix("0x")
    return int(cleaned, 16)


def common_name(cert: x509.Certificate) -> str:
    """The subject CN (or the full RFC 4514 subject when there is no CN)."""
    attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if attrs:
        value = attrs[0].value
        return value if isinstance(value, str) else value.decode()
    return cert.subject.rfc4514_string()


def _name(cn: str, organization: str, unit: str | None = None) -> x509.Name:
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
    ]
    if unit:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


# --- issuing ----------------------------------------------------------------------------------------


def create_root_ca(now: datetime) -> IssuedCertificate:
    """Create the self-signed simulated national root CA (P-256, CA:TRUE, keyCertSign + cRLSign)."""
    key = _new_key()
    subject = _name(ROOT_COMMON_NAME, ROOT_ORGANIZATION)
    not_before, not_after = _validity(now)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    return IssuedCertificate(certificate=cert, private_key=key, chain=())


def create_issuing_ca(
    root: IssuedCertificate, name: str, now: datetime, *, crl_url: str | None = None
) -> IssuedCertificate:
    """Create an agency-level / province issuing CA signed by ``root`` (CA:TRUE, pathLen 0).

    ``name`` is the display name of the CA, e.g. ``"UBND tỉnh Bắc Ninh CA"``; ``crl_url`` optionally
    adds a CRL distribution point (the URL where the root's CRL is published).
    """
    if not name.strip():
        raise ValueError("name must not be empty")
    key = _new_key()
    not_before, not_after = _validity(now)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(name, ROOT_ORGANIZATION, SIMULATION_LABEL))
        .issuer_name(root.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(_aki(root.certificate), critical=False)
    )
    cert = _with_crl_dp(builder, crl_url).sign(root.private_key, hashes.SHA256())
    return IssuedCertificate(certificate=cert, private_key=key, chain=(root.certificate, *root.chain))


def issue_signer_certificate(
    ca: IssuedCertificate,
    common_name: str,
    organization: str,
    now: datetime,
    serial: int | None = None,
    *,
    crl_url: str | None = None,
) -> IssuedCertificate:
    """Issue a personal signing certificate for an approver or a one-stop desk.

    KeyUsage digitalSignature + contentCommitment (non-repudiation, which pyHanko requires by default),
    EKU id-kp-documentSigning (RFC 9336) + emailProtection, SKI/AKI, CA:FALSE. ``crl_url`` (e.g. the
    public ``…/api/v1/pki/crl.der``) adds a CRL distribution point; verification here never fetches it.
    """
    if not common_name.strip():
        raise ValueError("common_name must not be empty")
    key = _new_key()
    not_before, not_after = _validity(now)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, organization or ROOT_ORGANIZATION, SIMULATION_LABEL))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([DOCUMENT_SIGNING_EKU, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(_aki(ca.certificate), critical=False)
    )
    cert = _with_crl_dp(builder, crl_url).sign(ca.private_key, hashes.SHA256())
    return IssuedCertificate(certificate=cert, private_key=key, chain=(ca.certificate, *ca.chain))


def _with_crl_dp(builder: x509.CertificateBuilder, crl_url: str | None) -> x509.CertificateBuilder:
    if not crl_url:
        return builder
    point = x509.DistributionPoint(
        full_name=[x509.UniformResourceIdentifier(crl_url)], relative_name=None, reasons=None, crl_issuer=None
    )
    return builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)


def _aki(issuer: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    try:
        ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key())  # type: ignore[arg-type]
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


# --- CRL --------------------------------------------------------------------------------------------


def build_crl(
    ca: IssuedCertificate,
    revoked: Iterable[tuple[int, datetime]],
    now: datetime,
    *,
    crl_number: int | None = None,
    next_update: datetime | None = None,
) -> bytes:
    """Build a DER CRL signed by ``ca`` listing ``(serial, revoked_at)`` pairs.

    ``crl_number`` defaults to the Unix time of ``now`` (monotonic as long as the clock is);
    ``next_update`` defaults to ``now + 7 days``.
    """
    now_utc = _aware(now)
    number = crl_number if crl_number is not None else max(1, int(now_utc.timestamp()))
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.certificate.subject)
        .last_update(now_utc)
        .next_update(_aware(next_update) if next_update else now_utc + timedelta(days=7))
        .add_extension(_aki(ca.certificate), critical=False)
        .add_extension(x509.CRLNumber(number), critical=False)
    )
    for serial, revoked_at in revoked:
        entry = (
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(_aware(revoked_at)).build()
        )
        builder = builder.add_revoked_certificate(entry)
    crl = builder.sign(ca.private_key, hashes.SHA256())
    return crl.public_bytes(serialization.Encoding.DER)


def crl_revoked_serials(crl_der: bytes) -> dict[str, datetime]:
    """Parse a DER CRL into ``{serial_hex: revoked_at (UTC)}`` (no signature check; see pades)."""
    crl = x509.load_der_x509_crl(crl_der)
    return {serial_hex(entry.serial_number): entry.revocation_date_utc for entry in crl}


# --- serialisation ----------------------------------------------------------------------------------


def _passphrase_bytes(passphrase: str | bytes) -> bytes:
    data = passphrase.encode() if isinstance(passphrase, str) else passphrase
    if not data:
        raise ValueError("passphrase must not be empty")
    return data


def encrypt_private_key(key: PrivateKey, passphrase: str | bytes) -> bytes:
    """PKCS#8 PEM encrypted with ``BestAvailableEncryption`` (what the app stores in its tables)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(_passphrase_bytes(passphrase)),
    )


def load_private_key(pem: bytes | str, passphrase: str | bytes) -> PrivateKey:
    """Load a key written by :func:`encrypt_private_key`; ``ValueError`` on a wrong passphrase."""
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_private_key(data, password=_passphrase_bytes(passphrase))
    except (TypeError, ValueError) as exc:
        raise ValueError("cannot decrypt private key (wrong passphrase or corrupt PEM)") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("expected an EC private key")
    return key


def certificate_to_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def certificate_from_pem(pem: bytes | str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode() if isinstance(pem, str) else pem)


def certificates_from_pem(pem: bytes | str) -> list[x509.Certificate]:
    """Load a PEM bundle (several concatenated certificates)."""
    return x509.load_pem_x509_certificates(pem.encode() if isinstance(pem, str) else pem)


def chain_to_pem(certs: Sequence[x509.Certificate]) -> bytes:
    """Concatenate certificates as a PEM bundle (inverse of :func:`certificates_from_pem`)."""
    return b"".join(certificate_to_pem(c) for c in certs)
