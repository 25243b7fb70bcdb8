"""Who a request's access token names, without a database round trip on every request.

A valid access token says who the caller is; what the request still needs from the database is whether that
account is still active and what it is now (role, agency). :class:`AccountCache` keeps, per username, a copy of the
account row read at most :attr:`AccountCache.ttl_seconds` ago (``MOTCUA_ACCOUNT_CACHE_SECONDS``, 5 s by default;
0 turns the cache off) and hands each request its own instance of it, attached to the request's session as if just
loaded (no SELECT, the request may change and flush it like any loaded row).

Revocation still holds:

- a change written through the ORM in this process (password change, identity verification, an account
  deactivated, a new role or agency) drops the username from every cache of the process when it is written and
  again when it commits (a mapper ``after_update`` event, then the session's ``after_commit``), and a row read
  while any account changed is not kept, so the next request reads the row again;
- a change made by another process (a second API worker, a script) is seen at the latest
  :attr:`~AccountCache.ttl_seconds` later, when the copy expires.

Only active accounts are kept: a deactivated or unknown account is looked up again on every request. Expired
copies are dropped (at most once per :attr:`~AccountCache.ttl_seconds`, when a row is kept), so a worker holds the
accounts of the last few seconds, not every account that ever signed in to it (a province's citizens).
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import make_transient_to_detached, object_session
from sqlalchemy.orm.attributes import instance_state
from sqlmodel import Session, select

from service.models import User

DEFAULT_TTL_SECONDS = 5.0
_COLUMNS = tuple(column.key for column in inspect(User).column_attrs)
_MANAGER = inspect(User).class_manager
_caches: weakref.WeakSet[AccountCache] = weakref.WeakSet()


class AccountCache:
    """Active accounts by username, each kept for ``ttl_seconds`` (see the module docstring)."""

    def __init__(self, ttl_seconds: float = DEFAULT_TTL_SECONDS, *, clock: Any = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._rows: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._generation = 0
        self._next_sweep = float("-inf")
        _caches.add(self)

    def __len__(self) -> int:
        """The accounts kept (expired copies included until the next sweep)."""
        return len(self._rows)

    def kept(self, session: Session, username: str) -> User | None:
        """The account ``username`` as a row of ``session`` when a fresh copy is kept (no I/O), else ``None``."""
        if self.ttl_seconds > 0:
            kept = self._rows.get(username)
            if kept is not None and self._clock() - kept[0] < self.ttl_seconds:
                return _attached(session, kept[1])
        return None

    def user(self, session: Session, username: str) -> User | None:
        """The account ``username`` as a row of ``session`` (from the copy when fresh, else read), or ``None``
        when there is no such account."""
        kept = self.kept(session, username)
        if kept is not None:
            return kept
        read_at, generation = self._clock(), self._generation
        user = session.exec(select(User).where(User.username == username)).first()  # type: ignore[arg-type]
        if user is not None and user.active and self.ttl_seconds > 0:
            with self._lock:
                # Not kept when an account changed meanwhile: the row read may predate that change's commit.
                if self._generation == generation:
                    self._rows[username] = (read_at, {name: getattr(user, name) for name in _COLUMNS})
                self._drop_expired(read_at)
        return user

    def _drop_expired(self, now: float) -> None:
        """Drop the copies that have expired, at most once per TTL (called under the lock)."""
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.ttl_seconds
        self._rows = {name: kept for name, kept in self._rows.items() if now - kept[0] < self.ttl_seconds}

    def forget(self, username: str) -> None:
        with self._lock:
            self._generation += 1
            self._rows.pop(username, None)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._rows.clear()


def _attached(session: Session, values: dict[str, Any]) -> User:
    """A fresh instance of the kept row, persistent in ``session`` without a SELECT."""
    existing = session.identity_map.get((User, (values["id"],), None))  # type: ignore[attr-defined]
    if existing is not None:
        return existing  # type: ignore[no-any-return]
    # Made as the ORM's loader makes a row it reads (the class manager's instance, its columns set directly): the
    # model's constructor validated and set each field through an attribute event, most of a request's cost of
    # authentication. The values are a row the database gave.
    user = _MANAGER.new_instance()
    instance_state(user).dict.update(values)
    make_transient_to_detached(user)  # as though just loaded: no pending change, no history
    session.add(user)
    return user


def forget_everywhere(username: str) -> None:
    """Drop ``username`` from every cache of this process."""
    for cache in list(_caches):
        cache.forget(username)


_CHANGED = "motcua.accounts_changed"


@event.listens_for(User, "after_update")
def _account_changed(_mapper: Any, _connection: Any, target: User) -> None:
    """Forget the account when its row is written, and again when that transaction commits (a request that read
    the row in between read the old one)."""
    names = {target.username, *(inspect(target).attrs.username.history.deleted or ())}
    for name in names:
        forget_everywhere(name)
    session = object_session(target)
    if session is not None:
        session.info.setdefault(_CHANGED, set()).update(names)


@event.listens_for(OrmSession, "after_commit")
def _forget_committed(session: OrmSession) -> None:
    for name in session.info.pop(_CHANGED, ()):
        forget_everywhere(name)
