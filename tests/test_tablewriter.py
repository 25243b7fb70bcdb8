"""The batch writer's conversions give the driver exactly what SQLAlchemy's types would, and the indexes it sets
aside for a bulk load come back as they were."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine
from sqlalchemy.dialects import sqlite

from service import tablewriter
from service.domain.legal_time import VN_TZ
from service.models import Dossier, DossierEvent

INSTANTS = [
    datetime(2025, 1, 6, 8, 0, tzinfo=VN_TZ),
    datetime(2025, 1, 1, 0, 30, 15, 7, tzinfo=VN_TZ),  # the day before in UTC
    datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2025, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=-5))),
    datetime(2025, 6, 1, 12, 0, tzinfo=ZoneInfo("UTC")),  # UTC, but not the UTC object
    datetime(2025, 1, 6, 1, 0, tzinfo=UTC),  # the first instant again, in other offsets (converted once)
    datetime(2025, 1, 6, 3, 0, tzinfo=timezone(timedelta(hours=2))),
]


def _sqlalchemy_value(table: object, column: str, value: object) -> object:
    """What SQLAlchemy hands the SQLite driver for ``value`` in ``column``."""
    kind = table.c[column].type  # type: ignore[attr-defined]
    dialect = sqlite.dialect()
    processor = kind.dialect_impl(dialect).bind_processor(dialect)
    return processor(value) if processor else value


def test_rows_are_converted_as_sqlalchemy_would_for_sqlite() -> None:
    table = DossierEvent.__table__  # type: ignore[attr-defined]
    columns = ("dossier_id", "at", "due_at", "data", "note")
    functions = tablewriter.converters("sqlite", table, columns)
    rows = [(i, at, None if i % 2 else at, data, None)
            for i, at in enumerate(INSTANTS)
            for data in ({}, {"missing_documents": ["TP01"], "new_due_at": "2025-01-07T17:00:00+07:00"},
                         {"note": "Hồ sơ đã được tiếp nhận"})]
    converted = tablewriter.convert(rows, functions)
    expected = [tuple(_sqlalchemy_value(table, c, v) if v is not None else None
                      for c, v in zip(columns, row, strict=True)) for row in rows]
    assert converted == expected
    assert converted[0][1] == "2025-01-06 01:00:00.000000"
    assert json.loads(converted[2][3]) == {"note": "Hồ sơ đã được tiếp nhận"}


# Hypothesis takes naive bounds and attaches the drawn zone itself.
@given(st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2200, 12, 30),  # noqa: DTZ001
                    timezones=st.sampled_from([UTC, VN_TZ, ZoneInfo("UTC"),
                                               timezone(timedelta(hours=-9, minutes=-30))])))
def test_any_instant_gets_sqlalchemys_text_first_time_and_again(at: datetime) -> None:
    convert = tablewriter.converters("sqlite", DossierEvent.__table__, ("at",))  # type: ignore[attr-defined]
    expected = _sqlalchemy_value(DossierEvent.__table__, "at", at)
    assert tablewriter.convert([(at,), (at,)], convert) == [(expected,), (expected,)]


def test_booleans_and_dates_become_sqlite_values() -> None:
    table = Dossier.__table__  # type: ignore[attr-defined]
    functions = tablewriter.converters("sqlite", table, ("paid", "code", "received_at"))
    assert tablewriter.convert([(True, "X", None), (False, "Y", INSTANTS[0])], functions) == [
        (1, "X", None), (0, "Y", "2025-01-06 01:00:00.000000")]
    assert tablewriter.convert([(date(2025, 1, 6),)], [date.isoformat]) == [("2025-01-06",)]
    assert tablewriter.convert([[1, 2]], [None, None]) == [(1, 2)]


def test_indexes_set_aside_for_a_bulk_load_come_back_the_same(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'bulk.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT UNIQUE, b INTEGER, c TEXT)")
        conn.exec_driver_sql("CREATE INDEX ix_t_b ON t (b, id)")
        conn.exec_driver_sql("CREATE INDEX ix_t_c_partial ON t (c) WHERE c IS NOT NULL")
        conn.exec_driver_sql("CREATE UNIQUE INDEX ux_t_c ON t (c, b)")
        conn.exec_driver_sql("CREATE TABLE other (id INTEGER PRIMARY KEY, b INTEGER)")
        conn.exec_driver_sql("CREATE INDEX ix_other_b ON other (b)")

    def indexes() -> list[tuple[str, str | None]]:
        with engine.connect() as conn:
            return list(conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name").all())

    before = indexes()
    set_aside = tablewriter.set_aside_indexes(engine, ["t"])
    assert [name for name, _ in set_aside] == ["ix_t_b", "ix_t_c_partial"]  # unique ones and other tables stay
    assert {name for name, _ in indexes()} == {"ix_other_b", "sqlite_autoindex_t_1", "ux_t_c"}
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO t (a, b, c) VALUES ('x', 1, NULL), ('y', 2, 'z')")
    tablewriter.restore_indexes(engine, set_aside)
    assert indexes() == before
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    engine.dispose()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)


@given(json_values)
def test_json_columns_get_the_text_json_dumps_gives(value: object) -> None:
    (converted,), = tablewriter.convert([(value,)], [tablewriter.converters(
        "sqlite", DossierEvent.__table__, ("data",))[0]])  # type: ignore[attr-defined]
    assert converted == (json.dumps(value) if value is not None else None)


def test_json_columns_refuse_what_json_refuses() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        tablewriter.convert([({"at": INSTANTS[0]},)], tablewriter.converters(
            "sqlite", DossierEvent.__table__, ("data",)))  # type: ignore[attr-defined]
