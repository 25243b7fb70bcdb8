"""Persisting what was decided: :func:`persist` is the one function that writes a change to a dossier.

Every change of a dossier — the submission, each lifecycle action, an uploaded paper — is one :class:`Change`:
the dossier's new state and columns, one control-slip row, its event (the outbox, :mod:`service.events.outbox`),
and the applicant's notices. :func:`persist` turns it
into row values (the slip row through :func:`service.dossiers.slip.slip_row`, the notices through
:func:`notification_values`) and hands them to a :class:`DossierWriter`: the API's :class:`SessionWriter` (the
ORM, inside the request's transaction), the simulator's ledger (rows in memory, written in batches) or the bulk
generator (rows built in worker processes). Whatever the writer, the values are the same, so a dossier's history
is the same whoever wrote it (``tests/simulation/test_ledger.py`` compares them row by row).

Nothing here commits: the caller's unit of work commits the change, its slip row and its notices together, or
nothing at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, cast

from sqlalchemy import bindparam, insert, inspect, update
from sqlmodel import Session, select

from service.domain.legal_time import utc_now
from service.domain.lifecycle import DossierState, Notice, Status
from service.domain.search import search_keys, search_words
from service.dossiers import search_index
from service.dossiers.slip import COLUMNS as SLIP_COLUMNS
from service.dossiers.slip import SlipHead, SlipRow, slip_row
from service.events import outbox
from service.models import Dossier, DossierEvent, Notification, User

SUBMIT = "submit"
RECEIVE = "receive"
"""The action of a dossier's first slip row: the row is new, and so are its search keys."""


@dataclass(frozen=True)
class Change:
    """One control-slip row's worth of change to a dossier.

    ``state`` is the rules' state after the change (the unchanged state for a row that changes no status, such
    as an upload); ``columns`` are other dossier columns it sets (``assignee_id``, ``digitised``);
    ``bump_version`` is false for the rows written with a new dossier (its first version covers them)."""

    action: str
    actor: str
    actor_role: str
    from_status: str | None
    at: datetime
    state: DossierState
    note: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, Any] = field(default_factory=dict)
    notices: tuple[Notice, ...] = ()
    bump_version: bool = True


class DossierRef(Protocol):
    """What :func:`persist` reads of the dossier it writes to."""

    @property
    def id(self) -> int | None: ...
    @property
    def code(self) -> str: ...
    @property
    def applicant_phone(self) -> str | None: ...
    @property
    def applicant_national_id(self) -> str: ...
    @property
    def agency_code(self) -> str: ...
    @property
    def procedure_code(self) -> str: ...
    @property
    def applicant_name_normalised(self) -> str: ...


class DossierWriter(Protocol):
    """Where :func:`persist` writes: each method receives finished row values."""

    def head(self, dossier: Any) -> SlipHead:
        """``(seq, hash)`` of the dossier's last slip row."""

    def write_dossier(self, dossier: Any, change: Change) -> None:
        """Apply ``change.state``, ``change.columns`` and the version to the dossier row."""

    def write_notification(self, dossier: Any, values: dict[str, Any]) -> None: ...

    def write_slip_row(self, dossier: Any, row: SlipRow) -> None:
        """Store the row, and the dossier's anchor: its row count and last hash (``row.head``)."""

    def write_search_keys(self, dossier: Any, keys: list[str], words: list[str]) -> None:
        """Store the keys the new dossier is searched by (with its agency and receipt instant), and add the words
        not yet in the vocabulary (:mod:`service.dossiers.search_index`)."""

    def date_search_keys(self, dossier: Any, keys: list[str], received_at: datetime) -> None:
        """Write the receipt instant the dossier's keys carry (:mod:`service.dossiers.search_index`)."""

    def write_event(self, dossier: Any, values: dict[str, Any]) -> None:
        """Write the slip row's event (:data:`service.events.outbox.EVENT_COLUMNS` values) under the outbox lock
        (:func:`service.events.outbox.lock`)."""

    def applicant_email(self, dossier: Any) -> str | None:
        """The e-mail address of the applicant's account, if any (their notices get an e-mail copy)."""

    def recorded_at(self) -> datetime:
        """The real instant the rows are recorded at."""


def notice_recipients(phone: str | None, email: str | None, national_id: str) -> list[tuple[str, str]]:
    """``(channel, recipient)`` of each copy of a notice: an SMS to the phone the applicant gave, an e-mail to
    their account's address; the portal inbox when there is neither."""
    out = [("sms", phone)] if phone else []
    if email:
        out.append(("email", email))
    return out or [("portal", national_id or "")]


