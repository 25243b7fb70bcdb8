"""Reading an uploaded file from a raw request, bounded: the body is read no further than the limit, and the
file may come as the multipart field ``file`` or as a raw ``application/pdf`` body. (For routes that must answer
a too-large or missing file with their own problem codes instead of FastAPI's form validation.)"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile

from service.errors import PayloadTooLarge, Unprocessable

MULTIPART_OVERHEAD = 64 * 1024


async def bounded_body(request: Request, limit: int) -> bytes | None:
    """The raw body, or ``None`` as soon as it exceeds ``limit`` bytes (nothing more is read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def uploaded_file(request: Request, limit: int) -> bytes:
    """The bytes of the multipart field ``file`` (a raw ``application/pdf`` body is accepted too)."""
    too_large = PayloadTooLarge(f"Tệp vượt quá dung lượng cho phép ({limit // (1024 * 1024)} MB).",
                                code="FILE_TOO_LARGE")
    content_type = request.headers.get("content-type", "").lower()
    raw = await bounded_body(request, limit + MULTIPART_OVERHEAD)
    if raw is None:
        raise too_large
    if content_type.startswith("application/pdf"):
        content: bytes | None = raw
    elif content_type.startswith("multipart/form-data"):
        async def replay() -> dict[str, Any]:
            return {"type": "http.request", "body": raw, "more_body": False}

        try:
            form = await Request(request.scope, replay).form(max_files=1, max_fields=20)
        except Exception:
            form = None
        field = form.get("file") if form is not None else None
        if isinstance(field, UploadFile):
            content = await field.read()
        elif isinstance(field, str):
            content = field.encode()
        else:
            content = None
        if form is not None:
            await form.close()
    else:
        content = None
    if content is None:
        raise Unprocessable("Cần gửi tệp cần kiểm tra trong trường 'file' (multipart/form-data).",
                            code="FILE_REQUIRED")
    if len(content) > limit:
        raise too_large
    return content
