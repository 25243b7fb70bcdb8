"""Statistics (CONTRACT § Statistics; issue 7): a hand-built scenario through the API, on the simulated clock.

The scenario runs at the commune 000.00.61.H49 (and one dossier at 000.00.62.H49) in February–April 2026, with
3-working-day procedures (24 working hours; office hours 07:30–11:30, 13:00–17:00; Tết 16–20/02 is already
past):

Carried into March (received in February):
  C1 counter Thu 26/02 09:00, due Tue 03/03 09:00, approved Mon 02/03            → carried over, resolved
  early C3 counter Fri 27/02 08:00, withdrawn Tue 03/03                                → carried over,
  withdrawn C6 counter Thu 26/02 09:00, due Tue 03/03 09:00, still processing on 31/03    → carried over, in
  progress overdue
Finished in February (not in March at all): C4 approved 25/02; C5 withdrawn 25/02.
March:
  M1  counter 02/03 08:00, due Thu 05/03 08:00, approved Wed 04/03             → received counter, early
  M2  counter 02/03 08:00, approved Thu 05/03 08:00 exactly (= due)            → received counter, on time
  M3  postal  02/03 08:00, refused Thu 05/03 10:00                              → received postal, late
  M4  online, submitted Fri 27/02, received 02/03, supplement requested 03/03  → received online, paused
  M5  online 02/03 (fee 50 000 ₫), payment requested, paid online, approved     → received online, early
  M6  counter Tue 31/03 10:00 (level 3 procedure)                               → received counter, in
  progress on track M7  counter 10/03, withdrawn 11/03                                            → received
  counter, withdrawn M8  online 05/03, rejected 06/03; M9 online 20/03, never received             → counted
  nowhere M10 counter 02/03 at the other commune, approved 03/03                        → received counter,
  early M11 counter 02/03, two supplement requests, approved 12/03                    → received counter,
  early (766: late) M12 counter 30/03 (fee), payment requested 31/03                              → received
  counter, paused M15 counter Sun 01/03 06:00 local (= Sat 28/02 23:00 UTC), approved 02/03     → received
  counter, early

March, all agencies: received 11 (online 2, counter 8, postal 1) + carried over 3 = resolved 8 (early 6, on
time 1, late 1) + in progress 2 (on track 1, overdue 1) + paused 2 + withdrawn 2 = 14; on-time rate 7/8 = 87.5
%, online rate 2/11 = 18.18 %.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from service.security import passwords
from tests.builders import COMMUNE, OTHER_COMMUNE, World, build_world, procedure_body

FAST_HASHER = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
MAIN = "1.001193.000.00.00.H49"  # level 4, 3 working days, no fee
OTHER = "1.001193.000.00.62.H49"  # the other commune's
FEE4 = "1.000020.000.00.61.H49"  # level 4, 3 working days, fee 50 000 ₫
LEVEL3 = "1.000021.000.00.61.H49"  # level 3
LEVEL2 = "1.000022.000.00.61.H49"  # level 2 (no online service)
PDF = b"%PDF-1.4\n% scanned paper\n%%EOF\n"

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}

MARCH_TOTAL = {
    "received_total": 11, "received_online": 2, "received_counter": 8, "received_postal": 1,
    "carried_over": 3,
    "resolved_total": 8, "resolved_early": 6, "resolved_on_time": 1, "resolved_late": 1,
    "in_progress_total": 2, "in_progress_on_track": 1, "in_progress_overdue": 1, "paused": 2, "withdrawn": 2,
    "on_time_rate": 87.5, "online_rate": 18.18, "total_to_handle": 14,
}
ZERO = {k: 0 for k in MARCH_TOTAL} | {"on_time_rate": None, "online_rate": None}


def counts(**values: Any) -> dict[str, Any]:
    """A row of counts: the given values, zero elsewhere, totals and rates derived."""
    row = ZERO | values
    row["received_total"] = row["received_online"] + row["received_counter"] + row["received_postal"]
    row["resolved_total"] = row["resolved_early"] + row["resolved_on_time"] + row["resolved_late"]
    row["in_progress_total"] = row["in_progress_on_track"] + row["in_progress_overdue"]
    resolved, received = row["resolved_total"], row["received_total"]
    row["on_time_rate"] = (round(100 * (row["resolved_early"] + row["resolved_on_time"]) / resolved, 2)
                           if resolved else None)
    row["online_rate"] = round(100 * row["received_online"] / received, 2) if received else None
    row["total_to_handle"] = received + row["carried_over"]
    return row


def invariant(row: dict[str, Any]) -> bool:
    return row["received_total"] + row["carried_over"] == row["total_to_handle"] == (
        row["resolved_total"] + row["in_progress_total"] + row["paused"] + row["withdrawn"])


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "_hasher", FAST_HASHER)


# --------------------------------------------------------------------------------------------------- scenario


class Scenario:
    def __init__(self, world: World) -> None:
        self.world = world
        self.codes: dict[str, str] = {}

    def at(self, local: str) -> Scenario:
        self.world.set_clock(f"2026-{local}+07:00")
        return self

    def counter(self, name: str, procedure: str = MAIN, who: str = "receiver", **extra: Any) -> str:
        self.codes[name] = self.world.submit(who, procedure_code=procedure, **extra)["code"]
        return self.codes[name]

    def online(self, name: str, procedure: str = MAIN, who: str = "citizen") -> str:
        dossier = self.world.submit(who, procedure_code=procedure, channel="online", applicant=None)
        self.codes[name] = dossier["code"]
        return self.codes[name]

    def act(self, name: str, action: str, who: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.world.act(self.codes[name], action, who, body)

    def assign(self, name: str, suffix: str = "") -> None:
        self.act(name, "assign", "receiver" + suffix, {"assignee": "chuyenvien" + suffix})

    def upload(self, name: str) -> None:
        response = self.world.client.put(f"/api/v1/dossiers/{self.codes[name]}/documents/TP01",
                                         headers=self.world.as_("receiver"),
                                         files={"file": ("to-khai.pdf", PDF, "application/pdf")})
        assert response.status_code == 200, response.text


def build_march(client: TestClient) -> Scenario:
    world = build_world(client, now="2026-02-23T08:00:00+07:00")
    admin = world.as_("admin")
    for code, extra in ((FEE4, {"fee_vnd": 50_000}), (LEVEL3, {"service_level": 3}),
                        (LEVEL2, {"service_level": 2, "postal_allowed": False})):
        response = client.post("/api/v1/procedures", json=procedure_body(code, agency_code=COMMUNE, **extra),
                               headers=admin)
        assert response.status_code == 201, response.text
    s = Scenario(world)
    supplement = {"reason": "Thiếu giấy chứng sinh", "missing_documents": ["TP02"]}

    s.at("02-24T08:00:00").counter("C4")
    s.assign("C4")
    s.counter("C5")
    s.at("02-25T09:00:00").act("C4", "approve", "approver")
    s.act("C5", "withdraw", "receiver")
    s.at("02-26T09:00:00").counter("C1")
    s.assign("C1")
    s.counter("C6")
    s.assign("C6")
    s.at("02-27T08:00:00").counter("C3")
    s.at("02-27T20:00:00").online("M4")
    s.at("03-01T06:00:00").counter("M15")
    s.at("03-02T07:00:00").online("M5", FEE4)
    s.at("03-02T08:00:00")
    s.act("M4", "receive", "receiver")
    s.act("M5", "receive", "receiver")
    s.counter("M1")
    s.counter("M2")
    s.counter("M3", channel="postal")
    s.counter("M10", OTHER, who="receiver.ql")
    s.counter("M11")
    for name in ("M1", "M2", "M3", "M4", "M5", "M11", "M15"):
        s.assign(name)
    s.assign("M10", ".ql")
    s.upload("M1")
    s.upload("M5")
    s.at("03-02T09:00:00").act("M5", "request_payment", "processor", {"amount_vnd": 50_000})
    s.at("03-02T10:00:00").act("C1", "approve", "approver")
    s.act("M15", "approve", "approver")
    s.at("03-03T08:00:00").act("M5", "pay", "citizen")
    s.act("M4", "request_supplement", "processor", supplement)
    s.act("M11", "request_supplement", "processor", supplement)
    s.act("C3", "withdraw", "receiver")
    s.act("M10", "approve", "approver.ql")
    s.at("03-03T10:00:00").act("M5", "approve", "approver")
    s.at("03-04T09:00:00").act("M1", "approve", "approver")
    s.act("M5", "return_result", "receiver")
    rating = client.post(f"/api/v1/dossiers/{s.codes['M5']}/rating", headers=world.as_("citizen"),
                         json={"satisfied": False, "comment": "Phải đi lại nhiều lần"})
    assert rating.status_code == 201, rating.text
    s.at("03-05T08:00:00").act("M2", "approve", "approver")
    s.at("03-05T08:30:00").online("M8", who="other_citizen")
    s.at("03-05T10:00:00").act("M3", "refuse", "approver", {"reason": "Không đủ điều kiện"})
    s.at("03-06T08:00:00").act("M8", "reject", "receiver", {"reason": "Hồ sơ không thuộc thẩm quyền"})
    s.at("03-09T08:00:00").act("M11", "supplement", "receiver")
    s.at("03-10T08:00:00").act("M11", "request_supplement", "processor", supplement)
    s.counter("M7")
    s.at("03-11T08:00:00").act("M11", "supplement", "receiver")
    s.act("M7", "withdraw", "receiver")
    s.at("03-12T08:00:00").act("M11", "approve", "approver")
    s.at("03-20T08:00:00").online("M9")
    s.at("03-30T08:00:00").counter("M12", FEE4)
    s.assign("M12")
    s.at("03-31T08:00:00").act("M12", "request_payment", "processor", {"amount_vnd": 50_000})
    s.at("03-31T10:00:00").counter("M6", LEVEL3)
    return s


def april_events(s: Scenario) -> None:
    """Everything that happens after March and must not change March's report."""
    s.at("04-01T00:30:00").counter("M16")  # 31/03 17:30 UTC: a local April dossier
    s.at("04-02T08:00:00").act("C6", "approve", "approver")  # late
    s.act("M4", "supplement", "citizen")
    s.act("M12", "withdraw", "receiver")
    s.assign("M6")
    s.at("04-02T09:00:00").act("M6", "approve", "approver")  # due 03/04 10:00: early


