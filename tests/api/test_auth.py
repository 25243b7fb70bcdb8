from fastapi.testclient import TestClient

from tests.conftest import bearer


def test_register_then_login_then_me(client: TestClient) -> None:
    body = {"national_id": "001090001234", "full_name": "Nguyễn Văn An", "password": "matkhau123"}
    created = client.post("/api/v1/auth/register", json=body)
    assert created.status_code == 201
    headers = bearer(client, "001090001234", "matkhau123")
    me = client.get("/api/v1/auth/me", headers=headers).json()
    assert me == {"username": "001090001234", "full_name": "Nguyễn Văn An", "role": "citizen",
                  "agency_code": None, "identity_verified": False}


def test_duplicate_registration_is_user_exists(client: TestClient) -> None:
    body = {"national_id": "001090001234", "full_name": "Nguyễn Văn An", "password": "matkhau123"}
    assert client.post("/api/v1/auth/register", json=body).status_code == 201
    again = client.post("/api/v1/auth/register", json=body)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert again.json()["code"] == "USER_EXISTS"


def test_bad_credentials_401(client: TestClient) -> None:
    r = client.post("/api/v1/auth/token", data={"username": "admin", "password": "wrong-password"})
    assert r.status_code == 401
    assert r.json()["code"] == "INVALID_CREDENTIALS"


def test_no_token_is_401(client: TestClient) -> None:
    r = client.get("/api/v1/auth/me")
    assert r.status_code == 401
    assert r.json()["code"] == "UNAUTHORIZED"
