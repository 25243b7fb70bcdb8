"""The one-stop forms of Circular 03/2025/TT-VPCP (Phụ lục I) beyond the receipt and the apology letter.

* Mẫu 02 — Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (``Số: …/HDHS``): issued with ``request_supplement``
  (Decree 61/2018/NĐ-CP Art. 19(4), now Decree 118/2025/NĐ-CP).
* Mẫu 03 — Phiếu từ chối tiếp nhận giải quyết hồ sơ (``Số: …/TCHS``): issued with ``reject`` at intake.
* Mẫu 05 — Thông báo dừng giải quyết hồ sơ: issued with ``withdraw`` (processing stops at the applicant's
  request).
* Mẫu 06 — Phiếu kiểm soát quá trình giải quyết hồ sơ: the control slip, on A4 (Circular 01/2018 Art. 9(2)).
* Mẫu 07 — Sổ theo dõi hồ sơ: the desk's register for a period, A4 landscape.

The field lists follow Circular 01/2018/TT-VPCP's forms as reproduced by provincial templates; the official
field lists of Circular 03/2025 were not available to verify (domain notes §4.2, marked uncertain). Each page
names its form ("Mẫu số 02 …") in the top right corner, the date line carries the place name
("Tiên Yên, ngày … tháng … năm …", Decree 30/2020/NĐ-CP Appendix I), and every form is signed by the caller
(:mod:`service.operations.forms`) like the receipt. Output is deterministic for equal inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, A5, landscape
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from service.signing.documents import (
    _build,
    _check_aware,
    _header,
    _place_date,
    _qr_block,
    _signature_table,
    _Styles,
    _styles,
    _t,
    format_vn_datetime,
)

__all__ = [
    "FORM_TITLES",
    "RegisterData",
    "RegisterRow",
    "SlipData",
    "SlipNoticeData",
    "SlipRow",
    "render_form",
    "render_register",
    "render_slip",
]

FORM_TITLES: dict[str, str] = {
    "01": "Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
    "02": "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
    "03": "Phiếu từ chối tiếp nhận giải quyết hồ sơ",
    "04": "Văn bản xin lỗi và hẹn lại ngày trả kết quả",
    "05": "Thông báo dừng giải quyết hồ sơ",
    "06": "Phiếu kiểm soát quá trình giải quyết hồ sơ",
    "07": "Sổ theo dõi hồ sơ",
}
"""Circular 03/2025/TT-VPCP, Phụ lục I."""
CIRCULAR = "Thông tư 03/2025/TT-VPCP"
_NUMBER_SUFFIX = {"02": "HDHS", "03": "TCHS", "05": "TBDHS"}


def _form_mark(st: _Styles, form: str) -> Paragraph:
    return Paragraph(f"<b>Mẫu số {form}</b> ({_t(CIRCULAR)})", st.dateline)


@dataclass(frozen=True)
class SlipNoticeData:
    """Inputs of a one-page notice issued with an action: Mẫu 02 (``request_supplement``), Mẫu 03 (``reject``)
    or Mẫu 05 (``withdraw``)."""

    form: str  # "02", "03" or "05"
    agency_name: str
    dossier_code: str
    applicant_name: str
    applicant_address: str
    applicant_phone: str
    procedure_name: str
    issued_at: datetime
    signer_name: str
    reason: str
    place_name: str | None = None
    parent_agency_name: str | None = None
    items: Sequence[str] = ()  # Mẫu 02: the papers to supplement or complete
    received_at: datetime | None = None  # Mẫu 05: when the dossier was received
    requested_by: str | None = None  # Mẫu 05: who asked to stop
    lookup_url: str | None = None

    def __post_init__(self) -> None:
        if self.form not in _NUMBER_SUFFIX:
            raise ValueError(f"not a notice form: {self.form!r}")
        _check_aware(self)


def render_form(data: SlipNoticeData) -> bytes:
    """Mẫu 02, 03 or 05 on A5, to be signed by the one-stop desk."""
    pagesize, margin = A5, 12 * mm
    width = pagesize[0] - 2 * margin
    st = _styles(9)
    number = f"Số: {data.dossier_code.rsplit('-', 1)[-1]}/{_NUMBER_SUFFIX[data.form]}"
    story: list[Flowable] = [
        _form_mark(st, data.form),
        _header(st, data.parent_agency_name, data.agency_name, number, width),
        Spacer(1, 2 * mm),
        Paragraph(_t(_place_date(data.place_name, data.issued_at)), st.dateline),
        Paragraph(_t(FORM_TITLES[data.form].upper()), st.title),
        Paragraph(f"Mã hồ sơ: <b>{_t(data.dossier_code)}</b>", st.center),
        Spacer(1, 2 * mm),
    ]
    if data.form == "02":
        story += [
            Paragraph(f"{_t(data.agency_name)} tiếp nhận hồ sơ của Ông/Bà: <b>{_t(data.applicant_name)}</b>",
                      st.body),
            *_contact(st, data),
            Paragraph(f"Nội dung yêu cầu giải quyết: <b>{_t(data.procedure_name)}</b>", st.body),
            Paragraph("Sau khi xem xét, đề nghị Ông/Bà bổ sung, hoàn thiện hồ sơ gồm những nội dung sau:", st.body),
            *[Paragraph(f"{i}. {_t(item)}", st.body) for i, item in enumerate(data.items or ["—"], 1)],
            Paragraph(f"Lý do: {_t(data.reason)}", st.body),
            Paragraph("Thời hạn giải quyết được tính lại từ đầu sau khi nhận đủ hồ sơ (Nghị định 118/2025/NĐ-CP). "
                      "Trong quá trình hoàn thiện hồ sơ, nếu có vướng mắc, Ông/Bà liên hệ Bộ phận Một cửa để "
                      "được hướng dẫn.", st.body),
        ]
        signer_title = "NGƯỜI HƯỚNG DẪN"
    elif data.form == "03":
        story += [
            Paragraph(f"{_t(data.agency_name)} tiếp nhận hồ sơ của Ông/Bà: <b>{_t(data.applicant_name)}</b>",
                      st.body),
            *_contact(st, data),
            Paragraph(f"Nội dung yêu cầu giải quyết: <b>{_t(data.procedure_name)}</b>", st.body),
            Paragraph("Sau khi xem xét, cơ quan, đơn vị không tiếp nhận, giải quyết hồ sơ này với lý do sau:",
                      st.body),
            Paragraph(f"<b>{_t(data.reason)}</b>", st.body),
            Paragraph("Xin thông báo để Ông/Bà được biết và thực hiện./.", st.body),
        ]
        signer_title = "NGƯỜI TIẾP NHẬN HỒ SƠ"
    else:
        received = (f", tiếp nhận lúc {_t(format_vn_datetime(data.received_at))}"
                    if data.received_at else "")
        story += [
            Paragraph(f"Kính gửi: <b>{_t(data.applicant_name)}</b>", st.center),
            Spacer(1, 1.5 * mm),
            Paragraph(f"Hồ sơ mã số <b>{_t(data.dossier_code)}</b> đề nghị giải quyết thủ tục "
                      f"<b>{_t(data.procedure_name)}</b>{received}.", st.body),
            Paragraph(f"{_t(data.agency_name)} thông báo dừng giải quyết hồ sơ nêu trên kể từ "
                      f"{_t(format_vn_datetime(data.issued_at))}.", st.body),
            Paragraph(f"Lý do: {_t(data.reason)}", st.body),
            *([Paragraph(f"Người đề nghị dừng: {_t(data.requested_by)}", st.body)] if data.requested_by else []),
            Paragraph("Hồ sơ và giấy tờ đã nộp được trả lại theo đề nghị của Ông/Bà tại Bộ phận Một cửa./.",
                      st.body),
        ]
        signer_title = "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ"
    story.append(Spacer(1, 3 * mm))
    signature = [
        Paragraph(f"<b>{_t(signer_title)}</b>", st.center),
        Paragraph("(Ký số, ghi rõ họ tên)", st.small_center),
        Spacer(1, 10 * mm),
        Paragraph(f"<b>{_t(data.signer_name)}</b>", st.center),
    ]
    left: list[Flowable] = (
        [_qr_block(st, data.lookup_url, width / 2 - 2 * mm, 18 * mm)] if data.lookup_url else [Spacer(1, 1)]
    )
    story.append(_signature_table([left, signature], width))
    return _build(story, pagesize=pagesize, margin=margin,
                  title=f"{FORM_TITLES[data.form]} {data.dossier_code}",
                  subject=f"Mẫu số {data.form} — {CIRCULAR}", author=data.agency_name, created_at=data.issued_at)


def _contact(st: _Styles, data: SlipNoticeData) -> list[Flowable]:
    return [Paragraph(f"Địa chỉ: {_t(data.applicant_address)}", st.body),
            Paragraph(f"Số điện thoại: {_t(data.applicant_phone)}", st.body)]


# ---------------------------------------------------------------- Mẫu 06: the control slip


@dataclass(frozen=True)
class SlipRow:
    """One row of the control slip: a hand-over or a step."""

    seq: int
    at: datetime
    step: str  # e.g. "Tiếp nhận hồ sơ"
    actor: str
    from_status: str | None
    to_status: str
    note: str | None


@dataclass(frozen=True)
class SlipData:
    """Inputs of Mẫu 06 — Phiếu kiểm soát quá trình giải quyết hồ sơ."""

    agency_name: str
    dossier_code: str
    applicant_name: str
    procedure_name: str
    received_at: datetime | None
    due_at: datetime | None
    rows: Sequence[SlipRow]
    timeliness: str | None  # "Trước hạn" / "Đúng hạn" / "Quá hạn" / None while running
    issued_at: datetime
    signer_name: str
    chain_valid: bool
    place_name: str | None = None
    parent_agency_name: str | None = None
    lookup_url: str | None = None

    def __post_init__(self) -> None:
        _check_aware(self)
        for row in self.rows:
            _check_aware(row)


def _grid(rows: list[list[Any]], widths: list[float], header_rows: int = 1) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=header_rows)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.HexColor("#eeeeee")),
        ("LEFTPADDING", (0, 0), (-1, -1), 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2),
    ]))
    return table


def _when(moment: datetime | None) -> str:
    return format_vn_datetime(moment).replace(", ngày ", " ngày ") if moment else "—"


def render_slip(data: SlipData) -> bytes:
    """Mẫu 06 (A4): who handled the dossier when, from the hash-chained control slip."""
    pagesize, margin = A4, 15 * mm
    width = pagesize[0] - 2 * margin
    st = _styles(10)
    story: list[Flowable] = [
        _form_mark(st, "06"),
        _header(st, data.parent_agency_name, data.agency_name, None, width),
        Spacer(1, 2 * mm),
        Paragraph(_t(_place_date(data.place_name, data.issued_at)), st.dateline),
        Paragraph(_t(FORM_TITLES["06"].upper()), st.title),
        Paragraph(f"Mã hồ sơ: <b>{_t(data.dossier_code)}</b>", st.center),
        Paragraph(f"(Kèm theo Giấy tiếp nhận hồ sơ và hẹn trả kết quả số {_t(data.dossier_code)})", st.small_center),
        Spacer(1, 2 * mm),
        Paragraph(f"Tổ chức, cá nhân: <b>{_t(data.applicant_name)}</b>", st.body),
        Paragraph(f"Thủ tục hành chính: {_t(data.procedure_name)}", st.body),
        Paragraph(f"Cơ quan chủ trì giải quyết: {_t(data.agency_name)}", st.body),
        Paragraph(f"Thời gian tiếp nhận: {_t(_when(data.received_at))} — Hẹn trả kết quả: "
                  f"<b>{_t(_when(data.due_at))}</b>", st.body),
        Spacer(1, 2 * mm),
    ]
    header = [Paragraph(f"<b>{h}</b>", st.small_center) for h in (
        "STT", "THỜI GIAN GIAO, NHẬN HỒ SƠ", "BƯỚC XỬ LÝ", "NGƯỜI THỰC HIỆN", "TRẠNG THÁI", "GHI CHÚ")]
    body = [[Paragraph(str(r.seq), st.small_center), Paragraph(_t(_when(r.at)), st.small),
             Paragraph(_t(r.step), st.small), Paragraph(_t(r.actor), st.small),
             Paragraph(_t(r.to_status), st.small), Paragraph(_t(r.note or ""), st.small)] for r in data.rows]
    story.append(_grid([header, *body], [w * width for w in (0.06, 0.2, 0.17, 0.17, 0.15, 0.25)]))
    story += [
        Spacer(1, 2 * mm),
        Paragraph(f"Kết quả giải quyết hồ sơ: <b>{_t(data.timeliness or 'Đang giải quyết')}</b>", st.body),
        Paragraph("Chuỗi băm của phiếu kiểm soát: " + ("toàn vẹn" if data.chain_valid else "<b>BỊ THAY ĐỔI</b>"),
                  st.small),
        Spacer(1, 3 * mm),
    ]
    signature = [
        Paragraph("<b>BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ</b>", st.center),
        Paragraph("(Ký số)", st.small_center),
        Spacer(1, 10 * mm),
        Paragraph(f"<b>{_t(data.signer_name)}</b>", st.center),
    ]
    left: list[Flowable] = (
        [_qr_block(st, data.lookup_url, width / 2 - 2 * mm, 20 * mm)] if data.lookup_url else [Spacer(1, 1)]
    )
    story.append(_signature_table([left, signature], width))
    return _build(story, pagesize=pagesize, margin=margin, title=f"{FORM_TITLES['06']} {data.dossier_code}",
                  subject=f"Mẫu số 06 — {CIRCULAR}", author=data.agency_name, created_at=data.issued_at)


# ---------------------------------------------------------------- Mẫu 07: the register


@dataclass(frozen=True)
class RegisterRow:
    """One dossier of the register (Sổ theo dõi hồ sơ)."""

    number: int
    dossier_code: str
    procedure_name: str
    applicant_name: str
    applicant_contact: str
    received_at: datetime | None
    due_at: datetime | None
    finished_at: datetime | None
    returned_at: datetime | None
    status: str
    note: str


REGISTER_COLUMNS: tuple[str, ...] = (
    "STT", "Mã hồ sơ", "Tên thủ tục hành chính", "Tổ chức, cá nhân", "Địa chỉ, số điện thoại",
    "Ngày tiếp nhận", "Ngày hẹn trả", "Ngày có kết quả", "Ngày trả kết quả", "Tình trạng", "Ghi chú",
)
"""The register's columns (Sổ theo dõi hồ sơ; Circular 01/2018 Mẫu 06, Circular 03/2025 Mẫu 07)."""


