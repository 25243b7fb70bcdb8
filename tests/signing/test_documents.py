"""PDF forms: Mẫu 01 receipt, result document, Mẫu 04 apology letter (Vietnamese text survives)."""

from __future__ import annotations

import io
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4, A5

from service.signing import documents as d

from .conftest import VN


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    raw = "\n".join(page.extract_text() or "" for page in reader.pages)
    return " ".join(raw.split())


def _page_size(pdf: bytes) -> tuple[float, float]:
    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    return float(box.width), float(box.height)


def test_receipt_text_keeps_vietnamese_diacritics(receipt_pdf: bytes) -> None:
    text = _text(receipt_pdf)
    for expected in [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        "GIẤY TIẾP NHẬN HỒ SƠ",
        "Nguyễn Thị Ánh",
        "Hẹn trả",
        "Mã hồ sơ: 000.26.01.H26-260305-0001",
        "Số: 125/TNHS",
        "Đăng ký khai sinh",
        "Tờ khai đăng ký khai sinh (bản chính)",
        "Giấy chứng sinh (bản chính)",
        "05 ngày làm việc",
        "Thời gian nhận hồ sơ: 08 giờ 30 phút, ngày 05 tháng 03 năm 2026",
        "Hẹn trả kết quả giải quyết hồ sơ: 16 giờ 00 phút, ngày 12 tháng 03 năm 2026",
        "Đăng ký nhận kết quả tại: Bộ phận Một cửa UBND xã Lũng Cú",
        "Trần Văn Bình",
        "0912 345 678",
        "Lũng Cú, ngày 05 tháng 03 năm 2026",
        "https://motcua.example.vn/tra-cuu/000.26.01.H26-260305-0001",
        "SIMULATION — NOT FOR LEGAL USE",
    ]:
        assert expected in text, expected
    assert text == unicodedata.normalize("NFC", text)


def test_receipt_is_a5_and_deterministic(receipt_data: d.ReceiptData, receipt_pdf: bytes) -> None:
    assert _page_size(receipt_pdf) == pytest.approx(A5, abs=0.5)
    assert d.render_receipt(receipt_data) == receipt_pdf
    meta = PdfReader(io.BytesIO(receipt_pdf)).metadata
    assert meta is not None
    assert meta["/CreationDate"] == "D:20260305083000+07'00'"
    assert "000.26.01.H26-260305-0001" in str(meta["/Title"])


def test_times_are_shown_in_ho_chi_minh_time(receipt_data: d.ReceiptData) -> None:
    utc_data = replace(
        receipt_data,
        received_at=datetime(2026, 3, 5, 1, 30, tzinfo=UTC),
        due_at=datetime(2026, 3, 12, 9, 0, tzinfo=UTC),
    )
    text = _text(d.render_receipt(utc_data))
    assert "08 giờ 30 phút, ngày 05 tháng 03 năm 2026" in text
    assert "16 giờ 00 phút, ngày 12 tháng 03 năm 2026" in text


def test_decomposed_input_is_normalised(receipt_data: d.ReceiptData) -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Ánh")
    text = _text(d.render_receipt(replace(receipt_data, applicant_name=nfd)))
    assert "Nguyễn Thị Ánh" in text


def test_markup_characters_are_escaped(receipt_data: d.ReceiptData) -> None:
    text = _text(d.render_receipt(replace(receipt_data, applicant_address='Ngõ 5 <b> & "Phố" Huế')))
    assert 'Ngõ 5 <b> & "Phố" Huế' in text


def test_naive_datetimes_are_rejected(receipt_data: d.ReceiptData) -> None:
    with pytest.raises(ValueError, match="received_at"):
        replace(receipt_data, received_at=datetime(2026, 3, 5, 8, 30))  # noqa: DTZ001


def test_format_helpers() -> None:
    dt = datetime(2026, 1, 2, 7, 5, tzinfo=VN)
    assert d.format_vn_datetime(dt) == "07 giờ 05 phút, ngày 02 tháng 01 năm 2026"
    assert d.format_vn_date(dt) == "ngày 02 tháng 01 năm 2026"
    assert d.result_code("X-1") == "X-1-KQ1"
    assert d.result_code("X-1", 2) == "X-1-KQ2"


