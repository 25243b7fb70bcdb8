"""Lodging dossiers (issue 4 §1): channels by role, service levels, postal flag, mandatory papers, uploads.

Legal basis of the rules under test: Decree 43/2011 Art. 3(4) (levels 3 and 4), Decree 61/2018 Arts. 15–17
(channels, completeness), Decision 45/2016 (postal service), Circular 01/2018 Art. 19 (dossier code).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from service.main import create_app
from service.settings import Settings
from tests.builders import CITIZEN_ID, COMMUNE, World, build_world, dossier_body, procedure_body

PROC = "1.001193.000.00.00.H49"  # level 4, postal allowed, TP01 + TP02 mandatory, 3 working days
LEVEL2, LEVEL3, NO_POST = "2.000002.000.00.61.H49", "2.000003.000.00.61.H49", "2.000004.000.00.61.H49"
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def world(client: TestClient) -> World:
    world = build_world(client)  # the legal clock stands at Mon 02/03/2026 08:00 +07:00
    for code, extra in (
        (LEVEL2, {"service_level": 2}),
        (LEVEL3, {"service_level": 3}),
        (NO_POST, {"postal_allowed": False}),
    ):
        body = procedure_body(code, agency_code=COMMUNE, **extra)
        assert client.post("/api/v1/procedures", json=body, headers=world.as_("admin")).status_code == 201
    return world


def post(world: World, who: str, **overrides: Any) -> Any:
    return world.client.post("/api/v1/dossiers", json=dossier_body(**overrides), headers=world.as_(who))


def online(**overrides: Any) -> dict[str, Any]:
    return {"channel": "online", "result_delivery": "counter", "applicant": None, **overrides}


def problem_code(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()["code"]  # type: ignore[no-any-return]


# ----------------------------------------------------------------------------------------- channels and roles


def test_citizen_submits_online_and_waits_for_the_desk(world: World) -> None:
    response = post(world, "citizen", **online())
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["Location"] == f"/api/v1/dossiers/{body['code']}"
    assert response.headers["ETag"] == f'"{body["version"]}"'
    assert re.fullmatch(r"000\.00\.61\.H49-260302-\d{4}", body["code"])
    assert body["status"] == "submitted" and body["national_status_code"] == 1
    assert body["submitted_at"] == "2026-03-02T08:00:00+07:00"
    assert body["received_at"] is None and body["due_at"] is None
    # The citizen is the applicant: identity comes from the account, not from the body.
    assert body["applicant"]["national_id"] == CITIZEN_ID
    assert body["applicant"]["full_name"] == "Lê Văn Hùng"
    assert len(body["tracking_secret"]) >= 20
    # The secret is shown once: the dossier's own representation never carries it.
    again = world.client.get(f"/api/v1/dossiers/{body['code']}", headers=world.as_("citizen")).json()
    assert "tracking_secret" not in again


def test_receiver_lodges_counter_and_postal_dossiers_received_on_the_spot(world: World) -> None:
    counter = world.submit()
    # Mon 02/03/2026 08:00 + 3 working days (24 h): Mon 08:00–11:30, 13:00–17:00 = 7.5 h; Tue 8 h (15.5);
    # Wed 8 h (23.5); Thu 07:30 + 0.5 h → Thu 05/03/2026 08:00. No holiday in that week (§3.3).
    assert counter["status"] == "received" and counter["national_status_code"] == 2
    assert counter["received_at"] == "2026-03-02T08:00:00+07:00"
    assert counter["due_at"] == "2026-03-05T08:00:00+07:00"
    postal = world.submit(
        channel="postal", result_delivery="postal", delivery_address="Số 1 Tiên Yên, Quảng Ninh"
    )
    assert postal["status"] == "received" and postal["channel"] == "postal"
    assert postal["due_at"] == "2026-03-05T08:00:00+07:00"
    assert counter["code"].endswith("-0001") and postal["code"].endswith("-0002")


def test_the_answer_to_a_submission_is_the_dossier_as_read_afterwards(world: World) -> None:
    # The answer is built from what the submission wrote (not read back): it must be the stored dossier.
    for lodged in (world.submit(), world.submit(channel="postal", result_delivery="postal",
                                                delivery_address="Số 1 Tiên Yên, Quảng Ninh")):
        read = world.client.get(f"/api/v1/dossiers/{lodged['code']}", headers=world.as_("receiver")).json()
        assert {key: value for key, value in lodged.items() if key != "tracking_secret"} == read
        assert [d["code"] for d in read["documents"]] == ["TP01", "TP02"]


def test_a_dossier_received_on_the_spot_is_written_once_and_its_history_verifies(world: World) -> None:
    # The dossier's row goes in already received (its first changes applied): no UPDATE rewrites it, and with it
    # every index of the table, in the same request. Its slip rows, notices and events carry the new row's id.
    written: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        written.append(" ".join(statement.split()))

    database = world.client.app.state.context.db  # type: ignore[attr-defined]
    for engine in database.engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        lodged = world.submit()
    finally:
        for engine in database.engines:
            event.remove(engine, "before_cursor_execute", record)
    assert [s.split(" (")[0] for s in written if re.search(r"\b(INSERT INTO|UPDATE) dossier\b", s)] \
        == ["INSERT INTO dossier"]
    code, staff = lodged["code"], world.as_("receiver")
    history = world.client.get(f"/api/v1/dossiers/{code}/history", headers=staff).json()
    assert [row["action"] for row in history] == ["submit", "receive"]
    assert world.client.get(f"/api/v1/dossiers/{code}/history/verify", headers=staff).json() == \
        {"valid": True, "entries": 2}
    events = world.client.get("/api/v1/events", headers=world.as_("admin")).json()["items"]
    assert [e["type"].rsplit(".", 1)[-1] for e in events if e["subject"] == code] == ["submit", "receive"]


@pytest.mark.parametrize(
    ("who", "channel"),
    [
        ("citizen", "counter"),
        ("citizen", "postal"),
        ("receiver", "online"),
        ("processor", "counter"),
        ("approver", "counter"),
        ("admin", "counter"),
    ],
)
def test_channel_belongs_to_a_role(world: World, who: str, channel: str) -> None:
    overrides: dict[str, Any] = {"channel": channel}
    if channel == "postal":
        overrides.update(result_delivery="postal", delivery_address="Số 1 Tiên Yên")
    if who == "citizen":
        overrides["applicant"] = None
    assert problem_code(post(world, who, **overrides), 403) == "FORBIDDEN_ROLE"


def test_role_is_checked_before_the_body(world: World) -> None:
    # Contract order: token 401, …, role 403, …, body 422. A processor never lodges dossiers, whatever body
    response = world.client.post("/api/v1/dossiers", json={"channel": "fax"}, headers=world.as_("processor"))
    assert problem_code(response, 403) == "FORBIDDEN_ROLE"
    assert problem_code(world.client.post("/api/v1/dossiers", json={"channel": "fax"}), 401) == "UNAUTHORIZED"


def test_receiver_must_name_the_applicant_and_stay_in_the_agency(world: World) -> None:
    assert problem_code(post(world, "receiver", applicant=None), 422) == "APPLICANT_REQUIRED"
    # The other commune's desk cannot lodge a dossier for this commune's procedure.
    assert problem_code(post(world, "receiver.ql"), 422) == "PROCEDURE_OUTSIDE_AGENCY"


def test_citizen_cannot_lodge_for_someone_else(world: World) -> None:
    other = {"national_id": "022195004321", "full_name": "Nguyễn Thị Mai Phương"}
    assert problem_code(post(world, "citizen", **online(applicant=other)), 422) == "APPLICANT_MISMATCH"


def test_unknown_procedure_is_404(world: World) -> None:
    assert post(world, "receiver", procedure_code="9.999999.000.00.00.H49").status_code == 404


# ------------------------------------------------------------------------------------------- service levels


def test_online_submission_needs_level_3(world: World) -> None:
    assert problem_code(post(world, "citizen", **online(procedure_code=LEVEL2)), 422) == "ONLINE_NOT_OFFERED"
    assert post(world, "citizen", **online(procedure_code=LEVEL3)).status_code == 201
    # Level 2 is still served at the counter.
    assert post(world, "receiver", procedure_code=LEVEL2).status_code == 201


def test_online_result_needs_level_4(world: World) -> None:
    for who, extra in (
        ("citizen", online(procedure_code=LEVEL3, result_delivery="online")),
        ("receiver", {"procedure_code": LEVEL3, "result_delivery": "online"}),
    ):
        assert problem_code(post(world, who, **extra), 422) == "ONLINE_RESULT_NOT_OFFERED"
    assert post(world, "citizen", **online(result_delivery="online")).status_code == 201


def test_postal_flag_governs_postal_channel_and_postal_result(world: World) -> None:
    address = {"delivery_address": "Số 1 Tiên Yên, Quảng Ninh"}
    for who, extra in (
        ("receiver", {"channel": "postal", "result_delivery": "counter"}),
        ("receiver", {"result_delivery": "postal", **address}),
        ("citizen", online(result_delivery="postal", **address)),
    ):
        assert problem_code(post(world, who, procedure_code=NO_POST, **extra), 422) == "POSTAL_NOT_ALLOWED"
    assert post(world, "citizen", **online(result_delivery="postal", **address)).status_code == 201


def test_postal_result_needs_an_address(world: World) -> None:
    for address in (None, "   "):
        response = post(world, "citizen", **online(result_delivery="postal", delivery_address=address))
        assert problem_code(response, 422) == "DELIVERY_ADDRESS_REQUIRED"


def test_missing_mandatory_document_is_named(world: World) -> None:
    response = post(world, "receiver", documents=[{"code": "TP01"}, {"code": "TP03"}])
    assert problem_code(response, 422) == "MISSING_DOCUMENTS"
    assert "TP02" in response.json()["detail"] and "Giấy chứng sinh" in response.json()["detail"]
    # The optional paper may be left out.
    assert post(world, "receiver", documents=[{"code": "TP01"}, {"code": "TP02"}]).status_code == 201
    assert (
        problem_code(
            post(world, "receiver", documents=[{"code": "TP01"}, {"code": "TP02"}, {"code": "X9"}]), 422
        )
        == "UNKNOWN_DOCUMENT"
    )


def test_refused_submissions_leave_no_trace(world: World) -> None:
    assert post(world, "citizen", **online(procedure_code=LEVEL2)).status_code == 422
    listed = world.client.get("/api/v1/dossiers", headers=world.as_("admin")).json()
    assert listed["items"] == []
    # The daily sequence was not consumed either: the first real dossier is 0001.
    assert world.submit()["code"].endswith("-0001")


def test_datetime_rendering_and_naive_request_datetime(world: World) -> None:
    body = world.submit()
    for field in ("submitted_at", "received_at", "due_at"):
        assert body[field].endswith("+07:00")
    naive = world.client.put(
        "/api/v1/sim/clock", json={"now": "2026-03-02T09:00:00"}, headers=world.as_("admin")
    )
    assert problem_code(naive, 422) == "VALIDATION_ERROR"


# ------------------------------------------------------------------------------------------- uploads


def upload(
    world: World,
    code: str,
    doc: str,
    content: bytes,
    content_type: str,
    who: str = "receiver",
    filename: str = "to-khai.pdf",
) -> Any:
    return world.client.put(
        f"/api/v1/dossiers/{code}/documents/{doc}",
        headers=world.as_(who),
        files={"file": (filename, content, content_type)},
    )


def test_upload_binds_the_paper_and_the_server_computes_sha256(world: World) -> None:
    dossier = world.submit()
    response = upload(world, dossier["code"], "TP01", PDF, "application/pdf")
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert document["size_bytes"] == len(PDF) and document["content_type"] == "application/pdf"
    assert document["filename"] == "to-khai.pdf" and document["uploaded_at"] == "2026-03-02T08:00:00+07:00"
    # A citizen may upload to their own (counter) dossier too; PNG is allowed.
    assert (
        upload(
            world, dossier["code"], "TP02", PNG, "image/png", who="citizen", filename="chung-sinh.png"
        ).status_code
        == 200
    )
    view = world.client.get(f"/api/v1/dossiers/{dossier['code']}", headers=world.as_("receiver")).json()
    shas = {d["code"]: d["sha256"] for d in view["documents"]}
    assert shas == {"TP01": hashlib.sha256(PDF).hexdigest(), "TP02": hashlib.sha256(PNG).hexdigest()}
    # The dossier shows each paper as its upload answered it (the instant in Vietnam's time), in declared order.
    assert [d["code"] for d in view["documents"]] == ["TP01", "TP02"]
    assert view["documents"][0] == document
    assert view["version"] == dossier["version"] + 2
    history = world.client.get(
        f"/api/v1/dossiers/{dossier['code']}/history", headers=world.as_("receiver")
    ).json()
    assert [e["action"] for e in history][-2:] == ["upload_document", "upload_document"]


def test_upload_refuses_unknown_papers_and_types(world: World) -> None:
    code = world.submit()["code"]
    assert problem_code(upload(world, code, "TP99", PDF, "application/pdf"), 422) == "UNKNOWN_DOCUMENT"
    assert problem_code(upload(world, code, "TP01", b"hello", "text/plain"), 415) == "UNSUPPORTED_FILE_TYPE"
    # The declared type must match the bytes: a PNG sent as a PDF is refused.
    assert problem_code(upload(world, code, "TP01", PNG, "application/pdf"), 415) == "FILE_TYPE_MISMATCH"
    # Someone who cannot see the dossier gets 404, not a hint that it exists.
    assert upload(world, code, "TP01", PDF, "application/pdf", who="receiver.ql").status_code == 404
    assert upload(world, code, "TP01", PDF, "application/pdf", who="other_citizen").status_code == 404


def test_upload_after_the_end_is_refused(world: World) -> None:
    code = world.submit()["code"]
    world.act(code, "withdraw", "receiver")
    assert problem_code(upload(world, code, "TP01", PDF, "application/pdf"), 409) == "INVALID_TRANSITION"


@pytest.fixture
def small_upload_client(settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"max_upload_bytes": 1024}))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_upload_size_limit(small_upload_client: TestClient) -> None:
    world = build_world(small_upload_client)
    code = world.submit()["code"]
    too_big = PDF + b"0" * 1024
    assert problem_code(upload(world, code, "TP01", too_big, "application/pdf"), 413) == "FILE_TOO_LARGE"
    assert upload(world, code, "TP01", PDF, "application/pdf").status_code == 200
    view = world.client.get(f"/api/v1/dossiers/{code}", headers=world.as_("receiver")).json()
    assert [d["size_bytes"] for d in view["documents"] if d["code"] == "TP01"] == [len(PDF)]
