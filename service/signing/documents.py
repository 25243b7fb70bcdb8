"""PDF rendering of one-stop forms and result documents (reportlab, Liberation Serif, QR code).

* Mẫu 01 "Giấy tiếp nhận hồ sơ và hẹn trả kết quả" and Mẫu 04 "Phiếu xin lỗi và hẹn lại ngày trả kết
  quả" follow Circular 01/2018/TT-VPCP (Art. 9: A5 paper; Art. 10: forms are recorded in the one-stop
  information system and digitally signed — see :mod:`service.signing.pades`).
* The result document ("<dossier code>-KQ1") is the electronic result of Decree 45/2020/NĐ-CP
  Art. 14(3), to be signed by the competent agency; it is printed on A4.

Every document carries a QR code pointing at the public lookup URL given by the caller, and a footer
marking it as a simulation. Output is deterministic: reportlab runs in ``invariant`` mode and the PDF
creation date is taken from the data, so equal inputs give byte-identical PDFs.

Datetimes must be timezone-aware; they are shown in Asia/Ho_Chi_Minh.
"""

from __future__ import annotations

import io
import itertools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_RIGHT
from reportlab.lib.pagesizes import A4, A5
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

__all__ = [
    "FONT_DIR",
    "ApologyData",
    "ReceiptData",
    "ResultData",
    "format_vn_date",
    "format_vn_datetime",
    "render_apology_letter",
    "render_receipt",
    "render_result",
    "result_code",
]

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
FONT_DIR = Path(__file__).parent.parent / "assets" / "fonts"
FONT = "LiberationSerif"
FONT_BOLD = "LiberationSerif-Bold"
FONT_ITALIC = "LiberationSerif-Italic"
FONT_BOLD_ITALIC = "LiberationSerif-BoldItalic"
"""Decree 30/2020/NĐ-CP (Appendix I) prescribes a Unicode Times New Roman-style typeface for administrative
documents. Liberation Serif (SIL Open Font License 1.1, ``assets/fonts/LICENSE-LiberationSerif``) is metrically
compatible with Times New Roman and covers every Vietnamese letter with its tone marks (a test checks)."""

NATIONAL_TITLE = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
NATIONAL_MOTTO = "Độc lập - Tự do - Hạnh phúc"
SIMULATION_FOOTER = "Văn bản mô phỏng — SIMULATION — NOT FOR LEGAL USE"


# --- input data -------------------------------------------------------------------------------------


def _check_aware(obj: object) -> None:
    for f in fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        if isinstance(value, datetime) and (value.tzinfo is None or value.utcoffset() is None):
            raise ValueError(f"{type(obj).__name__}.{f.name} must be timezone-aware")


@dataclass(frozen=True)
class ReceiptData:
    """Inputs of Mẫu 01 — Giấy tiếp nhận hồ sơ và hẹn trả kết quả (Circular 01/2018/TT-VPCP)."""

    agency_name: str  # receiving desk, e.g. "Bộ phận Tiếp nhận và Trả kết quả UBND xã …"
    dossier_code: str
    applicant_name: str
    applicant_address: str
    applicant_phone: str
    procedure_name: str
    documents: Sequence[str]  # 1. Thành phần hồ sơ
    processing_time_text: str  # e.g. "05 ngày làm việc"
    received_at: datetime
    due_at: datetime
    delivery_place: str  # 6. Đăng ký nhận kết quả tại
    receiver_name: str
    lookup_url: str
    parent_agency_name: str | None = None  # cơ quan chủ quản, top line of the header
    applicant_email: str | None = None
    receipt_number: str | None = None  # "Số: …/TNHS"
    sets_count: int = 1  # 2. Số lượng hồ sơ (bộ)
    place_name: str | None = None  # "Hà Nội, ngày … tháng … năm …"
    book_number: str | None = None  # Quyển số
    book_sequence: str | None = None  # Số thứ tự
    lookup_note: str | None = None  # printed under the QR caption (e.g. what else the lookup needs)

    def __post_init__(self) -> None:
        _check_aware(self)


@dataclass(frozen=True)
class ResultData:
    """Inputs of the electronic result document ``<dossier code>-KQ<n>`` (Decree 45/2020 Art. 14(3))."""

    dossier_code: str
    agency_name: str
    procedure_name: str
    applicant_name: str
    decision_text: str  # paragraphs separated by blank lines / newlines
    approver_name: str
    decided_at: datetime
    lookup_url: str
    parent_agency_name: str | None = None
    applicant_address: str | None = None
    approver_title: str = "THỦ TRƯỞNG CƠ QUAN"
    title: str = "KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH"
    result_number: int = 1  # the n in "-KQn"
    place_name: str | None = None
    lookup_note: str | None = None  # printed under the QR caption

    def __post_init__(self) -> None:
        _check_aware(self)

    @property
    def code(self) -> str:
        return result_code(self.dossier_code, self.result_number)


