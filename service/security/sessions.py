"""Who a request's access token names, without a database round trip on every request.

A valid access token says who the caller is; what the request still needs from the database is whether that
account is still active and what it is now (role, agency). :class:`AccountCache` keeps, per username, a copy of the
account row read at most :attr:`AccountCache.ttl_seconds` ago (``MOTCUA_ACCOUNT_CACHE_SECONDS``, 5 s by default;
0 turns the cache off) and hands each request its own instance of it, attached to the request's session as if just
loaded (no SELECT, the request may change and flush it like any loaded row).

Revocation still holds:

- a change written through the ORM in this process (password change, identity verification, an account
  deactivated, a new role or agency) drops the username from every cache of the process at once (a mapper
  ``after_update`` event), so the next request reads the row again;
- a change made by another process (a second API worker, a script) is seen at the latest
  :attr:`~AccountCache.ttl_seconds` later, when the copy expires.

Only active accounts are kept: a deactivated or unknown account is looked up again on every request.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, select

from service.models import User

DEFAULT_TTL_SECONDS = 5.0
_COLUMNS = tuple(column.key for column in inspect(User).column_attrs)
_caches: weakref.WeakSet[AccountCache] = weakref.WeakSet()


class AccountCache:
    """Active accounts by username, each kept for ``ttl_seconds`` (see the module docstring)."""

    def __init__(self, ttl_seconds: float = DEFAULT_TTL_SECONDS, *, clock: Any = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._rows: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        _caches.add(self)

    def user(self, session: Session, username: str) -> User | None:
        """The account ``username`` as a row of ``session`` (from the copy when fresh, else read), or ``None``
        when there is no such account."""
        if self.ttl_seconds > 0:
            kept = self._rows.get(username)
            if kept is not None and self._clock() - kept[0] < self.ttl_seconds:
                return _attached(session, kept[1])
        read_at = self._clock()
        user = session.exec(select(User).where(User.username == username)).first()  # type: ignore[arg-type]
        if user is not None and user.active and self.ttl_seconds > 0:
            with self._lock:
                self._rows[username] = (read_at, {name: getattr(user, name) for name in _COLUMNS})
        return user

    def forget(self, username: str) -> None:
        with self._lock:
            self._rows.pop(username, None)

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()


def _attached(session: Session, values: dict[str, Any]) -> User:
    """A fresh instance of the kept row, persistent in ``session`` without a SELECT."""
    existing = session.identity_map.get((User, (values["id"],), None))  # type: ignore[attr-defined]
    if existing is not None:
        return existing  # type: ignore[no-any-return]
    user = User(**values)
    make_transient_to_detached(user)  # as though just loaded: no pending change, no history
    session.add(user)
    return user


def forget_everywhere(username: str) -> None:
    """Drop ``username`` from every cache of this process."""
    for cache in list(_caches):
        cache.forget(username)


@event.listens_for(User, "after_update")
def _account_changed(_mapper: Any, _connection: Any, target: User) -> None:
    forget_everywhere(target.username)
    previous = inspect(target).attrs.username.history.deleted
    for name in previous or ():
        forget_everywhere(name)
