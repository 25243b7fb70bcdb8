"""One keyset pager for every list: one opaque cursor format, validated before it reaches a query.

A cursor is ``base64url(JSON [list name, key value, …])`` (no padding). It names the list it belongs to, so a
cursor of one list handed to another is refused, and each key value must have the type and range of its column
(an integer that fits a 64-bit key, a short string without NUL, an ISO datetime with an offset). Anything else —
truncated, forged, from another list, or an integer PostgreSQL cannot hold — is 422 ``INVALID_CURSOR``, never a
database error. Pages are index range scans (``WHERE key > last ORDER BY key LIMIT n + 1``): no OFFSET, no count.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import DateTime, Integer, String, TypeDecorator, tuple_
from sqlmodel import Session
from sqlmodel.sql.expression import SelectOfScalar

from service.errors import Unprocessable

T = TypeVar("T")

MAX_CURSOR_LENGTH = 512
MAX_KEY_TEXT = 200
_BIGINT = 2**63 - 1


class InvalidCursor(Unprocessable):
    code = "INVALID_CURSOR"

    def __init__(self) -> None:
        super().__init__("Con trỏ phân trang không hợp lệ (hãy dùng đúng giá trị next_cursor của trang trước).")


def encode_cursor(list_name: str, values: Sequence[Any]) -> str:
    plain = [list_name, *(v.isoformat() if isinstance(v, datetime) else v for v in values)]
    raw = json.dumps(plain, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _key_value(value: Any, python_type: type) -> Any:
    if python_type is int:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _BIGINT:
            return value
    elif python_type is str:
        if isinstance(value, str) and len(value) <= MAX_KEY_TEXT and "\x00" not in value:
            return value
    elif python_type is datetime and isinstance(value, str) and len(value) <= 40:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidCursor() from None
        if moment.tzinfo is not None and 2000 <= moment.year <= 2100:
            return moment
    raise InvalidCursor()


def decode_cursor(cursor: str, list_name: str, python_types: Sequence[type]) -> list[Any]:
    """The key values a cursor of ``list_name`` carries, or :class:`InvalidCursor`."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor()
    try:
        plain = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor() from None
    if not isinstance(plain, list) or len(plain) != len(python_types) + 1 or plain[0] != list_name:
        raise InvalidCursor()
    return [_key_value(value, python_type) for value, python_type in zip(plain[1:], python_types, strict=True)]


def _python_type(key: Any) -> type:
    column_type = key.type
    while isinstance(column_type, TypeDecorator):  # AutoString, the UTC datetime column type
        column_type = column_type.impl_instance
    for sql_type, python_type in ((Integer, int), (String, str), (DateTime, datetime)):
        if isinstance(column_type, sql_type):
            return python_type
    raise TypeError(f"no cursor format for a key of type {column_type!r}")


def keyset_page(
    session: Session, query: SelectOfScalar[T], *, list_name: str, keys: Sequence[Any],
    limit: int, cursor: str | None, descending: bool = False,
) -> tuple[list[T], str | None]:
    """One page of ``query`` ordered by ``keys`` (unique together, never NULL), and the cursor of the next page
    (``None`` on the last one)."""
    python_types = [_python_type(key) for key in keys]
    if cursor:
        after = decode_cursor(cursor, list_name, python_types)
        current = keys[0] if len(keys) == 1 else tuple_(*keys)
        last = after[0] if len(keys) == 1 else tuple_(*after)
        query = query.where(current < last if descending else current > last)
    order = [key.desc() if descending else key.asc() for key in keys]
    rows = list(session.exec(query.order_by(*order).limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    last_row = rows[limit - 1]
    return rows[:limit], encode_cursor(list_name, [getattr(last_row, key.key) for key in keys])
