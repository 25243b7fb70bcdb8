"""Migrations: upgrade, no drift against the models, downgrade, and the seeded calendar rows."""

import importlib.util
from datetime import UTC, date, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import delete, insert, inspect, select, update

from service.db import create_db_engine
from service.domain.holidays_vn import KNOWN_CORRECTIONS
from service.models import Agency, CalendarOverrideRow, Procedure, ReferenceRevision
from service.settings import Settings
from tests.conftest import ROOT, run_migrations


def test_seed_migration_matches_known_corrections() -> None:
    path = next((ROOT / "migrations" / "versions").glob("*_seed_calendar_corrections.py"))
    spec = importlib.util.spec_from_file_location("seed", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert [(d, k, n, b) for d, k, n, b in module.ROWS] == [
        (o.day, o.kind, o.name, o.legal_basis) for o in KNOWN_CORRECTIONS
    ]


def test_upgrade_check_downgrade_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    run_migrations(url)
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["database_url"] = url
    cfg.attributes["skip_logging"] = True
    command.check(cfg)  # raises when the models and the migrations disagree
    run_migrations(url, "base", downgrade=True)
    engine = create_db_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_the_digitised_flag_is_back_filled_from_uploaded_papers(tmp_path: Path) -> None:
    """Migration 0003 marks the dossiers that already had an uploaded paper (Decision 766 indicator 4.2)."""
    from datetime import UTC, datetime

    from sqlmodel import select

    from service.db import Database
    from service.demo import load, read_catalogue
    from service.dossiers.submission import submit
    from service.models import Dossier, DossierDocument, User
    from service.schemas.dossiers import DossierIn

    url = f"sqlite:///{tmp_path / 'backfill.db'}"
    run_migrations(url)
    now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    db = Database(url)
    codes = []
    with db.transaction() as session:
        load(session, read_catalogue(), now=now)
        desk = session.exec(select(User).where(User.username == "tiepnhan")).one()
        for _ in range(2):
            body = {"procedure_code": "1.001612.000.00.00.H49", "channel": "counter", "result_delivery": "counter",
                    "documents": [{"code": "TP01"}], "applicant": {"national_id": "022080000111",
                                                                   "full_name": "Trần Thị Bình"}}
            codes.append(submit(session, user=desk, data=DossierIn.model_validate(body), now=now).dossier.code)
        scanned = session.exec(select(Dossier).where(Dossier.code == codes[0])).one()
        paper = session.exec(select(DossierDocument).where(DossierDocument.dossier_id == scanned.id)).one()
        paper.uploaded_at, paper.filename = now, "tp01.pdf"  # as before the flag existed: the paper only
    db.dispose()
    run_migrations(url, "0002", downgrade=True)
    run_migrations(url)
    db = Database(url)
    with db.transaction(read_only=True) as session:
        flags = {d.code: d.digitised for d in session.exec(select(Dossier))}
    db.dispose()
    assert flags == {codes[0]: True, codes[1]: False}


def test_every_change_of_a_reference_table_renews_the_token_and_a_rollback_restores_it(settings: Settings) -> None:
    """The triggers of migration 0131 (service.operations.reference relies on them in every process): at head on
    the tested database, so a later migration that rebuilt one of these tables without them would be caught."""
    engine = create_db_engine(settings.database_url)
    when = datetime(2026, 3, 2, tzinfo=UTC)
    changes = [
        insert(Agency.__table__).values(code="X.1", name="Xã thử", level="commune", created_at=when),
        update(Agency.__table__).where(Agency.code == "X.1").values(office_hours=[["08:00", "12:00"]]),
        insert(Procedure.__table__).values(code="P.1", version=1, name="Thủ tục thử", agency_code="X.1",
                                           service_level=2, processing_value=3, processing_unit="working_days",
                                           fee_vnd=0, postal_allowed=False, required_documents=[],
                                           supplement_policy="restart", anywhere_in_province=False,
                                           search_text="", effective_from=when),
        update(Procedure.__table__).where(Procedure.code == "P.1").values(superseded_at=when),
        delete(Procedure.__table__).where(Procedure.code == "P.1"),
        delete(Agency.__table__).where(Agency.code == "X.1"),
        insert(CalendarOverrideRow.__table__).values(day=date(2026, 3, 3), kind="holiday", name="Nghỉ thử",
                                                     updated_at=when),
        update(CalendarOverrideRow.__table__).where(CalendarOverrideRow.day == date(2026, 3, 3)).values(name="Nghỉ"),
        delete(CalendarOverrideRow.__table__).where(CalendarOverrideRow.day == date(2026, 3, 3)),
    ]
    read = select(ReferenceRevision.token)
    with engine.connect() as conn:
        seen = {conn.execute(read).scalar_one()}
        conn.commit()
        for change in changes:
            conn.execute(change)
            token = conn.execute(read).scalar_one()
            conn.commit()
            assert token not in seen, change
            seen.add(token)
        before = conn.execute(read).scalar_one()
        conn.execute(changes[0])
        assert conn.execute(read).scalar_one() != before
        conn.rollback()
        assert conn.execute(read).scalar_one() == before
    engine.dispose()