def report(world: World, who: str = "admin", path: str = "processing", **params: Any) -> dict[str, Any]:
    response = world.client.get(f"/api/v1/stats/{path}", params=params, headers=world.as_(who))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def official(row: dict[str, Any]) -> dict[str, Any]:
    """The contract's counts of a row, without the inter-agency step columns (tested in test_interagency)."""
    return {k: v for k, v in row.items() if not k.startswith("step_")}


def rows_by_key(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["key"]: official({k: v for k, v in row.items() if k not in ("key", "label")})
            for row in body["rows"]}


@pytest.fixture
def march(client: TestClient) -> Scenario:
    return build_march(client)


# ------------------------------------------------------------------------------------------------- the report


def test_march_report_matches_the_hand_count(march: Scenario) -> None:
    world = march.world
    march.at("04-01T00:10:00")
    body = report(world, **MARCH, group_by="agency")
    assert body["from"] == "2026-03-01" and body["to"] == "2026-03-31"
    assert body["as_of"] == "2026-04-01T00:00:00+07:00" and body["complete"] is True
    assert official(body["total"]) == MARCH_TOTAL
    assert rows_by_key(body) == {
        COMMUNE: counts(received_online=2, received_counter=7, received_postal=1, carried_over=3,
                        resolved_early=5, resolved_on_time=1, resolved_late=1, in_progress_on_track=1,
                        in_progress_overdue=1, paused=2, withdrawn=2),
        OTHER_COMMUNE: counts(received_counter=1, resolved_early=1),
    }
    assert {row["key"]: row["label"] for row in body["rows"]} == {
        COMMUNE: "Ủy ban nhân dân xã Tiên Yên", OTHER_COMMUNE: "Ủy ban nhân dân xã Quảng La"}


