"""Shared fixtures. The suite runs against the database named by ``MOTCUA_DATABASE_URL``.

Unset, each test session uses a temporary SQLite file; ``.ci/run`` runs the same suite again against PostgreSQL.
The schema is created with Alembic (so migrations are exercised); tables are emptied between tests.
"""

from __future__ import annotations

import os
import secrets
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

warnings.filterwarnings("ignore", message=".*httpx2.*")

from hypothesis import settings as hypothesis_settings  # noqa: E402

# Local runs explore new examples every time; CI replays a fixed derivation so a landing never depends on luck
# (failures found locally are fixed and, where useful, pinned as explicit examples).
# No time limit per example (Hypothesis's default is 200 ms): a test asserts behaviour, never speed, and a loaded
# two-core machine once took 329 ms for a pure example.
hypothesis_settings.register_profile("local", deadline=None)
hypothesis_settings.register_profile("ci", derandomize=True, database=None, deadline=None)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "local")

from fastapi.testclient import TestClient  # noqa: E402

from service.db import metadata, normalize_database_url  # noqa: E402
from service.security import passwords  # noqa: E402

# Argon2 at production cost takes tens of milliseconds per hash; the tests create and log in hundreds of users.
# They use the same algorithm at its minimum cost (the production parameters are exercised by test_passwords).
passwords.use_hasher(passwords.Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1))
from service.main import create_app  # noqa: E402
from service.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ADMIN = ("admin", "Admin@123456")
WEBHOOK_SECRET = "test-postal-webhook-secret"


def _test_database_url(tmp_dir: Path) -> str:
    url = os.environ.get("MOTCUA_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_dir / 'test.db'}"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and normalize_database_url(url).startswith("postgresql"):
        return _worker_database(url, worker)
    return url


def _worker_database(url: str, worker: str) -> str:
    """Each pytest-xdist worker gets its own PostgreSQL database, created next to the one named."""
    from sqlalchemy.engine import make_url

    from service.db import create_db_engine

    base = make_url(normalize_database_url(url))
    name = f"{base.database}_{worker}"
    engine = create_db_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def run_migrations(url: str, revision: str = "head", *, downgrade: bool = False) -> None:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["database_url"] = url
    cfg.attributes["skip_logging"] = True
    if downgrade:
        command.downgrade(cfg, revision)
    else:
        command.upgrade(cfg, revision)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    from service.served import empty_database

    url = _test_database_url(tmp_path_factory.mktemp("db"))
    empty_database(url)
    run_migrations(url)
    return url


def make_settings(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "test",
        "database_url": database_url,
        "secret_key": secrets.token_urlsafe(48),
        "admin_username": ADMIN[0],
        "admin_password": ADMIN[1],
        "simulation": True,
        "postal_webhook_secret": WEBHOOK_SECRET,
        "ca_key_passphrase": "test-ca-passphrase-0123456789",
        "upload_dir": tmp_path / "uploads",
        "worker": False,  # tests that need the event worker start it themselves
        "webhook_allow_private": True,
        "freeze_startup_heap": False,  # hundreds of apps in one process: their cycles must stay collectable
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def empty_tables(url: str) -> None:
    from service.db import create_db_engine

    engine = create_db_engine(url)
    tables = [t.name for t in reversed(metadata.sorted_tables) if t.name != "alembic_version"]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
    engine.dispose()
    reseed_calendar(url)


def reseed_calendar(url: str) -> None:
    """Put back the rows migration 0002 seeds (tests/test_migrations.py checks they equal KNOWN_CORRECTIONS)."""
    from datetime import UTC, datetime

    from service.db import Database
    from service.domain.holidays_vn import KNOWN_CORRECTIONS
    from service.models import CalendarOverrideRow

    db = Database(url)
    with db.transaction() as session:
        for o in KNOWN_CORRECTIONS:
            session.add(CalendarOverrideRow(day=o.day, kind=o.kind, name=o.name, legal_basis=o.legal_basis,
                                            updated_at=datetime(2026, 11, 21, tzinfo=UTC)))
    db.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    empty_tables(database_url)
    return make_settings(database_url, tmp_path)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def bearer(client: TestClient, username: str, password: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def admin_headers(client: TestClient) -> dict[str, str]:
    return bearer(client, *ADMIN)
