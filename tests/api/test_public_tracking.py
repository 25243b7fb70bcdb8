"""Public tracking by code and secret (issue 4 §8): ``GET /api/v1/public/dossiers/{code}?secret=``."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.dossiers import queries
from service.main import create_app
from service.settings import Settings
from tests.builders import CITIZEN_ID, World, build_world

PUBLIC_FIELDS = {
    "code",
    "procedure_code",
    "procedure_name",
    "agency_code",
    "status",
    "status_label",
    "national_status_code",
    "received_at",
    "due_at",
    "finished_at",
    "returned_at",
    "timeliness",
}


@pytest.fixture
def world(client: TestClient) -> World:
    return build_world(client)


def track(client: TestClient, code: str, secret: str | None, **headers: str) -> Any:
    params = {} if secret is None else {"secret": secret}
    return client.get(f"/api/v1/public/dossiers/{code}", params=params, headers=headers)


def test_code_and_secret_show_the_status_without_personal_data(world: World) -> None:
    created = world.submit(
        applicant={
            "national_id": CITIZEN_ID,
            "full_name": "Lê Văn Hùng",
            "phone": "0912345678",
            "address": "Thôn Đông, xã Tiên Yên",
        }
    )
    response = track(world.client, created["code"], created["tracking_secret"])  # no token
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == PUBLIC_FIELDS
    assert body["status"] == "received" and body["status_label"] == "Đã tiếp nhận"
    assert body["national_status_code"] == 2 and body["procedure_name"] == "Đăng ký khai sinh"
    assert (
        body["received_at"] == "2026-03-02T08:00:00+07:00" and body["due_at"] == "2026-03-05T08:00:00+07:00"
    )
    for personal in (CITIZEN_ID, "Lê Văn Hùng", "0912345678", "Thôn Đông", "tiepnhan"):
        assert personal not in response.text
    # The status follows the dossier.
    world.act(created["code"], "assign", "receiver", {"assignee": "chuyenvien"})
    world.set_clock("2026-03-04T10:00:00+07:00")
    world.act(created["code"], "approve", "approver")
    later = track(world.client, created["code"], created["tracking_secret"]).json()
    assert later["status"] == "result_ready" and later["finished_at"] == "2026-03-04T10:00:00+07:00"
    assert later["timeliness"] == "early"


def test_unknown_code_and_wrong_secret_answer_identically(world: World) -> None:
    created = world.submit()
    other = world.submit()
    rid = {"X-Request-ID": "same-request-id"}
    answers = [
        track(world.client, created["code"], "wrong-secret", **rid),
        track(
            world.client, created["code"], other["tracking_secret"], **rid
        ),  # a real secret, another dossier
        track(world.client, "000.00.61.H49-260302-9999", created["tracking_secret"], **rid),
        track(world.client, "000.00.61.H49-260302-9999", "wrong-secret", **rid),
    ]
    assert {a.status_code for a in answers} == {404}
    assert len({a.content for a in answers}) == 1
    assert (
        len({tuple(sorted((k, v) for k, v in a.headers.items() if k != "content-length")) for a in answers})
        == 1
    )
    assert answers[0].json()["code"] == "DOSSIER_NOT_FOUND"
    assert track(world.client, created["code"], None).status_code == 422


def test_secret_is_compared_in_constant_time_for_known_and_unknown_codes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = world.submit()
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(queries.hmac, "compare_digest", spy)
    track(world.client, created["code"], "wrong")
    track(world.client, "000.00.61.H49-260302-9999", "wrong")
    # The same work is done whether the code exists or not: one digest comparison of equal-length hashes.
    assert len(calls) == 2 and all(len(a) == len(b) == 64 for a, b in calls)


@pytest.fixture
def limited(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"public_rate_limit": 3, "public_rate_window_seconds": 3600}))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_rate_limited_per_client_address(limited: TestClient) -> None:
    world = build_world(limited)
    created = world.submit()
    code, secret = created["code"], created["tracking_secret"]
    assert [track(limited, code, s).status_code for s in (secret, "wrong", secret)] == [200, 404, 200]
    blocked = track(limited, code, secret)
    assert blocked.status_code == 429 and blocked.json()["code"] == "RATE_LIMITED"
    assert int(blocked.headers["Retry-After"]) > 0
    # Another address is counted apart.
    elsewhere = TestClient(limited.app, client=("203.0.113.7", 50000))
    assert track(elsewhere, code, secret).status_code == 200
    # Authenticated work of the desk is never throttled by the public limit.
    for _ in range(5):
        assert limited.get(f"/api/v1/dossiers/{code}", headers=world.as_("receiver")).status_code == 200
    assert track(limited, code, secret).status_code == 429
