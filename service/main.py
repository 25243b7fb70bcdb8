"""The ASGI application: ``service.main:app``, built by :func:`create_app`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import IntegrityError

from service.apidoc import install_openapi
from service.context import AppContext
from service.deps import authenticate_if_required
from service.edge import AnswerUnhandledErrors, EdgeChecks, RequestIds
from service.events.worker import EventWorker
from service.operations.accounts import ensure_admin
from service.problems import install_error_handlers
from service.routers import (
    agencies,
    auth,
    calendar,
    docs,
    dossier_actions,
    dossiers,
    events,
    forms,
    health,
    notifications,
    pages,
    pki,
    postal,
    procedures,
    public,
    ratings,
    results,
    rules,
    sim,
    statistics,
    worklist,
)
from service.runtime import freeze_startup_heap
from service.security import passwords
from service.settings import Settings

API_PREFIX = "/api/v1"
WEB_STATIC = Path(__file__).resolve().parent / "web" / "static"
log = logging.getLogger("motcua")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    context = AppContext.from_settings(settings)
    passwords.set_concurrency(settings.password_hashing_concurrency)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        current: AppContext = app.state.context
        bootstrap(current)
        if current.db.checkpointer is not None:  # SQLite: the WAL's checkpoints outside the writers' turns
            current.db.checkpointer.start()
        stop, work = asyncio.Event(), None
        if current.settings.worker:  # MOTCUA_WORKER: this process delivers webhooks, scans deadlines, sends notices
            work = asyncio.create_task(EventWorker(current.db, current.clock, current.settings).run(stop))
        if current.settings.freeze_startup_heap:
            freeze_startup_heap()
        yield
        stop.set()
        if work is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(work, timeout=5)
        current.db.dispose()

    app = FastAPI(
        title="Một Cửa API",
        version="1.0.0",
        summary="A simulator of Vietnam's one-stop-shop (cơ chế một cửa) for administrative procedures.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.context = context
    install_error_handlers(app, authenticate=authenticate_if_required)
    # Innermost first: an unexpected error is answered inside the app; the edge checks run before any parsing.
    app.add_middleware(AnswerUnhandledErrors)
    app.add_middleware(EdgeChecks, max_body_bytes=settings.max_body_bytes,
                       max_upload_bytes=settings.max_upload_bytes)

    app.add_middleware(RequestIds)

    if settings.cors_origin_list:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["ETag", "Location", "X-Request-ID", "Content-Disposition", "Retry-After"],
        )

    app.include_router(health.router)
    for module in (auth, agencies, procedures, calendar, dossier_actions, dossiers, notifications, public, ratings,
                   rules, statistics, worklist, events):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(postal.router, prefix=API_PREFIX)
    app.include_router(results.router, prefix=API_PREFIX)
    app.include_router(forms.router, prefix=API_PREFIX)
    app.include_router(pki.router, prefix=API_PREFIX)
    if settings.simulation:
        app.include_router(sim.router, prefix=API_PREFIX)
    app.include_router(docs.router)
    app.include_router(pages.router)
    app.mount(docs.ASSETS_URL, StaticFiles(directory=docs.DOCS_ASSETS), name="docs-assets")
    app.mount("/static", StaticFiles(directory=WEB_STATIC), name="static")
    install_openapi(app, documented_routes=list(app.router.routes))
    match_first(app, dossier_actions.router, dossiers.router)
    return app


def match_first(app: FastAPI, *routers: APIRouter) -> None:
    """Try the routes of ``routers`` right after ``/health`` and before the other routers' (the document keeps
    the order of inclusion). Each request is matched against the routes in turn, regular expressions over the
    path: a counter submission was tried against ~25 other routes first, ~120 µs of a ~5 ms request. Only
    routers whose paths no earlier router can match may move: those named here all lie under ``/dossiers``,
    and the routers they pass (health, auth, agencies, procedures, calendar) under other prefixes."""
    routes = app.router.routes
    moved = [route for route in routes if getattr(route, "original_router", None) in routers]
    rest = [route for route in routes if route not in moved]
    after = next(i for i, route in enumerate(rest) if getattr(route, "original_router", None) is health.router) + 1
    routes[:] = [*rest[:after], *moved, *rest[after:]]


def bootstrap(context: AppContext) -> None:
    """Start-up work that needs the database: the bootstrap admin."""
    settings = context.settings
    if settings.admin_username and settings.admin_password:
        try:
            with context.db.transaction() as session:
                if ensure_admin(session, settings.admin_username, settings.admin_password,
                                now=context.clock.now(session)):
                    log.info("bootstrap admin %s created", settings.admin_username)
        except IntegrityError:
            # Several workers starting on a fresh database: another one created the admin first.
            log.info("bootstrap admin %s created by another worker", settings.admin_username)


def _app_from_environment() -> FastAPI:
    return create_app(Settings())


class _LazyApp:
    """``service.main:app`` builds the app on first use, so importing this module never reads the environment."""

    _app: FastAPI | None = None

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        if self._app is None:
            self._app = _app_from_environment()
        await self._app(scope, receive, send)


app = _LazyApp()