@dataclass(frozen=True)
class ApologyData:
    """Inputs of Mẫu 04 — Phiếu xin lỗi và hẹn lại ngày trả kết quả (Circular 01/2018/TT-VPCP)."""

    agency_name: str
    dossier_code: str
    applicant_name: str
    procedure_name: str
    received_at: datetime
    original_due_at: datetime
    reason: str
    new_due_at: datetime
    signer_name: str  # head of the agency
    issued_at: datetime
    parent_agency_name: str | None = None
    signer_title: str = "THỦ TRƯỞNG CƠ QUAN"
    letter_number: str | None = None  # "Số: …/PXL"
    place_name: str | None = None
    lookup_url: str | None = None
    lookup_note: str | None = None  # printed under the QR caption

    def __post_init__(self) -> None:
        _check_aware(self)


def result_code(dossier_code: str, n: int = 1) -> str:
    """The result identifier ``<Mã hồ sơ>-KQ<n>`` (domain §10)."""
    return f"{dossier_code}-KQ{n}"


# --- formatting -------------------------------------------------------------------------------------


def format_vn_datetime(dt: datetime) -> str:
    """``"08 giờ 30 phút, ngày 05 tháng 03 năm 2026"`` in Asia/Ho_Chi_Minh."""
    local = dt.astimezone(VN_TZ)
    return f"{local.hour:02d} giờ {local.minute:02d} phút, {format_vn_date(local)}"


def format_vn_date(dt: datetime) -> str:
    """``"ngày 05 tháng 03 năm 2026"`` in Asia/Ho_Chi_Minh."""
    local = dt.astimezone(VN_TZ)
    return f"ngày {local.day:02d} tháng {local.month:02d} năm {local.year}"


def _pdf_date(dt: datetime) -> str:
    local = dt.astimezone(VN_TZ)
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hh, mm_ = divmod(abs(minutes), 60)
    return f"D:{local:%Y%m%d%H%M%S}{sign}{hh:02d}'{mm_:02d}'"


def _t(text: str) -> str:
    """NFC-normalise (the font has precomposed Vietnamese glyphs) and escape for Paragraph markup;
    newlines become line breaks."""
    return escape(unicodedata.normalize("NFC", text)).replace("\n", "<br/>")


# --- reportlab plumbing -----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _register_fonts() -> None:
    for name, file in ((FONT, "LiberationSerif-Regular.ttf"), (FONT_BOLD, "LiberationSerif-Bold.ttf"),
                       (FONT_ITALIC, "LiberationSerif-Italic.ttf"),
                       (FONT_BOLD_ITALIC, "LiberationSerif-BoldItalic.ttf")):
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / file)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT_ITALIC,
                                  boldItalic=FONT_BOLD_ITALIC)


@dataclass(frozen=True)
class _Styles:
    body: ParagraphStyle
    small: ParagraphStyle
    center: ParagraphStyle
    title: ParagraphStyle
    small_center: ParagraphStyle
    dateline: ParagraphStyle


def _styles(base: float) -> _Styles:
    _register_fonts()  # paragraphs resolve their font family at construction time
    body = ParagraphStyle(
        "body",
        fontName=FONT,
        fontSize=base,
        leading=base * 1.35,
        alignment=TA_JUSTIFY,
        spaceAfter=base * 0.15,
    )
    return _Styles(
        body=body,
        small=ParagraphStyle("small", parent=body, fontSize=base - 1.5, leading=(base - 1.5) * 1.3),
        center=ParagraphStyle("center", parent=body, alignment=TA_CENTER),
        title=ParagraphStyle(
            "title",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=base + 2,
            leading=(base + 2) * 1.3,
            alignment=TA_CENTER,
            spaceBefore=base,
            spaceAfter=base * 0.6,
        ),
        small_center=ParagraphStyle(
            "small_center", parent=body, fontSize=base - 1.5, leading=(base - 1.5) * 1.3, alignment=TA_CENTER
        ),
        dateline=ParagraphStyle("dateline", parent=body, alignment=TA_RIGHT),
    )


QR_QUIET_ZONE = 4  # modules of white margin around a QR code (ISO/IEC 18004)


