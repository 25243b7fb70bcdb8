"""Shared fixtures: a small simulated PKI and sample documents (all offline, in memory)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from service.signing import pki
from service.signing.documents import ReceiptData, ResultData, render_receipt, render_result

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=VN)


@pytest.fixture(scope="session")
def root() -> pki.IssuedCertificate:
    return pki.create_root_ca(NOW)


@pytest.fixture(scope="session")
def issuing_ca(root: pki.IssuedCertificate) -> pki.IssuedCertificate:
    return pki.create_issuing_ca(root, "UBND tỉnh Hà Giang CA", NOW)


@pytest.fixture(scope="session")
def approver(issuing_ca: pki.IssuedCertificate) -> pki.IssuedCertificate:
    return pki.issue_signer_certificate(issuing_ca, "Phạm Quốc Hưng", "UBND xã Lũng Cú", NOW)


@pytest.fixture(scope="session")
def desk(issuing_ca: pki.IssuedCertificate) -> pki.IssuedCertificate:
    return pki.issue_signer_certificate(issuing_ca, "Bộ phận Một cửa xã Lũng Cú", "UBND xã Lũng Cú", NOW)


@pytest.fixture(scope="session")
def receipt_data() -> ReceiptData:
    return ReceiptData(
        agency_name="Bộ phận Tiếp nhận và Trả kết quả UBND xã Lũng Cú",
        parent_agency_name="UBND tỉnh Hà Giang",
        dossier_code="000.26.01.H26-260305-0001",
        applicant_name="Nguyễn Thị Ánh",
        applicant_address="Thôn Lô Lô Chải, xã Lũng Cú, tỉnh Hà Giang",
        applicant_phone="0912 345 678",
        applicant_email="anh.nguyen@example.vn",
        procedure_name="Đăng ký khai sinh",
        documents=["Tờ khai đăng ký khai sinh (bản chính)", "Giấy chứng sinh (bản chính)"],
        processing_time_text="05 ngày làm việc",
        received_at=datetime(2026, 3, 5, 8, 30, tzinfo=VN),
        due_at=datetime(2026, 3, 12, 16, 0, tzinfo=VN),
        delivery_place="Bộ phận Một cửa UBND xã Lũng Cú",
        receiver_name="Trần Văn Bình",
        lookup_url="https://motcua.example.vn/tra-cuu/000.26.01.H26-260305-0001",
        place_name="Lũng Cú",
        receipt_number="125",
    )


@pytest.fixture(scope="session")
def result_data() -> ResultData:
    return ResultData(
        dossier_code="000.26.01.H26-260305-0001",
        agency_name="UBND xã Lũng Cú",
        parent_agency_name="UBND tỉnh Hà Giang",
        procedure_name="Đăng ký khai sinh",
        applicant_name="Nguyễn Thị Ánh",
        decision_text="Đồng ý đăng ký khai sinh cho cháu Lê Minh Khôi.\nSinh ngày 01/03/2026 tại Hà Giang.",
        approver_name="Phạm Quốc Hưng",
        approver_title="KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH",
        decided_at=datetime(2026, 3, 10, 10, 15, tzinfo=VN),
        lookup_url="https://motcua.example.vn/tra-cuu/000.26.01.H26-260305-0001",
    )


@pytest.fixture(scope="session")
def receipt_pdf(receipt_data: ReceiptData) -> bytes:
    return render_receipt(receipt_data)


@pytest.fixture(scope="session")
def result_pdf(result_data: ResultData) -> bytes:
    return render_result(result_data)
