"""Administrative units merged in 2025: validity, succession, statistics rolled into the successor."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.builders import COMMUNE, OTHER_COMMUNE, build_world, dossier_body

OTHER_PROCEDURE = "1.001193.000.00.62.H49"


def test_a_merged_commune_is_reported_inside_its_successor_after_the_merger(client: TestClient) -> None:
    world = build_world(client, now="2025-06-23T08:00:00+07:00")
    code = world.submit("receiver.ql", procedure_code=OTHER_PROCEDURE)["code"]
    world.submit("receiver")
    merged = client.post(f"/api/v1/agencies/{OTHER_COMMUNE}/merge", headers=world.as_("admin"),
                         json={"succeeded_by": COMMUNE, "valid_to": "2025-06-30"})
    assert merged.status_code == 200, merged.text
    assert (merged.json()["succeeded_by"], merged.json()["valid_to"]) == (COMMUNE, "2025-06-30")
    assert client.get(f"/api/v1/agencies/{OTHER_COMMUNE}").json()["succeeded_by"] == COMMUNE

    world.set_clock("2025-07-15T08:00:00+07:00")
    june = client.get("/api/v1/stats/processing", params={"from": "2025-06-01", "to": "2025-06-30"},
                      headers=world.as_("admin")).json()
    assert {row["key"] for row in june["rows"]} == {COMMUNE, OTHER_COMMUNE}
    assert june["merged"] == []
    july = client.get("/api/v1/stats/processing", params={"from": "2025-07-01", "to": "2025-07-31"},
                      headers=world.as_("admin")).json()
    assert [row["key"] for row in july["rows"]] == [COMMUNE]
    assert july["rows"][0]["carried_over"] == 2  # its own and the merged commune's
    assert july["merged"] == [{"agency_code": OTHER_COMMUNE, "agency_name": "Ủy ban nhân dân xã Quảng La",
                               "succeeded_by": COMMUNE, "valid_to": "2025-06-30"}]
    # Filtered to the successor (as its own staff read it), every grouping and the CSV roll the merged commune up
    # and say so; June, before the merger, keeps them apart.
    july_merged = [{"agency_code": OTHER_COMMUNE, "agency_name": "Ủy ban nhân dân xã Quảng La",
                    "succeeded_by": COMMUNE, "valid_to": "2025-06-30"}]
    for who, group_by in (("admin", "agency"), ("admin", "month"), ("receiver", "procedure")):
        own = client.get("/api/v1/stats/processing", headers=world.as_(who), params={
            "from": "2025-07-01", "to": "2025-07-31", "agency_code": COMMUNE, "group_by": group_by}).json()
        assert own["total"]["carried_over"] == 2, (who, group_by)
        assert own["merged"] == july_merged, (who, group_by)
    csv_text = client.get("/api/v1/stats/processing.csv", headers=world.as_("receiver"), params={
        "from": "2025-07-01", "to": "2025-07-31", "agency_code": COMMUNE}).content.decode("utf-8-sig")
    assert csv_text.splitlines()[1].split(",")[3:5] == ["2", "0"]  # Tổng số = 2, none new
    june_own = client.get("/api/v1/stats/processing", headers=world.as_("admin"), params={
        "from": "2025-06-01", "to": "2025-06-30", "agency_code": COMMUNE}).json()
    assert june_own["total"]["received_total"] == 1 and june_own["merged"] == []
    index = client.get("/api/v1/stats/index", headers=world.as_("admin"), params={
        "from": "2025-07-01", "to": "2025-07-31", "agency_code": COMMUNE}).json()
    progress = next(i for g in index["groups"] for i in g["indicators"] if i["code"] == "2.1")
    assert progress["denominator"] == 2
    # The dossier keeps the agency it was received by.
    assert client.get(f"/api/v1/dossiers/{code}", headers=world.as_("admin")).json()["agency_code"] == OTHER_COMMUNE


def test_a_merged_unit_lodges_nothing_after_it_ceased(client: TestClient) -> None:
    world = build_world(client, now="2025-07-02T08:00:00+07:00")
    client.post(f"/api/v1/agencies/{OTHER_COMMUNE}/merge", headers=world.as_("admin"),
                json={"succeeded_by": COMMUNE, "valid_to": "2025-06-30"})
    response = client.post("/api/v1/dossiers", json=dossier_body(procedure_code=OTHER_PROCEDURE),
                           headers=world.as_("receiver.ql"))
    assert response.status_code == 422
    assert response.json()["code"] == "AGENCY_NOT_IN_FORCE"


def test_a_merger_into_itself_or_nowhere_is_refused(client: TestClient) -> None:
    world = build_world(client)
    itself = client.post(f"/api/v1/agencies/{COMMUNE}/merge", headers=world.as_("admin"),
                         json={"succeeded_by": COMMUNE, "valid_to": "2025-06-30"})
    assert itself.status_code == 422
    nowhere = client.post(f"/api/v1/agencies/{COMMUNE}/merge", headers=world.as_("admin"),
                          json={"succeeded_by": "000.00.99.H49", "valid_to": "2025-06-30"})
    assert nowhere.status_code == 404
    assert client.post(f"/api/v1/agencies/{COMMUNE}/merge", headers=world.as_("receiver"),
                       json={"succeeded_by": OTHER_COMMUNE, "valid_to": "2025-06-30"}).status_code == 403
