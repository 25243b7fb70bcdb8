"""Reference data kept in memory across requests: the procedure version in force, the agencies' facts, the
calendar overrides and the working calendars built from them.

Every write request read them (a counter submission: the procedure, its desk's agency, the overrides; every action:
the overrides and the agency's office hours), one SQL statement each, and a statement costs ~170 Python calls in
SQLAlchemy and psycopg. They change a few times a year, by an admin or a loader.

**The token.** ``reference_revision`` holds one row, a random token naming the state of the reference tables.
Database triggers (migration 0131) set a new random token in every transaction that inserts, updates or deletes
(or truncates) rows of ``procedure``, ``agency`` or ``calendar_override``. They are the project's one implicit
mechanism, on purpose: the cache lives in every API process and worker, and those tables are written by the API,
the demo and simulation loaders, the table writer's COPY, tests and hand-run SQL; a write path that forgot an
explicit invalidation would leave every other process serving stale data without any error, while a trigger
cannot be bypassed by any writer and commits or rolls back with the change itself.

**Reading.** A request reads the token once per transaction: in simulation mode as a scalar subquery of the
simulated clock's read (:mod:`service.clock` calls :func:`note_token`), which every request makes anyway, so it
costs no statement; otherwise in one small statement, where the request read two or three. Values are looked up
in that token's generation. A miss reads the value *and the token in the same statement* (one snapshot) and
stores the value under the token it was read with: a stored value is always the data as of its token.

**Why random, and uncommitted changes.** A transaction that changed reference data has, inside it, a token no one
else can see; values it reads then (its own uncommitted changes) are stored under that token. If it commits, that
token becomes everyone's and the values are right; if it rolls back, the token is never seen again: a counter would
come back to the same number with the next committed change and serve the rolled-back values. A writer calls
:func:`changed` after its flush so that its own later reads use its new token (see its own changes); forgetting it
would only make that transaction read the values of before its change, never another transaction. Values derived
from several lookups (a calendar) are stored only when every lookup of the transaction agreed with its token.

**What a request sees.** A committed change is seen by every transaction that reads the token after the commit.
On SQLite a transaction reads one snapshot, so token and data agree; on PostgreSQL (read committed) a request
whose token predates a change committed while it runs may see either state, as it could by reading the tables.

Values are immutable (frozen dataclasses, tuples, read-only mappings) and shared by the handlers' threads. Each
:class:`~service.db.Database` (an API process, a worker, a test's app) has its own :class:`ReferenceCache`, bounded
to :data:`GENERATIONS` tokens of at most :data:`ENTRIES` values.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, TypeVar

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from service.domain.holidays_vn import CalendarOverride
from service.models import Agency, CalendarOverrideRow, Procedure, ReferenceRevision

T = TypeVar("T")

GENERATIONS = 4
"""Tokens kept: the current one, and those of requests still running when it changed (or of a writer's
transaction)."""
ENTRIES = 4096
"""Values per token: procedures in force, agencies, the overrides and a calendar per agency."""
SESSION_KEY = "motcua.reference_cache"
"""The :class:`ReferenceCache` of a session's :class:`~service.db.Database` (in ``Session.info``)."""

TOKEN = select(ReferenceRevision.token).where(ReferenceRevision.id == 1).scalar_subquery().label("reference_token")
"""The token as a column of another statement (the simulated clock's, each miss's)."""


# ---------------------------------------------------------------- the values


def _frozen(value: Any) -> Any:
    """A JSON value that cannot be changed: lists become tuples, objects read-only mappings."""
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    return value


