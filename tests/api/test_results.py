"""Issue 6: the result, the receipt (Mẫu 01) and the apology letter (Mẫu 04) are really signed and really
verify — through ``POST /signatures/verify`` and with pyHanko's own validator trusting
``GET /pki/root.pem``."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader
from sqlmodel import col, func, select

from service.models import Blob, Dossier, DossierEvent, PkiCertificate, ResultDocument
from service.security import passwords
from service.signing import pades
from tests.builders import COMMUNE, World, build_world

FAST_HASHER = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
ICT = timezone(timedelta(hours=7))
APPROVED_AT = "2026-03-03T10:15:30+07:00"
APPROVER_NAME = "Cán bộ lanhdao"


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "_hasher", FAST_HASHER)


@pytest.fixture
def world(client: TestClient) -> World:
    return build_world(client)


def processing(world: World, **overrides: Any) -> str:
    code = world.submit(**overrides)["code"]
    world.act(code, "assign", "receiver", {"assignee": "chuyenvien"})
    return code


def approved(world: World, at: str = APPROVED_AT) -> tuple[str, dict[str, Any]]:
    code = processing(world)
    world.set_clock(at)
    return code, world.act(code, "approve", "approver")["result"]


def download(world: World, code: str, what: str = "result/document", who: str = "citizen") -> bytes:
    response = world.client.get(f"/api/v1/dossiers/{code}/{what}", headers=world.as_(who))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    return response.content


def verify(client: TestClient, pdf: bytes) -> dict[str, Any]:
    files = {"file": ("document.pdf", pdf, "application/pdf")}
    response = client.post("/api/v1/signatures/verify", files=files)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def text_of(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages).split())


def pyhanko_status(client: TestClient, pdf: bytes) -> Any:
    """pyHanko's own validator, offline, trusting only the root served by ``GET /pki/root.pem``."""
    response = client.get("/api/v1/pki/root.pem")
    assert response.status_code == 200
    root = x509.load_pem_x509_certificate(response.content)
    anchor = asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER))
    context = ValidationContext(trust_roots=[anchor], allow_fetching=False)
    signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[-1]
    return validate_pdf_signature(signature, context)


def db(world: World) -> Any:
    return world.client.app.state.context.db  # type: ignore[attr-defined]


# ---------------------------------------------------------------- the result


def test_approve_issues_a_signed_result_that_verifies_here_and_with_pyhanko(world: World) -> None:
    code, result = approved(world)
    assert result["code"] == f"{code}-KQ1"
    assert result["signed_by"] == APPROVER_NAME
    assert result["signed_at"] == APPROVED_AT
    for who in ("citizen", "receiver", "approver", "admin"):
        response = world.client.get(f"/api/v1/dossiers/{code}/result", headers=world.as_(who))
        assert response.status_code == 200 and response.json() == result

    pdf = download(world, code)
    assert hashlib.sha256(pdf).hexdigest() == result["sha256"]
    report = verify(world.client, pdf)
    assert {k: report[k] for k in ("valid", "intact", "trusted", "revoked", "signer", "signed_at")} == {
        "valid": True, "intact": True, "trusted": True, "revoked": False, "signer": APPROVER_NAME,
        "signed_at": APPROVED_AT}
    assert report["reason"] == "Chữ ký số hợp lệ"
    assert report["certificate_serial"] == result["certificate_serial"]
    assert report["result_code"] == result["code"]

    status = pyhanko_status(world.client, pdf)
    assert status.bottom_line and status.intact and status.valid and status.trusted
    assert status.signer_reported_dt == datetime(2026, 3, 3, 10, 15, 30, tzinfo=ICT)
    assert status.signing_cert.subject.native["common_name"] == APPROVER_NAME


