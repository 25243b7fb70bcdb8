"""``Idempotency-Key``: a repeated request by the same user replays the first answer and applies nothing twice.

The key is claimed first (PostgreSQL: its row inserted, which a concurrent request with the same key waits
on; SQLite's immediate write transactions already serialise writers), or its stored answer looked up; the answer
is written in the same transaction as the change it describes, so a retry after a client time-out finds either
nothing (the first attempt rolled back) or the committed answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects import postgresql
from sqlmodel import Session

from service.db import RawJSON
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

    def body(self) -> RawJSON:
        """The body as a JSON column stores it: the bytes sent, not parsed and serialised again."""
        return RawJSON(self.content.decode())


def request_fingerprint(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


# Core statements on the connection (column tuples, no ORM object, no flush).
_RECORDS = IdempotencyRecord.__table__  # type: ignore[attr-defined]
_THIS_KEY = (_RECORDS.c.user_id == bindparam("key_user_id")) & (_RECORDS.c.scope == bindparam("key_scope")) \
    & (_RECORDS.c.key == bindparam("key_key"))
"""The record's key; its bound names are not the columns' (an UPDATE reserves those for its SET clause)."""
_STORED = select(_RECORDS.c.request_hash, _RECORDS.c.status_code, _RECORDS.c.response_body,
                 _RECORDS.c.headers).where(_THIS_KEY)
_REMEMBER = insert(_RECORDS)
_CLAIM = (postgresql.insert(_RECORDS).on_conflict_do_nothing(index_elements=["user_id", "scope", "key"])
          .execution_options(preserve_rowcount=True))
_FILL = update(_RECORDS).where(_THIS_KEY).values(status_code=bindparam("status_code"),
                                                 response_body=bindparam("response_body"),
                                                 headers=bindparam("headers"))
_UNANSWERED = {"status_code": 0, "response_body": {}, "headers": {}}
"""What a claimed key's row holds until :func:`remember` writes the answer in the same transaction (no other
transaction ever reads it: the claim commits with the answer or not at all)."""


def _claimed(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def replay(session: Session, *, user_id: int, scope: str, key: str, fingerprint: str,
           now: datetime) -> StoredAnswer | None:
    """The stored answer for this key, or ``None`` when the request is new (the key is then held for us until the
    transaction ends).

    PostgreSQL: the key is claimed by inserting its row (``ON CONFLICT DO NOTHING``), one statement
    where an advisory lock and a ``SELECT`` were two. A concurrent request with the same key waits on the row as it
    waited on the lock; it then finds the committed answer (read by a statement of its own, so with a snapshot
    taken after the wait), or claims the key itself when the first transaction rolled back. SQLite's immediate
    write transactions already serialise writers: a ``SELECT``."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise Unprocessable(f"Idempotency-Key phải có từ 1 đến {MAX_KEY_LENGTH} ký tự.",
                            code="IDEMPOTENCY_KEY_INVALID")
    this_key = {"key_user_id": user_id, "key_scope": scope, "key_key": key}
    connection = session.connection()
    if _claimed(session):
        claim = {"user_id": user_id, "scope": scope, "key": key, **_UNANSWERED, "request_hash": fingerprint,
                 "created_at": now}
        while True:
            if connection.execute(_CLAIM, claim).rowcount == 1:
                return None
            record = connection.execute(_STORED, this_key).first()
            if record is not None:
                break  # else the row went between the two statements: claim again
    else:
        record = connection.execute(_STORED, this_key).first()
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
    """Store ``answer`` for the key: fills the row :func:`replay` claimed (PostgreSQL) or inserts it."""
    values = {"status_code": answer.status_code, "response_body": answer.body(), "headers": answer.headers}
    if _claimed(session):
        session.connection().execute(_FILL, {**values, "key_user_id": user_id, "key_scope": scope, "key_key": key})
    else:
        session.connection().execute(_REMEMBER, {**values, "user_id": user_id, "scope": scope, "key": key,
                                                 "request_hash": fingerprint, "created_at": now})


def once(session: Session, *, user_id: int, key: str | None, scope: str, payload: Any, now: datetime,
         produce: Callable[[], StoredAnswer]) -> StoredAnswer:
    """``produce()``'s answer, exactly once per ``(user, scope, key)``: a repeat with the same payload gets the
    stored answer and applies nothing; the same key with another payload is 422 ``IDEMPOTENCY_KEY_REUSED``.
    Without a key, simply ``produce()``."""
    if key is None:
        return produce()
    fingerprint = request_fingerprint(payload)
    stored = replay(session, user_id=user_id, scope=scope, key=key, fingerprint=fingerprint, now=now)
    if stored is not None:
        return stored
    answer = produce()
    remember(session, user_id=user_id, scope=scope, key=key, fingerprint=fingerprint, answer=answer, now=now)
    return answer