def test_march_by_channel_procedure_and_service_level(march: Scenario) -> None:
    world = march.world
    march.at("04-01T00:10:00")
    by_channel = report(world, **MARCH, group_by="channel")
    assert [row["key"] for row in by_channel["rows"]] == ["online", "counter", "postal"]
    assert [row["label"] for row in by_channel["rows"]] == ["Trực tuyến", "Trực tiếp",
                                                            "Qua dịch vụ bưu chính công ích"]
    assert rows_by_key(by_channel) == {
        "online": counts(received_online=2, resolved_early=1, paused=1),
        "counter": counts(received_counter=8, carried_over=3, resolved_early=5, resolved_on_time=1,
                          in_progress_on_track=1, in_progress_overdue=1, paused=1, withdrawn=2),
        "postal": counts(received_postal=1, resolved_late=1),
    }
    assert official(by_channel["total"]) == MARCH_TOTAL

    by_procedure = report(world, **MARCH, group_by="procedure")
    assert rows_by_key(by_procedure) == {
        MAIN: counts(received_online=1, received_counter=5, received_postal=1, carried_over=3,
                     resolved_early=4, resolved_on_time=1, resolved_late=1, in_progress_overdue=1, paused=1,
                     withdrawn=2),
        FEE4: counts(received_online=1, received_counter=1, resolved_early=1, paused=1),
        LEVEL3: counts(received_counter=1, in_progress_on_track=1),
        OTHER: counts(received_counter=1, resolved_early=1),
    }
    assert official(by_procedure["total"]) == MARCH_TOTAL

    by_level = report(world, **MARCH, group_by="service_level")
    assert rows_by_key(by_level) == {
        "3": counts(received_counter=1, in_progress_on_track=1),
        "4": counts(received_online=2, received_counter=7, received_postal=1, carried_over=3,
                    resolved_early=6, resolved_on_time=1, resolved_late=1, in_progress_overdue=1, paused=2,
                    withdrawn=2),
    }
    assert [row["label"] for row in by_level["rows"]] == ["Mức độ 3", "Mức độ 4"]