def test_result_pdf_reads_in_vietnamese_with_code_and_lookup(world: World) -> None:
    code, _ = approved(world)
    text = text_of(download(world, code))
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH",
        f"Mã kết quả: {code}-KQ1",
        "ỦY BAN NHÂN DÂN XÃ TIÊN YÊN",
        "Thủ tục hành chính: Đăng ký khai sinh",
        "Lê Văn Hùng",
        APPROVER_NAME,
        "Tiên Yên, ngày 03 tháng 03 năm 2026",  # the place in the date line (Decree 30/2020)
        f"/tra-cuu?code={code}&secret=",
        "Mã QR mở trang tra cứu hồ sơ kèm mã tra cứu",
        "SIMULATION — NOT FOR LEGAL USE",
    ):
        assert expected in text, expected


def test_any_changed_byte_makes_the_result_invalid(world: World) -> None:
    code, _ = approved(world)
    pdf = download(world, code)
    tampered = pdf.replace(b"/MediaBox [ 0 0 595.2756", b"/MediaBox [ 0 0 595.2757", 1)  # a wider page
    assert tampered != pdf
    report = verify(world.client, tampered)
    assert report["valid"] is False and report["intact"] is False
    assert "thay đổi" in report["reason"]

    flipped = bytearray(pdf)
    flipped[len(pdf) // 3] ^= 0x01
    assert verify(world.client, bytes(flipped))["valid"] is False
    appended = pdf + b"\n% appended after signing\n"
    assert verify(world.client, appended)["valid"] is False


GARBAGE = [b"", b"not a pdf at all", b"%PDF-1.7\n%%EOF", b"%PDF-1.4\n" + bytes(range(256)) * 40]


@pytest.mark.parametrize("content", GARBAGE)
def test_garbage_is_a_200_with_valid_false(client: TestClient, content: bytes) -> None:
    report = verify(client, content)
    assert report["valid"] is False and report["reason"]


def test_an_unsigned_pdf_is_not_valid(world: World) -> None:
    code = world.submit()["code"]
    signed = download(world, code, "receipt")
    unsigned = signed[: signed.index(b"%%EOF") + 5]  # the first revision: the PDF as rendered, before signing
    report = verify(world.client, unsigned)
    assert report["valid"] is False and report["reason"] == "Tệp không có chữ ký số"


def test_verify_caps_the_upload_and_needs_a_file(world: World) -> None:
    limited = world.client.app.state.context.settings.max_upload_bytes  # type: ignore[attr-defined]
    too_big = b"%PDF-1.7\n" + b"0" * (limited + 1)
    response = world.client.post("/api/v1/signatures/verify",
                                 files={"file": ("big.pdf", too_big, "application/pdf")})
    assert response.status_code == 413 and response.json()["code"] == "FILE_TOO_LARGE"
    response = world.client.post("/api/v1/signatures/verify", data={"other": "x"})
    assert response.status_code == 422 and response.json()["code"] == "FILE_REQUIRED"
    response = world.client.post("/api/v1/signatures/verify", content=b"x",
                                 headers={"content-type": "text/plain"})
    assert response.status_code == 422


def test_no_result_before_approval_and_none_for_other_agencies(world: World) -> None:
    code = processing(world)
    for path in ("result", "result/document"):
        response = world.client.get(f"/api/v1/dossiers/{code}/{path}", headers=world.as_("receiver"))
        assert response.status_code == 404
        assert response.json()["code"] == "RESULT_NOT_FOUND"
    dossier = world.client.get(f"/api/v1/dossiers/{code}", headers=world.as_("receiver")).json()
    assert dossier["result"] is None
    world.act(code, "approve", "approver")
    for who in ("approver.ql", "other_citizen"):
        response = world.client.get(f"/api/v1/dossiers/{code}/result/document", headers=world.as_(who))
        assert response.status_code == 404
        assert response.json()["code"] == "DOSSIER_NOT_FOUND"
    assert world.client.get(f"/api/v1/dossiers/{code}/result").status_code == 401


def test_the_control_slip_records_the_result(world: World) -> None:
    code, result = approved(world)
    with db(world).transaction(read_only=True) as session:
        dossier = session.exec(select(Dossier).where(Dossier.code == code)).one()
        event = session.exec(select(DossierEvent).where(DossierEvent.dossier_id == dossier.id,
                                                        DossierEvent.action == "approve")).one()
    assert event.data["result_code"] == result["code"]
    assert event.data["result_sha256"] == result["sha256"]
    assert event.data["certificate_serial"] == result["certificate_serial"]
    assert world.client.get(f"/api/v1/dossiers/{code}/history/verify",
                            headers=world.as_("receiver")).json()["valid"] is True


def test_a_signing_failure_rolls_the_whole_approval_back(world: World,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    code = processing(world)
    before = world.client.get(f"/api/v1/dossiers/{code}", headers=world.as_("approver")).json()
    history_url = f"/api/v1/dossiers/{code}/history"
    history_before = world.client.get(history_url, headers=world.as_("approver")).json()

    def broken(*_: Any, **__: Any) -> bytes:
        raise RuntimeError("simulated HSM failure")

    monkeypatch.setattr(pades, "sign_pdf", broken)
    response = world.client.post(f"/api/v1/dossiers/{code}/actions/approve", json={},
                                 headers=world.as_("approver"))
    assert response.status_code == 503 and response.json()["code"] == "SIGNING_FAILED"
    assert world.client.get(f"/api/v1/dossiers/{code}", headers=world.as_("approver")).json() == before
    assert world.client.get(history_url, headers=world.as_("approver")).json() == history_before
    with db(world).transaction(read_only=True) as session:
        assert session.exec(select(func.count()).select_from(ResultDocument)).one() == 0
        assert session.exec(select(func.count()).select_from(Blob)).one() == 0
        # even the root and issuing CA created on this first need went with the rollback
        assert session.exec(select(func.count()).select_from(PkiCertificate)).one() == 0

    monkeypatch.undo()
    assert world.act(code, "approve", "approver")["status"] == "result_ready"
    assert verify(world.client, download(world, code))["valid"] is True


def test_a_repeated_approval_with_the_same_key_signs_once(world: World) -> None:
    code = processing(world)
    first = world.act(code, "approve", "approver", **{"Idempotency-Key": "approve-1"})
    again = world.act(code, "approve", "approver", **{"Idempotency-Key": "approve-1"})
    assert again["result"] == first["result"]
    with db(world).transaction(read_only=True) as session:
        assert session.exec(select(func.count()).select_from(ResultDocument)).one() == 1


# ---------------------------------------------------------------- the receipt (Mẫu 01)


def test_the_receipt_is_signed_by_the_desk_at_reception(world: World) -> None:
    code = world.submit()["code"]  # counter: received at 2026-03-02 08:00
    pdf = download(world, code, "receipt")
    text = text_of(pdf)
    for expected in (
        "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        f"Mã hồ sơ: {code}",
        "Số: 0001/TNHS",
        "Ông/Bà: Lê Văn Hùng",
        "Nội dung yêu cầu giải quyết: Đăng ký khai sinh",
        "- Tờ khai đăng ký khai sinh",
        "- Giấy chứng sinh",
        "Thời gian giải quyết hồ sơ theo quy định: 03 ngày làm việc",
        "Thời gian nhận hồ sơ: 08 giờ 00 phút, ngày 02 tháng 03 năm 2026",
        "Hẹn trả kết quả giải quyết hồ sơ: 08 giờ 00 phút, ngày 05 tháng 03 năm 2026",
        "Đăng ký nhận kết quả tại: Bộ phận Tiếp nhận và Trả kết quả — Ủy ban nhân dân xã Tiên Yên",
        "Cán bộ tiepnhan",
        f"/tra-cuu?code={code}&secret=",
        "Mã QR mở trang tra cứu hồ sơ kèm mã tra cứu",
    ):
        assert expected in text, expected
    report = verify(world.client, pdf)
    assert report["valid"] is True and report["trusted"] is True
    assert report["signer"] == "Bộ phận Một cửa — Ủy ban nhân dân xã Tiên Yên"
    assert report["signed_at"] == "2026-03-02T08:00:00+07:00"
    assert pyhanko_status(world.client, pdf).bottom_line

    # one desk certificate per agency, issued once and kept
    world.set_clock("2026-03-04T09:00:00+07:00")
    again = verify(world.client, download(world, code, "receipt", who="receiver"))
    assert again["certificate_serial"] == report["certificate_serial"]
    assert again["signed_at"] == "2026-03-02T08:00:00+07:00"
    desks = world.client.get("/api/v1/pki/certificates?kind=desk", headers=world.as_("admin")).json()["items"]
    assert [(d["owner"], d["serial"]) for d in desks] == [(COMMUNE, report["certificate_serial"])]


def test_no_receipt_before_reception(world: World) -> None:
    code = world.submit(who="citizen", channel="online", applicant=None)["code"]
    response = world.client.get(f"/api/v1/dossiers/{code}/receipt", headers=world.as_("citizen"))
    assert response.status_code == 404 and response.json()["code"] == "RECEIPT_NOT_FOUND"
    world.set_clock("2026-03-02T14:10:00+07:00")
    world.act(code, "receive", "receiver")
    pdf = download(world, code, "receipt")
    assert "Thời gian nhận hồ sơ: 14 giờ 10 phút, ngày 02 tháng 03 năm 2026" in text_of(pdf)
    assert "Trực tuyến" not in text_of(pdf)  # result collected at the counter
    assert verify(world.client, pdf)["signed_at"] == "2026-03-02T14:10:00+07:00"


# ---------------------------------------------------------------- the apology letter (Mẫu 04)


def test_the_apology_letter_is_signed_by_the_approver_who_extended(world: World) -> None:
    code = processing(world)
    response = world.client.get(f"/api/v1/dossiers/{code}/apology-letter", headers=world.as_("citizen"))
    assert response.status_code == 404 and response.json()["code"] == "APOLOGY_LETTER_NOT_FOUND"
    world.set_clock("2026-03-03T09:00:00+07:00")
    world.act(code, "extend", "approver", {"new_due_at": "2026-03-10T17:00:00+07:00",
                                           "reason": "Cần xác minh thông tin tại nơi cư trú"})
    pdf = download(world, code, "apology-letter")
    text = text_of(pdf)
    for expected in (
        "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ",
        "Kính gửi: Lê Văn Hùng",
        f"Mã hồ sơ: {code}",
        "08 giờ 00 phút, ngày 05 tháng 03 năm 2026",
        "Cần xác minh thông tin tại nơi cư trú",
        "Hẹn lại ngày trả kết quả: 17 giờ 00 phút, ngày 10 tháng 03 năm 2026",
        APPROVER_NAME,
    ):
        assert expected in text, expected
    report = verify(world.client, pdf)
    assert report["valid"] is True
    assert report["signer"] == APPROVER_NAME
    assert report["signed_at"] == "2026-03-03T09:00:00+07:00"


def test_documents_need_a_token(client: TestClient) -> None:
    for path in ("result", "result/document", "receipt", "apology-letter"):
        assert client.get(f"/api/v1/dossiers/X-1/{path}").status_code == 401


def test_results_are_listed_with_the_dossier(world: World) -> None:
    code, result = approved(world)
    listed = world.client.get("/api/v1/dossiers?status=result_ready", headers=world.as_("receiver")).json()
    assert [(d["code"], d["result"]) for d in listed["items"]] == [(code, result)]
    with db(world).transaction(read_only=True) as session:
        stored = session.exec(select(ResultDocument).where(col(ResultDocument.code) == result["code"])).one()
    assert stored.signer_username == "lanhdao"
