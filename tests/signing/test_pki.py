"""Simulated PKI: root / issuing CA / signer certificates, key storage, CRL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from service.signing import pki

from .conftest import NOW


def _ext(cert: x509.Certificate, cls: type) -> object:
    return cert.extensions.get_extension_for_class(cls).value


def test_root_ca_is_self_signed_p256_ca_labelled_simulation(root: pki.IssuedCertificate) -> None:
    cert = root.certificate
    assert cert.subject == cert.issuer
    cert.verify_directly_issued_by(cert)
    assert isinstance(root.private_key.curve, ec.SECP256R1)
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert cn == "Một Cửa Root CA — SIMULATION — NOT FOR LEGAL USE"
    org = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
    assert "SIMULATION — NOT FOR LEGAL USE" in org
    bc = _ext(cert, x509.BasicConstraints)
    assert bc.ca is True
    ku = _ext(cert, x509.KeyUsage)
    assert ku.key_cert_sign and ku.crl_sign
    assert _ext(cert, x509.SubjectKeyIdentifier).digest
    assert root.chain == ()


def test_validity_is_wide_for_the_simulated_clock(root: pki.IssuedCertificate) -> None:
    cert = root.certificate
    assert cert.not_valid_before_utc <= datetime(2000, 1, 1, tzinfo=UTC)
    assert cert.not_valid_after_utc >= datetime(2099, 12, 31, tzinfo=UTC)
    far = pki.create_root_ca(datetime(2120, 1, 1, tzinfo=UTC)).certificate
    assert far.not_valid_after_utc > datetime(2120, 1, 1, tzinfo=UTC)


def test_issuing_ca_is_signed_by_root(root: pki.IssuedCertificate, issuing_ca: pki.IssuedCertificate) -> None:
    cert = issuing_ca.certificate
    cert.verify_directly_issued_by(root.certificate)
    bc = _ext(cert, x509.BasicConstraints)
    assert bc.ca is True and bc.path_length == 0
    assert _ext(cert, x509.KeyUsage).key_cert_sign
    aki = _ext(cert, x509.AuthorityKeyIdentifier)
    assert aki.key_identifier == _ext(root.certificate, x509.SubjectKeyIdentifier).digest
    assert issuing_ca.common_name == "UBND tỉnh Hà Giang CA"
    assert issuing_ca.chain == (root.certificate,)


def test_signer_certificate_profile(
    root: pki.IssuedCertificate, issuing_ca: pki.IssuedCertificate, approver: pki.IssuedCertificate
) -> None:
    cert = approver.certificate
    cert.verify_directly_issued_by(issuing_ca.certificate)
    assert _ext(cert, x509.BasicConstraints).ca is False
    ku = _ext(cert, x509.KeyUsage)
    assert ku.digital_signature and ku.content_commitment and not ku.key_cert_sign
    eku = _ext(cert, x509.ExtendedKeyUsage)
    assert pki.DOCUMENT_SIGNING_EKU in eku and ExtendedKeyUsageOID.EMAIL_PROTECTION in eku
    aki = _ext(cert, x509.AuthorityKeyIdentifier)
    assert aki.key_identifier == _ext(issuing_ca.certificate, x509.SubjectKeyIdentifier).digest
    assert _ext(cert, x509.SubjectKeyIdentifier).digest
    assert approver.common_name == "Phạm Quốc Hưng"
    org = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
    assert org == "UBND xã Lũng Cú"
    assert approver.chain == (issuing_ca.certificate, root.certificate)
    assert approver.full_chain[0] == cert


def test_explicit_serial_and_hex_form(issuing_ca: pki.IssuedCertificate) -> None:
    issued = pki.issue_signer_certificate(issuing_ca, "Lê Văn C", "UBND xã X", NOW, serial=0xABCDEF0123)
    assert issued.certificate.serial_number == 0xABCDEF0123
    assert issued.serial_hex == "abcdef0123"
    assert pki.serial_from_hex("AB:CD:EF:01:23") == 0xABCDEF0123
    assert pki.serial_from_hex("0xabcdef0123") == 0xABCDEF0123


def test_crl_distribution_point_is_optional(issuing_ca: pki.IssuedCertificate) -> None:
    url = "https://motcua.example.vn/api/v1/pki/crl.der"
    issued = pki.issue_signer_certificate(issuing_ca, "Lê Văn D", "UBND xã X", NOW, crl_url=url)
    dps = _ext(issued.certificate, x509.CRLDistributionPoints)
    assert dps[0].full_name[0].value == url
    with pytest.raises(x509.ExtensionNotFound):
        issuing_ca.certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints)


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError):
        pki.create_root_ca(datetime(2026, 1, 1))  # noqa: DTZ001


def test_encrypted_private_key_round_trip(approver: pki.IssuedCertificate) -> None:
    pem = pki.encrypt_private_key(approver.private_key, "mật khẩu rất dài 123")
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    key = pki.load_private_key(pem, "mật khẩu rất dài 123")
    assert key.private_numbers() == approver.private_key.private_numbers()
    assert pki.load_private_key(pem.decode(), b"m\xe1\xba\xadt kh\xe1\xba\xa9u r\xe1\xba\xa5t d\xc3\xa0i 123")
    with pytest.raises(ValueError):
        pki.load_private_key(pem, "wrong passphrase")
    with pytest.raises(ValueError):
        pki.encrypt_private_key(approver.private_key, "")


def test_certificate_pem_round_trip(approver: pki.IssuedCertificate) -> None:
    pem = pki.certificate_to_pem(approver.certificate)
    assert pki.certificate_from_pem(pem) == approver.certificate
    assert pki.certificate_from_pem(pem.decode()) == approver.certificate
    bundle = pki.chain_to_pem(approver.full_chain)
    assert pki.certificates_from_pem(bundle) == approver.full_chain


def test_crl_lists_revoked_serials(
    issuing_ca: pki.IssuedCertificate, approver: pki.IssuedCertificate
) -> None:
    revoked_at = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
    der = pki.build_crl(
        issuing_ca, [(approver.certificate.serial_number, revoked_at), (0x1234, revoked_at)], NOW
    )
    crl = x509.load_der_x509_crl(der)
    assert crl.issuer == issuing_ca.certificate.subject
    assert crl.is_signature_valid(issuing_ca.certificate.public_key())
    entry = crl.get_revoked_certificate_by_serial_number(approver.certificate.serial_number)
    assert entry is not None and entry.revocation_date_utc == revoked_at
    assert crl.last_update_utc == NOW.astimezone(UTC)
    assert crl.next_update_utc is not None and crl.next_update_utc > crl.last_update_utc
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number > 0
    assert pki.crl_revoked_serials(der) == {approver.serial_hex: revoked_at, "1234": revoked_at}


def test_empty_crl(issuing_ca: pki.IssuedCertificate) -> None:
    der = pki.build_crl(issuing_ca, [], NOW, crl_number=7, next_update=NOW + timedelta(days=1))
    crl = x509.load_der_x509_crl(der)
    assert len(crl) == 0
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 7