def test_result_document(result_data: d.ResultData, result_pdf: bytes) -> None:
    assert result_data.code == "000.26.01.H26-260305-0001-KQ1"
    text = _text(result_pdf)
    for expected in [
        "KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH",
        "000.26.01.H26-260305-0001-KQ1",
        "UBND xã Lũng Cú",
        "Đăng ký khai sinh",
        "Nguyễn Thị Ánh",
        "Đồng ý đăng ký khai sinh cho cháu Lê Minh Khôi.",
        "KT. CHỦ TỊCH",
        "PHÓ CHỦ TỊCH",
        "Phạm Quốc Hưng",
        "Ngày 10 tháng 03 năm 2026",
        "https://motcua.example.vn/tra-cuu/000.26.01.H26-260305-0001",
    ]:
        assert expected in text, expected
    assert _page_size(result_pdf) == pytest.approx(A4, abs=0.5)


def test_apology_letter() -> None:
    data = d.ApologyData(
        agency_name="UBND xã Lũng Cú",
        dossier_code="000.26.01.H26-260305-0001",
        applicant_name="Nguyễn Thị Ánh",
        procedure_name="Đăng ký khai sinh",
        received_at=datetime(2026, 3, 5, 8, 30, tzinfo=VN),
        original_due_at=datetime(2026, 3, 12, 16, 0, tzinfo=VN),
        reason="Cần xác minh thông tin với Ủy ban nhân dân xã nơi cư trú trước đây",
        new_due_at=datetime(2026, 3, 19, 16, 0, tzinfo=VN),
        signer_name="Phạm Quốc Hưng",
        signer_title="CHỦ TỊCH",
        issued_at=datetime(2026, 3, 12, 9, 0, tzinfo=VN),
        letter_number="07",
        lookup_url="https://motcua.example.vn/tra-cuu/000.26.01.H26-260305-0001",
    )
    pdf = d.render_apology_letter(data)
    text = _text(pdf)
    for expected in [
        "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ",
        "Số: 07/PXL",
        "Kính gửi: Nguyễn Thị Ánh",
        "16 giờ 00 phút, ngày 12 tháng 03 năm 2026",
        "Cần xác minh thông tin với Ủy ban nhân dân xã nơi cư trú trước đây",
        "Hẹn lại ngày trả kết quả: 16 giờ 00 phút, ngày 19 tháng 03 năm 2026",
        "xin lỗi Ông/Bà",
        "CHỦ TỊCH",
        "Phạm Quốc Hưng",
    ]:
        assert expected in text, expected
    assert _page_size(pdf) == pytest.approx(A5, abs=0.5)
    # no QR is fine too
    assert d.render_apology_letter(replace(data, lookup_url=None)).startswith(b"%PDF-")


def test_font_directory_is_vendored() -> None:
    for style in ("Regular", "Bold", "Italic", "BoldItalic"):
        assert (d.FONT_DIR / f"LiberationSerif-{style}.ttf").is_file()
    assert "SIL" in (d.FONT_DIR / "LICENSE-LiberationSerif").read_text()


@pytest.mark.parametrize("style", ["Regular", "Bold", "Italic", "BoldItalic"])
def test_the_font_has_every_vietnamese_letter(style: str) -> None:
    """Each Vietnamese letter (17 consonants, 12 vowels × 6 tones), lower and upper case, has its own glyph."""
    import unicodedata

    from reportlab.pdfbase.ttfonts import TTFont

    letters = set("abcdđeghiklmnopqrstuvxy")
    for vowel in "aăâeêioôơuưy":
        letters |= {unicodedata.normalize("NFC", vowel + tone) for tone in ("", "\u0300", "\u0301", "\u0303",
                                                                              "\u0309", "\u0323")}
    letters |= {c.upper() for c in letters}
    font = TTFont(f"check-{style}", str(d.FONT_DIR / f"LiberationSerif-{style}.ttf"))
    assert len(letters) == 2 * (17 + 12 * 6)
    assert sorted(c for c in letters if ord(c) not in font.face.charToGlyph) == []
