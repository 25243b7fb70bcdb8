"""Render the first page of each form and of the result to PNG under docs/forms/, for the README.

    .venv/bin/python docs/make_form_pictures.py

The PDFs come from the same renderers the API uses (unsigned: a signature does not change how a page looks),
filled with demo data; pypdfium2 (a development dependency) rasterises them.
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdfium2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.signing import documents as d  # noqa: E402
from service.signing import forms as f  # noqa: E402

VN = ZoneInfo("Asia/Ho_Chi_Minh")
OUT = ROOT / "docs" / "forms"
AGENCY, PARENT, PLACE = "Ủy ban nhân dân xã Tiên Yên", "Ủy ban nhân dân tỉnh Quảng Ninh", "Tiên Yên"
CODE = "000.00.61.H49-260302-0001"
URL = f"http://127.0.0.1:8000/api/v1/public/dossiers/{CODE}"
APPLICANT = "Lê Văn Hùng"
PROCEDURE = "Đăng ký khai sinh"


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN)  # type: ignore[misc]


def samples() -> dict[str, bytes]:
    notice = dict(agency_name=AGENCY, parent_agency_name=PARENT, place_name=PLACE, dossier_code=CODE,
                  applicant_name=APPLICANT, applicant_address="Thôn Đồng Đình, xã Tiên Yên, tỉnh Quảng Ninh",
                  applicant_phone="0912345678", procedure_name=PROCEDURE, lookup_url=URL)
    rows = [
        f.SlipRow(1, at(2026, 3, 2, 8, 0), "Nộp hồ sơ", "Cán bộ Nguyễn Thị Lan", None, "Mới đăng ký",
                  "Nộp hồ sơ trực tiếp tại Bộ phận Một cửa"),
        f.SlipRow(2, at(2026, 3, 2, 8, 0), "Tiếp nhận hồ sơ", "Cán bộ Nguyễn Thị Lan", "submitted", "Đã tiếp nhận",
                  "Tiếp nhận hồ sơ, cấp Giấy tiếp nhận (Mẫu 01)"),
        f.SlipRow(3, at(2026, 3, 2, 9, 10), "Giao xử lý", "Cán bộ Nguyễn Thị Lan", "received", "Đang xử lý",
                  "Giao Trần Văn Nam xử lý"),
        f.SlipRow(4, at(2026, 3, 4, 15, 30), "Phê duyệt kết quả", "Phạm Đức Thắng", "processing",
                  "Đã có kết quả", None),
        f.SlipRow(5, at(2026, 3, 5, 9, 0), "Trả kết quả", "Cán bộ Nguyễn Thị Lan", "result_ready", "Đã trả kết quả",
                  None),
    ]
    register = [f.RegisterRow(i, f"000.00.61.H49-260302-{i:04d}", PROCEDURE, name, "0912345678",
                              at(2026, 3, 2, 8, i), at(2026, 3, 5, 8, i), at(2026, 3, 4, 15, 30) if i < 3 else None,
                              at(2026, 3, 5, 9, 0) if i < 2 else None, status, note)
                for i, (name, status, note) in enumerate([
                    ("Lê Văn Hùng", "Đã trả kết quả", "Trước hạn"), ("Đặng Thị Ánh", "Đã có kết quả", "Trước hạn"),
                    ("Trần Thị Thủy", "Đang xử lý", "")], 1)]
    return {
        "mau-01-giay-tiep-nhan": d.render_receipt(d.ReceiptData(
            agency_name=f"Bộ phận Tiếp nhận và Trả kết quả {AGENCY}", parent_agency_name=PARENT,
            dossier_code=CODE, applicant_name=APPLICANT, applicant_address=notice["applicant_address"],
            applicant_phone="0912345678", procedure_name=PROCEDURE,
            documents=["Tờ khai đăng ký khai sinh", "Giấy chứng sinh"], processing_time_text="03 ngày làm việc",
            received_at=at(2026, 3, 2, 8, 0), due_at=at(2026, 3, 5, 8, 0),
            delivery_place=f"Bộ phận Tiếp nhận và Trả kết quả — {AGENCY}", receiver_name="Nguyễn Thị Lan",
            lookup_url=URL, receipt_number="0001", place_name=PLACE)),
        "mau-02-yeu-cau-bo-sung": f.render_form(f.SlipNoticeData(
            form="02", **notice, issued_at=at(2026, 3, 3, 10, 15), signer_name="Trần Văn Nam",
            reason="Giấy chứng sinh là bản photo, chưa chứng thực", items=["Giấy chứng sinh (TP02)"])),
        "mau-03-tu-choi-tiep-nhan": f.render_form(f.SlipNoticeData(
            form="03", **notice, issued_at=at(2026, 3, 2, 8, 30), signer_name="Nguyễn Thị Lan",
            reason="Thủ tục không thuộc thẩm quyền giải quyết của Ủy ban nhân dân xã")),
        "mau-04-xin-loi-hen-lai": d.render_apology_letter(d.ApologyData(
            agency_name=AGENCY, parent_agency_name=PARENT, dossier_code=CODE, applicant_name=APPLICANT,
            procedure_name=PROCEDURE, received_at=at(2026, 3, 2, 8, 0), original_due_at=at(2026, 3, 5, 8, 0),
            reason="Cần xác minh thêm thông tin với cơ quan khác", new_due_at=at(2026, 3, 10, 17, 0),
            signer_name="Phạm Đức Thắng", issued_at=at(2026, 3, 3, 16, 0), place_name=PLACE, lookup_url=URL)),
        "mau-05-dung-giai-quyet": f.render_form(f.SlipNoticeData(
            form="05", **notice, issued_at=at(2026, 3, 4, 14, 0), signer_name="Nguyễn Thị Lan",
            reason="Người nộp xin rút hồ sơ", received_at=at(2026, 3, 2, 8, 0), requested_by="Người nộp hồ sơ")),
        "mau-06-phieu-kiem-soat": f.render_slip(f.SlipData(
            agency_name=AGENCY, parent_agency_name=PARENT, place_name=PLACE, dossier_code=CODE,
            applicant_name=APPLICANT, procedure_name=PROCEDURE, received_at=at(2026, 3, 2, 8, 0),
            due_at=at(2026, 3, 5, 8, 0), rows=rows, timeliness="Trước hạn", issued_at=at(2026, 3, 5, 9, 0),
            signer_name="Nguyễn Thị Lan", chain_valid=True, lookup_url=URL)),
        "mau-07-so-theo-doi": f.render_register(f.RegisterData(
            agency_name=AGENCY, parent_agency_name=PARENT, place_name=PLACE, first=date(2026, 3, 1),
            last=date(2026, 3, 31), rows=register, issued_at=at(2026, 3, 31, 17, 0), signer_name="Nguyễn Thị Lan")),
        "ket-qua-kq1": d.render_result(d.ResultData(
            dossier_code=CODE, agency_name=AGENCY, parent_agency_name=PARENT, procedure_name=PROCEDURE,
            applicant_name=APPLICANT, decision_text="Ủy ban nhân dân xã Tiên Yên đã thẩm định hồ sơ và chấp thuận "
            "đề nghị của Ông/Bà.", approver_name="Phạm Đức Thắng", decided_at=at(2026, 3, 4, 15, 30),
            lookup_url=URL, place_name=PLACE)),
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, pdf in samples().items():
        page = pypdfium2.PdfDocument(pdf)[0]
        page.render(scale=1.25).to_pil().convert("L").save(OUT / f"{name}.png", optimize=True)
        print(OUT / f"{name}.png")


if __name__ == "__main__":
    main()
