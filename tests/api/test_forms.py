"""The forms of Circular 03/2025/TT-VPCP: Mẫu 02, 03, 05 issued with their actions, Mẫu 06 the control slip,
Mẫu 07 the register (PDF and CSV); each signed by the desk, with its number and the place in the date line;
the Vietnamese text is read back from the PDF."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from tests.builders import World, build_world


def text_of(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages).split())


def signed_pdf(world: World, path: str, who: str = "receiver") -> tuple[str, dict[str, Any]]:
    response = world.client.get(f"/api/v1{path}", headers=world.as_(who))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    check = world.client.post("/api/v1/signatures/verify",
                              files={"file": ("form.pdf", response.content, "application/pdf")}).json()
    return text_of(response.content), check


@pytest.fixture
def world(client: TestClient) -> World:
    return build_world(client)


def test_supplement_request_mau_02(world: World) -> None:
    code = world.submit()["code"]
    world.act(code, "assign", "receiver", {"assignee": "chuyenvien"})
    world.set_clock("2026-03-03T10:15:00+07:00")
    world.act(code, "request_supplement", "processor",
              {"reason": "Giấy chứng sinh là bản photo, chưa chứng thực", "missing_documents": ["TP02"]})
    text, check = signed_pdf(world, f"/dossiers/{code}/forms/02", who="citizen")
    assert "Mẫu số 02" in text and "Thông tư 03/2025/TT-VPCP" in text
    assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in text
    assert "Tiên Yên, ngày 03 tháng 03 năm 2026" in text
    assert "Lê Văn Hùng" in text and "Đăng ký khai sinh" in text
    assert "Giấy chứng sinh (TP02)" in text and "bản photo, chưa chứng thực" in text
    assert "Cán bộ chuyenvien" in text  # the processor who asked signs as "người hướng dẫn"
    assert check["valid"] and check["intact"] and check["trusted"]
    assert check["signed_at"].startswith("2026-03-03T10:15:00")


def test_refusal_to_receive_mau_03_and_missing_forms(world: World) -> None:
    code = world.submit("citizen", channel="online", applicant=None)["code"]
    missing = world.client.get(f"/api/v1/dossiers/{code}/forms/03", headers=world.as_("receiver"))
    assert missing.status_code == 404 and missing.json()["code"] == "FORM_NOT_ISSUED"
    world.act(code, "reject", "receiver", {"reason": "Thủ tục không thuộc thẩm quyền của xã"})
    text, check = signed_pdf(world, f"/dossiers/{code}/forms/03")
    assert "Mẫu số 03" in text and "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ" in text
    assert "Thủ tục không thuộc thẩm quyền của xã" in text and "Tiên Yên, ngày 02 tháng 03 năm 2026" in text
    assert check["valid"]
    unknown = world.client.get(f"/api/v1/dossiers/{code}/forms/04", headers=world.as_("receiver"))
    assert unknown.status_code == 422
    assert world.client.get(f"/api/v1/dossiers/{code}/forms/03",
                            headers=world.as_("receiver.ql")).status_code == 404


def test_stop_processing_mau_05_and_the_control_slip_mau_06(world: World) -> None:
    code = world.submit()["code"]
    world.set_clock("2026-03-04T14:00:00+07:00")
    world.act(code, "withdraw", "citizen", {"reason": "Người nộp xin rút hồ sơ để bổ sung giấy tờ khác"})
    text, check = signed_pdf(world, f"/dossiers/{code}/forms/05")
    assert "Mẫu số 05" in text and "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ" in text
    assert "Người nộp xin rút hồ sơ" in text and "Tiên Yên, ngày 04 tháng 03 năm 2026" in text
    assert check["valid"]
    text, check = signed_pdf(world, f"/dossiers/{code}/forms/06")
    assert "Mẫu số 06" in text and "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ" in text
    assert "Tiếp nhận hồ sơ" in text and "Dừng giải quyết (rút hồ sơ)" in text and "toàn vẹn" in text
    assert check["valid"]
    listed = world.client.get(f"/api/v1/dossiers/{code}/forms", headers=world.as_("citizen")).json()
    assert [entry["form"] for entry in listed] == ["01", "05", "06"]
    assert listed[1]["href"] == f"/api/v1/dossiers/{code}/forms/05"
    assert listed[1]["issued_at"] == "2026-03-04T14:00:00+07:00"


def test_register_mau_07_as_pdf_and_csv(world: World) -> None:
    first = world.submit()["code"]
    world.set_clock("2026-03-03T09:00:00+07:00")
    second = world.submit(applicant={"national_id": "001190000777", "full_name": "Đặng Thị Ánh"})["code"]
    world.submit("receiver.ql", procedure_code="1.001193.000.00.62.H49")
    period = {"from": "2026-03-01", "to": "2026-03-31"}
    response = world.client.get("/api/v1/register", params=period, headers=world.as_("receiver"))
    assert response.status_code == 200, response.text
    text = text_of(response.content)
    assert "Mẫu số 07" in text and "SỔ THEO DÕI HỒ SƠ" in text and "Tiên Yên, ngày" in text
    assert "2 hồ sơ" in text and "Đặng Thị Ánh" in text and first in text.replace(" ", "")
    check = world.client.post("/api/v1/signatures/verify",
                              files={"file": ("so.pdf", response.content, "application/pdf")}).json()
    assert check["valid"]
    sheet = world.client.get("/api/v1/register.csv", params=period, headers=world.as_("receiver"))
    assert sheet.status_code == 200 and sheet.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["STT", "Mã hồ sơ", "Tên thủ tục hành chính", "Tổ chức, cá nhân"]
    assert [r[1] for r in rows[1:]] == [first, second] and rows[2][3] == "Đặng Thị Ánh"
    assert rows[1][5] == "08:00 02/03/2026"


@pytest.mark.parametrize(("who", "params", "status"), [
    ("citizen", {"from": "2026-03-01", "to": "2026-03-31"}, 403),
    ("receiver", {"from": "2026-03-31", "to": "2026-03-01"}, 422),
    ("receiver", {"from": "2026-03-01", "to": "2026-03-31", "agency_code": "000.00.62.H49"}, 403),
    ("admin", {"from": "2026-03-01", "to": "2026-03-31"}, 422),
])
def test_register_refusals(world: World, who: str, params: dict[str, str], status: int) -> None:
    assert world.client.get("/api/v1/register.csv", params=params, headers=world.as_(who)).status_code == status
