"""``Idempotency-Key``: a repeated request by the same user replays the first answer and applies nothing twice.

The key is claimed under a transaction-scoped lock (a PostgreSQL advisory lock; SQLite's immediate write
transactions already serialise writers), then looked up; the stored answer is written in the same transaction as
the change it describes, so a retry after a client time-out finds either nothing (the first attempt rolled back)
or the committed answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import bindparam, insert, select, text
from sqlmodel import Session

from service.errors import Unprocessable
from service.models import IdempotencyRecord

MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class StoredAnswer:
    """An answer as sent: ``content`` is the JSON body's bytes, serialised once (:meth:`of`)."""

    status_code: int
    content: bytes
    headers: dict[str, str]

    @classmethod
    def of(cls, status_code: int, model: BaseModel, headers: dict[str, str]) -> StoredAnswer:
        """The answer whose body is ``model``, serialised by pydantic-core straight to JSON bytes."""
        return cls(status_code, model.__pydantic_serializer__.to_json(model), headers)

    @classmethod
    def from_json(cls, status_code: int, body: Any, headers: dict[str, str]) -> StoredAnswer:
        return cls(status_code, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(), headers)

    def body(self) -> Any:
        return json.loads(self.content)


def request_fingerprint(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _lock(session: Session, user_id: int, scope: str, key: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        digest = hashlib.sha256(f"{user_id}|{scope}|{key}".encode()).digest()
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                        {"k": int.from_bytes(digest[:8], "big", signed=True)})


# Core statements on the connection (column tuples, no ORM object, no flush): one SELECT and one INSERT per
# request with a key.
_RECORDS = IdempotencyRecord.__table__  # type: ignore[attr-defined]
_STORED = select(_RECORDS.c.request_hash, _RECORDS.c.status_code, _RECORDS.c.response_body,
                 _RECORDS.c.headers).where(_RECORDS.c.user_id == bindparam("user_id"),
                                           _RECORDS.c.scope == bindparam("scope"), _RECORDS.c.key == bindparam("key"))
_REMEMBER = insert(_RECORDS)


def replay(session: Session, *, user_id: int, scope: str, key: str, fingerprint: str) -> StoredAnswer | None:
    """The stored answer for this key, or ``None`` when the request is new (the key is then locked for us)."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise Unprocessable(f"Idempotency-Key phải có từ 1 đến {MAX_KEY_LENGTH} ký tự.",
                            code="IDEMPOTENCY_KEY_INVALID")
    _lock(session, user_id, scope, key)
    record = session.connection().execute(_STORED, {"user_id": user_id, "scope": scope, "key": key}).first()
    if record is None:
        return None
    request_hash, status_code, response_body, headers = record
    if request_hash != fingerprint:
        raise Unprocessable("Idempotency-Key này đã được dùng cho một yêu cầu khác.",
                            code="IDEMPOTENCY_KEY_REUSED")
    return StoredAnswer.from_json(status_code, response_body, headers)


def remember(
    session: Session, *, user_id: int, scope: str, key: str, fingerprint: str, answer: StoredAnswer,
    now: datetime,
) -> None:
    session.connection().execute(_REMEMBER, {
        "user_id": user_id, "scope": scope, "key": key, "request_hash": fingerprint,
        "status_code": answer.status_code, "response_body": answer.body(), "headers": answer.headers,
        "created_at": now})


def once(session: Session, *, user_id: int, key: str | None, scope: str, payload: Any, now: datetime,
         produce: Callable[[], StoredAnswer]) -> StoredAnswer:
    """``produce()``'s answer, exactly once per ``(user, scope, key)``: a repeat with the same payload gets the
    stored answer and applies nothing; the same key with another payload is 422 ``IDEMPOTENCY_KEY_REUSED``.
    Without a key, simply ``produce()``."""
    if key is None:
        return produce()
    fingerprint = request_fingerprint(payload)
    stored = replay(session, user_id=user_id, scope=scope, key=key, fingerprint=fingerprint)
    if stored is not None:
        return stored
    answer = produce()
    remember(session, user_id=user_id, scope=scope, key=key, fingerprint=fingerprint, answer=answer, now=now)
    return answer