@dataclass(frozen=True)
class RegisterData:
    agency_name: str
    first: date
    last: date
    rows: Sequence[RegisterRow]
    issued_at: datetime
    signer_name: str
    place_name: str | None = None
    parent_agency_name: str | None = None

    def __post_init__(self) -> None:
        _check_aware(self)


def _short(moment: datetime | None) -> str:
    from service.signing.documents import VN_TZ

    return f"{moment.astimezone(VN_TZ):%H:%M %d/%m/%Y}" if moment else ""


def register_cells(row: RegisterRow) -> list[str]:
    """The register row as the texts of :data:`REGISTER_COLUMNS` (shared by the PDF and the CSV)."""
    return [str(row.number), row.dossier_code, row.procedure_name, row.applicant_name, row.applicant_contact,
            _short(row.received_at), _short(row.due_at), _short(row.finished_at), _short(row.returned_at),
            row.status, row.note]


def render_register(data: RegisterData) -> bytes:
    """Mẫu 07 (A4 landscape): every dossier the desk received in the period, to be signed by the desk."""
    pagesize, margin = landscape(A4), 12 * mm
    width = pagesize[0] - 2 * margin
    st = _styles(9)
    story: list[Flowable] = [
        _form_mark(st, "07"),
        _header(st, data.parent_agency_name, data.agency_name, None, width * 0.75),
        Paragraph(_t(_place_date(data.place_name, data.issued_at)), st.dateline),
        Paragraph(_t(FORM_TITLES["07"].upper()), st.title),
        Paragraph(f"Từ ngày {data.first:%d/%m/%Y} đến ngày {data.last:%d/%m/%Y} — {len(data.rows)} hồ sơ",
                  st.center),
        Spacer(1, 2 * mm),
    ]
    header = [Paragraph(f"<b>{_t(h)}</b>", st.small_center) for h in REGISTER_COLUMNS]
    body = [[Paragraph(_t(cell), st.small) for cell in register_cells(r)] for r in data.rows]
    if not body:
        body = [[Paragraph("Không có hồ sơ trong kỳ.", st.small)] + [""] * (len(REGISTER_COLUMNS) - 1)]
    shares = (0.035, 0.13, 0.15, 0.1, 0.11, 0.075, 0.075, 0.075, 0.075, 0.08, 0.095)
    story.append(_grid([header, *body], [s * width for s in shares]))
    story += [
        Spacer(1, 4 * mm),
        _signature_table([[Spacer(1, 1)], [
            Paragraph("<b>BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ</b>", st.center),
            Paragraph("(Ký số)", st.small_center),
            Spacer(1, 8 * mm),
            Paragraph(f"<b>{_t(data.signer_name)}</b>", st.center),
        ]], width),
    ]
    return _build(story, pagesize=pagesize, margin=margin,
                  title=f"{FORM_TITLES['07']} {data.first:%d/%m/%Y}–{data.last:%d/%m/%Y}",
                  subject=f"Mẫu số 07 — {CIRCULAR}", author=data.agency_name, created_at=data.issued_at)