def notification_values(dossier: DossierRef, notice: Notice, at: datetime,
                        email: str | None = None) -> list[dict[str, Any]]:
    """The ``notification`` rows of a notice to the applicant (Decree 61/2018 Arts. 16–20), one per channel
    (:mod:`service.events.notices` sends the e-mail and SMS copies when a sender is configured)."""
    return [{"dossier_id": dossier.id, "channel": channel, "recipient": recipient, "subject": notice.subject,
             "body": notice.body, "at": at}
            for channel, recipient in notice_recipients(dossier.applicant_phone, email,
                                                        dossier.applicant_national_id)]


def persist(writer: DossierWriter, dossier: DossierRef, change: Change) -> SlipRow:
    """Write ``change``: the dossier row (with its search keys when it is new), the applicant's notices and the
    control-slip row (chained to the dossier's last one). The single place every writer of dossier history goes
    through."""
    writer.write_dossier(dossier, change)
    if change.action == SUBMIT:
        writer.write_search_keys(dossier, search_keys(dossier.code, dossier.applicant_name_normalised),
                                 search_words(dossier.code, dossier.applicant_name_normalised))
    elif change.action == RECEIVE and change.state.received_at is not None:
        writer.date_search_keys(dossier, search_keys(dossier.code, dossier.applicant_name_normalised),
                                change.state.received_at)
    email = writer.applicant_email(dossier) if change.notices else None
    for notice in change.notices:
        for values in notification_values(dossier, notice, change.at, email):
            writer.write_notification(dossier, values)
    # ``dossier.id`` is ``None`` for a dossier its writer inserts afterwards (:class:`NewDossierWriter`): that
    # writer gives the rows the id once it has one.
    to_status = change.state.status.value
    row = slip_row(dossier_id=dossier.id, code=dossier.code, head=writer.head(dossier), at=change.at,
                   recorded_at=writer.recorded_at(), action=change.action, actor=change.actor,
                   actor_role=change.actor_role, from_status=change.from_status,
                   to_status=to_status, note=change.note, data=change.data,
                   due_at=change.state.due_at)
    writer.write_slip_row(dossier, row)
    writer.write_event(dossier, outbox.slip_event_values(
        dossier_id=dossier.id, code=dossier.code, agency_code=dossier.agency_code,
        procedure_code=dossier.procedure_code, seq=row.seq, action=change.action, at=change.at,
        from_status=change.from_status, to_status=to_status, due_at=change.state.due_at,
        timeliness=change.state.timeliness))
    return row


# ---------------------------------------------------------------- the ORM writer (API requests)

STATE_FIELDS = tuple(DossierState.__dataclass_fields__)
_RULE_FIELDS = tuple(name for name in STATE_FIELDS if name != "status")


def state_of(dossier: Dossier) -> DossierState:
    """The rules' view of a stored dossier."""
    values = {name: getattr(dossier, name) for name in _RULE_FIELDS}
    return DossierState(status=Status(dossier.status), **values)


def store_state(dossier: Dossier, state: DossierState) -> None:
    """Copy ``state`` onto the row, setting only the fields that changed (cheaper on the ORM; same row)."""
    for name in STATE_FIELDS:
        value = getattr(state, name)
        if isinstance(value, Status):
            value = value.value
        if getattr(dossier, name) != value:
            setattr(dossier, name, value)


def apply_change(dossier: Any, change: Change) -> None:
    """Set ``change`` on the dossier (an ORM row or a new dossier's plain record): its state, its other columns,
    and the version with ``updated_at`` when the change bumps it."""
    store_state(dossier, change.state)
    for name, value in change.columns.items():
        setattr(dossier, name, value)
    if change.bump_version:
        dossier.version += 1
        dossier.updated_at = change.at


# ``inline()``: the rows' ids are never read, so a one-row INSERT does not ask for its id back (``RETURNING id``
# on PostgreSQL, and a result for SQLAlchemy to read).
_NOTIFICATION_INSERT = insert(Notification.__table__).inline()  # type: ignore[attr-defined]
_SLIP_ROW_INSERT = insert(DossierEvent.__table__).inline()  # type: ignore[attr-defined]