class _Qr(Flowable):
    """A QR code of ``url`` (side ``size`` points)."""

    def __init__(self, url: str, size: float) -> None:
        super().__init__()
        self.url = url
        self.size = size
        self.width = self.height = size

    def draw(self) -> None:
        # Encoded by reportlab's QR widget, drawn straight onto the canvas as one filled path (runs of dark
        # modules as rectangles, 4-module quiet zone, as the widget does): the widget's own draw() builds one
        # graphics node per module, which made the QR code most of a document's rendering time.
        qr = QrCodeWidget(self.url, barLevel="M").qr
        qr.make()
        box = self.size / (qr.getModuleCount() + 2 * QR_QUIET_ZONE)
        path = self.canv.beginPath()
        for r, row in enumerate(qr.modules):
            c = 0
            for dark, run in itertools.groupby(bool(module) for module in row):
                length = sum(1 for _ in run)
                if dark:
                    top = self.size - (r + QR_QUIET_ZONE + 1) * box
                    path.rect((c + QR_QUIET_ZONE) * box, top, length * box, box)
                c += length
        self.canv.saveState()
        self.canv.setFillColor(colors.black)
        self.canv.drawPath(path, stroke=0, fill=1)
        self.canv.restoreState()


def _header(st: _Styles, parent: str | None, agency: str, number_line: str | None, width: float) -> Table:
    left: list[Flowable] = []
    if parent:
        left.append(Paragraph(_t(parent.upper()), st.center))
    left.append(Paragraph(f"<b>{_t(agency.upper())}</b>", st.center))
    left.append(Paragraph("———", st.center))
    if number_line:
        left.append(Paragraph(_t(number_line), st.small_center))
    right = [
        Paragraph(f"<b>{_t(NATIONAL_TITLE)}</b>", st.center),
        Paragraph(f"<b>{_t(NATIONAL_MOTTO)}</b>", st.center),
        Paragraph("———————", st.center),
    ]
    table = Table([[left, right]], colWidths=[width * 0.42, width * 0.58])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def _place_date(place: str | None, dt: datetime) -> str:
    text = format_vn_date(dt)
    return f"{place}, {text}" if place else text[0].upper() + text[1:]


def _qr_block(st: _Styles, url: str, width: float, size: float, note: str | None = None) -> Table:
    extra = f"<br/>{_t(note)}" if note else ""
    caption = Paragraph(f"Quét mã QR hoặc truy cập địa chỉ sau để tra cứu:<br/>{_t(url)}{extra}", st.small)
    table = Table([[_Qr(url, size), caption]], colWidths=[size + 4 * mm, width - size - 4 * mm])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def _signature_table(cells: Sequence[Sequence[Flowable]], width: float) -> Table:
    table = Table([list(cells)], colWidths=[width / len(cells)] * len(cells))
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _build(
    story: list[Flowable],
    *,
    pagesize: tuple[float, float],
    margin: float,
    title: str,
    subject: str,
    author: str,
    created_at: datetime,
) -> bytes:
    _register_fonts()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=pagesize,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin * 0.8,
        bottomMargin=margin * 0.8,
        title=unicodedata.normalize("NFC", title),
        subject=unicodedata.normalize("NFC", subject),
        author=unicodedata.normalize("NFC", author),
        creator="Một Cửa simulator (reportlab)",
        producer="Một Cửa simulator",
        invariant=1,
        lang="vi-VN",
    )
    stamp = _pdf_date(created_at)

    def on_page(canvas: Any, _doc: Any) -> None:
        canvas.setDateFormatter(lambda *_args: stamp)
        canvas.saveState()
        canvas.setFont(FONT, 6.5)
        canvas.setFillColor(colors.grey)
        canvas.drawString(margin, margin * 0.4, SIMULATION_FOOTER)
        canvas.drawRightString(pagesize[0] - margin, margin * 0.4, f"Trang {canvas.getPageNumber()}")
        canvas.restoreState()

    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buf.getvalue()


# --- documents --------------------------------------------------------------------------------------


