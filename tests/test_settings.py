import pytest
from pydantic import ValidationError

from service.db import normalize_database_url
from service.settings import Settings


def test_missing_or_weak_secret_is_refused_outside_dev() -> None:
    for secret in ("", "secret", "short-but-not-32-chars"):
        with pytest.raises(ValidationError, match="MOTCUA_SECRET_KEY"):
            Settings(env="prod", secret_key=secret)


def test_dev_runs_without_a_secret() -> None:
    assert Settings(env="dev").secret_key


def test_plain_database_urls_get_our_drivers() -> None:
    assert normalize_database_url("postgresql://u@h:5432/db") == "postgresql+psycopg://u@h:5432/db"
    assert normalize_database_url("sqlite:///rel.db") == "sqlite+pysqlite:///rel.db"
    assert normalize_database_url("sqlite:////abs/path.db") == "sqlite+pysqlite:////abs/path.db"