class SessionWriter:
    """Writes through the ORM into the caller's session (never commits)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._new_keys: tuple[Dossier, list[str], list[str]] | None = None

    def head(self, dossier: Dossier) -> SlipHead:
        """The dossier's anchor: every writer keeps it equal to its last slip row, in the row's transaction, and
        the dossier was loaded for update (or created) by this transaction, so no query is needed."""
        assert dossier.id is not None
        return dossier.slip_rows, dossier.slip_head

    def write_dossier(self, dossier: Dossier, change: Change) -> None:
        # No flush here nor below: the next query or the commit flushes the dossier, its rows and its notices
        # together (one unit-of-work pass instead of two per change).
        apply_change(dossier, change)
        self.session.add(dossier)

    # Append-only rows go in as Core INSERTs on the session's connection: no ORM object and no unit-of-work
    # bookkeeping (each ORM object cost more CPU than its INSERT), same transaction; not Session.execute, which
    # would flush the pending dossier first (the commit flushes it once).

    def write_notification(self, dossier: Dossier, values: dict[str, Any]) -> None:
        self.session.connection().execute(_NOTIFICATION_INSERT, values)

    def write_slip_row(self, dossier: Dossier, row: SlipRow) -> None:
        dossier.slip_rows, dossier.slip_head = row.head  # the anchor, in the same transaction as the row
        self.session.add(dossier)
        connection = self.session.connection()
        changed = _loaded_changes(dossier, self.session)
        if changed and connection.dialect.name == "postgresql":
            # One statement: the slip row is a data-modifying WITH of the dossier's UPDATE.
            connection.execute(_DOSSIER_UPDATE_WITH_SLIP_ROW, {
                **changed, **{_SLIP_PARAMETER + name: value for name, value in row.values().items()},
                "loaded_dossier_id": dossier.id})
        else:
            connection.execute(_SLIP_ROW_INSERT, row.values())
            if changed:
                connection.execute(_DOSSIER_UPDATE, {**changed, "loaded_dossier_id": dossier.id})
        if changed:
            _mark_written(dossier, self.session)

    def write_search_keys(self, dossier: Dossier, keys: list[str], words: list[str]) -> None:
        """Kept until :meth:`write_new_keys`: a dossier received on the spot (its next change) gets its keys
        written once, with its receipt instant, rather than inserted and then updated."""
        self._new_keys = (dossier, keys, words)

    def date_search_keys(self, dossier: Dossier, keys: list[str], received_at: datetime) -> None:
        assert dossier.id is not None
        if self._new_keys is not None and self._new_keys[0] is dossier:
            return  # not written yet: :meth:`write_new_keys` writes them with dossier.received_at
        search_index.date(self.session.connection(), [(key, dossier.id, received_at) for key in keys])

    def write_new_keys(self) -> None:
        """Write the search keys of the dossier created through this writer (with its receipt instant, if it has
        been received) and its new vocabulary words. The caller of :func:`persist` for a ``submit`` change calls
        this once its changes are persisted."""
        if self._new_keys is None:
            return
        dossier, keys, words = self._new_keys
        assert dossier.id is not None
        self._new_keys = None
        search_index.write_dossier_keys(self.session.connection(), dossier.id, dossier.agency_code,
                                        dossier.received_at, keys, words)

    def write_event(self, dossier: Dossier, values: dict[str, Any]) -> None:
        outbox.append(self.session, values)  # queued; inserted under the outbox lock as the transaction commits

    def applicant_email(self, dossier: Dossier) -> str | None:
        if dossier.applicant_user_id is None:
            return None
        return self.session.exec(select(User.email).where(User.id == dossier.applicant_user_id)).first()

    def recorded_at(self) -> datetime:
        return utc_now()


_DOSSIER_TABLE = Dossier.__table__  # type: ignore[attr-defined]
_DOSSIER_UPDATE = update(_DOSSIER_TABLE).where(_DOSSIER_TABLE.c.id == bindparam("loaded_dossier_id"))
"""The columns passed (the SET clause is the parameters': compiled once per set of columns)."""
_SLIP_TABLE = DossierEvent.__table__  # type: ignore[attr-defined]
_SLIP_PARAMETER = "slip_row_"
_DOSSIER_UPDATE_WITH_SLIP_ROW = _DOSSIER_UPDATE.add_cte(
    insert(_SLIP_TABLE).values({name: bindparam(_SLIP_PARAMETER + name, type_=_SLIP_TABLE.c[name].type)
                                for name in SLIP_COLUMNS}).cte("slip_row"))
"""PostgreSQL: :data:`_DOSSIER_UPDATE` with the slip row's INSERT as a data-modifying ``WITH`` (its values as
``slip_row_<column>`` parameters): an action's two writes in one round trip."""


def _loaded_changes(dossier: Dossier, session: Session) -> dict[str, Any] | None:
    """The columns of a loaded (persistent) dossier that changed, to be written with one Core ``UPDATE`` and then
    marked written on the ORM object (:func:`_mark_written`), as a flush would. A flush ran the unit of work for it
    (dependency sort, per-column history, the mapper's UPDATE collection): more CPU than the statement. ``None``
    for a dossier left to the ORM's flush: one that is not persistent (a later change of the object is tracked,
    and flushed, as before), or a change made inside a savepoint (the session restores, expires, on a savepoint's
    rollback only the objects its flushes wrote, and this UPDATE is not one of them; a rollback of the whole
    transaction expires every object)."""
    state = inspect(dossier)
    if not state.persistent or not state.modified or session.get_nested_transaction() is not None:
        return None
    return {key: state.dict[key] for key in state.committed_state if key in state.dict} or None


def _mark_written(dossier: Dossier, session: Session) -> None:
    """What the unit of work does after it wrote a row (no public API marks an object clean without a flush)."""
    state = inspect(dossier)
    state._commit_all(state.dict, session.identity_map)


# ---------------------------------------------------------------- a dossier created in this transaction


_DOSSIER_INSERT = insert(_DOSSIER_TABLE).returning(_DOSSIER_TABLE.c.id)
_COLUMN_DEFAULTS = {column.name: column.default.arg if column.default is not None else None
                    for column in _DOSSIER_TABLE.columns}
"""Every column of a new dossier row before its values are given: the model's defaults (all scalars), else
``None``."""


class NewDossier:
    """A dossier row this transaction is about to insert, held as plain attributes rather than an ORM object
    (an ORM row cost more CPU than the submission's SQL: attribute events on each change, the unit of work at the
    commit). Its first changes are applied to it before :class:`NewDossierWriter` inserts it, so the row is
    written once, as it ends the request: PostgreSQL indexes it once (``dossier`` has 23 indexes, two of them
    trigram GIN), where an INSERT and then an UPDATE of the indexed status and dates indexed it twice. ``id`` is
    ``None`` until then."""

    id: int | None

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(_COLUMN_DEFAULTS)
        # Instants as the column gives them back (in UTC), so the record equals the row read again.
        self.__dict__.update({name: value.astimezone(UTC) if isinstance(value, datetime) else value
                              for name, value in values.items()})
        self.id = None

    def columns(self) -> dict[str, Any]:
        """The row's values (all but ``id``, which the database draws)."""
        return {name: self.__dict__[name] for name in _COLUMN_DEFAULTS if name != "id"}

    def as_row(self) -> Dossier:
        """The record where a :class:`~service.models.Dossier` is read or changed (the same attribute names)."""
        return cast(Dossier, self)


class NewDossierWriter(SessionWriter):
    """:class:`SessionWriter` for the first changes of a :class:`NewDossier`: they are applied to the record and
    their rows kept, all written by :meth:`finish` in the caller's transaction — the dossier's INSERT, then, with
    the id it returns, the slip rows in one INSERT, the notices in one, the events and the search keys. The
    caller of :func:`persist` calls :meth:`finish` once its changes are persisted."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self._slip_rows: list[dict[str, Any]] = []
        self._notifications: list[dict[str, Any]] = []
        self._events: list[dict[str, Any]] = []

    def head(self, dossier: Dossier) -> SlipHead:
        return dossier.slip_rows, dossier.slip_head

    def write_dossier(self, dossier: Dossier, change: Change) -> None:
        apply_change(dossier, change)

    def write_notification(self, dossier: Dossier, values: dict[str, Any]) -> None:
        self._notifications.append(values)

    def write_slip_row(self, dossier: Dossier, row: SlipRow) -> None:
        dossier.slip_rows, dossier.slip_head = row.head  # the anchor, inserted with the dossier's row
        self._slip_rows.append(row.values())

    def date_search_keys(self, dossier: Dossier, keys: list[str], received_at: datetime) -> None:
        """Nothing to do: :meth:`finish` writes the keys with the dossier's receipt instant."""

    def write_event(self, dossier: Dossier, values: dict[str, Any]) -> None:
        self._events.append(values)

    def finish(self, dossier: NewDossier) -> int:
        """Insert the dossier and every row of its changes; returns its id (also set on the record)."""
        connection = self.session.connection()
        dossier_id: int = connection.execute(_DOSSIER_INSERT, dossier.columns()).scalar_one()
        dossier.id = dossier_id
        for values in (*self._slip_rows, *self._notifications, *self._events):
            values["dossier_id"] = dossier_id
        if self._slip_rows:
            connection.execute(_SLIP_ROW_INSERT, self._slip_rows)
        if self._notifications:
            connection.execute(_NOTIFICATION_INSERT, self._notifications)
        for values in self._events:
            outbox.append(self.session, values)  # queued; inserted under the outbox lock as the transaction commits
        self._slip_rows, self._notifications, self._events = [], [], []
        self.write_new_keys()
        return dossier_id
