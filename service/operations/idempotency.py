"""``Idempotency-Key``: a repeated request by the same user replays the first answer and applies nothing twice.

The work is done first and the answer stored last, in the same transaction, by one ``INSERT … ON CONFLICT DO
NOTHING`` of its key: a retry after a client time-out finds either nothing (the first attempt rolled back: the retry
applies the change) or the committed answer. When the key already has an answer, this transaction's work is rolled
back (on PostgreSQL a submission's number, drawn in a transaction of its own, stays unused, as a failed submission's
does: :func:`service.dossiers.numbering.next_code`) and the stored answer replayed; so is it when the work is
refused (a retried action meets the state the first attempt left: 409, 412…) and the key has an answer. A key looked
up before the work cost every request a statement for the rare retry (on PostgreSQL its row was claimed, then
filled: two).

Concurrent requests with the same key: SQLite's immediate write transactions take turns, so the second finds the
first's answer; on PostgreSQL the second's ``INSERT`` waits on the first's uncommitted row, then does nothing (the
first committed) or inserts (it rolled back). A second attempt at an action waits on the dossier's row lock
before that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from service.db import RawJSON
from service.domain.errors import DomainError
from service.errors import Unprocessable
from service.events import outbox
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
_STORED = select(_RECORDS.c.request_hash, _RECORDS.c.status_code, _RECORDS.c.response_body,
                 _RECORDS.c.headers).where(_RECORDS.c.user_id == bindparam("user_id"),
                                           _RECORDS.c.scope == bindparam("scope"), _RECORDS.c.key == bindparam("key"))
_REMEMBER = {
    name: dialect.insert(_RECORDS).on_conflict_do_nothing(index_elements=["user_id", "scope", "key"])
    .execution_options(preserve_rowcount=True)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
"""The answer's row, unless the key has one (``rowcount`` 0), per dialect."""
_PG_REMEMBER_SQL = (
    "INSERT INTO idempotency_record (user_id, scope, key, request_hash, status_code, response_body, headers, "
    "created_at) VALUES (:user_id, :scope, :key, :request_hash, :status_code, CAST(:response_body AS json), "
    "CAST(:headers AS json), :created_at) ON CONFLICT (user_id, scope, key) DO NOTHING")
_PG_REMEMBER_WITH_EVENTS = (
    text(outbox.with_queued_events(_PG_REMEMBER_SQL))
    .bindparams(*(bindparam(name, type_=_RECORDS.c[name].type) for name in ("response_body", "headers", "created_at")))
    .execution_options(preserve_rowcount=True))
"""PostgreSQL, the answer stored by the same statement as the transaction's queued events: a write's last two
statements before its commit, one round trip (:func:`service.events.outbox.with_queued_events`)."""


def check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH:
        raise Unprocessable(f"Idempotency-Key phải có từ 1 đến {MAX_KEY_LENGTH} ký tự.",
                            code="IDEMPOTENCY_KEY_INVALID")


def remember(session: Session, *, user_id: int, scope: str, key: str, fingerprint: str, answer: StoredAnswer,
             now: datetime) -> bool:
    """Store ``answer`` for the key in the caller's transaction; ``False`` when the key already has an answer
    (nothing is stored). The caller commits next (or rolls back): on PostgreSQL the transaction's queued events
    are inserted by the same statement."""
    values = {"user_id": user_id, "scope": scope, "key": key, "request_hash": fingerprint,
              "status_code": answer.status_code, "response_body": answer.body(), "headers": answer.headers,
              "created_at": now}
    events = outbox.take_queued(session)  # PostgreSQL: the transaction's events go in with it (commit follows)
    connection = session.connection()
    if events is not None:
        return connection.execute(_PG_REMEMBER_WITH_EVENTS, {**values, **events}).rowcount == 1
    return connection.execute(_REMEMBER[connection.dialect.name], values).rowcount == 1


def stored_answer(session: Session, *, user_id: int, scope: str, key: str, fingerprint: str) -> StoredAnswer | None:
    """The answer stored for the key, or ``None``; 422 ``IDEMPOTENCY_KEY_REUSED`` when it answered another
    request."""
    record = session.connection().execute(_STORED, {"user_id": user_id, "scope": scope, "key": key}).first()
    if record is None:
        return None
    request_hash, status_code, response_body, headers = record
    if request_hash != fingerprint:
        raise Unprocessable("Idempotency-Key này đã được dùng cho một yêu cầu khác.",
                            code="IDEMPOTENCY_KEY_REUSED")
    return StoredAnswer.from_json(status_code, response_body, headers)


def once(session: Session, *, user_id: int, key: str | None, scope: str, payload: Any, now: datetime,
         produce: Callable[[], StoredAnswer]) -> StoredAnswer:
    """``produce()``'s answer, exactly once per ``(user, scope, key)``: a repeat with the same payload gets the
    stored answer and what it did is rolled back; the same key with another payload is 422
    ``IDEMPOTENCY_KEY_REUSED``. Without a key, simply ``produce()``. Never commits; rolls the caller's
    transaction back when it replays (see the module docstring)."""
    if key is None:
        return produce()
    check_key(key)
    fingerprint = request_fingerprint(payload)
    this_key = {"user_id": user_id, "scope": scope, "key": key, "fingerprint": fingerprint}
    try:
        answer = produce()
    except DomainError:
        replayed = _replayed(session, this_key)
        if replayed is None:
            raise  # a refusal, and no earlier answer to give instead
        return replayed
    if remember(session, **this_key, answer=answer, now=now):
        return answer
    replayed = _replayed(session, this_key)
    assert replayed is not None, "a key whose row conflicts has a committed answer"
    return replayed


def _replayed(session: Session, this_key: dict[str, Any]) -> StoredAnswer | None:
    """The stored answer for the key, this transaction's work rolled back first (a new transaction reads it)."""
    session.rollback()
    return stored_answer(session, **this_key)
