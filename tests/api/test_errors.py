import logging

import pytest
from fastapi.testclient import TestClient

from service.operations import catalogue


def test_unexpected_error_is_a_bare_500_with_a_request_id(client: TestClient, monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals: connection string postgres://user:pw@db")

    monkeypatch.setattr(catalogue, "search", boom)
    with caplog.at_level(logging.ERROR, logger="motcua.errors"):
        response = client.get("/api/v1/procedures")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "INTERNAL_ERROR"
    assert "secret internals" not in response.text and "Traceback" not in response.text
    request_id = response.headers["X-Request-ID"]
    assert body["request_id"] == request_id
    assert any(request_id in record.getMessage() for record in caplog.records)


def test_validation_errors_are_problem_json_with_field_locations(client: TestClient) -> None:
    response = client.post("/api/v1/auth/register", json={"national_id": "123", "full_name": "A", "password": "x"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR"
    assert {tuple(e["loc"]) for e in body["errors"]} >= {("body", "national_id"), ("body", "password")}


def test_unknown_path_is_problem_json_404(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


def test_sim_clock_is_404_without_simulation(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from service.main import create_app

    app = create_app(settings.model_copy(update={"simulation": False}))
    with TestClient(app) as client:
        assert client.get("/api/v1/sim/clock").status_code == 404


def test_health_checks_the_database(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}


@pytest.mark.parametrize("path", ["/api/v1/dossiers", "/api/v1/dossiers/000.00.61.H49-260302-0001/actions/receive"])
def test_a_body_that_is_not_json_is_401_before_422_without_credentials(
        client: TestClient, admin_headers: dict[str, str], path: str) -> None:
    """The contract checks 401 first; FastAPI decodes the body before it authenticates."""
    broken = {"content": b'{"procedure_code": ', "headers": {"Content-Type": "application/json"}}
    anonymous = client.post(path, **broken)  # type: ignore[arg-type]
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.json()["code"] == "UNAUTHORIZED"
    forged = client.post(path, content=broken["content"],  # type: ignore[arg-type]
                         headers={**broken["headers"], "Authorization": "Bearer not-a-token"})
    assert forged.status_code == 401
    signed_in = client.post(path, content=broken["content"],  # type: ignore[arg-type]
                            headers={**broken["headers"], **admin_headers})
    assert signed_in.status_code == 422
    assert signed_in.json()["code"] == "VALIDATION_ERROR"
    # Routes open to anyone still answer 422 for such a body.
    assert client.post("/api/v1/auth/register", **broken).status_code == 422  # type: ignore[arg-type]


BAD_REGISTRATION = {"national_id": "123", "full_name": "A", "password": "x"}


@pytest.mark.parametrize("language", [None, "vi-VN", "fr-FR, de;q=0.8"])
def test_validation_details_are_vietnamese_unless_english_is_asked_for(client: TestClient,
                                                                      language: str | None) -> None:
    headers = {"Accept-Language": language} if language else {}
    body = client.post("/api/v1/auth/register", json=BAD_REGISTRATION, headers=headers).json()
    assert body["detail"] == ("Dữ liệu không hợp lệ: Số định danh cá nhân không đúng định dạng "
                              "(và 1 lỗi khác).")
    assert [e["msg"] for e in body["errors"]] == ["Số định danh cá nhân không đúng định dạng",
                                                  "Mật khẩu phải có ít nhất 8 ký tự"]
    assert "should" not in str(body) and "String" not in str(body)


def test_validation_details_are_english_with_accept_language_en(client: TestClient) -> None:
    response = client.post("/api/v1/auth/register", json=BAD_REGISTRATION,
                           headers={"Accept-Language": "en-GB,en;q=0.9,vi;q=0.5"})
    body = response.json()
    assert response.headers["Content-Language"] == "en"
    assert body["detail"] == "Invalid input: Personal identification number has an invalid format (and 1 more)."
    assert [(e["loc"], e["type"]) for e in body["errors"]] == [
        (["body", "national_id"], "string_pattern_mismatch"), (["body", "password"], "string_too_short")]
