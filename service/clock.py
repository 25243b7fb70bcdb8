"""The one source of legal "now".

With ``MOTCUA_SIMULATION=true`` the legal clock is the row in ``sim_clock`` (shared by every API process);
it is frozen at the instant an admin set, or runs on from it when ``running`` is true. Without simulation, or
before anyone set it, the legal clock is real time. Security (tokens, rate limits) always uses real time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from service.domain.legal_time import to_legal_time, utc_now
from service.models import SimClock
from service.operations import reference

_SIM_CLOCK = select(SimClock.now, SimClock.running, SimClock.set_at, reference.TOKEN).where(SimClock.id == 1)
"""The clock's row and, riding along, the reference data's token (:mod:`service.operations.reference`): every
request reads the clock, so the token of the transaction costs no statement of its own."""
_READ = "motcua.legal_now"
_CLOCK_TABLE = SimClock.__table__  # type: ignore[attr-defined]
COLUMNS = (*(select(_CLOCK_TABLE.c[name]).where(_CLOCK_TABLE.c.id == 1).scalar_subquery().label(f"legal_clock_{name}")
             for name in ("now", "running", "set_at")), reference.TOKEN)
"""The clock's row and the reference token as columns of another statement (the one that locks a dossier for a
lifecycle action: :func:`service.deps.lock_dossier`), read with :meth:`LegalClock.now_from`. Scalar sub-queries:
a ``FOR UPDATE`` locks only the rows of its ``FROM``, never the clock's."""


class LegalClock:
    def __init__(self, *, simulation: bool) -> None:
        self.simulation = simulation

    def now(self, session: Session) -> datetime:
        """Legal "now"; a simulated clock is read once per transaction of ``session`` (one instant for the whole
        request, even on a running clock)."""
        known = self.known(session)
        if known is not None:
            return known
        row = session.connection().execute(_SIM_CLOCK).first()  # read on every request: columns, no ORM, no flush
        return self._keep(session, *(row if row is not None else (None, None, None, None)))

    def now_from(self, session: Session, values: Sequence[Any]) -> datetime:
        """Legal "now" from :data:`COLUMNS` read by another statement of the session's current transaction (the
        values in their order). The instant is the clock's at the start of that statement: a lock it waited for
        does not move it on (a running clock is read at that moment, as every request reads it once)."""
        known = self.known(session)
        if known is not None:
            return known  # real time, or read earlier in the transaction: one instant per request
        return self._keep(session, *values)

    def _keep(self, session: Session, stored: datetime | None, running: bool | None, set_at: datetime | None,
              token: str | None) -> datetime:
        """Legal "now" from the clock's row (``stored`` ``None``: no row, real time), kept for the transaction."""
        if stored is None:
            now = to_legal_time(utc_now())
        else:
            assert set_at is not None
            reference.note_token(session, token)
            now = to_legal_time(stored + (utc_now() - set_at) if running else stored)
        session.info[_READ] = (session.get_transaction(), now)
        return now

    def known(self, session: Session) -> datetime | None:
        """Legal "now" when it needs no database read: real time, or the simulated clock already read in the
        session's current transaction; else ``None``."""
        if not self.simulation:
            return to_legal_time(utc_now())
        read = session.info.get(_READ)
        transaction = session.get_transaction()
        if read is not None and transaction is not None and read[0] is transaction:
            return read[1]  # type: ignore[no-any-return]
        return None

    def set(self, session: Session, now: datetime, *, running: bool = False) -> datetime:
        row = session.get(SimClock, 1, with_for_update=True)
        if row is None:
            row = SimClock(id=1, now=now, running=running, set_at=utc_now())
            session.add(row)
        else:
            row.now, row.running, row.set_at = now, running, utc_now()
        session.flush()
        session.info.pop(_READ, None)
        return to_legal_time(now)