def test_months_are_local_calendar_months(march: Scenario) -> None:
    world = march.world
    april_events(march)
    march.at("04-02T12:00:00")
    body = report(world, **{"from": "2026-02-01", "to": "2026-04-30"}, group_by="month")
    assert [(r["key"], r["label"]) for r in body["rows"]] == [
        ("2026-02", "Tháng 02/2026"), ("2026-03", "Tháng 03/2026"), ("2026-04", "Tháng 04/2026")]
    rows = rows_by_key(body)
    # February: C1, C3, C4, C5, C6 received; C4 resolved early, C5 withdrawn; C1, C3, C6 open and on track on
    # 01/03 00:00 (due 03–04/03). M4 was submitted but not yet received.
    assert rows["2026-02"] == counts(received_counter=5, resolved_early=1, withdrawn=1,
                                     in_progress_on_track=3)
    # March as in the March report: M15 (01/03 06:00 local, 28/02 UTC) belongs to March.
    assert rows["2026-03"] == MARCH_TOTAL
    # April, as of now (02/04 12:00): M16 received 01/04 00:30 local (31/03 UTC); C6 resolved late, M6 early;
    # M12 withdrawn; M4 supplemented (running again, due 07/04) and M16 in progress on track.
    assert rows["2026-04"] == counts(received_counter=1, carried_over=4, resolved_early=1, resolved_late=1,
                                     in_progress_on_track=2, withdrawn=1)
    assert body["complete"] is False and body["as_of"] == "2026-04-02T12:00:00+07:00"
    # The whole period: the flows add up; stocks at the start (none) and at the end (April's).
    assert official(body["total"]) == counts(received_online=2, received_counter=14, received_postal=1,
                                   resolved_early=8, resolved_on_time=1, resolved_late=2,
                                   in_progress_on_track=2, withdrawn=4)
    assert all(invariant(row) for row in [*rows.values(), body["total"]])


