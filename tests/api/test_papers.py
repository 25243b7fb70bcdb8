"""The dossier's papers: list and download with the right content type and an RFC 6266 file name; the same
visibility as the dossier."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.testclient import TestClient

from tests.builders import build_world

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_list_and_download_papers_with_vietnamese_file_names(client: TestClient) -> None:
    world = build_world(client)
    code = world.submit()["code"]
    name = "Tờ khai đăng ký khai sinh.pdf"
    uploaded = client.put(f"/api/v1/dossiers/{code}/documents/TP01", headers=world.as_("receiver"),
                          files={"file": (name, PDF, "application/pdf")})
    assert uploaded.status_code == 200, uploaded.text
    client.put(f"/api/v1/dossiers/{code}/documents/TP02", headers=world.as_("citizen"),
               files={"file": ("giay-chung-sinh.png", PNG, "image/png")})

    listed = client.get(f"/api/v1/dossiers/{code}/documents", headers=world.as_("citizen"))
    assert listed.status_code == 200, listed.text
    papers = {p["code"]: p for p in listed.json()}
    assert list(papers) == ["TP01", "TP02", "TP03"]  # the procedure's papers, in its order
    assert papers["TP01"]["name"] == "Tờ khai đăng ký khai sinh" and papers["TP01"]["mandatory"] is True
    assert papers["TP01"]["filename"] == name and papers["TP01"]["size"] == len(PDF)
    assert papers["TP02"]["content_type"] == "image/png"
    assert papers["TP03"]["mandatory"] is False and papers["TP03"]["filename"] is None
    assert papers["TP03"]["uploaded_at"] is None

    download = client.get(f"/api/v1/dossiers/{code}/documents/TP01", headers=world.as_("receiver"))
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    disposition = download.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="To khai dang ky khai sinh.pdf"')
    assert f"filename*=UTF-8''{quote(name, safe='')}" in disposition
    image = client.get(f"/api/v1/dossiers/{code}/documents/TP02", headers=world.as_("citizen"))
    assert image.headers["content-type"] == "image/png" and image.content == PNG


def test_unknown_or_missing_papers_and_strangers_get_404(client: TestClient) -> None:
    world = build_world(client)
    code = world.submit()["code"]
    for document_code, problem in (("TP99", "DOCUMENT_NOT_FOUND"), ("TP03", "DOCUMENT_FILE_NOT_FOUND")):
        response = client.get(f"/api/v1/dossiers/{code}/documents/{document_code}", headers=world.as_("receiver"))
        assert response.status_code == 404 and response.json()["code"] == problem
    client.put(f"/api/v1/dossiers/{code}/documents/TP01", headers=world.as_("receiver"),
               files={"file": ("a.pdf", PDF, "application/pdf")})
    for who in ("receiver.ql", "other_citizen"):
        assert client.get(f"/api/v1/dossiers/{code}/documents", headers=world.as_(who)).status_code == 404
        assert client.get(f"/api/v1/dossiers/{code}/documents/TP01", headers=world.as_(who)).status_code == 404
