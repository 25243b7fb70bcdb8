"""Checks made at the edge, before any route parses a request: body size and NUL characters.

Both are pure ASGI middleware (no route, no database): a 100 MB JSON body is refused with 413
``PAYLOAD_TOO_LARGE`` after at most ``MOTCUA_MAX_BODY_BYTES`` have been read, and a NUL character anywhere in a
string the service would read (the path, the query string, a urlencoded form or a JSON body) is 422
``INVALID_CHARACTER`` on every database alike — PostgreSQL text cannot hold NUL, SQLite can, and neither should
ever see it. Uploads (multipart bodies and raw files) keep their own, larger limit (``MOTCUA_MAX_UPLOAD_BYTES``,
checked again by the upload routes with their own message).

:class:`RequestIds` gives every request an id (the client's ``X-Request-ID`` or a new one) and echoes it on the
answer. The last middleware here, :class:`AnswerUnhandledErrors`, turns an unexpected exception into a clean 500
problem+json *inside* the application, so the server neither drops the connection nor logs the error twice.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.problems import internal_error_response, problem

log = logging.getLogger("motcua.errors")

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MULTIPART_OVERHEAD = 64 * 1024
"""Room for the multipart boundaries and part headers around an upload of the largest accepted size."""

_NUL_ESCAPE = b"\\u0000"


def _problem_413(limit: int) -> Any:
    return problem(413, "PAYLOAD_TOO_LARGE", "Payload too large",
                   f"Dữ liệu gửi lên vượt quá dung lượng cho phép ({limit} byte).")


def _problem_nul(where: str) -> Any:
    return problem(422, "INVALID_CHARACTER", "Unprocessable content",
                   f"Dữ liệu chứa ký tự không hợp lệ (NUL) tại {where}.")


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def json_has_nul(body: bytes) -> bool:
    """Whether a JSON body holds a NUL character in any key or string (an invalid body is left to the route)."""
    if b"\x00" in body:
        return True
    if _NUL_ESCAPE not in body.lower():
        return False  # the only way to write NUL inside a JSON string is the escape \u0000
    try:
        return any("\x00" in s for s in _strings(json.loads(body)))
    except ValueError:
        return False


def urlencoded_has_nul(raw: bytes) -> bool:
    return b"\x00" in raw or b"%00" in raw


class HttpMiddleware:
    """Pure ASGI middleware acting on HTTP requests (:meth:`handle`); lifespan and other scopes pass through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class EdgeChecks(HttpMiddleware):
    """Refuse oversized bodies (413) and NUL characters (422) before the application sees the request."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_upload_bytes: int) -> None:
        super().__init__(app)
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if "\x00" in scope["path"] or urlencoded_has_nul(scope.get("raw_path") or b""):
            await _problem_nul("đường dẫn")(scope, receive, send)
            return
        if urlencoded_has_nul(scope.get("query_string", b"")):
            await _problem_nul("tham số truy vấn")(scope, receive, send)
            return
        if scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return

        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        inspected = content_type in (b"application/json", b"application/x-www-form-urlencoded") \
            or content_type.endswith(b"+json") or not content_type
        limit = self.max_body_bytes if inspected else self.max_upload_bytes + MULTIPART_OVERHEAD
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _problem_413(limit)(scope, receive, send)
            return
        if not inspected:
            # Uploads are streamed by their routes, which stop reading at their own limit (a declared length
            # above it is refused here already); Starlette spools multipart files to disk, not memory.
            await self.app(scope, receive, send)
            return

        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _problem_413(limit)(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        has_nul = urlencoded_has_nul(body) if content_type == b"application/x-www-form-urlencoded" \
            else json_has_nul(body)
        if has_nul:
            await _problem_nul("nội dung yêu cầu")(scope, receive, send)
            return
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive),
                       send)


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive


class RequestIds(HttpMiddleware):
    """``request.state.request_id``: the client's ``X-Request-ID`` (at most 64 characters) or a new one, sent back
    as ``X-Request-ID`` on the answer (problem bodies carry it too). Pure ASGI: Starlette's ``BaseHTTPMiddleware``
    ran every request through an extra task and a memory stream."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        given = next((value for name, value in scope["headers"] if name == b"x-request-id"), None)
        request_id = (given.decode("latin-1") if given else uuid.uuid4().hex)[:64]
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)


class AnswerUnhandledErrors(HttpMiddleware):
    """An unexpected exception becomes a 500 problem+json answered like any other response.

    Starlette's outermost error middleware would answer it too, but then re-raise, so the server closed the
    connection without ``Connection: close``; caught here, the exception is logged once and the connection
    stays usable.
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            request_id = scope.get("state", {}).get("request_id")
            log.exception("unhandled error request_id=%s path=%s", request_id, scope.get("path"))
            if started:
                raise
            await internal_error_response(request_id)(scope, receive, send)
