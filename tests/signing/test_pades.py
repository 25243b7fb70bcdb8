"""PAdES B-B signing and offline verification (integrity, trust, revocation, signing time)."""

from __future__ import annotations

import asyncio
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from service.signing import pades, pki
from service.signing.documents import render_receipt

from .conftest import NOW, VN

SIGNED_AT = datetime(2031, 2, 3, 4, 5, 6, 789, tzinfo=UTC)  # a simulated legal time, years ahead


def _sign(
    pdf: bytes,
    who: pki.IssuedCertificate,
    *,
    at: datetime = SIGNED_AT,
    field_name: str = "KetQua",
) -> bytes:
    return pades.sign_pdf(
        pdf,
        key=who.private_key,
        cert=who.certificate,
        chain=list(who.chain),
        field_name=field_name,
        reason="Phê duyệt kết quả giải quyết TTHC",
        location="Lũng Cú, Hà Giang",
        signing_time=at,
    )


def _verify(pdf: bytes, root: pki.IssuedCertificate, **kwargs: object) -> pades.VerificationReport:
    return pades.verify_pdf(pdf, trust_roots=[root.certificate], **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def signed(result_pdf: bytes, approver: pki.IssuedCertificate) -> bytes:
    return _sign(result_pdf, approver)


def _byte_range(pdf: bytes) -> tuple[int, int, int, int]:
    match = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    assert match is not None
    a, b, c, d = (int(x) for x in match.groups())
    return a, b, c, d


# --- happy path -------------------------------------------------------------------------------------


def test_round_trip_is_valid(
    signed: bytes, root: pki.IssuedCertificate, approver: pki.IssuedCertificate
) -> None:
    report = _verify(signed, root)
    assert report.valid and report.intact and report.trusted
    assert not report.revoked
    assert report.signer == "Phạm Quốc Hưng"
    assert report.certificate_serial == approver.serial_hex
    assert report.reason == "Chữ ký số hợp lệ"
    assert len(report.signatures) == 1
    detail = report.signatures[0]
    assert detail.field_name == "KetQua"
    assert detail.issuer == "UBND tỉnh Hà Giang CA"
    assert detail.signer_organization == "UBND xã Lũng Cú"
    assert detail.covers_whole_file


def test_signed_at_is_the_simulated_signing_time(signed: bytes, root: pki.IssuedCertificate) -> None:
    report = _verify(signed, root)
    assert report.signed_at == SIGNED_AT.replace(microsecond=0)
    assert report.signed_at is not None
    assert report.signed_at.utcoffset() == timedelta(hours=7)
    assert report.to_dict()["signed_at"] == "2031-02-03T11:05:06+07:00"
    # stored as /M in the signature dictionary (inside the signed byte range)
    sig_dict = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0].sig_object
    assert str(sig_dict["/M"]) == "D:20310203110506+07'00'"


@pytest.mark.parametrize("at", [datetime(2001, 1, 1, tzinfo=VN), datetime(2098, 12, 31, 23, 59, tzinfo=VN)])
def test_any_simulated_time_validates(
    result_pdf: bytes, root: pki.IssuedCertificate, approver: pki.IssuedCertificate, at: datetime
) -> None:
    report = _verify(_sign(result_pdf, approver, at=at), root)
    assert report.valid, report.reason
    assert report.signed_at == at


def test_pyhanko_validator_accepts_our_signature(signed: bytes, root: pki.IssuedCertificate) -> None:
    reader = PdfFileReader(io.BytesIO(signed))
    context = ValidationContext(trust_roots=[pades._to_asn1_cert(root.certificate)], allow_fetching=False)
    status = validate_pdf_signature(reader.embedded_signatures[0], context)
    assert status.bottom_line
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.signer_reported_dt == SIGNED_AT.replace(microsecond=0)
    sig_dict = reader.embedded_signatures[0].sig_object
    assert sig_dict["/SubFilter"] == "/ETSI.CAdES.detached"
    assert sig_dict["/Reason"] == "Phê duyệt kết quả giải quyết TTHC"


