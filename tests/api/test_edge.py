"""The checks at the edge: NUL characters (422 INVALID_CHARACTER), body size (413 PAYLOAD_TOO_LARGE) and the
clean answer to an unexpected error. Each request here used to reach PostgreSQL (a 500) or the JSON parser."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from service.operations import catalogue
from service.settings import Settings
from tests.conftest import make_settings


def _assert_invalid_character(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "INVALID_CHARACTER"


@pytest.mark.parametrize("path", [
    "/api/v1/procedures?q=a%00b",
    "/api/v1/public/dossiers/a%00b?secret=x",
    "/api/v1/public/dossiers/ab?secret=x%00",
    "/api/v1/agencies/A%00B",
])
def test_nul_in_path_or_query_is_invalid_character_without_a_token(client: TestClient, path: str) -> None:
    _assert_invalid_character(client.get(path))


def test_nul_in_a_login_form_is_invalid_character(client: TestClient) -> None:
    _assert_invalid_character(client.post("/api/v1/auth/token", data={"username": "adm\x00in", "password": "x"}))


def test_nul_in_a_json_string_is_invalid_character(client: TestClient) -> None:
    body = {"national_id": "001090001234", "full_name": "Nguyễn\x00Văn A", "password": "Matkhau@2026"}
    _assert_invalid_character(client.post("/api/v1/auth/register", content=json.dumps(body),
                                           headers={"Content-Type": "application/json"}))
    assert client.post("/api/v1/auth/token",
                       data={"username": "001090001234", "password": "Matkhau@2026"}).status_code == 401


def test_nul_in_a_json_key_is_invalid_character(client: TestClient) -> None:
    _assert_invalid_character(client.post("/api/v1/auth/register", content=b'{"a\\u0000": 1}',
                                          headers={"Content-Type": "application/json"}))


def test_an_escaped_backslash_before_u0000_is_not_a_nul(client: TestClient) -> None:
    body = {"national_id": "001090001235", "full_name": "A \\u0000 B", "password": "Matkhau@2026"}
    response = client.post("/api/v1/auth/register", content=json.dumps(body),
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    assert response.json()["full_name"] == "A \\u0000 B"


@pytest.fixture
def small_body_client(database_url: str, tmp_path: Path) -> TestClient:
    from tests.conftest import empty_tables

    empty_tables(database_url)
    settings: Settings = make_settings(database_url, tmp_path, max_body_bytes=4096)
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client  # type: ignore[misc]


def test_a_declared_oversized_json_body_is_413_before_it_is_read(small_body_client: TestClient) -> None:
    body = json.dumps({"national_id": "001090001234", "full_name": "A" * 10_000, "password": "Matkhau@2026"})
    response = small_body_client.post("/api/v1/auth/register", content=body,
                                      headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"


def test_a_streamed_oversized_body_without_a_length_is_413(small_body_client: TestClient) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"national_id": "001090001234", "full_name": "'
        for _ in range(100):
            yield b"A" * 1024
        yield b'", "password": "Matkhau@2026"}'

    response = small_body_client.post("/api/v1/auth/register", content=chunks(),
                                      headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"


def test_a_body_under_the_limit_is_served(small_body_client: TestClient) -> None:
    body = {"national_id": "001090001236", "full_name": "Trần Thị B", "password": "Matkhau@2026"}
    assert small_body_client.post("/api/v1/auth/register", json=body).status_code == 201


def test_an_unexpected_error_is_answered_inside_the_app(settings: Settings, monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    """Before, Starlette answered the 500 and then re-raised (the server dropped the connection without
    ``Connection: close`` and the test client, which mirrors that, raised). Now the app answers and carries on."""

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(catalogue, "search", boom)
    with TestClient(create_app(settings), raise_server_exceptions=True) as strict_client, \
            caplog.at_level(logging.ERROR, logger="motcua.errors"):
        response = strict_client.get("/api/v1/procedures")
        assert response.status_code == 500
        assert response.json()["code"] == "INTERNAL_ERROR"
        assert strict_client.get("/health").status_code == 200
    assert sum("unhandled error" in r.getMessage() for r in caplog.records) == 1
