from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import OAuth2PasswordRequestForm

from service.deps import ContextDep, CurrentUser, NowDep, SessionDep
from service.domain.legal_time import utc_now
from service.errors import RateLimited, Unauthorized
from service.operations import accounts
from service.ratelimit import RateLimiter
from service.schemas.common import Problem
from service.schemas.people import RegisterIn, TokenOut, UserOut
from service.security.passwords import verify_password

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", responses={401: {"model": Problem}, 429: {"model": Problem}})
def issue_token(context: ContextDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenOut:
    """OAuth2 password flow. Failed attempts are limited per username (real time, shared by all workers)."""
    settings = context.settings
    limiter = RateLimiter(context.db)
    key = f"login:{form.username.lower()}"
    window = settings.login_failure_window_seconds
    if limiter.count(key, window_seconds=window) >= settings.login_failure_limit:
        raise RateLimited("Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau.",
                          headers={"Retry-After": str(window)})
    with context.db.transaction(read_only=True) as session:
        user = accounts.find_user(session, form.username)
        ok = verify_password(form.password, user.password_hash if user else None)
    if user is None or not ok or not user.active:
        limiter.hit(key, window_seconds=window)
        raise Unauthorized("Tên đăng nhập hoặc mật khẩu không đúng.", code="INVALID_CREDENTIALS")
    token = context.tokens.issue(user.username, now=utc_now(), role=user.role)
    return TokenOut(access_token=token, expires_in=int(context.tokens.ttl.total_seconds()))


@router.post("/register", status_code=status.HTTP_201_CREATED, responses={409: {"model": Problem}})
def register(data: RegisterIn, session: SessionDep, now: NowDep) -> UserOut:
    user = accounts.register_citizen(session, data, now=now)
    return UserOut.model_validate(user, from_attributes=True)


@router.get("/me", responses={401: {"model": Problem}})
def me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)
