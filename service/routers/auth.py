"""``/auth``: sign-in (OAuth2 form or JSON), rotating refresh tokens, password change, registration, me.

Auth flow: ``POST /auth/token`` (form) or ``POST /auth/login`` (JSON) → an access token (Bearer, short-lived)
and a refresh token; ``POST /auth/refresh`` spends the refresh token for a new pair; ``POST /auth/password``
changes the password and revokes every refresh token.
"""


from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from starlette.concurrency import run_in_threadpool

from service.context import AppContext
from service.deps import ClientAddress, ContextDep, CurrentUser, NowDep, SessionDep
from service.domain.legal_time import utc_now
from service.models import User
from service.operations import accounts, refresh, signin
from service.schemas.common import Problem
from service.schemas.people import LoginIn, PasswordChangeIn, RefreshIn, RegisterIn, TokenOut, UserOut

router = APIRouter(prefix="/auth", tags=["auth"])
SIGN_IN_ERRORS: dict[int | str, dict[str, object]] = {401: {"model": Problem}, 429: {"model": Problem}}


def _token_pair(context: ContextDep, user: User) -> TokenOut:
    now = utc_now()
    access = context.tokens.issue(user.username, now=now, role=user.role)
    with context.db.transaction() as session:
        issued = refresh.issue(session, user, now=now)
    return TokenOut(access_token=access, expires_in=int(context.tokens.ttl.total_seconds()),
                    refresh_token=issued.token, refresh_expires_in=int((issued.expires_at - now).total_seconds()))


async def _authenticate(context: AppContext, address: str, username: str, password: str) -> TokenOut:
    """Count the attempt, check the password within the per-process hashing bound, answer a token pair.

    Attempts are counted before hashing (:mod:`service.operations.signin`: per address and username, and per
    address). Hashing itself is bounded per process, and so is the attempts' bookkeeping: a flood of logins waits
    its turn without holding threads or database connections (``service.security.passwords``)."""
    db, settings = context.db, context.settings
    await context.login_bookkeeping.run(signin.count_attempt, db, settings, address, username)
    user = await context.login_bookkeeping.run(signin.find_user, db, username)
    ok = await context.hashing.verify(password, user.password_hash if user else None)
    if user is None or not ok or not user.active:
        raise signin.invalid_credentials()
    await context.login_bookkeeping.run(signin.forgive_attempt, db, settings, address, username)
    return await run_in_threadpool(_token_pair, context, user)


@router.post("/token", responses=SIGN_IN_ERRORS, summary="Sign in (OAuth2 password form)")
async def issue_token(context: ContextDep, address: ClientAddress,
                      form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenOut:
    """OAuth2 password flow (``application/x-www-form-urlencoded``: ``username``, ``password``). Every attempt
    is counted before the password is hashed, per (client address, username) — ``MOTCUA_LOGIN_FAILURE_LIMIT``
    (5) in ``MOTCUA_LOGIN_FAILURE_WINDOW_SECONDS`` (15 min) — and per address —
    ``MOTCUA_LOGIN_ADDRESS_FAILURE_LIMIT`` (20); a success clears its pair: 401 ``INVALID_CREDENTIALS``, then
    429 ``RATE_LIMITED``."""
    return await _authenticate(context, address, form.username, form.password)


@router.post("/login", responses=SIGN_IN_ERRORS, summary="Sign in (JSON body)")
async def login(context: ContextDep, address: ClientAddress, data: LoginIn) -> TokenOut:
    """The same as ``POST /auth/token`` with a JSON body, for clients that do not send forms; the same limits."""
    return await _authenticate(context, address, data.username, data.password)


@router.post("/refresh", responses={401: {"model": Problem}}, summary="Exchange a refresh token for a new pair")
def refresh_tokens(context: ContextDep, data: RefreshIn) -> TokenOut:
    """Each refresh token works once and is replaced by the one returned. A token presented again (stolen and
    replayed, or a client bug) revokes every token of its sign-in: 401 ``INVALID_REFRESH_TOKEN``."""
    now = utc_now()
    try:
        with context.db.transaction() as session:
            user, issued = refresh.rotate(session, data.refresh_token, now=now)
            username, role = user.username, user.role
    except refresh.ReusedToken as reused:
        with context.db.transaction() as session:
            refresh.revoke_family(session, reused.family, now=now)
        raise refresh.invalid_refresh_token() from None
    access = context.tokens.issue(username, now=now, role=role)
    return TokenOut(access_token=access, expires_in=int(context.tokens.ttl.total_seconds()),
                    refresh_token=issued.token, refresh_expires_in=int((issued.expires_at - now).total_seconds()))


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
             responses={401: {"model": Problem}, 422: {"model": Problem}}, summary="Change my password")
def change_password(data: PasswordChangeIn, user: CurrentUser, session: SessionDep) -> Response:
    """Check the current password and store the new one; every refresh token of the account is revoked (sign in
    again on other devices). 401 ``INVALID_CREDENTIALS`` for a wrong current password."""
    refresh.change_password(session, user, data.current_password, data.new_password, now=utc_now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def hashed_password(data: RegisterIn, context: ContextDep) -> str:
    """The new account's password hash, computed within the per-process hashing bound."""
    return await context.hashing.hash(data.password)


@router.post("/register", status_code=status.HTTP_201_CREATED, responses={409: {"model": Problem}},
             summary="Register as a citizen")
def register(data: RegisterIn, password_hash: Annotated[str, Depends(hashed_password)], session: SessionDep,
             now: NowDep) -> UserOut:
    """Citizen self-registration; the username is the national id. 409 ``USER_EXISTS`` for a taken id. The
    account starts unverified (contract v2, Identity)."""
    user = accounts.register_citizen(session, data, password_hash=password_hash, now=now)
    return UserOut.model_validate(user, from_attributes=True)


@router.get("/me", responses={401: {"model": Problem}}, summary="Who am I")
def me(user: CurrentUser) -> UserOut:
    """The signed-in user."""
    return UserOut.model_validate(user, from_attributes=True)
