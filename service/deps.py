"""Annotated dependencies shared by the routers."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Annotated, Any

import anyio
from fastapi import Depends, Header, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.security import OAuth2PasswordBearer
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from service.clock import COLUMNS as CLOCK_COLUMNS
from service.clock import LegalClock
from service.context import AppContext
from service.domain.roles import STAFF_ROLES, Role
from service.dossiers.visibility import load_visible, load_visible_with
from service.errors import ForbiddenRole, Unauthorized
from service.models import Dossier, User
from service.operations import idempotency
from service.security.clientaddress import client_address
from service.security.tokens import InvalidToken

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
"""The API's security scheme, as the OpenAPI document declares it (:mod:`service.apidoc`). Requests are not
authenticated through it as a dependency: :func:`bearer_token` reads the same header (a sub-dependency costs every
signed-in request a pass of FastAPI's solver, ~65–90 function calls)."""

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_context(request: Request) -> AppContext:
    return request.app.state.context  # type: ignore[no-any-return]


async def _context(request: Request) -> AppContext:
    """:func:`get_context` as a dependency. The pure dependencies are ``async``: FastAPI runs a plain ``def`` one
    in a worker thread, and each such hop waits for the event loop, which on a busy server means waiting behind
    other requests — while the request may already hold a database lock."""
    return request.app.state.context  # type: ignore[no-any-return]


ContextDep = Annotated[AppContext, Depends(_context)]
"""For handlers. The dependencies below read the context from the request instead: FastAPI solves a
sub-dependency again (its whole tree) each time it is named, even when its value is cached, so every
``ContextDep`` inside them cost a request ~100 function calls more (``bench/bench_cpu_per_request.py``)."""


def get_client_address(request: Request) -> str:
    """The client's address for rate limits (``X-Forwarded-For`` only from ``MOTCUA_TRUSTED_PROXIES``)."""
    return client_address(request.client.host if request.client else None, request.headers.getlist("x-forwarded-for"),
                          get_context(request).settings.trusted_proxy_networks)


ClientAddress = Annotated[str, Depends(get_client_address)]


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's unit of work: committed before the response is sent, rolled back on any error. Made in the
    event loop (a session has no connection before its first statement: a thread hop saved); its end (COMMIT or
    ROLLBACK, returning the connection) runs in a worker thread, shielded from cancellation so the connection — on
    SQLite, the writer lock — always goes back.

    A unit of work that writes first waits for one of the process's ``MOTCUA_CONCURRENT_WRITES`` slots
    (:attr:`AppContext.writes <service.context.AppContext.writes>`), on the event loop, and holds it to its end:

    - Under a burst, 16 writers each in a thread of their own took turns for the GIL, each turn a thread switch,
      and a writer's locks (PostgreSQL's row locks, SQLite's write lock) could be held through the others' turns.
      At 16 connections on PostgreSQL, with one worker, submissions went from 130 to 143/s and their p99 from 213
      to 137 ms with 4 slots (``bench/bench_hotpath.py``, back to back; "Thirteenth session" in bench/README.md).
    - A writer that holds SQLite's write lock between two trips to a worker thread (it read the account on its
      write connection, then runs its handler) always finds a thread to finish on. Without the slots, 40 writers
      waiting for the lock in all of anyio's 40 threads left the one holding it none (each gave up after
      ``SQLITE_BUSY_SECONDS``).

    Reads (GET, HEAD, OPTIONS) take no slot: a long report never holds up the desk."""
    context, read_only = get_context(request), request.method in READ_METHODS
    async with contextlib.nullcontext() if read_only else context.writes.slot():
        session = context.db.session(read_only=read_only)
        try:
            yield session
        except BaseException:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(context.db.abandon, session)
            raise
        if not session.in_transaction():
            # Nothing to commit and no connection held (the handler committed, e.g. :meth:`Idempotent.answer`, or
            # never touched the database): closing only forgets the rows read, no thread needed.
            session.close()
            return
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(partial(context.db.finish, session, commit=not read_only))


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_read_session(request: Request) -> Iterator[Session]:
    """A read-only unit of work whatever the method (a POST that only reads, such as signature verification,
    never takes SQLite's write lock)."""
    with get_context(request).db.transaction(read_only=True) as session:
        yield session


ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]


def _read_now(request: Request, context: AppContext, session: Session) -> datetime:
    if context.clock.simulation and context.db.dialect == "sqlite" and request.method not in READ_METHODS \
            and not session.in_transaction():
        # The simulated clock is read before the request's write transaction begins: on SQLite its first statement
        # takes the database's write lock, which would then be held through the rest of the dependencies. (A
        # request whose transaction has begun, e.g. on a dossier locked for update, reads it there.)
        with context.db.transaction(read_only=True) as reader:
            return context.clock.now(reader)
    return context.clock.now(session)


async def get_now(request: Request, session: SessionDep) -> datetime:
    """Legal "now". ``async``: real time, or a simulated clock already read in the request's transaction (by
    :func:`locked_dossier`), costs no trip to a worker thread; only reading the clock does."""
    context = get_context(request)
    known = context.clock.known(session)
    if known is not None:
        return known
    return await run_in_threadpool(_read_now, request, context, session)


NowDep = Annotated[datetime, Depends(get_now)]


def _token_username(context: AppContext, token: str | None) -> str:
    if not token:
        raise Unauthorized()
    try:
        return context.tokens.verify(token)
    except InvalidToken as exc:
        raise Unauthorized() from exc


