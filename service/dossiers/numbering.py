"""Dossier codes: ``<agency>-YYMMDD-NNNN`` (Circular 01/2018/TT-VPCP Art. 19), a daily sequence per agency."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from service import tablewriter
from service.domain.legal_time import to_legal_time
from service.models import DailySequence


def format_code(agency_code: str, day: date, number: int) -> str:
    return f"{agency_code}-{day:%y%m%d}-{number:04d}"


def next_code(session: Session, agency_code: str, now: datetime) -> str:
    """The next code of the agency's local day, drawn with one atomic upsert so concurrent submissions never
    share a number."""
    day = to_legal_time(now).date()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(DailySequence)
        .values(agency_code=agency_code, day=day, last=1)
        .on_conflict_do_update(index_elements=["agency_code", "day"], set_={"last": DailySequence.last + 1})
        .returning(col(DailySequence.last))
    )
    number: int = session.execute(statement).scalar_one()
    return format_code(agency_code, day, number)


class DailyNumbers:
    """The agencies' daily dossier numbers drawn in memory, for writers that bypass :func:`next_code` (the bulk
    generator, the simulator's ledger) and are the database's only writer: they continue the stored sequences
    and :meth:`store` writes back the ones drawn from."""

    def __init__(self, last: dict[tuple[str, date], int]) -> None:
        self.last = dict(last)
        self._touched: set[tuple[str, date]] = set()

    @classmethod
    def load(cls, session: Session) -> DailyNumbers:
        return cls({(r.agency_code, r.day): r.last for r in session.exec(select(DailySequence))})

    def next(self, agency_code: str, now: datetime) -> str:
        day = to_legal_time(now).date()
        number = self.last[(agency_code, day)] = self.last.get((agency_code, day), 0) + 1
        self._touched.add((agency_code, day))
        return format_code(agency_code, day, number)

    def store(self, session: Session) -> None:
        tablewriter.store_daily_sequences(session, {key: self.last[key] for key in self._touched})
        self._touched.clear()
