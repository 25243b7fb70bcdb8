"""Statistics v2 (issue 17): the ranking, the index in both schemes through the API, one truth in JSON, CSV
and XLSX, calendar periods and bad input. Runs on the March scenario of ``test_statistics``."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import event

from service.domain.statistics import REPORT_COLUMNS, report_columns
from tests.api.test_statistics import (
    MARCH,
    Scenario,
    _fast_password_hashing,  # noqa: F401 — the autouse fixture
    build_march,
    report,
)
from tests.builders import COMMUNE, OTHER_COMMUNE, PROVINCE

STATS_PATHS = ("processing", "processing.csv", "processing.xlsx", "index", "ranking", "postal")


@pytest.fixture
def march(client: Any) -> Scenario:
    scenario = build_march(client)
    scenario.at("04-01T00:10:00")
    return scenario


def get(world: Any, path: str, who: str = "admin", **params: Any) -> Any:
    return world.client.get(f"/api/v1/stats/{path}", params=params, headers=world.as_(who))


# ---------------------------------------------------------------------------------------------------- ranking


def test_ranking_of_the_province_communes(march: Scenario) -> None:
    world = march.world
    body = report(world, path="ranking", **MARCH, parent_code=PROVINCE)
    assert body["scheme"] == "portal-2025" and body["period"] == "month"
    assert body["previous"] == {"from": "2026-02-01", "to": "2026-02-28"}
    rows = body["rows"]
    assert [(r["rank"], r["agency_code"]) for r in rows] == [(1, COMMUNE), (2, OTHER_COMMUNE)]
    # Quảng La by hand (portal scheme): M10 received at the counter, approved early with a signed result, no
    # paper uploaded, one level-4 procedure, no fee. Progress 20 × 1/1 = 20; online services 4 × 100 % + 8 × 0
    # = 4; digitisation 11 × 100 % + 11 × 0 = 11; satisfaction min(6, 6 × 100/90) = 6; payment not assessed.
    # 41 of 60 assessed points → 68.33.
    other = rows[1]
    assert other["score_total"] == 68.33
    assert (other["received_total"], other["on_time_rate"], other["online_rate"]) == (1, 100.0, 0.0)
    # Each row is the agency's own /stats/index, and its rates are those of /stats/processing.
    for row in rows:
        own = report(world, path="index", **MARCH, agency_code=row["agency_code"])
        assert row["score_total"] == own["score_total"]
        counts = report(world, **MARCH, agency_code=row["agency_code"])["total"]
        assert (row["on_time_rate"], row["online_rate"], row["received_total"]) == (
            counts["on_time_rate"], counts["online_rate"], counts["received_total"])
    # February: only Tiên Yên had dossiers, so it was first then and Quảng La had no rank.
    assert (rows[0]["previous_rank"], rows[0]["rank_change"]) == (1, 0)
    assert (rows[1]["previous_rank"], rows[1]["previous_score_total"], rows[1]["rank_change"]) == (None, None, None)


def test_every_agency_by_default_nothing_to_score_last(march: Scenario) -> None:
    body = report(march.world, path="ranking", **MARCH)
    assert [(r["rank"], r["agency_code"]) for r in body["rows"]] == [
        (1, COMMUNE), (2, OTHER_COMMUNE), (None, PROVINCE)]
    assert body["rows"][-1]["score_total"] is None and body["parent_code"] is None


def test_a_quarter_and_a_year_compare_with_the_previous_one(march: Scenario) -> None:
    world = march.world
    quarter = report(world, path="ranking", period="quarter", year=2026, quarter=1, parent_code=PROVINCE)
    assert (quarter["from"], quarter["to"], quarter["period"]) == ("2026-01-01", "2026-03-31", "quarter")
    assert quarter["previous"] == {"from": "2025-10-01", "to": "2025-12-31"}
    assert all(r["previous_rank"] is None for r in quarter["rows"])
    year = report(world, path="ranking", period="year", year=2026, scheme="qd766-2022")
    assert year["previous"] == {"from": "2025-01-01", "to": "2025-12-31"} and year["scheme"] == "qd766-2022"
    assert year["complete"] is False
    index = report(world, path="index", period="year", year=2026, scheme="qd766-2022", agency_code=COMMUNE)
    assert year["rows"][0]["score_total"] == index["score_total"]


def test_staff_see_their_own_row_only(march: Scenario) -> None:
    world = march.world
    own = report(world, "receiver", path="ranking", **MARCH, parent_code=PROVINCE)
    assert [(r["rank"], r["agency_code"]) for r in own["rows"]] == [(1, COMMUNE)]
    other = report(world, "approver.ql", path="ranking", **MARCH)
    assert [(r["rank"], r["agency_code"]) for r in other["rows"]] == [(2, OTHER_COMMUNE)]


# ---------------------------------------------------------------------------------------------------- the index


def test_index_defaults_to_the_portal_scheme(march: Scenario) -> None:
    world = march.world
    body = report(world, path="index", **MARCH)
    assert body["scheme"] == "portal-2025" and body["period"] == "month"
    assert [(g["code"], g["max_points"]) for g in body["groups"]] == [
        ("1", 18), ("2", 20), ("3", 12), ("4", 22), ("5", 18), ("6", 10)]
    got = {i["code"]: i for g in body["groups"] for i in g["indicators"]}
    # Progress: 20 × 11/14 (M3 late, C6 overdue, M11 supplemented twice) = 15.71.
    assert (got["2.1"]["numerator"], got["2.1"]["denominator"], got["2.1"]["points"]) == (11, 14, 15.71)
    # Payment A: the one fee-bearing resolved dossier (M5) was paid online → 6; B: the one fee-bearing
    # procedure (FEE4) is level 4 → min(2, 2.5 × 1) = 2.
    assert (got["6.1"]["numerator"], got["6.1"]["denominator"], got["6.1"]["points"]) == (1, 1, 6)
    assert (got["6.2"]["numerator"], got["6.2"]["denominator"], got["6.2"]["points"]) == (1, 1, 2)
    assert all(i["source"] and i["formula"] for i in got.values())
    assert body["points_assessed"] == 68
    assert body["score_total"] == pytest.approx(100 * body["points_earned"] / 68, abs=0.006)


# ----------------------------------------------------------------------------------------- JSON = CSV = XLSX


@pytest.mark.parametrize("group_by", ["agency", "month", "channel"])
def test_json_csv_and_xlsx_agree_row_by_row(march: Scenario, group_by: str) -> None:
    world = march.world
    params = {"from": "2026-02-01", "to": "2026-03-31", "group_by": group_by}
    body = report(world, **params)
    columns = report_columns(group_by == "agency")  # by agency, the inter-agency step columns follow the form's
    expected = [[row["key"], row["label"], *(row[c.field] for c in columns)] for row in body["rows"]]
    expected.append(["", "Tổng cộng", *(body["total"][c.field] for c in columns)])

    response = get(world, "processing.csv", **params)
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0][3:] == [c.csv_header for c in columns]
    csv_rows = [[key, label, *cells] for _, key, label, *cells in table[1:]]
    assert len(csv_rows) == len(expected)
    for got, want in zip(csv_rows, expected, strict=True):
        assert got[:2] == want[:2]
        assert got[2:] == ["" if v is None else f"{v:.2f}" if isinstance(v, float) else str(v) for v in want[2:]]
    # The form's "Tổng số" nhận giải quyết is new plus carried over, in every format.
    for row in body["rows"]:
        assert row["total_to_handle"] == row["received_total"] + row["carried_over"]

    response = get(world, "processing.xlsx", **params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert re.search(r'filename="[^"]+\.xlsx"', response.headers["content-disposition"])
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [list(r) for r in sheet.iter_rows(min_row=6, values_only=True)]
    assert [[key or "", label, *values] for _, key, label, *values in cells] == expected


def test_xlsx_headings_are_merged_like_the_form(march: Scenario) -> None:
    response = get(march.world, "processing.xlsx", **MARCH)
    sheet = load_workbook(io.BytesIO(response.content)).active
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert sheet["A1"].value == "TÌNH HÌNH TIẾP NHẬN, GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH"
    assert sheet["A2"].value == "Kỳ báo cáo: 01/03/2026 – 31/03/2026"
    assert [sheet.cell(4, c).value for c in (1, 2, 3)] == ["STT", "Mã", "Cơ quan, đơn vị"]
    assert {"A4:A5", "B4:B5", "C4:C5"} <= merged
    assert sheet["D4"].value == "Số hồ sơ nhận giải quyết" and "D4:I4" in merged
    assert [sheet.cell(5, c).value for c in range(4, 10)] == [
        "Tổng số", "Số mới tiếp nhận", "Số mới tiếp nhận trực tuyến", "Số mới tiếp nhận trực tiếp",
        "Số mới tiếp nhận qua dịch vụ bưu chính công ích", "Số kỳ trước chuyển qua"]
    assert sheet["J4"].value == "Số hồ sơ đã giải quyết" and "J4:M4" in merged
    assert sheet["N4"].value == "Số hồ sơ đang giải quyết" and "N4:P4" in merged
    assert sheet["Q4"].value.startswith("Số hồ sơ tạm dừng") and "Q4:Q5" in merged


def test_openapi_names_each_column_definition(client: Any) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]["ProcessingRow"]["properties"]
    assert schema["total_to_handle"]["description"].startswith("Số hồ sơ nhận giải quyết - Tổng số: ")
    assert schema["carried_over"]["description"].startswith("Số hồ sơ nhận giải quyết - Số kỳ trước chuyển qua")
    assert all(schema[c.field]["description"] for c in REPORT_COLUMNS)


# ---------------------------------------------------------------------------------------------------- bad input


def test_bad_input(march: Scenario) -> None:
    world = march.world
    response = get(world, "index", **MARCH, scheme="qd766-2099")
    assert response.status_code == 422
    assert "portal-2025" in response.json()["detail"] and "qd766-2022" in response.json()["detail"]
    response = get(world, "ranking", period="week", year=2026)
    assert response.status_code == 422
    assert all(kind in response.json()["detail"] for kind in ("month", "quarter", "year"))
    for path in STATS_PATHS:
        for params in ({"period": "year", "year": 1999}, {"from": "2101-01-01", "to": "2101-01-31"},
                       {"from": "1999-12-01", "to": "2000-01-31"}):
            response = get(world, path, **params)
            assert response.status_code == 422 and response.json()["code"] == "DATE_OUT_OF_RANGE", (path, params)
        response = get(world, path, period="month", year=2026, month=13)
        assert response.status_code == 422 and response.json()["code"] == "PERIOD_INVALID"
        response = get(world, path)
        assert response.status_code == 422 and response.json()["code"] == "PERIOD_INVALID"
    response = get(world, "ranking", **MARCH, parent_code="000.00.99.H49")
    assert response.status_code == 404 and response.json()["code"] == "AGENCY_NOT_FOUND"


def test_citizens_get_403_everywhere_and_nothing_writes(march: Scenario) -> None:
    world = march.world
    engines = world.client.app.state.context.db.engines  # on SQLite, writing sessions have an engine of their own
    writes: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(statement)

    for path in STATS_PATHS:
        response = get(world, path, "citizen", **MARCH)
        assert response.status_code == 403 and response.json()["code"] == "FORBIDDEN_ROLE", path
    tokens = {who: world.as_(who) for who in ("admin", "receiver")}  # sign in before listening
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        for path in STATS_PATHS:
            for who, headers in tokens.items():
                response = world.client.get(f"/api/v1/stats/{path}", params=MARCH, headers=headers)
                assert response.status_code == 200, (path, who, response.text)
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)
    assert writes == []
