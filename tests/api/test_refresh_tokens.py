"""Refresh tokens, JSON sign-in and password change (``/auth/refresh``, ``/auth/login``, ``/auth/password``)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import ADMIN


def sign_in(client: TestClient, username: str = ADMIN[0], password: str = ADMIN[1]) -> Any:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def refresh(client: TestClient, token: str) -> Any:
    return client.post("/api/v1/auth/refresh", json={"refresh_token": token})


def me(client: TestClient, access: str) -> Any:
    return client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {access}"})


def test_a_refresh_token_gives_a_new_pair_once(client: TestClient) -> None:
    first = sign_in(client).json()
    assert first["refresh_token"] and first["refresh_expires_in"] > first["expires_in"]
    second = refresh(client, first["refresh_token"])
    assert second.status_code == 200
    pair = second.json()
    assert pair["refresh_token"] != first["refresh_token"]
    assert me(client, pair["access_token"]).json()["username"] == ADMIN[0]
    assert refresh(client, pair["refresh_token"]).status_code == 200


def test_a_replayed_refresh_token_revokes_its_whole_family(client: TestClient) -> None:
    first = sign_in(client).json()
    successor = refresh(client, first["refresh_token"]).json()
    replay = refresh(client, first["refresh_token"])
    assert replay.status_code == 401 and replay.json()["code"] == "INVALID_REFRESH_TOKEN"
    assert refresh(client, successor["refresh_token"]).status_code == 401  # the thief's copy is dead too
    other_sign_in = sign_in(client).json()  # another sign-in is another family, untouched
    assert refresh(client, other_sign_in["refresh_token"]).status_code == 200


def test_unknown_refresh_tokens_are_refused(client: TestClient) -> None:
    response = refresh(client, "not-a-token")
    assert response.status_code == 401 and response.json()["code"] == "INVALID_REFRESH_TOKEN"


def test_changing_the_password_revokes_refresh_tokens(client: TestClient) -> None:
    pair = sign_in(client).json()
    bearer = {"Authorization": f"Bearer {pair['access_token']}"}
    wrong = client.post("/api/v1/auth/password", headers=bearer,
                        json={"current_password": "nope", "new_password": "Moi@12345678"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "INVALID_CREDENTIALS"
    changed = client.post("/api/v1/auth/password", headers=bearer,
                          json={"current_password": ADMIN[1], "new_password": "Moi@12345678"})
    assert changed.status_code == 204
    assert refresh(client, pair["refresh_token"]).status_code == 401
    assert sign_in(client).status_code == 401
    assert sign_in(client, ADMIN[0], "Moi@12345678").status_code == 200


def test_a_short_new_password_is_a_vietnamese_validation_error(client: TestClient) -> None:
    pair = sign_in(client).json()
    response = client.post("/api/v1/auth/password", headers={"Authorization": f"Bearer {pair['access_token']}"},
                           json={"current_password": ADMIN[1], "new_password": "short"})
    assert response.status_code == 422
    assert response.json()["detail"] == "Dữ liệu không hợp lệ: Mật khẩu mới phải có ít nhất 8 ký tự."


def test_json_sign_in_shares_the_form_sign_in_and_its_failure_limit(client: TestClient) -> None:
    ok = client.post("/api/v1/auth/login", json={"username": ADMIN[0], "password": ADMIN[1]})
    assert ok.status_code == 200 and me(client, ok.json()["access_token"]).status_code == 200
    for _ in range(5):
        bad = client.post("/api/v1/auth/login", json={"username": ADMIN[0], "password": "wrong"})
        assert bad.status_code == 401
    assert client.post("/api/v1/auth/login", json={"username": ADMIN[0], "password": ADMIN[1]}).status_code == 429
    assert sign_in(client).status_code == 429
