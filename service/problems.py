"""HTTP rendering of errors, the app layer's alone: every error becomes RFC 9457 ``application/problem+json``
with a stable ``code`` (the classes themselves, in :mod:`service.errors` and :mod:`service.domain.errors`, know
nothing of HTTP)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from service.domain.calendar import CalendarRangeError
from service.domain.errors import DomainError, NotPermitted, RuleConflict, RuleViolation
from service.errors import (
    AppError,
    InvalidBody,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
    Unauthorized,
    UnsupportedMediaType,
    VersionMismatch,
    validation_code,
)
from service.validation_messages import detail as validation_detail
from service.validation_messages import message, preferred_language

log = logging.getLogger("motcua.errors")

PROBLEM_JSON = "application/problem+json"

STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (Unauthorized, 401),
    (NotPermitted, 403),
    (NotFound, 404),
    (RuleConflict, 409),
    (VersionMismatch, 412),
    (PayloadTooLarge, 413),
    (UnsupportedMediaType, 415),
    (RuleViolation, 422),
    (RateLimited, 429),
    (ServiceUnavailable, 503),
)
"""Error class → HTTP status; the first class the error is an instance of wins; anything else is a 400."""
TITLE = {401: "Unauthorized", 403: "Forbidden", 404: "Not found", 409: "Conflict", 412: "Precondition failed",
         413: "Payload too large", 415: "Unsupported media type", 422: "Unprocessable content",
         429: "Too many requests", 503: "Service unavailable", 400: "Bad request"}


def status_of(error: DomainError) -> int:
    return next((status for cls, status in STATUS if isinstance(error, cls)), 400)


def problem(
    status: int, code: str, title: str, detail: str, *, errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None, request_id: str | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://motcua.example/problems/{code.lower().replace('_', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    if request_id:
        body["request_id"] = request_id
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def internal_error_response(request_id: str | None) -> JSONResponse:
    """The answer to an unexpected exception (see :class:`service.edge.AnswerUnhandledErrors`)."""
    return problem(500, "INTERNAL_ERROR", "Internal server error",
                   "Đã xảy ra lỗi hệ thống. Vui lòng thử lại sau hoặc liên hệ quản trị viên.",
                   headers={"X-Request-ID": request_id or ""}, request_id=request_id)


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


_HTTP_CODES = {
    400: ("BAD_REQUEST", "Yêu cầu không hợp lệ."),
    401: ("UNAUTHORIZED", "Chưa xác thực."),
    404: ("NOT_FOUND", "Không tìm thấy."),
    405: ("METHOD_NOT_ALLOWED", "Phương thức không được hỗ trợ."),
    406: ("NOT_ACCEPTABLE", "Định dạng yêu cầu không được hỗ trợ."),
    413: ("PAYLOAD_TOO_LARGE", "Dữ liệu gửi lên quá lớn."),
    415: ("UNSUPPORTED_MEDIA_TYPE", "Kiểu nội dung không được hỗ trợ."),
}


def _allowed_methods(request: Request) -> list[str]:
    """Every method of every route on this path (Starlette lists only the first route's)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "__none__"})
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def install_error_handlers(app: FastAPI, *, authenticate: Callable[[Request], None] | None = None) -> None:
    """problem+json for every error. ``authenticate`` (raises :class:`Unauthorized`) keeps the contract's order
    for a body that is not JSON at all: FastAPI decodes the body before it runs a route's dependencies, so such
    a request would get 422 before the missing or bad credentials were noticed; it gets 401 instead."""

    def _invalid(request: Request, raw_errors: list[dict[str, Any]]) -> JSONResponse:
        """422 in the reader's language (Vietnamese unless ``Accept-Language`` prefers English); ``loc`` and
        ``type`` as Pydantic gives them, stable for clients."""
        language = preferred_language(request.headers.get("Accept-Language"))
        # a body model read by a dependency and by the handler is validated twice: report each error once
        unique = list({(tuple(map(str, e.get("loc", ()))), str(e.get("type", ""))): e for e in raw_errors}.values())
        errors = [{"loc": [str(part) for part in err.get("loc", ())], "msg": message(err, language),
                   "type": str(err.get("type", ""))} for err in unique]
        code = validation_code(raw_errors) or InvalidBody.code
        return problem(422, code, TITLE[422], validation_detail([e["msg"] for e in errors], language),
                       errors=errors, headers={"Content-Language": language, "Vary": "Accept-Language"},
                       request_id=_request_id(request))

    @app.exception_handler(DomainError)
    async def _service_error(request: Request, exc: DomainError) -> JSONResponse:
        if isinstance(exc, InvalidBody):
            return _invalid(request, exc.errors)
        status = status_of(exc)
        return problem(status, exc.code, TITLE[status], exc.detail, headers=getattr(exc, "headers", None),
                       request_id=_request_id(request))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        if authenticate is not None and any(err.get("type") == "json_invalid" for err in exc.errors()):
            try:
                await run_in_threadpool(authenticate, request)
            except AppError as auth_error:
                return await _service_error(request, auth_error)
        return _invalid(request, [dict(err) for err in exc.errors()])

    @app.exception_handler(CalendarRangeError)
    async def _outside_calendar(request: Request, exc: CalendarRangeError) -> JSONResponse:
        # A computed instant (a due date, a period) that falls outside the calendar's years: the input was in
        # range but what it asks for is not.
        return problem(422, "DATE_OUT_OF_RANGE", TITLE[422],
                       "Ngày hoặc thời hạn tính được nằm ngoài khoảng lịch làm việc (năm 2000–2100).",
                       request_id=_request_id(request))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, default_detail = _HTTP_CODES.get(exc.status_code, ("HTTP_ERROR", "Lỗi yêu cầu."))
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {"Allow": ", ".join(_allowed_methods(request))}
        detail = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else default_detail
        return problem(exc.status_code, code, HTTPStatus(exc.status_code).phrase, detail,
                       headers=headers, request_id=_request_id(request))