def _active(user: User | None) -> User:
    if user is None or not user.active:
        raise Unauthorized()
    return user


def get_current_user_from_token(context: AppContext, session: Session, token: str | None) -> User:
    """The active user an access token names; else :class:`Unauthorized`."""
    return _active(context.accounts.user(session, _token_username(context, token)))


def bearer_token(request: Request) -> str | None:
    """The request's ``Authorization: Bearer`` token, or ``None`` (what :data:`oauth2_scheme` gives)."""
    scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
    return token if token and scheme.lower() == "bearer" else None


async def get_current_user(request: Request, session: SessionDep) -> User:
    """As :func:`get_current_user_from_token`, for the request's bearer token; ``async`` because the account is
    usually kept in memory (:mod:`service.security.sessions`): only reading it from the database goes to a worker
    thread. The routes that depend on it are documented as secured by :data:`oauth2_scheme`
    (:func:`service.apidoc.install_openapi`)."""
    context = get_context(request)
    username = _token_username(context, bearer_token(request))
    user = context.accounts.kept(session, username)
    if user is None:
        user = await run_in_threadpool(context.accounts.user, session, username)
    return _active(user)


CurrentUser = Annotated[User, Depends(get_current_user)]


def needs_user(dependant: Dependant) -> bool:
    """Whether a route (its dependency tree) needs a signed-in user."""
    return dependant.call is get_current_user or any(needs_user(d) for d in dependant.dependencies)


def authenticate_if_required(request: Request) -> None:
    """Raise :class:`Unauthorized` when the matched route needs a signed-in user and the request's bearer token
    does not name an active one — the check :func:`get_current_user` makes, for requests FastAPI rejects before
    running dependencies (see :func:`service.errors.install_error_handlers`)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None or not needs_user(dependant):
        return
    context = get_context(request)
    with context.db.transaction(read_only=True) as session:
        get_current_user_from_token(context, session, bearer_token(request))


def require_roles(*roles: str) -> Callable[[User], Awaitable[User]]:
    async def _check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise ForbiddenRole()
        return user

    _check.forbids_other_roles = True  # type: ignore[attr-defined]  # read by service.apidoc: the route may 403
    return _check


AdminUser = Annotated[User, Depends(require_roles(Role.ADMIN))]
StaffUser = Annotated[User, Depends(require_roles(*STAFF_ROLES, Role.ADMIN))]


def visible_dossier(code: str, user: CurrentUser, session: SessionDep) -> Dossier:
    """The ``{code}`` dossier, when the caller may see it; else 404 ``DOSSIER_NOT_FOUND``."""
    return load_visible(session, user, code)


def lock_dossier(session: Session, user: User, code: str, clock: LegalClock) -> Dossier:
    """The ``{code}`` dossier when the caller may see it (else 404 ``DOSSIER_NOT_FOUND``), locked for update (the
    request will change it). A simulated legal clock is read too, by the statement that takes the lock (in the
    caller's worker thread), so :func:`get_now` needs no thread of its own. A lifecycle action calls this from its
    handler (one trip to a worker thread per request, where the :data:`LockedDossier` dependency is a second)."""
    if not clock.simulation:
        return load_visible(session, user, code, for_update=True)
    # The simulated clock rides on the statement that locks the dossier: one statement, not two.
    dossier, clock_values = load_visible_with(session, user, code, CLOCK_COLUMNS, for_update=True)
    clock.now_from(session, clock_values)
    return dossier


def locked_dossier(code: str, user: CurrentUser, session: SessionDep, request: Request) -> Dossier:
    """:func:`lock_dossier` as a dependency (a worker thread of its own, before the handler's)."""
    return lock_dossier(session, user, code, get_context(request).clock)


VisibleDossier = Annotated[Dossier, Depends(visible_dossier)]
LockedDossier = Annotated[Dossier, Depends(locked_dossier)]


@dataclass(frozen=True)
class Idempotent:
    """The request's optional ``Idempotency-Key`` (:data:`IdempotencyKey`, made by the handler with the session
    and user it already has): :meth:`answer` replays the first answer to a repeat."""

    session: Session
    user: User
    key: str | None
    clock: LegalClock

    def answer(self, scope: str, payload: Any, produce: Callable[[], idempotency.StoredAnswer]) -> Response:
        """``produce()``'s answer, or the first answer to this key; ``payload`` (the request's body, a model or
        JSON values) is fingerprinted only when the request has a key."""
        assert self.user.id is not None
        if self.key is not None and isinstance(payload, BaseModel):
            payload = payload.model_dump(mode="json")
        # The transaction's legal instant, read here in the handler's thread unless a dependency already read it
        # (:func:`locked_dossier`): ``produce`` gets the same one from the clock.
        now = self.clock.now(self.session)
        stored = idempotency.once(self.session, user_id=self.user.id, key=self.key, scope=scope, payload=payload,
                                  now=now, produce=produce)
        # The change and its stored answer are complete: commit now, in this thread, rather than after another
        # hop to the event loop and back (SQLite's write lock and PostgreSQL's row locks end here).
        self.session.commit()
        return Response(stored.content, status_code=stored.status_code, headers=stored.headers,
                        media_type="application/json")


IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
"""The request's optional ``Idempotency-Key``, a parameter of the routes that answer through :class:`Idempotent`
(a dependency building it resolved the session and the user a second time: ~600 function calls a request)."""
IdentityVerifier = Annotated[User, Depends(require_roles(Role.RECEIVER, Role.ADMIN))]
