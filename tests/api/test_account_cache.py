"""Requests rely on a briefly kept copy of the signed-in account (``service.security.sessions``): a change made in
the process applies at once, one made elsewhere within the documented bound, and a deactivated account is refused."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import select

from service.db import Database
from service.models import User
from service.security.sessions import AccountCache
from service.settings import Settings
from tests.conftest import bearer

PASSWORD = "Demo@123456"


def citizen(client: TestClient) -> dict[str, str]:
    response = client.post("/api/v1/auth/register", json={
        "national_id": "022090001234", "full_name": "Lê Văn Hùng", "password": PASSWORD})
    assert response.status_code == 201, response.text
    return bearer(client, "022090001234", PASSWORD)


def me(client: TestClient, headers: dict[str, str]) -> int:
    return client.get("/api/v1/auth/me", headers=headers).status_code


def test_an_account_deactivated_through_the_orm_is_refused_on_the_next_request(
        client: TestClient, settings: Settings) -> None:
    headers = citizen(client)
    assert me(client, headers) == 200  # now kept by the cache
    db = Database(settings.database_url)
    with db.transaction() as session:
        user = session.exec(select(User).where(User.username == "022090001234")).one()
        user.active = False
        session.add(user)
    db.dispose()
    assert me(client, headers) == 401


def test_a_change_made_elsewhere_applies_once_the_kept_copy_expires(settings: Settings, client: TestClient) -> None:
    citizen(client)
    now = [0.0]
    cache = AccountCache(5.0, clock=lambda: now[0])
    db = Database(settings.database_url)
    with db.transaction(read_only=True) as session:
        assert cache.user(session, "022090001234") is not None
    with db.engine.begin() as conn:  # another process: no ORM event reaches this one
        conn.execute(text("UPDATE user_account SET active = false, full_name = 'Đã khoá' "
                          "WHERE username = '022090001234'"))
    now[0] = 4.9
    with db.transaction(read_only=True) as session:
        kept = cache.user(session, "022090001234")
        assert kept is not None and kept.active and kept.full_name == "Lê Văn Hùng"
    now[0] = 5.0
    with db.transaction(read_only=True) as session:
        fresh = cache.user(session, "022090001234")
        assert fresh is not None and not fresh.active
    db.dispose()


def test_a_cache_of_zero_seconds_reads_the_account_every_time(settings: Settings, client: TestClient) -> None:
    citizen(client)
    cache = AccountCache(0)
    db = Database(settings.database_url)
    with db.transaction(read_only=True) as session:
        assert cache.user(session, "022090001234") is not None
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE user_account SET active = false WHERE username = '022090001234'"))
    with db.transaction(read_only=True) as session:
        user = cache.user(session, "022090001234")
        assert user is not None and not user.active
    db.dispose()


def test_the_kept_account_is_a_row_of_the_request_that_can_be_changed(client: TestClient) -> None:
    """A password change through the API, made with the kept copy, is stored, and the new password signs in."""
    headers = citizen(client)
    assert me(client, headers) == 200
    changed = client.post("/api/v1/auth/password", headers=headers,
                          json={"current_password": PASSWORD, "new_password": "Moi@1234567890"})
    assert changed.status_code in (200, 204), changed.text
    assert client.post("/api/v1/auth/token", data={"username": "022090001234", "password": PASSWORD}
                       ).status_code == 401
    assert bearer(client, "022090001234", "Moi@1234567890")


def test_an_unknown_account_is_not_kept(settings: Settings, client: TestClient) -> None:
    """An account created after a lookup found nothing is found by the next lookup."""
    cache = AccountCache(60)
    db = Database(settings.database_url)
    with db.transaction(read_only=True) as session:
        assert cache.user(session, "022090001234") is None
    citizen(client)
    with db.transaction(read_only=True) as session:
        assert cache.user(session, "022090001234") is not None
    db.dispose()


def test_expired_copies_are_dropped_not_kept_for_every_account_ever_seen(settings: Settings,
                                                                         client: TestClient) -> None:
    """A worker serving a province's citizens keeps the accounts of the last few seconds only."""
    citizen(client)
    response = client.post("/api/v1/auth/register", json={
        "national_id": "022090005678", "full_name": "Trần Thị Mai", "password": PASSWORD})
    assert response.status_code == 201, response.text
    now = [0.0]
    cache = AccountCache(5.0, clock=lambda: now[0])
    db = Database(settings.database_url)
    with db.transaction(read_only=True) as session:
        assert cache.user(session, "022090001234") is not None
    now[0] = 4.0
    with db.transaction(read_only=True) as session:
        assert cache.user(session, "022090005678") is not None
    assert len(cache) == 2  # both fresh
    now[0] = 9.5
    with db.transaction(read_only=True) as session:
        assert cache.user(session, "022090005678") is not None  # read again: its copy expired
    assert len(cache) == 1  # and the first account's expired copy is gone
    db.dispose()
