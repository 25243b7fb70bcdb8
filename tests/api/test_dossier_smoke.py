from fastapi.testclient import TestClient

from tests.builders import build_world


def test_counter_dossier_across_tet_is_due_after_the_holiday(client: TestClient) -> None:
    world = build_world(client, now="2026-02-12T10:00:00+07:00")
    dossier = world.submit()
    # Thu 12/02 10:00 + 3 working days: Fri 13/02, then Tết (14–22/02), Mon 23/02, Tue 24/02 10:00.
    assert dossier["due_at"] == "2026-02-24T10:00:00+07:00"
    assert dossier["status"] == "received"
    assert dossier["code"] == "000.00.61.H49-260212-0001"
