"""Rotating refresh tokens and password changes (security: real time, never the simulated clock).

A refresh token is 32 random bytes shown once; only its SHA-256 is stored. ``POST /auth/refresh`` spends it and
returns a new pair; a token presented a second time means it was copied, so its whole family (every token
descended from the same sign-in) is revoked and the request is refused (OAuth 2.0 Security BCP, RFC 9700
§4.14.2). Changing the password revokes every refresh token of the user; access tokens already issued run out
within their own lifetime (``MOTCUA_ACCESS_TOKEN_MINUTES``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from service.errors import Unauthorized, Unprocessable
from service.models import RefreshToken, User
from service.security.passwords import hash_password, verify_password

REFRESH_LIFETIME = timedelta(days=14)


@dataclass(frozen=True)
class IssuedRefresh:
    token: str
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(session: Session, user: User, *, now: datetime, family: str | None = None) -> IssuedRefresh:
    token = secrets.token_urlsafe(32)
    row = RefreshToken(token_hash=_digest(token), family=family or secrets.token_hex(16), user_id=user.id,  # type: ignore[arg-type]
                       issued_at=now, expires_at=now + REFRESH_LIFETIME)
    session.add(row)
    session.flush()
    return IssuedRefresh(token, row.expires_at)


def invalid_refresh_token() -> Unauthorized:
    return Unauthorized("Mã làm mới không hợp lệ, đã hết hạn hoặc đã bị thu hồi. Vui lòng đăng nhập lại.",
                        code="INVALID_REFRESH_TOKEN")


def rotate(session: Session, token: str, *, now: datetime) -> tuple[User, IssuedRefresh]:
    """Spend ``token`` and issue its successor in the same family; a reused token revokes the family (the
    revocation is committed even though the request fails: call :func:`revoke_family` from the caller's own
    transaction when :class:`ReusedToken` is raised)."""
    row = session.exec(select(RefreshToken).where(RefreshToken.token_hash == _digest(token))
                       .with_for_update()).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise invalid_refresh_token()
    if row.used_at is not None:
        raise ReusedToken(row.family)
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise invalid_refresh_token()
    row.used_at = now
    session.add(row)
    return user, issue(session, user, now=now, family=row.family)


class ReusedToken(Exception):
    def __init__(self, family: str) -> None:
        super().__init__(family)
        self.family = family


def revoke_family(session: Session, family: str, *, now: datetime) -> None:
    session.execute(update(RefreshToken).where(col(RefreshToken.family) == family,
                                               col(RefreshToken.revoked_at).is_(None)).values(revoked_at=now))


def change_password(session: Session, user: User, current: str, new: str, *, now: datetime) -> None:
    """Check the current password, store the new one and revoke every refresh token of the user."""
    if not verify_password(current, user.password_hash):
        raise Unauthorized("Mật khẩu hiện tại không đúng.", code="INVALID_CREDENTIALS")
    if current == new:
        raise Unprocessable("Mật khẩu mới phải khác mật khẩu hiện tại.", code="PASSWORD_UNCHANGED")
    user.password_hash = hash_password(new)
    session.add(user)
    session.execute(update(RefreshToken).where(col(RefreshToken.user_id) == user.id,
                                               col(RefreshToken.revoked_at).is_(None)).values(revoked_at=now))
    session.flush()
