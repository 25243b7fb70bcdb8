"""Alembic environment: the URL comes from ``MOTCUA_DATABASE_URL``, the schema from the SQLModel tables."""

import os
from logging.config import fileConfig

from alembic import context

import service.models  # noqa: F401  (registers every table)
from service.db import create_db_engine, metadata

DEFAULT_URL = "sqlite:///./data/motcua.db"

config = context.config
if config.config_file_name is not None and not config.attributes.get("skip_logging"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    return config.attributes.get("database_url") or os.environ.get("MOTCUA_DATABASE_URL") or DEFAULT_URL


UNCOMPARED_INDEXES = frozenset({"ix_dossier_agency_code_received_at", "ix_dossier_lodged_for_another",
                                "ix_dossier_applicant_national_id_agency_code",
                                "ix_dossier_applicant_national_id_lodged_for_another",
                                "ix_dossier_applicant_national_id_interagency"})
"""Indexes whose PostgreSQL form reflects differently from the model (``received_at NULLS FIRST`` reads back as an
expression): created by their migration, left out of the model comparison of ``alembic check``."""


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return not (type_ == "index" and name in UNCOMPARED_INDEXES)


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=metadata, literal_binds=True,
                      render_as_batch=database_url().startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_db_engine(database_url())
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        raw = connection.connection.driver_connection if sqlite else None
        if raw is not None:
            # SQLite alters a table by rebuilding it (batch mode), which drops the old table: with foreign keys
            # enforced, that fails as soon as other rows reference it. Enforcement is switched off for the
            # migration (outside any transaction, where the pragma takes effect) and the keys checked after.
            raw.execute("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=sqlite,
            compare_type=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
        if raw is not None:
            broken = raw.execute("PRAGMA foreign_key_check").fetchall()
            raw.execute("PRAGMA foreign_keys=ON")
            if broken:
                raise RuntimeError(f"the migration left rows pointing nowhere: {broken[:5]}")
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
