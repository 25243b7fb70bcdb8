"""``If-None-Match`` on dossier reads: 304 while nothing changed, the full answer once something did."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.builders import World, build_world


@pytest.fixture
def world(client: TestClient) -> World:
    return build_world(client)


def test_a_dossier_read_is_304_until_its_version_changes(world: World) -> None:
    code = world.submit()["code"]
    first = world.client.get(f"/api/v1/dossiers/{code}", headers=world.as_("receiver"))
    etag = first.headers["ETag"]
    assert etag == f'"{first.json()["version"]}"'
    again = world.client.get(f"/api/v1/dossiers/{code}", headers={**world.as_("receiver"), "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag
    world.act(code, "assign", "receiver", {"assignee": "chuyenvien"})
    changed = world.client.get(f"/api/v1/dossiers/{code}", headers={**world.as_("receiver"), "If-None-Match": etag})
    assert changed.status_code == 200 and changed.json()["status"] == "processing"
    assert changed.headers["ETag"] != etag


def test_a_dossier_someone_cannot_see_stays_404_whatever_the_etag(world: World) -> None:
    code = world.submit()["code"]
    response = world.client.get(f"/api/v1/dossiers/{code}", headers={**world.as_("receiver.ql"),
                                                                      "If-None-Match": "*"})
    assert response.status_code == 404


def test_a_list_page_is_304_until_an_item_on_it_changes(world: World) -> None:
    code = world.submit()["code"]
    headers = world.as_("receiver")
    first = world.client.get("/api/v1/dossiers", headers=headers)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"') and first.json()["items"][0]["code"] == code
    same = world.client.get("/api/v1/dossiers", headers={**headers, "If-None-Match": etag})
    assert same.status_code == 304 and same.content == b""
    world.act(code, "assign", "receiver", {"assignee": "chuyenvien"})
    changed = world.client.get("/api/v1/dossiers", headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.json()["items"][0]["status"] == "processing"
    other_filter = world.client.get("/api/v1/dossiers?status=rejected", headers={**headers, "If-None-Match": etag})
    assert other_filter.status_code == 200 and other_filter.json()["items"] == []
