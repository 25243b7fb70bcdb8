"""``/subscriptions``: who may subscribe to what, the secret never shown, and URLs that may not be called."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.events import netguard
from service.main import create_app
from service.settings import Settings
from tests.builders import COMMUNE, OTHER_COMMUNE, World, build_world
from tests.conftest import make_settings

SUBS = "/api/v1/subscriptions"
SECRET = "s" * 16


@pytest.fixture
def world(client: TestClient) -> World:
    return build_world(client)


def post(world: World, who: str, **body: Any) -> Any:
    return world.client.post(SUBS, json={"url": "http://127.0.0.1:9/hook", "secret": SECRET, **body},
                             headers=world.as_(who))


def test_admins_and_staff_subscribe_citizens_do_not(world: World) -> None:
    created = post(world, "admin", types=["motcua.dossier.receive", "motcua.dossier.overdue"])
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "url", "agency_code", "types", "active", "created_at"} and body["active"]
    assert body["agency_code"] is None and body["created_at"].endswith("+07:00")
    assert SECRET not in created.text
    own = post(world, "receiver")
    assert own.status_code == 201 and own.json()["agency_code"] == COMMUNE
    assert post(world, "receiver", agency_code=OTHER_COMMUNE).status_code == 403
    assert post(world, "citizen").status_code == 403
    assert [s["id"] for s in world.client.get(SUBS, headers=world.as_("admin")).json()] == [body["id"],
                                                                                           own.json()["id"]]
    assert [s["id"] for s in world.client.get(SUBS, headers=world.as_("processor")).json()] == [own.json()["id"]]
    assert world.client.get(f"{SUBS}/{body['id']}", headers=world.as_("processor")).status_code == 404
    assert world.client.get(f"{SUBS}/{own.json()['id']}", headers=world.as_("receiver.ql")).status_code == 404
    assert world.client.delete(f"{SUBS}/{own.json()['id']}", headers=world.as_("receiver")).status_code == 204
    assert world.client.get(f"{SUBS}/{own.json()['id']}", headers=world.as_("admin")).status_code == 404


@pytest.mark.parametrize("body", [
    {"secret": "too-short"}, {"types": ["motcua.dossier.nonsense"]}, {"url": "http://x\x00y/"},
])
def test_bad_bodies_are_422(world: World, body: dict[str, Any]) -> None:
    assert post(world, "admin", **body).status_code == 422


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "http:///nohost",
                                 "http://user:pw@example.com/", "javascript:alert(1)"])
def test_a_url_that_is_not_http_is_forbidden(world: World, url: str) -> None:
    response = post(world, "admin", url=url)
    assert response.status_code == 422 and response.json()["code"] == "WEBHOOK_URL_FORBIDDEN"


def test_inside_addresses_are_forbidden_unless_allowed(settings: Settings, tmp_path: Path) -> None:
    strict = make_settings(settings.database_url, tmp_path, webhook_allow_private=False)
    with TestClient(create_app(strict), raise_server_exceptions=False) as client:
        world = build_world(client)
        for url in ("http://127.0.0.1:8080/", "http://localhost/hook", "http://10.1.2.3/", "http://[::1]/",
                    "http://169.254.169.254/latest/meta-data", "http://[::ffff:192.168.0.1]/", "http://0.0.0.0/"):
            response = post(world, "admin", url=url)
            assert response.status_code == 422, url
            assert response.json()["code"] == "WEBHOOK_URL_FORBIDDEN"
            assert "nội bộ" in response.json()["detail"]


def test_a_public_address_passes_and_the_checked_address_is_the_one_connected_to() -> None:
    target = netguard.resolve("https://93.184.215.14:8443/hook?x=1", allow_private=False)
    assert target.connect_url == "https://93.184.215.14:8443/hook?x=1"
    assert target.host_header == "93.184.215.14:8443"
    with pytest.raises(netguard.ForbiddenTarget):
        netguard.resolve("http://127.0.0.1/", allow_private=False)
    assert netguard.resolve("http://127.0.0.1/", allow_private=True).address == "127.0.0.1"
