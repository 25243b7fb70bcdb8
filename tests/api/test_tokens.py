"""Tokens that must be refused: the classic JWT attacks, expiry, tampering, wrong audience, bad headers."""

import base64
import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from jose import jwt

from service.domain.legal_time import utc_now
from service.security import tokens
from service.security.tokens import TokenIssuer
from service.settings import Settings
from tests.conftest import ADMIN


def _b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _claims(settings: Settings, **overrides: object) -> dict:
    now = utc_now()
    claims = {"sub": ADMIN[0], "role": "admin", "iss": settings.jwt_issuer, "aud": settings.jwt_audience,
              "iat": int(now.timestamp()), "exp": int((now + timedelta(minutes=5)).timestamp())}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _me(client: TestClient, token: str) -> int:
    return client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_valid_token_works(client: TestClient, settings: Settings) -> None:
    assert _me(client, jwt.encode(_claims(settings), settings.secret_key, algorithm="HS256")) == 200


@pytest.mark.parametrize("scheme", ["bearer", "BEARER"])
def test_the_bearer_scheme_is_read_whatever_its_case(client: TestClient, settings: Settings, scheme: str) -> None:
    token = jwt.encode(_claims(settings), settings.secret_key, algorithm="HS256")
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"{scheme} {token}"}).status_code == 200


@pytest.mark.parametrize("authorization", ["Basic {token}", "{token}", "Bearer", "Bearer ", ""])
def test_a_token_not_sent_as_bearer_is_refused(client: TestClient, settings: Settings, authorization: str) -> None:
    token = jwt.encode(_claims(settings), settings.secret_key, algorithm="HS256")
    response = client.get("/api/v1/auth/me", headers={"Authorization": authorization.format(token=token)})
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHORIZED"


def test_alg_none_is_refused(client: TestClient, settings: Settings) -> None:
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(settings))}."
    assert _me(client, token) == 401


def test_hs256_signed_with_a_public_key_is_refused(client: TestClient, settings: Settings) -> None:
    public_pem = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    import hashlib
    import hmac

    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64(_claims(settings))}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    assert _me(client, f"{signing_input}.{_b64(signature)}") == 401


def test_expired_token_is_refused(client: TestClient, settings: Settings) -> None:
    past = utc_now() - timedelta(hours=1)
    claims = _claims(settings, iat=int(past.timestamp()), exp=int((past + timedelta(minutes=5)).timestamp()))
    assert _me(client, jwt.encode(claims, settings.secret_key, algorithm="HS256")) == 401


def test_tampered_payload_is_refused(client: TestClient, settings: Settings) -> None:
    header, _, signature = jwt.encode(_claims(settings, sub="someone"), settings.secret_key,
                                      algorithm="HS256").split(".")
    assert _me(client, f"{header}.{_b64(_claims(settings))}.{signature}") == 401


@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "aud", "iss"])
def test_every_registered_claim_is_required(client: TestClient, settings: Settings, claim: str) -> None:
    token = jwt.encode(_claims(settings, **{claim: None}), settings.secret_key, algorithm="HS256")
    assert _me(client, token) == 401


def test_wrong_audience_and_issuer_are_refused(client: TestClient, settings: Settings) -> None:
    for override in ({"aud": "another-api"}, {"iss": "someone-else"}):
        assert _me(client, jwt.encode(_claims(settings, **override), settings.secret_key, algorithm="HS256")) == 401


@pytest.mark.parametrize("header", [{"crit": ["exp"]}, {"jku": "http://x/jwks"}, {"x5u": "http://x/c"},
                                    {"jwk": {"kty": "oct"}}, {"x5c": ["AAAA"]}])
def test_dangerous_headers_are_refused(client: TestClient, settings: Settings, header: dict) -> None:
    token = jwt.encode(_claims(settings), settings.secret_key, algorithm="HS256", headers=header)
    assert _me(client, token) == 401


def test_oversized_token_is_refused(client: TestClient, settings: Settings) -> None:
    token = jwt.encode(_claims(settings, padding="x" * 5000), settings.secret_key, algorithm="HS256")
    assert _me(client, token) == 401


def test_token_from_another_secret_is_refused(client: TestClient, settings: Settings) -> None:
    other = TokenIssuer(secret="another-secret-another-secret-another!", issuer=settings.jwt_issuer,
                        audience=settings.jwt_audience, ttl=timedelta(minutes=5))
    assert _me(client, other.issue(ADMIN[0], now=utc_now(), role="admin")) == 401


def test_failed_logins_are_rate_limited_per_username(client: TestClient, settings: Settings) -> None:
    for _ in range(settings.login_failure_limit):
        assert client.post("/api/v1/auth/token", data={"username": "admin", "password": "nope"}).status_code == 401
    blocked = client.post("/api/v1/auth/token", data={"username": "admin", "password": ADMIN[1]})
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "RATE_LIMITED"
    # another username is not affected
    assert client.post("/api/v1/auth/token", data={"username": "other", "password": "nope"}).status_code == 401


def test_a_token_accepted_before_is_refused_once_it_expires(client: TestClient, settings: Settings,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    token = jwt.encode(_claims(settings), settings.secret_key, algorithm="HS256")
    assert _me(client, token) == 200  # verified and remembered by the process
    expires = _claims(settings)["exp"]
    monkeypatch.setattr(tokens, "time", SimpleNamespace(time=lambda: expires + 301))
    assert _me(client, token) == 401


def test_a_remembered_token_altered_is_refused(client: TestClient, settings: Settings) -> None:
    token = jwt.encode(_claims(settings), settings.secret_key, algorithm="HS256")
    assert _me(client, token) == 200
    header, payload, signature = token.split(".")
    assert _me(client, f"{header}.{_b64(_claims(settings, sub='someone'))}.{signature}") == 401
    assert _me(client, f"{header}.{payload}.{signature[:-2]}AA") == 401


def test_an_issuer_remembers_a_bounded_number_of_tokens(settings: Settings) -> None:
    issuer = TokenIssuer(settings.secret_key, settings.jwt_issuer, settings.jwt_audience, timedelta(minutes=5))
    issued = [issuer.issue(f"user{i}", now=utc_now(), role="citizen") for i in range(tokens.VERIFIED_KEPT + 10)]
    assert [issuer.verify(token) for token in issued] == [f"user{i}" for i in range(len(issued))]
    assert len(issuer._verified) <= tokens.VERIFIED_KEPT
    assert issuer.verify(issued[0]) == "user0"  # forgotten, verified again in full