def test_receipt_countersigned_by_desk_then_approver(
    receipt_pdf: bytes,
    root: pki.IssuedCertificate,
    desk: pki.IssuedCertificate,
    approver: pki.IssuedCertificate,
) -> None:
    once = _sign(receipt_pdf, desk, at=datetime(2026, 3, 5, 8, 31, tzinfo=VN), field_name="TiepNhan")
    twice = _sign(once, approver, at=datetime(2026, 3, 5, 9, 0, tzinfo=VN), field_name="LanhDao")
    report = _verify(twice, root)
    assert report.valid, report.reason
    assert [s.signer for s in report.signatures] == ["Bộ phận Một cửa xã Lũng Cú", "Phạm Quốc Hưng"]
    assert report.signer == "Phạm Quốc Hưng"
    assert not report.signatures[0].covers_whole_file and report.signatures[1].covers_whole_file


def test_sign_requires_aware_time(result_pdf: bytes, approver: pki.IssuedCertificate) -> None:
    with pytest.raises(ValueError):
        _sign(result_pdf, approver, at=datetime(2030, 1, 1))  # noqa: DTZ001


def test_sign_rejects_non_pdf(approver: pki.IssuedCertificate) -> None:
    with pytest.raises(Exception):  # noqa: B017 - pyHanko's parse errors; callers only pass our PDFs
        _sign(b"not a pdf", approver)


# --- integrity --------------------------------------------------------------------------------------


def test_one_flipped_byte_in_content_is_not_valid(signed: bytes, root: pki.IssuedCertificate) -> None:
    _, b, _, _ = _byte_range(signed)
    stream_at = signed.index(b"stream", 0, b) + 100  # inside the first (compressed) content stream
    tampered = bytearray(signed)
    tampered[stream_at] ^= 0x01
    report = _verify(bytes(tampered), root)
    assert not report.valid
    assert not report.intact
    assert "thay đổi" in report.reason