def test_a_past_period_never_changes(march: Scenario) -> None:
    world = march.world
    march.at("04-01T00:10:00")
    before = {g: report(world, **MARCH, group_by=g) for g in ("agency", "procedure", "month", "channel",
                                                               "service_level")}
    before_index = report(world, path="index", **MARCH)
    april_events(march)
    # Ratings, uploads and the clock moving on do not change March either.
    march.at("05-15T10:00:00")
    for group_by, body in before.items():
        assert report(world, **MARCH, group_by=group_by) == body, group_by
    assert report(world, path="index", **MARCH) == before_index
    # …while April sees what happened: C6 is resolved late there.
    april = report(world, **{"from": "2026-04-01", "to": "2026-04-30"})
    assert april["total"]["resolved_late"] == 1 and april["total"]["carried_over"] == 4


def test_a_running_period_is_reported_as_of_now(march: Scenario) -> None:
    world = march.world
    march.at("03-31T12:00:00")
    body = report(world, **MARCH)
    assert body["complete"] is False and body["as_of"] == "2026-03-31T12:00:00+07:00"
    assert official(body["total"]) == MARCH_TOTAL
    # A frozen clock: what is done at the current instant is already in the report.
    march.counter("M13")
    assert report(world, **MARCH)["total"]["received_counter"] == 9
    # A period that has not begun: nothing received yet; the dossiers open now are carried over.
    future = report(world, **{"from": "2026-06-01", "to": "2026-06-30"})
    assert future["rows"] and future["total"]["received_total"] == 0
    assert future["total"]["carried_over"] == future["total"]["in_progress_total"] + future["total"]["paused"]


