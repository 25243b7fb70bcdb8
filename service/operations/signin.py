"""Signing in with a username and password: the one place that checks credentials and counts failures.

``POST /auth/token`` (form or JSON) and the staff pages' sign-in form both call :func:`sign_in`, so they share
one failure limit per username (real time, kept in the database so every process counts the same attempts).
"""

from __future__ import annotations

from service.db import Database
from service.errors import RateLimited, Unauthorized
from service.models import User
from service.operations import accounts
from service.ratelimit import RateLimiter
from service.security.passwords import verify_password
from service.settings import Settings


def _failure_key(username: str) -> str:
    return f"login:{username.lower()}"


def sign_in(db: Database, settings: Settings, username: str, password: str) -> User:
    """The active user named ``username`` whose password is ``password``; else 401 ``INVALID_CREDENTIALS``, and
    429 ``RATE_LIMITED`` once ``login_failure_limit`` attempts failed within the window."""
    limiter = RateLimiter(db)
    key = _failure_key(username)
    window = settings.login_failure_window_seconds
    if limiter.count(key, window_seconds=window) >= settings.login_failure_limit:
        raise RateLimited("Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau.",
                          headers={"Retry-After": str(window)})
    with db.transaction(read_only=True) as session:
        user = accounts.find_user(session, username)
        ok = verify_password(password, user.password_hash if user else None)
        if user is not None:
            session.expunge(user)
    if user is None or not ok or not user.active:
        limiter.hit(key, window_seconds=window)
        raise Unauthorized("Tên đăng nhập hoặc mật khẩu không đúng.", code="INVALID_CREDENTIALS")
    return user