def thawed(value: Any) -> Any:
    """A frozen JSON value as plain lists and dicts (for a response model)."""
    if isinstance(value, tuple | list):
        return [thawed(v) for v in value]
    if isinstance(value, Mapping):
        return {k: thawed(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class ProcedureVersion:
    """A version of a procedure as read from its row (:class:`~service.models.Procedure`'s columns, same names),
    detached and immutable: ``required_documents`` and ``steps`` are tuples of read-only mappings."""

    id: int
    code: str
    version: int
    name: str
    field: str | None
    agency_code: str
    service_level: int
    processing_value: int
    processing_unit: str
    fee_vnd: int
    postal_allowed: bool
    required_documents: tuple[Mapping[str, Any], ...]
    supplement_policy: str
    legal_basis: str | None
    anywhere_in_province: bool
    steps: tuple[Mapping[str, Any], ...] | None
    search_text: str
    effective_from: datetime
    superseded_at: datetime | None


AnyProcedure = Procedure | ProcedureVersion
"""What the submission rules read: a version in force from the cache, or a row (the simulator's, the bulk loader's)."""


@dataclass(frozen=True)
class AgencyFacts:
    """An agency's row as the hot path reads it; ``office_hours`` is its JSON canonically encoded (sorted keys),
    ``None`` for the default hours."""

    code: str
    name: str
    level: str
    parent_code: str | None
    valid_from: date | None
    valid_to: date | None
    succeeded_by: str | None
    office_hours: str | None


# ---------------------------------------------------------------- the cache


class ReferenceCache:
    """Values by token, then by key; at most :data:`GENERATIONS` tokens (the oldest stored first goes) of
    :data:`ENTRIES` values (beyond, a value is not kept). Lookups read without a lock (one ``dict.get`` each);
    stores take it."""

    def __init__(self) -> None:
        self._generations: dict[str, dict[Any, Any]] = {}
        self._lock = threading.Lock()

    def get(self, token: str, key: Any) -> Any:
        generation = self._generations.get(token)
        return None if generation is None else generation.get(key)

    def put(self, token: str, key: Any, value: Any) -> None:
        with self._lock:
            generation = self._generations.get(token)
            if generation is None:
                while len(self._generations) >= GENERATIONS:
                    del self._generations[next(iter(self._generations))]
                generation = self._generations[token] = {}
            if len(generation) < ENTRIES:
                generation[key] = value

    def clear(self) -> None:
        with self._lock:
            self._generations = {}


_PROCESS_CACHE = ReferenceCache()
"""For a session made outside a :class:`~service.db.Database` (its sessions carry their database's cache)."""


def _cache(session: Session) -> ReferenceCache:
    return session.info.get(SESSION_KEY) or _PROCESS_CACHE  # type: ignore[no-any-return]


@dataclass
class _Read:
    """The token a transaction reads by, and whether every value it read from the database carried that token."""

    transaction: Any
    token: str | None
    consistent: bool = True


_READ = "motcua.reference_token"
_TOKEN = select(ReferenceRevision.token).where(ReferenceRevision.id == 1)


def _read(session: Session) -> _Read:
    read = session.info.get(_READ)
    transaction = session.get_transaction()
    if read is not None and transaction is not None and read.transaction is transaction:
        return read  # type: ignore[no-any-return]
    token = session.connection().execute(_TOKEN).scalar()
    read = _Read(session.get_transaction(), token)
    session.info[_READ] = read
    return read


def note_token(session: Session, token: str | None) -> None:
    """The token read with another statement of the session's current transaction (the simulated clock's)."""
    read = session.info.get(_READ)
    transaction = session.get_transaction()
    if read is None or read.transaction is not transaction:
        session.info[_READ] = _Read(transaction, token)


def changed(session: Session) -> None:
    """The transaction has changed (and flushed) reference rows: its next lookups read the token again (the new
    one the triggers set), so they see its changes."""
    session.info.pop(_READ, None)


def _kept(session: Session, key: Any) -> tuple[_Read, ReferenceCache, Any]:
    """The transaction's read, the process's cache, and the value kept for ``key`` under the transaction's token
    (``None`` when there is none)."""
    read = _read(session)
    cache = _cache(session)
    return read, cache, (cache.get(read.token, key) if read.token is not None else None)


def _lookup(session: Session, key: Any, load: Callable[[Session], tuple[T | None, str | None]]) -> T | None:
    """The value of ``key`` under the transaction's token, or ``load``'s (the value, or ``None`` for no row, and
    the token read with it), kept under the token it was read with."""
    read, cache, kept = _kept(session, key)
    if kept is not None:
        return kept  # type: ignore[no-any-return]
    value, token = load(session)
    if value is not None and token is not None:
        cache.put(token, key, value)
    if token is None or token != read.token:
        read.consistent = False
    return value


def derived(session: Session, key: Any, build: Callable[[], T]) -> T:
    """A value computed from lookups (``build`` makes them), kept under the transaction's token when every value
    the transaction read from the database carried that token."""
    read, cache, kept = _kept(session, key)
    if kept is not None:
        return kept  # type: ignore[no-any-return]
    value = build()
    if read.token is not None and read.consistent and session.info.get(_READ) is read:
        cache.put(read.token, key, value)
    return value


# ---------------------------------------------------------------- the lookups


_PROCEDURE_FIELDS = [f.name for f in fields(ProcedureVersion)]
_PROCEDURE_IN_FORCE = (select(*(Procedure.__table__.c[name] for name in _PROCEDURE_FIELDS), TOKEN)  # type: ignore[attr-defined]
                       .where(Procedure.code == bindparam("code"), col(Procedure.superseded_at).is_(None)))


def _load_procedure(code: str) -> Callable[[Session], tuple[ProcedureVersion | None, str | None]]:
    def load(session: Session) -> tuple[ProcedureVersion | None, str | None]:
        row = session.connection().execute(_PROCEDURE_IN_FORCE, {"code": code}).first()
        if row is None:
            return None, None
        values = row._mapping
        return ProcedureVersion(**{name: _frozen(values[name]) for name in _PROCEDURE_FIELDS}), row.reference_token
    return load


def procedure_in_force(session: Session, code: str) -> ProcedureVersion | None:
    """The version of procedure ``code`` in force (``superseded_at`` unset), or ``None``."""
    return _lookup(session, ("procedure", code), _load_procedure(code))


_AGENCY = select(Agency.code, Agency.name, Agency.level, Agency.parent_code, Agency.valid_from, Agency.valid_to,
                 Agency.succeeded_by, Agency.office_hours, TOKEN).where(Agency.code == bindparam("code"))


def _load_agency(code: str) -> Callable[[Session], tuple[AgencyFacts | None, str | None]]:
    def load(session: Session) -> tuple[AgencyFacts | None, str | None]:
        row = session.connection().execute(_AGENCY, {"code": code}).first()
        if row is None:
            return None, None
        hours = json.dumps(row.office_hours, sort_keys=True) if row.office_hours else None
        return AgencyFacts(row.code, row.name, row.level, row.parent_code, row.valid_from, row.valid_to,
                           row.succeeded_by, hours), row.reference_token
    return load


def agency(session: Session, code: str) -> AgencyFacts | None:
    """The agency ``code`` as stored, or ``None`` (an agency added in the transaction and not flushed yet is not
    stored: the caller may look in the session)."""
    return _lookup(session, ("agency", code), _load_agency(code))


_OVERRIDES = select(CalendarOverrideRow.day, CalendarOverrideRow.kind, CalendarOverrideRow.name,
                    CalendarOverrideRow.legal_basis, TOKEN).order_by(CalendarOverrideRow.day)


def _load_overrides(session: Session) -> tuple[tuple[CalendarOverride, ...] | None, str | None]:
    rows = session.connection().execute(_OVERRIDES).all()
    overrides = tuple(CalendarOverride(day=day, kind=kind, name=name, legal_basis=legal_basis)
                      for day, kind, name, legal_basis, _ in rows)
    return overrides, rows[0].reference_token if rows else None


def calendar_overrides(session: Session) -> tuple[CalendarOverride, ...]:
    """The calendar override rows in day order (with none, nothing is kept: no row carried the token)."""
    return _lookup(session, ("calendar overrides",), _load_overrides) or ()
