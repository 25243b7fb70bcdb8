from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import OAuth2PasswordRequestForm

from service.context import AppContext
from service.deps import ClientAddress, ContextDep, CurrentUser, NowDep, SessionDep
from service.domain.legal_time import utc_now
from service.errors import RateLimited, Unauthorized
from service.models import User
from service.operations import accounts
from service.ratelimit import RateLimiter
from service.schemas.common import Problem
from service.schemas.people import RegisterIn, TokenOut, UserOut

router = APIRouter(prefix="/auth", tags=["auth"])


def login_keys(address: str, username: str) -> tuple[str, str]:
    """The two counters a login attempt counts against: the (address, username) pair and the address alone."""
    user_digest = hashlib.sha256(username.lower().encode()).hexdigest()[:32]
    return f"login:{address}|{user_digest}", f"login-address:{address}"


def _count_attempt(context: AppContext, address: str, username: str) -> bool:
    """Count this attempt before any hashing; ``False`` when the pair or the address is over its limit."""
    settings = context.settings
    limiter = RateLimiter(context.db)
    window = settings.login_failure_window_seconds
    pair_key, address_key = login_keys(address, username)
    pair = limiter.hit(pair_key, window_seconds=window)
    from_address = limiter.hit(address_key, window_seconds=window)
    return pair <= settings.login_failure_limit and from_address <= settings.login_address_failure_limit


def _forgive_attempt(context: AppContext, address: str, username: str) -> None:
    """A successful login clears its pair and takes its own attempt back from the address's count."""
    limiter = RateLimiter(context.db)
    pair_key, address_key = login_keys(address, username)
    limiter.reset(pair_key)
    limiter.forgive(address_key, window_seconds=context.settings.login_failure_window_seconds)


def _find_user(context: AppContext, username: str) -> User | None:
    with context.db.transaction(read_only=True) as session:
        return accounts.find_user(session, username)


@router.post("/token", responses={401: {"model": Problem}, 429: {"model": Problem}})
async def issue_token(context: ContextDep, address: ClientAddress,
                      form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenOut:
    """OAuth2 password flow.

    Every attempt is counted *before* the password is hashed, atomically, against two sliding windows (real
    time, shared by all workers): the pair (client address, username) — ``MOTCUA_LOGIN_FAILURE_LIMIT`` (5) per
    ``MOTCUA_LOGIN_FAILURE_WINDOW_SECONDS`` (15 min) — and the client address alone —
    ``MOTCUA_LOGIN_ADDRESS_FAILURE_LIMIT`` (20), which stops spraying many usernames. A success clears its pair.
    So wrong passwords sent from elsewhere never lock the owner out at their own address; the price is that an
    attacker with many addresses gets 5 guesses per address and username, which Argon2 and the password policy
    make slow and unrewarding. Hashing itself is bounded per process, and so is the attempts' bookkeeping: a flood
    of logins waits its turn without holding threads or database connections (``service.security.passwords``)."""
    settings = context.settings
    if not await context.login_bookkeeping.run(_count_attempt, context, address, form.username):
        raise RateLimited("Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau.",
                          headers={"Retry-After": str(settings.login_failure_window_seconds)})
    user = await context.login_bookkeeping.run(_find_user, context, form.username)
    ok = await context.hashing.verify(form.password, user.password_hash if user else None)
    if user is None or not ok or not user.active:
        raise Unauthorized("Tên đăng nhập hoặc mật khẩu không đúng.", code="INVALID_CREDENTIALS")
    await context.login_bookkeeping.run(_forgive_attempt, context, address, form.username)
    token = context.tokens.issue(user.username, now=utc_now(), role=user.role)
    return TokenOut(access_token=token, expires_in=int(context.tokens.ttl.total_seconds()))


async def hashed_password(data: RegisterIn, context: ContextDep) -> str:
    """The new account's password hash, computed within the per-process hashing bound."""
    return await context.hashing.hash(data.password)


@router.post("/register", status_code=status.HTTP_201_CREATED, responses={409: {"model": Problem}})
def register(data: RegisterIn, password_hash: Annotated[str, Depends(hashed_password)], session: SessionDep,
             now: NowDep) -> UserOut:
    user = accounts.register_citizen(session, data, password_hash=password_hash, now=now)
    return UserOut.model_validate(user, from_attributes=True)


@router.get("/me", responses={401: {"model": Problem}})
def me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)
