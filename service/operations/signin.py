"""Signing in with a username and password: the one place that checks credentials and counts attempts.

``POST /auth/token`` (form), ``POST /auth/login`` (JSON) and the staff pages' sign-in form all go through
:func:`count_attempt` / :func:`forgive_attempt`, so they share the same limits (real time, kept in the database so
every process counts the same attempts).

Every attempt is counted *before* the password is hashed, atomically, against two sliding windows: the pair
(client address, username) — ``MOTCUA_LOGIN_FAILURE_LIMIT`` per ``MOTCUA_LOGIN_FAILURE_WINDOW_SECONDS`` — and the
client address alone — ``MOTCUA_LOGIN_ADDRESS_FAILURE_LIMIT``, which stops spraying many usernames. A success
clears its pair. Wrong passwords sent from elsewhere therefore never lock the owner out at their own address.
"""

from __future__ import annotations

import hashlib

from service.db import Database
from service.errors import RateLimited, Unauthorized
from service.models import User
from service.operations import accounts
from service.ratelimit import RateLimiter
from service.security.passwords import verify_password
from service.settings import Settings


def login_keys(address: str, username: str) -> tuple[str, str]:
    """The two counters a login attempt counts against: the (address, username) pair and the address alone."""
    user_digest = hashlib.sha256(username.lower().encode()).hexdigest()[:32]
    return f"login:{address}|{user_digest}", f"login-address:{address}"


def count_attempt(db: Database, settings: Settings, address: str, username: str) -> None:
    """Count this attempt before any hashing; 429 ``RATE_LIMITED`` when the pair or the address is over its
    limit."""
    limiter = RateLimiter(db)
    window = settings.login_failure_window_seconds
    pair_key, address_key = login_keys(address, username)
    pair = limiter.hit(pair_key, window_seconds=window)
    from_address = limiter.hit(address_key, window_seconds=window)
    if pair > settings.login_failure_limit or from_address > settings.login_address_failure_limit:
        raise RateLimited("Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau.",
                          headers={"Retry-After": str(window)})


def forgive_attempt(db: Database, settings: Settings, address: str, username: str) -> None:
    """A successful login clears its pair and takes its own attempt back from the address's count."""
    limiter = RateLimiter(db)
    pair_key, address_key = login_keys(address, username)
    limiter.reset(pair_key)
    limiter.forgive(address_key, window_seconds=settings.login_failure_window_seconds)


def find_user(db: Database, username: str) -> User | None:
    with db.transaction(read_only=True) as session:
        user = accounts.find_user(session, username)
        if user is not None:
            session.expunge(user)
        return user


def invalid_credentials() -> Unauthorized:
    return Unauthorized("Tên đăng nhập hoặc mật khẩu không đúng.", code="INVALID_CREDENTIALS")


def sign_in(db: Database, settings: Settings, address: str, username: str, password: str) -> User:
    """The active user named ``username`` whose password is ``password`` (the pages' form, in a worker thread);
    else 401 ``INVALID_CREDENTIALS``, and 429 once the limits above are reached. The API's sign-in does the same
    with the per-process bound on hashing (``routers/auth.py``)."""
    count_attempt(db, settings, address, username)
    user = find_user(db, username)
    ok = verify_password(password, user.password_hash if user else None)
    if user is None or not ok or not user.active:
        raise invalid_credentials()
    forgive_attempt(db, settings, address, username)
    return user
