"""Migrations: upgrade, no drift against the models, downgrade, and the seeded calendar rows."""

import importlib.util
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from service.db import create_db_engine
from service.domain.holidays_vn import KNOWN_CORRECTIONS
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