def test_every_flipped_byte_in_the_signed_range_is_caught(signed: bytes, root: pki.IssuedCertificate) -> None:
    a, b, c, d = _byte_range(signed)
    positions = [*range(a, a + b, max(1, b // 60)), *range(c, c + d, max(1, d // 30)), a + b - 1, c + d - 1]
    for pos in positions:
        tampered = bytearray(signed)
        tampered[pos] ^= 0x20
        report = _verify(bytes(tampered), root)  # never raises
        assert not report.valid, (pos, report)
        assert report.reason


def test_changed_signature_value_is_not_valid(signed: bytes, root: pki.IssuedCertificate) -> None:
    _, b, c, _ = _byte_range(signed)
    blob = signed[b + 1 : c - 1]  # the hex-encoded CMS inside /Contents <…>, zero-padded
    assert blob[:4] == b"3082"  # DER SEQUENCE with a two-byte length
    der_len = 4 + int(blob[4:8], 16)
    pos = b + 1 + 2 * (der_len - 3)  # a hex digit of the last bytes: the ECDSA signature value
    tampered = bytearray(signed)
    tampered[pos] = ord("0") if tampered[pos] != ord("0") else ord("1")
    report = _verify(bytes(tampered), root)
    assert not report.valid
    assert report.reason


def _padding_span(signed: bytes) -> tuple[int, int]:
    """Where the zero padding after the DER signature lies inside /Contents <…> (file offsets)."""
    _, b, c, _ = _byte_range(signed)
    blob = signed[b + 1 : c - 1]
    der_len = 4 + int(blob[4:8], 16)
    return b + 1 + 2 * der_len, c - 1


def test_changed_padding_of_the_signature_container_is_not_valid(signed: bytes,
                                                                 root: pki.IssuedCertificate) -> None:
    """The padding is outside the signed bytes, so the signature still verifies; the file is not what was signed."""
    start, end = _padding_span(signed)
    assert end - start > 16 and set(signed[start:end]) == {ord("0")}
    tampered = bytearray(signed)
    tampered[start + 4 : start + 12] = b"deadbeef"
    report = _verify(bytes(tampered), root)
    assert report.intact  # the signed bytes are untouched …
    assert report.container_modified and not report.valid  # … but the file is not byte-for-byte the signed one
    assert "đệm số 0" in report.reason


def test_hex_case_changed_in_the_signature_container_is_not_valid(signed: bytes,
                                                                  root: pki.IssuedCertificate) -> None:
    _, b, c, _ = _byte_range(signed)
    tampered = bytearray(signed)
    hex_letter = next(i for i in range(b + 1, c - 1) if chr(tampered[i]) in "abcdefABCDEF")
    tampered[hex_letter] = ord(chr(tampered[hex_letter]).swapcase())  # the same byte, written differently
    report = _verify(bytes(tampered), root)
    assert report.container_modified and not report.valid


def test_an_untouched_file_has_an_unmodified_container(signed: bytes, root: pki.IssuedCertificate) -> None:
    report = _verify(signed, root)
    assert report.valid and not report.container_modified


def test_incremental_update_after_signing_is_not_valid(signed: bytes, root: pki.IssuedCertificate) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    writer.root["/Sneaky"] = generic.NameObject("/Edit")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    report = _verify(out.getvalue(), root)
    assert not report.valid
    assert report.intact  # the signed revision itself is untouched …
    assert "sau khi ký" in report.reason  # … but something was appended after signing


def test_trailing_bytes_after_signing_are_not_valid(signed: bytes, root: pki.IssuedCertificate) -> None:
    report = _verify(signed + b"\n% appended\n", root)
    assert not report.valid
    assert "toàn bộ tệp" in report.reason


@pytest.mark.parametrize(
    "payload",
    [b"", b"garbage", b"%PDF-1.7\n%%EOF", b"\x00" * 100, b"PDF" * 1000],
    ids=["empty", "garbage", "header-only", "zeros", "repeated"],
)
def test_not_a_pdf(payload: bytes, root: pki.IssuedCertificate) -> None:
    report = _verify(payload, root)
    assert not report.valid and not report.intact
    assert report.reason == "Tệp không phải PDF hợp lệ"


def test_truncated_pdf_is_not_valid(signed: bytes, root: pki.IssuedCertificate) -> None:
    for cut in (len(signed) // 2, len(signed) - 10, 100):
        report = _verify(signed[:cut], root)
        assert not report.valid
        assert report.reason


def test_unsigned_pdf(result_pdf: bytes, root: pki.IssuedCertificate) -> None:
    report = _verify(result_pdf, root)
    assert not report.valid
    assert report.reason == "Tệp không có chữ ký số"
    assert report.signer is None and report.signed_at is None


# --- trust ------------------------------------------------------------------------------------------


def test_foreign_ca_is_not_trusted(result_pdf: bytes, root: pki.IssuedCertificate) -> None:
    foreign_root = pki.create_root_ca(NOW)  # same names, different keys: a look-alike
    foreign_ca = pki.create_issuing_ca(foreign_root, "UBND tỉnh Hà Giang CA", NOW)
    mallory = pki.issue_signer_certificate(foreign_ca, "Phạm Quốc Hưng", "UBND xã Lũng Cú", NOW)
    report = _verify(_sign(result_pdf, mallory), root)
    assert report.intact
    assert not report.trusted and not report.valid
    assert report.signer == "Phạm Quốc Hưng"
    assert "tin cậy" in report.reason
    # … and it is valid against its own root
    assert pades.verify_pdf(_sign(result_pdf, mallory), trust_roots=[foreign_root.certificate]).valid


def test_self_signed_signer_is_not_trusted(result_pdf: bytes, root: pki.IssuedCertificate) -> None:
    lone = pki.create_root_ca(NOW)
    report = _verify(_sign(result_pdf, lone), root)
    assert not report.valid and not report.trusted


def test_no_trust_roots_means_untrusted(signed: bytes) -> None:
    report = pades.verify_pdf(signed, trust_roots=[])
    assert not report.valid and not report.trusted and report.intact


# --- revocation -------------------------------------------------------------------------------------


def test_revoked_after_signing_stays_valid(
    signed: bytes, root: pki.IssuedCertificate, approver: pki.IssuedCertificate
) -> None:
    report = _verify(signed, root, revocations={approver.serial_hex: SIGNED_AT + timedelta(days=30)})
    assert report.valid and report.revoked
    assert "sau thời điểm ký" in report.reason
    assert report.signatures[0].revoked_at == (SIGNED_AT + timedelta(days=30)).replace(tzinfo=UTC)


def test_revoked_before_signing_is_not_valid(
    signed: bytes, root: pki.IssuedCertificate, approver: pki.IssuedCertificate
) -> None:
    report = _verify(signed, root, revocations={approver.serial_hex.upper(): SIGNED_AT - timedelta(days=1)})
    assert not report.valid and report.revoked
    assert report.intact and report.trusted
    assert "trước thời điểm ký" in report.reason


def test_revocation_via_crl(
    signed: bytes,
    root: pki.IssuedCertificate,
    issuing_ca: pki.IssuedCertificate,
    approver: pki.IssuedCertificate,
) -> None:
    serial = approver.certificate.serial_number
    later = pki.build_crl(
        issuing_ca, [(serial, SIGNED_AT + timedelta(hours=1))], SIGNED_AT + timedelta(days=1)
    )
    earlier = pki.build_crl(
        issuing_ca, [(serial, SIGNED_AT - timedelta(hours=1))], SIGNED_AT + timedelta(days=1)
    )
    after = _verify(signed, root, crl_der=later)
    assert after.valid and after.revoked
    before = _verify(signed, root, crl_der=earlier)
    assert not before.valid and before.revoked


def test_crl_not_signed_by_the_issuer_is_ignored(
    signed: bytes, root: pki.IssuedCertificate, approver: pki.IssuedCertificate
) -> None:
    impostor = pki.create_issuing_ca(root, "UBND tỉnh Hà Giang CA", NOW)  # same name, other key
    crl = pki.build_crl(
        impostor, [(approver.certificate.serial_number, datetime(2020, 1, 1, tzinfo=UTC))], NOW
    )
    report = _verify(signed, root, crl_der=crl)
    assert report.valid and not report.revoked


def test_unreadable_crl_fails_closed(signed: bytes, root: pki.IssuedCertificate) -> None:
    report = _verify(signed, root, crl_der=b"not a crl")
    assert not report.valid
    assert "CRL" in report.reason


def test_revoked_issuing_ca_before_signing_is_not_valid(
    signed: bytes, root: pki.IssuedCertificate, issuing_ca: pki.IssuedCertificate
) -> None:
    report = _verify(signed, root, revocations={issuing_ca.serial_hex: datetime(2030, 1, 1, tzinfo=UTC)})
    assert not report.valid and report.revoked


def test_revocation_later_than_simulated_now_is_not_yet_effective(
    signed: bytes, root: pki.IssuedCertificate, approver: pki.IssuedCertificate
) -> None:
    revocations = {approver.serial_hex: datetime(2030, 1, 1, tzinfo=UTC)}
    report = _verify(signed, root, revocations=revocations, now=datetime(2029, 1, 1, tzinfo=UTC))
    assert report.valid and not report.revoked


def test_revocation_of_someone_else_does_not_matter(
    signed: bytes, root: pki.IssuedCertificate, desk: pki.IssuedCertificate
) -> None:
    report = _verify(signed, root, revocations={desk.serial_hex: datetime(2020, 1, 1, tzinfo=UTC)})
    assert report.valid and not report.revoked


# --- API shape & async ------------------------------------------------------------------------------


def test_report_to_dict_matches_the_contract(signed: bytes, root: pki.IssuedCertificate) -> None:
    payload = _verify(signed, root).to_dict()
    assert {"valid", "intact", "trusted", "revoked", "signer", "signed_at", "reason"} <= payload.keys()
    assert payload["signed_at"].endswith("+07:00")


def test_sync_api_works_inside_a_running_event_loop(signed: bytes, root: pki.IssuedCertificate) -> None:
    async def inside_loop() -> tuple[bool, bool]:
        sync_report = _verify(signed, root)
        async_report = await pades.async_verify_pdf(signed, trust_roots=[root.certificate])
        return sync_report.valid, async_report.valid

    assert asyncio.run(inside_loop()) == (True, True)


def test_async_sign_then_verify(
    receipt_data: object, root: pki.IssuedCertificate, desk: pki.IssuedCertificate
) -> None:
    pdf = render_receipt(receipt_data)  # type: ignore[arg-type]

    async def flow() -> pades.VerificationReport:
        signed_pdf = await pades.async_sign_pdf(
            pdf,
            key=desk.private_key,
            cert=desk.certificate,
            chain=list(desk.chain),
            field_name="TiepNhan",
            reason=None,
            location=None,
            signing_time=datetime(2026, 3, 5, 8, 31, tzinfo=VN),
        )
        return await pades.async_verify_pdf(signed_pdf, trust_roots=[root.certificate])

    report = asyncio.run(flow())
    assert report.valid and report.signer == "Bộ phận Một cửa xã Lũng Cú"


def test_certificate_with_crl_distribution_point_verifies_offline(
    result_pdf: bytes, root: pki.IssuedCertificate, issuing_ca: pki.IssuedCertificate
) -> None:
    holder = pki.issue_signer_certificate(
        issuing_ca, "Lê Thu Hà", "UBND xã Lũng Cú", NOW, crl_url="http://127.0.0.1:9/api/v1/pki/crl.der"
    )
    report = _verify(_sign(result_pdf, holder), root)  # nothing is fetched: the URL is unreachable
    assert report.valid, report.reason
