"""The one error hierarchy, framework-free: every refusal the service reports is a
:class:`~service.domain.errors.DomainError` with a stable machine ``code`` and a Vietnamese ``detail``.

The rules' own refusals live in :mod:`service.domain.errors` (they know nothing of HTTP); the application layer's
are below. How each becomes an HTTP answer (status, title, ``application/problem+json``) is decided in one place,
the app layer's :mod:`service.problems`.
"""

from __future__ import annotations

from typing import Any

from service.domain.errors import DomainError, NotPermitted, RuleConflict, RuleViolation
from service.validation_messages import detail as validation_detail
from service.validation_messages import message


class AppError(DomainError):
    """A refusal by the application layer. ``headers`` are hints for the answer (``Retry-After``…)."""

    code = "BAD_REQUEST"

    def __init__(self, detail: str, *, code: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail, code=code)
        self.headers = headers


class Unauthorized(AppError):
    code = "UNAUTHORIZED"

    def __init__(self, detail: str = "Chưa xác thực hoặc mã truy cập không hợp lệ.", **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kw)


class ForbiddenRole(AppError, NotPermitted):
    code = "FORBIDDEN_ROLE"

    def __init__(self, detail: str = "Vai trò của bạn không được thực hiện thao tác này.", **kw: Any) -> None:
        super().__init__(detail, **kw)


class NotFound(AppError):
    code = "NOT_FOUND"


class Conflict(AppError, RuleConflict):
    code = "CONFLICT"


class VersionMismatch(AppError):
    code = "VERSION_MISMATCH"

    def __init__(
        self, detail: str = "Hồ sơ đã được người khác cập nhật; vui lòng tải lại.", **kw: Any
    ) -> None:
        super().__init__(detail, **kw)


class Unprocessable(AppError, RuleViolation):
    code = "VALIDATION_ERROR"


VALIDATION_CODES = {
    "date_out_of_range": "DATE_OUT_OF_RANGE",
    "invalid_cursor": "INVALID_CURSOR",
    "invalid_character": "INVALID_CHARACTER",
}
"""Validation error types (raised as pydantic ``PydanticCustomError``) that keep their own stable ``code``."""


def validation_code(errors: list[dict[str, Any]]) -> str | None:
    """The stable code of the first error whose type keeps one (:data:`VALIDATION_CODES`), else ``None``."""
    for error in errors:
        code = VALIDATION_CODES.get(str(error.get("type", "")))
        if code is not None:
            return code
    return None


class InvalidBody(Unprocessable):
    """A body (or form) that does not have the expected shape: ``errors`` are Pydantic's (``loc``, ``type``,
    ``ctx``), worded for the reader by :mod:`service.validation_messages` when the answer is rendered."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(validation_detail([message(e, "vi") for e in errors], "vi"), code=validation_code(errors))
        self.errors = errors


class PayloadTooLarge(AppError):
    code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaType(AppError):
    code = "UNSUPPORTED_MEDIA_TYPE"


class RateLimited(AppError):
    code = "RATE_LIMITED"


class ServiceUnavailable(AppError):
    code = "SERVICE_UNAVAILABLE"