def render_receipt(data: ReceiptData) -> bytes:
    """Mẫu 01 — GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ (A5), to be signed by the receiving desk."""
    pagesize, margin = A5, 12 * mm
    width = pagesize[0] - 2 * margin
    st = _styles(8.5)
    number = f"Số: {data.receipt_number}/TNHS" if data.receipt_number else "Số: …/TNHS"
    story: list[Flowable] = [
        _header(st, data.parent_agency_name, data.agency_name, number, width),
        Spacer(1, 2 * mm),
        Paragraph(_t(_place_date(data.place_name, data.received_at)), st.dateline),
        Paragraph(_t("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"), st.title),
        Paragraph(f"Mã hồ sơ: <b>{_t(data.dossier_code)}</b>", st.center),
        Spacer(1, 2 * mm),
        Paragraph(f"{_t(data.agency_name)} tiếp nhận hồ sơ của:", st.body),
        Paragraph(f"Ông/Bà: <b>{_t(data.applicant_name)}</b>", st.body),
        Paragraph(f"Địa chỉ: {_t(data.applicant_address)}", st.body),
        Paragraph(
            f"Số điện thoại: {_t(data.applicant_phone)}"
            + (f" &nbsp; Thư điện tử: {_t(data.applicant_email)}" if data.applicant_email else ""),
            st.body,
        ),
        Paragraph(f"Nội dung yêu cầu giải quyết: <b>{_t(data.procedure_name)}</b>", st.body),
        Spacer(1, 1.5 * mm),
        Paragraph("1. Thành phần hồ sơ nộp gồm:", st.body),
    ]
    docs = list(data.documents) or ["(không có)"]
    story += [Paragraph(f"&nbsp;&nbsp;- {_t(item)}", st.body) for item in docs]
    story += [
        Paragraph(f"2. Số lượng hồ sơ: {data.sets_count:02d} (bộ)", st.body),
        Paragraph(f"3. Thời gian giải quyết hồ sơ theo quy định: {_t(data.processing_time_text)}", st.body),
        Paragraph(f"4. Thời gian nhận hồ sơ: {_t(format_vn_datetime(data.received_at))}", st.body),
        Paragraph(
            f"5. Hẹn trả kết quả giải quyết hồ sơ: <b>{_t(format_vn_datetime(data.due_at))}</b>", st.body
        ),
        Paragraph(f"6. Đăng ký nhận kết quả tại: {_t(data.delivery_place)}", st.body),
        Paragraph(
            f"Vào Sổ theo dõi hồ sơ, Quyển số: {_t(data.book_number or '…')} "
            f"Số thứ tự: {_t(data.book_sequence or '…')}",
            st.small,
        ),
        Spacer(1, 3 * mm),
        _signature_table(
            [
                [
                    Paragraph("<b>NGƯỜI NỘP HỒ SƠ</b>", st.center),
                    Paragraph("(Ký và ghi rõ họ tên)", st.small_center),
                    Spacer(1, 10 * mm),
                    Paragraph(_t(data.applicant_name), st.center),
                ],
                [
                    Paragraph("<b>NGƯỜI TIẾP NHẬN HỒ SƠ</b>", st.center),
                    Paragraph("(Ký số và ghi rõ họ tên)", st.small_center),
                    Spacer(1, 10 * mm),
                    Paragraph(_t(data.receiver_name), st.center),
                ],
            ],
            width,
        ),
        Spacer(1, 3 * mm),
        _qr_block(st, data.lookup_url, width, 20 * mm, data.lookup_note),
    ]
    return _build(
        story,
        pagesize=pagesize,
        margin=margin,
        title=f"Giấy tiếp nhận hồ sơ và hẹn trả kết quả {data.dossier_code}",
        subject="Mẫu 01 — Thông tư 01/2018/TT-VPCP",
        author=data.agency_name,
        created_at=data.received_at,
    )


def render_result(data: ResultData) -> bytes:
    """The result document ``<dossier code>-KQ1`` (A4), to be signed by the approver/agency."""
    pagesize, margin = A4, 20 * mm
    width = pagesize[0] - 2 * margin
    st = _styles(11)
    story: list[Flowable] = [
        _header(st, data.parent_agency_name, data.agency_name, f"Số: {data.code}", width),
        Spacer(1, 3 * mm),
        Paragraph(_t(_place_date(data.place_name, data.decided_at)), st.dateline),
        Paragraph(_t(data.title.upper()), st.title),
        Paragraph(f"Mã kết quả: <b>{_t(data.code)}</b> — Mã hồ sơ: {_t(data.dossier_code)}", st.center),
        Spacer(1, 4 * mm),
        Paragraph(f"Cơ quan giải quyết: {_t(data.agency_name)}", st.body),
        Paragraph(f"Thủ tục hành chính: <b>{_t(data.procedure_name)}</b>", st.body),
        Paragraph(f"Tổ chức, cá nhân: <b>{_t(data.applicant_name)}</b>", st.body),
    ]
    if data.applicant_address:
        story.append(Paragraph(f"Địa chỉ: {_t(data.applicant_address)}", st.body))
    story.append(Spacer(1, 3 * mm))
    for para in (p.strip() for p in data.decision_text.splitlines()):
        if para:
            story.append(Paragraph(_t(para), st.body))
            story.append(Spacer(1, 1.5 * mm))
    story += [
        Spacer(1, 6 * mm),
        _signature_table(
            [
                [
                    Paragraph("<b>Nơi nhận:</b>", st.small),
                    Paragraph(f"- {_t(data.applicant_name)};", st.small),
                    Paragraph("- Lưu: VT, hồ sơ TTHC.", st.small),
                ],
                [
                    Paragraph(f"<b>{_t(data.approver_title.upper())}</b>", st.center),
                    Paragraph("(Đã ký số)", st.small_center),
                    Spacer(1, 12 * mm),
                    Paragraph(f"<b>{_t(data.approver_name)}</b>", st.center),
                ],
            ],
            width,
        ),
        Spacer(1, 8 * mm),
        _qr_block(st, data.lookup_url, width, 26 * mm, data.lookup_note),
    ]
    return _build(
        story,
        pagesize=pagesize,
        margin=margin,
        title=f"{data.title} {data.code}",
        subject=f"Kết quả giải quyết TTHC — hồ sơ {data.dossier_code}",
        author=data.agency_name,
        created_at=data.decided_at,
    )


