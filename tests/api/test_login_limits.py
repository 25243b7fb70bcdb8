"""Login limits (issue 12 items 1–3): attempts are counted atomically before any hashing, per (address,
username) and per address, in sliding windows; hashing is bounded per process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service import ratelimit
from service.main import create_app
from service.security import passwords
from tests.conftest import ADMIN, empty_tables, make_settings

TOKEN = "/api/v1/auth/token"


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[FastAPI]:
    empty_tables(database_url)
    application = create_app(make_settings(database_url, tmp_path, trusted_proxies="10.0.0.1",
                                           login_address_failure_limit=12))
    with TestClient(application):  # runs the lifespan: the bootstrap admin exists
        yield application


def client_at(app: FastAPI, address: str) -> TestClient:
    """A client whose requests arrive through the trusted proxy on behalf of ``address``."""
    return TestClient(app, client=("10.0.0.1", 40000), headers={"X-Forwarded-For": address},
                      raise_server_exceptions=False)


def _counting_verifications(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = passwords.verify_password

    def counted(password: str, password_hash: str | None) -> bool:
        calls.append(1)
        return real(password, password_hash)

    monkeypatch.setattr(passwords, "verify_password", counted)
    return calls


def test_concurrent_wrong_passwords_are_checked_at_most_the_limit(app: FastAPI,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Before, the count was read, then the password checked, then the count raised: 40 concurrent attempts
    were checked 18 times against a limit of 5."""
    checked = _counting_verifications(monkeypatch)
    barrier = threading.Barrier(20)

    def attempt(i: int) -> int:
        client = client_at(app, "198.51.100.7")
        barrier.wait()
        return client.post(TOKEN, data={"username": ADMIN[0], "password": f"wrong-{i}"}).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(attempt, range(20)))
    assert len(checked) <= 5
    assert statuses.count(401) == len(checked)
    assert statuses.count(429) == 20 - len(checked)


def test_a_locked_pair_does_not_lock_the_owner_out_at_their_own_address(app: FastAPI) -> None:
    attacker, owner = client_at(app, "198.51.100.7"), client_at(app, "192.0.2.10")
    for i in range(5):
        assert attacker.post(TOKEN, data={"username": ADMIN[0], "password": f"x{i}"}).status_code == 401
    assert attacker.post(TOKEN, data={"username": ADMIN[0], "password": ADMIN[1]}).status_code == 429
    assert owner.post(TOKEN, data={"username": ADMIN[0], "password": ADMIN[1]}).status_code == 200


def test_a_success_clears_its_own_pair(app: FastAPI) -> None:
    owner = client_at(app, "192.0.2.10")
    for _ in range(2):  # 8 typos in all: more than the pair's limit, fewer than the address's
        for i in range(4):
            assert owner.post(TOKEN, data={"username": ADMIN[0], "password": f"typo{i}"}).status_code == 401
        assert owner.post(TOKEN, data={"username": ADMIN[0], "password": ADMIN[1]}).status_code == 200


def test_spraying_usernames_from_one_address_is_limited_before_any_hashing(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, the limit counted per username only: 200 distinct usernames each cost a full Argon2 hash."""
    checked = _counting_verifications(monkeypatch)
    sprayer = client_at(app, "198.51.100.8")
    statuses = [sprayer.post(TOKEN, data={"username": f"nobody{i}", "password": "x"}).status_code
                for i in range(30)]
    assert statuses[:12] == [401] * 12 and set(statuses[12:]) == {429}
    assert len(checked) == 12
    other = client_at(app, "192.0.2.10")
    assert other.post(TOKEN, data={"username": ADMIN[0], "password": ADMIN[1]}).status_code == 200


def test_x_forwarded_for_is_ignored_from_an_untrusted_peer(app: FastAPI) -> None:
    direct = TestClient(app, client=("198.51.100.9", 40000), raise_server_exceptions=False)
    statuses = [direct.post(TOKEN, data={"username": ADMIN[0], "password": "x"},
                            headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(7)]
    assert statuses == [401] * 5 + [429] * 2


def test_hashing_never_runs_more_than_the_configured_concurrency(app: FastAPI,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    running, peak, lock = 0, 0, threading.Lock()
    real_verify = passwords._hasher.verify

    def slow_verify(password: str, password_hash: str) -> bool:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        threading.Event().wait(0.05)
        with lock:
            running -= 1
        return real_verify(password, password_hash)

    monkeypatch.setattr(passwords._hasher, "verify", slow_verify)
    barrier = threading.Barrier(12)

    def attempt(i: int) -> int:
        client = client_at(app, f"198.51.100.{i}")
        barrier.wait()
        return client.post(TOKEN, data={"username": f"user{i}", "password": "x"}).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        assert set(pool.map(attempt, range(12))) == {401}
    assert peak <= passwords.DEFAULT_CONCURRENCY


def test_the_window_slides_across_a_bucket_boundary(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before, a fixed window let 2 × limit lookups through in a moment straddling its boundary."""
    base = datetime(2026, 12, 6, 12, 0, 59, tzinfo=UTC)  # one second before a minute boundary
    now = [base]
    monkeypatch.setattr(ratelimit, "utc_now", lambda: now[0])
    client = client_at(app, "198.51.100.20")
    lookup = "/api/v1/public/dossiers/X"
    assert {client.get(lookup, params={"secret": "s"}).status_code for _ in range(30)} == {404}
    now[0] = base + timedelta(seconds=2)  # the next bucket has begun
    assert client.get(lookup, params={"secret": "s"}).status_code == 429
    now[0] = base + timedelta(seconds=61)  # a whole window later the earlier burst has slid out
    assert client.get(lookup, params={"secret": "s"}).status_code == 404