def test_csv_has_a_bom_and_the_report_form_headers(march: Scenario) -> None:
    world = march.world
    march.at("04-01T00:10:00")
    response = world.client.get("/api/v1/stats/processing.csv", params={**MARCH, "group_by": "agency"},
                                headers=world.as_("admin"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, rows, total = table[0], table[1:-1], table[-1]
    assert header[:3] == ["STT", "Mã", "Cơ quan, đơn vị"]
    assert header[3:] == [
        "Số hồ sơ nhận giải quyết - Tổng số",
        "Số hồ sơ nhận giải quyết - Số mới tiếp nhận",
        "Số hồ sơ nhận giải quyết - Số mới tiếp nhận trực tuyến",
        "Số hồ sơ nhận giải quyết - Số mới tiếp nhận trực tiếp",
        "Số hồ sơ nhận giải quyết - Số mới tiếp nhận qua dịch vụ bưu chính công ích",
        "Số hồ sơ nhận giải quyết - Số kỳ trước chuyển qua",
        "Số hồ sơ đã giải quyết - Tổng số",
        "Số hồ sơ đã giải quyết - Trả trước hạn",
        "Số hồ sơ đã giải quyết - Trả đúng thời hạn",
        "Số hồ sơ đã giải quyết - Trả quá hạn",
        "Số hồ sơ đang giải quyết - Tổng số",
        "Số hồ sơ đang giải quyết - Chưa đến hạn",
        "Số hồ sơ đang giải quyết - Quá hạn",
        "Số hồ sơ tạm dừng (chờ bổ sung, thực hiện nghĩa vụ tài chính)",
        "Số hồ sơ rút",
        "Tỷ lệ giải quyết đúng hạn (%)",
        "Tỷ lệ tiếp nhận trực tuyến (%)",
        # By agency, the inter-agency steps each agency held follow the form's columns (none in this month).
        "Bước liên thông do cơ quan thực hiện - Số bước đã kết thúc",
        "Bước liên thông do cơ quan thực hiện - Số bước kết thúc quá hạn",
        "Bước liên thông do cơ quan thực hiện - Số bước đang thực hiện",
        "Bước liên thông do cơ quan thực hiện - Số bước đang thực hiện quá hạn",
    ]
    assert [r[:3] for r in rows] == [["1", COMMUNE, "Ủy ban nhân dân xã Tiên Yên"],
                                     ["2", OTHER_COMMUNE, "Ủy ban nhân dân xã Quảng La"]]
    assert total == ["", "", "Tổng cộng", "14", "11", "2", "8", "1", "3", "8", "6", "1", "1", "2", "1", "1",
                     "2", "2", "87.50", "18.18", "0", "0", "0", "0"]
    other = rows[1]
    assert other[3:] == ["1", "1", "0", "1", "0", "0", "1", "1", "0", "0", "0", "0", "0", "0", "0", "100.00",
                         "0.00", "0", "0", "0", "0"]


# ---------------------------------------------------------------------------------------------- who sees what


def test_staff_see_their_agency_citizens_nothing(march: Scenario) -> None:
    world = march.world
    march.at("04-01T00:10:00")
    own = report(world, "receiver", **MARCH)
    assert own["agency_code"] == COMMUNE and [r["key"] for r in own["rows"]] == [COMMUNE]
    assert own["total"]["received_total"] == 10
    assert report(world, "approver.ql", **MARCH)["total"]["received_total"] == 1
    get = world.client.get
    for path in ("processing", "processing.csv", "index"):
        url = f"/api/v1/stats/{path}"
        response = get(url, params={**MARCH, "agency_code": OTHER_COMMUNE}, headers=world.as_("receiver"))
        assert response.status_code == 403 and response.json()["code"] == "FORBIDDEN_ROLE"
        response = get(url, params=MARCH, headers=world.as_("citizen"))
        assert response.status_code == 403 and response.json()["code"] == "FORBIDDEN_ROLE"
        assert get(url, params=MARCH).status_code == 401
    admin_one = report(world, **MARCH, agency_code=OTHER_COMMUNE)
    assert official(admin_one["total"]) == counts(received_counter=1, resolved_early=1)


def test_bad_periods_and_unknown_agencies(march: Scenario) -> None:
    world = march.world
    get, admin = world.client.get, world.as_("admin")
    url = "/api/v1/stats/processing"
    response = get(url, params={"from": "2026-03-31", "to": "2026-03-01"}, headers=admin)
    assert response.status_code == 422 and response.json()["code"] == "PERIOD_INVALID"
    response = get(url, params={"from": "2010-01-01", "to": "2026-03-01"}, headers=admin)
    assert response.status_code == 422 and response.json()["code"] == "PERIOD_TOO_LONG"
    assert get("/api/v1/stats/processing", params={"from": "2026-03-01"}, headers=admin).status_code == 422
    response = get("/api/v1/stats/processing", params={**MARCH, "group_by": "week"}, headers=admin)
    assert response.status_code == 422
    response = get(url, params={**MARCH, "agency_code": "000.00.99.H49"}, headers=admin)
    assert response.status_code == 404 and response.json()["code"] == "AGENCY_NOT_FOUND"


# ----------------------------------------------------------------------------------------------- Decision 766


def _seconds(later: str, earlier: str) -> float:
    return (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds()


def test_decision_766_index_for_march(march: Scenario) -> None:
    world = march.world
    march.at("04-01T00:10:00")
    body = report(world, path="index", **MARCH, scheme="qd766-2022")
    assert body["scheme"] == "qd766-2022" and body["period"] == "month"
    assert body["as_of"] == "2026-04-01T00:00:00+07:00" and body["complete"] is True
    groups = {g["code"]: g for g in body["groups"]}
    assert [(g["code"], g["max_points"]) for g in body["groups"]] == [
        ("1", 18), ("2", 20), ("3", 22), ("4", 22), ("5", 18)]
    indicators = {i["code"]: i for g in body["groups"] for i in g["indicators"]}
    assert groups["1"]["points"] is None
    assert {n["code"] for n in groups["1"]["not_assessed"]} >= {"1.1", "1.4"}

    # 2.1: 14 dossiers (11 received + 3 carried over); late: M3 (refused late), C6 (overdue on 31/03) and M11
    # (two supplementation requests, although resolved early) → 11/14.
    assert indicators["2.1"]["numerator"] == 11 and indicators["2.1"]["denominator"] == 14
    assert indicators["2.1"]["value"] == 78.57 and indicators["2.1"]["points"] == 11.79  # 15 × 78.57 %
    # 2.2: mean time from receipt to the result of the 8 resolved dossiers, against their allowed time.
    resolved = [world.client.get(f"/api/v1/dossiers/{march.codes[n]}", headers=world.as_("admin")).json()
                for n in ("C1", "M1", "M2", "M3", "M5", "M10", "M11", "M15")]
    actual = sum(_seconds(d["finished_at"], d["received_at"]) for d in resolved) / 8 / 86400
    allowed = sum(_seconds(d["original_due_at"] or d["due_at"], d["received_at"])
                  for d in resolved) / 8 / 86400
    assert indicators["2.2"]["value"] == pytest.approx(actual, abs=0.006)
    assert indicators["2.2"]["allowed_average_days"] == pytest.approx(allowed, abs=0.006)
    assert indicators["2.2"]["points"] == pytest.approx(min(1, allowed / actual) * 5, abs=0.01)
    # 3.1: 4 of the 5 procedures in force offer online service (level 3–4): 80 % → full 6 points.
    assert (indicators["3.1"]["numerator"], indicators["3.1"]["denominator"]) == (4, 5)
    assert indicators["3.1"]["value"] == 80.0 and indicators["3.1"]["points"] == 6
    # 3.3: 2 online of 11 received = 18.18 %, full at 50 % → 10 × 18.18 / 50.
    assert indicators["3.3"]["value"] == 18.18 and indicators["3.3"]["points"] == 3.64
    # 3.6: the only fee-bearing resolved dossier (M5) was paid online.
    assert (indicators["3.6"]["numerator"], indicators["3.6"]["denominator"]) == (1, 1)
    assert indicators["3.6"]["points"] == 6
    # 4.1 / 4.2: approved dossiers with an electronic result; with uploaded papers too.
    approved = [d for d in resolved if d["status"] != "refused"]
    e_results = [d for d in approved if d["result"]]
    digitised = [d for d in e_results if any(doc["uploaded_at"] for doc in d["documents"])]
    assert (indicators["4.1"]["numerator"], indicators["4.1"]["denominator"]) == (len(e_results), 7)
    assert (indicators["4.2"]["numerator"], indicators["4.2"]["denominator"]) == (len(digitised), 8)
    # 5.4: 100 − (late 3/14 = 21.43 % + dissatisfied 1/8 = 12.5 %) = 66.07 %, full at 90 % → 6 × 66.07 / 90.
    assert indicators["5.4"]["late_rate"] == 21.43 and indicators["5.4"]["dissatisfied_rate"] == 12.5
    assert indicators["5.4"]["value"] == 66.07 and indicators["5.4"]["points"] == 4.4
    assert indicators["5.4"]["weight"] == "published" and indicators["2.1"]["weight"] == "assumed"
    assert all(i["formula"] for i in indicators.values())
    assert indicators["3.3"]["threshold"] == 50 and indicators["5.4"]["threshold"] == 90

    earned = sum(i["points"] for i in indicators.values() if i["points"] is not None)
    assessed = sum(i["max_points"] for i in indicators.values() if i["points"] is not None)
    assert body["points_assessed"] == assessed == 70
    assert body["points_earned"] == pytest.approx(earned, abs=0.011)
    assert body["score_total"] == pytest.approx(100 * earned / assessed, abs=0.011)
    assert any("giả định" in line for line in body["assumptions"])


def test_index_for_an_empty_period_scores_nothing(client: TestClient) -> None:
    world = build_world(client, now="2026-02-23T08:00:00+07:00")
    body = report(world, path="index", **{"from": "2025-01-01", "to": "2025-12-31"})
    assert body["score_total"] is None and body["points_assessed"] == 0


# ---------------------------------------------------------------------------------------------------- rating


def test_rating_by_the_applicant_after_return_only_once(client: TestClient) -> None:
    world = build_world(client, now="2026-03-02T08:00:00+07:00")
    code = world.submit("citizen", channel="online", applicant=None)["code"]
    url = f"/api/v1/dossiers/{code}/rating"
    good = {"satisfied": True, "comment": "Cán bộ hướng dẫn tận tình"}

    def post(who: str, body: Any = good) -> Any:
        return client.post(url, json=body, headers=world.as_(who))

    response = post("citizen")
    assert response.status_code == 409 and response.json()["code"] == "DOSSIER_NOT_RETURNED"
    world.act(code, "receive", "receiver")
    world.act(code, "assign", "receiver", {"assignee": "chuyenvien"})
    world.act(code, "approve", "approver")
    assert post("citizen").json()["code"] == "DOSSIER_NOT_RETURNED"
    world.act(code, "return_result", "receiver")

    assert post("other_citizen").status_code == 404  # not theirs: never leak existence
    assert post("receiver.ql").status_code == 404
    response = post("receiver")
    assert response.status_code == 403 and response.json()["code"] == "FORBIDDEN_ROLE"
    assert post("admin").status_code == 403
    assert post("citizen", {"satisfied": "maybe"}).status_code == 422
    assert post("citizen", {"comment": "thiếu trường satisfied"}).status_code == 422

    world.set_clock("2026-03-05T15:00:00+07:00")
    response = post("citizen")
    assert response.status_code == 201, response.text
    assert response.json() == {"dossier_code": code, "satisfied": True,
                               "comment": "Cán bộ hướng dẫn tận tình", "at": "2026-03-05T15:00:00+07:00"}
    again = post("citizen", {"satisfied": False})
    assert again.status_code == 409 and again.json()["code"] == "ALREADY_RATED"
    read = client.get(url, headers=world.as_("receiver"))
    assert read.status_code == 200 and read.json()["satisfied"] is True
    assert client.get(url, headers=world.as_("other_citizen")).status_code == 404


# --------------------------------------------------------------------------------------------- generated data


def test_generated_histories_are_valid_and_every_row_keeps_the_invariant(client: TestClient) -> None:
    from datetime import date

    from service import bulk
    from tests.conftest import ADMIN, bearer

    until = datetime.fromisoformat("2025-08-01T00:00:00+07:00")
    database = client.app.state.context.db  # type: ignore[attr-defined]
    result = bulk.generate(database, 400, first=date(2025, 1, 1), last=date(2025, 6, 30), until=until, seed=7,
                           batch_size=150)
    assert result.dossiers > 350 and result.events > 5 * result.dossiers
    admin = bearer(client, *ADMIN)
    assert client.put("/api/v1/sim/clock", json={"now": "2025-09-01T10:00:00+07:00"},
                      headers=admin).status_code == 200

    listed = client.get("/api/v1/dossiers", params={"limit": 40}, headers=admin).json()["items"]
    assert len(listed) == 40
    for dossier in listed:
        check = client.get(f"/api/v1/dossiers/{dossier['code']}/history/verify", headers=admin).json()
        assert check["valid"] is True and check["entries"] >= 1, dossier["code"]

    periods = [("2025-01-01", "2025-06-30"), ("2025-03-01", "2025-05-31"), ("2025-06-15", "2025-09-30")]
    for first, last in periods:
        params = {"from": first, "to": last}
        whole = client.get("/api/v1/stats/processing", params=params, headers=admin).json()
        assert invariant(whole["total"])
        for group_by in ("agency", "procedure", "month", "channel", "service_level"):
            body = client.get("/api/v1/stats/processing", params={**params, "group_by": group_by},
                              headers=admin).json()
            assert body["rows"], (group_by, first)
            assert all(invariant(row) for row in body["rows"]), (group_by, first)
            # Every grouping, months included, adds up to the same whole-period report.
            assert official(body["total"]) == official(whole["total"]), (group_by, first)
    busy = client.get("/api/v1/stats/processing", params={"from": "2025-01-01", "to": "2025-06-30"},
                      headers=admin).json()["total"]
    assert all(busy[name] for name in ("received_online", "received_counter", "resolved_late", "withdrawn"))
    index = client.get("/api/v1/stats/index", params={"from": "2025-01-01", "to": "2025-06-30"},
                       headers=admin).json()
    assert 0 < index["score_total"] <= 100
