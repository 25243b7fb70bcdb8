"""The control slip (Phiếu kiểm soát quá trình giải quyết hồ sơ, Circular 01/2018/TT-VPCP Mẫu 05): the row
builder every writer uses, and reading/verifying a dossier's chain.

:func:`slip_row` is the only place a slip row's values are made (its hash chained to the previous row with
:mod:`service.domain.audit`); the API, the simulator's ledger and the bulk generator all call it through
:func:`service.dossiers.persist.persist`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlmodel import Session, col, select

from service.domain import audit
from service.models import Dossier, DossierEvent

SlipHead = tuple[int, str]
"""``(seq, hash)`` of a dossier's last slip row; ``(0, GENESIS)`` before the first."""
NO_ROWS: SlipHead = (0, audit.GENESIS)


class SlipRow(NamedTuple):
    """One control-slip row's column values (``dossier_event`` but its ``id``), in :data:`COLUMNS` order.

    A named tuple rather than a frozen dataclass: as immutable, and each writer makes one per row it writes
    (millions for a simulated province year) — a frozen dataclass's ``__init__`` sets each of its 14 fields
    through ``object.__setattr__``, which cost more than twice the tuple's construction — and the batch
    writers take it as it is, already a row in column order (:func:`as_tuple`)."""

    dossier_id: int | None
    """``None`` until the dossier is inserted (:class:`service.dossiers.persist.NewDossierWriter`); the hash does
    not cover it."""
    seq: int
    at: datetime
    recorded_at: datetime
    action: str
    actor: str
    actor_role: str
    from_status: str | None
    to_status: str
    note: str | None
    data: dict[str, Any]
    due_at: datetime | None
    prev_hash: str
    hash: str

    @property
    def head(self) -> SlipHead:
        return self.seq, self.hash

    def values(self) -> dict[str, Any]:
        """The row as column values by name (for an ``INSERT``)."""
        return self._asdict()


COLUMNS = SlipRow._fields
assert COLUMNS == ("dossier_id", "seq", "at", "recorded_at", "action", "actor", "actor_role", "from_status",
                   "to_status", "note", "data", "due_at", "prev_hash", "hash")


def slip_content(dossier_code: str, row: Any) -> dict[str, Any]:
    """What a row's hash covers (``row``: a :class:`SlipRow` or a stored ``DossierEvent``)."""
    return {
        "dossier": dossier_code,
        "seq": row.seq,
        "at": row.at,
        "action": row.action,
        "actor": row.actor,
        "actor_role": row.actor_role,
        "from_status": row.from_status,
        "to_status": row.to_status,
        "note": row.note,
        "data": row.data,
        "due_at": row.due_at,
    }


def slip_row(*, dossier_id: int | None, code: str, head: SlipHead, at: datetime, recorded_at: datetime, action: str,
             actor: str, actor_role: str, from_status: str | None, to_status: str, note: str | None,
             data: dict[str, Any], due_at: datetime | None) -> SlipRow:
    """The next row of a dossier's slip after ``head``, hashed and chained."""
    seq, prev_hash = head
    seq += 1
    digest = audit.slip_entry_hash(prev_hash, dossier=code, seq=seq, at=at, action=action, actor=actor,
                                   actor_role=actor_role, from_status=from_status, to_status=to_status, note=note,
                                   data=data, due_at=due_at)
    return SlipRow(dossier_id, seq, at, recorded_at, action, actor, actor_role, from_status, to_status, note, data,
                   due_at, prev_hash, digest)


def as_tuple(row: SlipRow) -> tuple[Any, ...]:
    """The row in :data:`COLUMNS` order, for batched inserts: the row itself."""
    return row


def last_row(session: Session, dossier_id: int) -> SlipHead:
    last = session.exec(
        select(DossierEvent.seq, DossierEvent.hash).where(DossierEvent.dossier_id == dossier_id)
        .order_by(col(DossierEvent.seq).desc()).limit(1)
    ).first()
    return (last[0], last[1]) if last else NO_ROWS


def history(session: Session, dossier: Dossier) -> list[DossierEvent]:
    return list(session.exec(
        select(DossierEvent).where(DossierEvent.dossier_id == dossier.id).order_by(col(DossierEvent.seq))
    ))


def verify_history(session: Session, dossier: Dossier) -> tuple[bool, int]:
    """Whether the control slip is the one the service wrote, and how many rows it has: every row's hash chains
    to the previous one (a changed, removed or reordered row breaks it); the rows are numbered 1…n with n and the
    last hash equal to the anchor the dossier keeps (written by every writer with each row, so a removed last
    row, a truncated or emptied slip, or a row moved to another dossier is caught); and the last row leads to
    the dossier's current status.

    What it cannot prove: someone able to write to the database who recomputes every hash *and* rewrites the
    anchor (or restores an older, consistent copy of both) is not caught — the chain is unkeyed, because the
    offline writers (simulator, bulk generator) hold no server key. Nor does it vouch for the facts a row
    states, only that the rows are unchanged since they were written."""
    events = history(session, dossier)
    chained = audit.verify_chain((slip_content(dossier.code, e), e.prev_hash, e.hash) for e in events)
    numbered = [e.seq for e in events] == list(range(1, len(events) + 1))
    last_hash = events[-1].hash if events else audit.GENESIS
    anchored = (len(events), last_hash) == (dossier.slip_rows, dossier.slip_head)
    current = not events or events[-1].to_status == dossier.status
    return chained and numbered and anchored and current, len(events)