def render_apology_letter(data: ApologyData) -> bytes:
    """Mẫu 04 — PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ (A5), signed by the head of the agency."""
    pagesize, margin = A5, 12 * mm
    width = pagesize[0] - 2 * margin
    st = _styles(8.5)
    number = f"Số: {data.letter_number}/PXL" if data.letter_number else "Số: …/PXL"
    story: list[Flowable] = [
        _header(st, data.parent_agency_name, data.agency_name, number, width),
        Spacer(1, 2 * mm),
        Paragraph(_t(_place_date(data.place_name, data.issued_at)), st.dateline),
        Paragraph(_t("PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ"), st.title),
        Paragraph(f"Kính gửi: <b>{_t(data.applicant_name)}</b>", st.center),
        Spacer(1, 2 * mm),
        Paragraph(
            f"Ngày {_t(format_vn_date(data.received_at).removeprefix('ngày '))}, {_t(data.agency_name)} "
            f"tiếp nhận giải quyết hồ sơ của Ông/Bà đề nghị giải quyết thủ tục "
            f"<b>{_t(data.procedure_name)}</b>. Mã hồ sơ: <b>{_t(data.dossier_code)}</b>.",
            st.body,
        ),
        Paragraph(
            f"Thời gian hẹn trả kết quả giải quyết hồ sơ: {_t(format_vn_datetime(data.original_due_at))}.",
            st.body,
        ),
        Paragraph(
            "Tuy nhiên đến nay, " + _t(data.agency_name) + " chưa trả kết quả giải quyết hồ sơ của "
            "Ông/Bà đúng hẹn như đã ghi trên Giấy tiếp nhận hồ sơ và hẹn trả kết quả.",
            st.body,
        ),
        Paragraph(f"Lý do: {_t(data.reason)}", st.body),
        Paragraph(
            "Sự chậm trễ này đã gây phiền hà cho Ông/Bà. "
            + _t(data.agency_name)
            + " xin lỗi Ông/Bà và hẹn lại thời gian trả kết quả như sau:",
            st.body,
        ),
        Paragraph(f"Hẹn lại ngày trả kết quả: <b>{_t(format_vn_datetime(data.new_due_at))}</b>", st.body),
        Paragraph("Xin trân trọng cảm ơn sự hợp tác của Ông/Bà./.", st.body),
        Spacer(1, 3 * mm),
    ]
    signature = [
        Paragraph(f"<b>{_t(data.signer_title.upper())}</b>", st.center),
        Paragraph("(Ký số, ghi rõ họ tên)", st.small_center),
        Spacer(1, 10 * mm),
        Paragraph(f"<b>{_t(data.signer_name)}</b>", st.center),
    ]
    left: list[Flowable] = (
        [_qr_block(st, data.lookup_url, width / 2 - 2 * mm, 18 * mm, data.lookup_note)]
        if data.lookup_url
        else [Spacer(1, 1)]
    )
    story.append(_signature_table([left, signature], width))
    return _build(
        story,
        pagesize=pagesize,
        margin=margin,
        title=f"Phiếu xin lỗi và hẹn lại ngày trả kết quả {data.dossier_code}",
        subject="Mẫu 04 — Thông tư 01/2018/TT-VPCP",
        author=data.agency_name,
        created_at=data.issued_at,
    )
