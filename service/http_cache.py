"""Conditional reads (RFC 9110 §13.1.2): ``If-None-Match`` → 304 Not Modified when the representation has not
changed, so a polling frontend downloads nothing new. A dossier's ETag is its version; a list's is a hash of the
exact JSON it would send."""

from __future__ import annotations

import hashlib

from fastapi import Response


def strong_etag(version: int) -> str:
    return f'"{version}"'


def content_etag(body: bytes) -> str:
    return f'W/"{hashlib.sha256(body).hexdigest()[:32]}"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """Weak comparison, as If-None-Match requires: ``*`` or any listed tag equal to ``etag`` ignoring ``W/``."""
    if not if_none_match:
        return False
    wanted = etag.removeprefix("W/")
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or wanted in tags


def not_modified(etag: str) -> Response:
    return Response(status_code=304, headers={"ETag": etag})


def json_with_etag(body: bytes, if_none_match: str | None) -> Response:
    """The JSON ``body`` with its content ETag, or 304 when the client already holds it."""
    etag = content_etag(body)
    if matches(if_none_match, etag):
        return not_modified(etag)
    return Response(body, media_type="application/json", headers={"ETag": etag})
