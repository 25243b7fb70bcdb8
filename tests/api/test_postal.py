"""The postal channel end to end: hand-over, dispatch, the carrier's signed webhook, the simulated carrier,
the carrier's statistics (Decision 45/2016/QĐ-TTg, Circular 17/2017/TT-BTTTT)."""

from __future__ import annotations

import json
import random
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from service import carrier
from service.bootstrap import compose_effects
from service.domain.postal import is_valid_tracking_number, sign
from service.main import create_app
from service.models import Notification, PostalEvent
from service.operations.postal import run_carrier
from service.settings import Settings
from tests.builders import COMMUNE, World, build_world
from tests.conftest import WEBHOOK_SECRET

SAME_COMMUNE_ADDRESS = "Thôn Đông Hải, xã Tiên Yên, tỉnh Quảng Ninh"
SAME_PROVINCE_ADDRESS = "Số 8 đường Trần Hưng Đạo, phường Hạ Long, tỉnh Quảng Ninh"
OTHER_PROVINCE_ADDRESS = "Số 12 phố Huế, phường Hai Bà Trưng, Hà Nội"
MONDAY = "2026-03-02T08:00:00+07:00"


# ---------------------------------------------------------------- helpers


def ready_for_post(world: World, address: str = SAME_COMMUNE_ADDRESS, **overrides: Any) -> str:
    """A dossier whose result waits at the desk, to be returned by post."""
    dossier = world.submit(result_delivery="postal", delivery_address=address, **overrides)
    world.act(dossier["code"], "assign", "receiver", {"assignee": "chuyenvien"})
    world.act(dossier["code"], "approve", "approver")
    return dossier["code"]  # type: ignore[no-any-return]


def dispatched(world: World, address: str = SAME_COMMUNE_ADDRESS, body: dict[str, Any] | None = None) -> dict:
    code = ready_for_post(world, address)
    return world.act(code, "dispatch_postal", "receiver", body)


def post_event(client: TestClient, body: dict[str, Any] | bytes, *, secret: str = WEBHOOK_SECRET,
               signature: str | bytes | None = None, omit_signature: bool = False) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers: dict[str, str | bytes] = {"Content-Type": "application/json"}
    if not omit_signature:
        headers["X-Postal-Signature"] = signature if signature is not None else sign(secret, raw)
    return client.post("/api/v1/postal/events", content=raw, headers=headers)


def event(tracking_number: str, kind: str, at: str) -> dict[str, str]:
    return {"tracking_number": tracking_number, "event": kind, "at": at}


def get(world: World, code: str, who: str = "receiver") -> dict[str, Any]:
    response = world.client.get(f"/api/v1/dossiers/{code}", headers=world.as_(who))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def history(world: World, code: str) -> list[dict[str, Any]]:
    response = world.client.get(f"/api/v1/dossiers/{code}/history", headers=world.as_("receiver"))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def stats(world: World, who: str = "admin", **params: str) -> Any:
    return world.client.get("/api/v1/stats/postal", params=params, headers=world.as_(who))


@pytest.fixture
def world(client: TestClient) -> World:
    return build_world(client, now=MONDAY)


# ---------------------------------------------------------------- 1. postal submission (Biên bản giao nhận)


def test_postal_dossier_is_lodged_at_the_handover_never_at_the_posting_date(world: World) -> None:
    dossier = world.submit(channel="postal", postal_handover={"receipt_number": "BBGN-0042/2026",
                                                              "posted_at": "2026-02-25T09:00:00+07:00"})
    assert dossier["status"] == "received"
    assert dossier["received_at"] == MONDAY
    # Mon 02/03 08:00 + 3 working days = Thu 05/03 08:00; from the posting date it would have been 02/03.
    assert dossier["due_at"] == "2026-03-05T08:00:00+07:00"
    receive = next(h for h in history(world, dossier["code"]) if h["action"] == "receive")
    assert receive["at"] == MONDAY
    assert "Biên bản giao nhận số BBGN-0042/2026" in receive["note"]


def test_postal_dossier_without_a_posting_date_is_received_at_the_handover(world: World) -> None:
    dossier = world.submit(channel="postal", postal_handover={"receipt_number": "BBGN-7"})
    assert dossier["received_at"] == MONDAY


BAD_HANDOVERS = [
    ({"channel": "counter", "postal_handover": {"receipt_number": "BBGN-1"}}, "POSTAL_HANDOVER_NOT_POSTAL"),
    ({"channel": "postal", "postal_handover": {"receipt_number": "BBGN-1",
                                               "posted_at": "2026-03-02T09:00:00+07:00"}},
     "POSTED_AFTER_HANDOVER"),
    ({"channel": "postal", "postal_handover": {"receipt_number": "BBGN-1",
                                               "posted_at": "2026-02-25T09:00:00"}}, "VALIDATION_ERROR"),
    ({"channel": "postal", "postal_handover": {"receipt_number": ""}}, "VALIDATION_ERROR"),
]


def test_a_bad_handover_record_is_refused(world: World) -> None:
    from tests.builders import dossier_body

    for overrides, code in BAD_HANDOVERS:
        response = world.client.post("/api/v1/dossiers", json=dossier_body(**overrides),
                                     headers=world.as_("receiver"))
        assert (response.status_code, response.json()["code"]) == (422, code), overrides


# ---------------------------------------------------------------- 2. dispatch


ZONES = [
    (SAME_COMMUNE_ADDRESS, "same_commune", "2026-03-03T23:59:59+07:00", 15_000),
    (SAME_PROVINCE_ADDRESS, "same_province", "2026-03-04T23:59:59+07:00", 18_000),
    (OTHER_PROVINCE_ADDRESS, "other_province", "2026-03-06T23:59:59+07:00", 28_000),
    ("Ấp 3, xã Tân Thạnh, tỉnh Long An", "other_province", "2026-03-06T23:59:59+07:00", 28_000),
]


def test_dispatch_creates_a_shipment_with_its_service_level_and_postage(world: World) -> None:
    seen = set()
    for address, zone, expected_by, postage in ZONES:
        dossier = dispatched(world, address)
        assert dossier["status"] == "in_transit"
        assert dossier["national_status_code"] == 9
        postal = dossier["postal"]
        assert is_valid_tracking_number(postal["tracking_number"])
        assert postal["tracking_number"].startswith("EB") and postal["tracking_number"].endswith("VN")
        assert (postal["status"], postal["zone"], postal["dispatched_at"], postal["expected_by"],
                postal["postage_vnd"]) == ("in_transit", zone, MONDAY, expected_by, postage), address
        assert get(world, dossier["code"])["postal"] == postal
        assert get(world, dossier["code"], "citizen")["postal"] == postal
        seen.add(postal["tracking_number"])
    assert len(seen) == len(ZONES)


def test_an_explicit_zone_wins_and_an_appointment_slip_doubles_the_level(world: World) -> None:
    postal = dispatched(world, SAME_COMMUNE_ADDRESS,
                        {"delivery_zone": "other_province", "appointment_slip": True})["postal"]
    assert postal["zone"] == "other_province"
    # J+8 working days from Mon 02/03: Thu 12/03.
    assert postal["expected_by"] == "2026-03-12T23:59:59+07:00"
    assert postal["postage_vnd"] == 28_000 + 28_000


def test_the_service_level_counts_working_days_of_the_real_calendar(client: TestClient) -> None:
    world = build_world(client, now="2026-02-12T10:00:00+07:00")  # Thursday before Tết (14–22/02)
    postal = dispatched(world, SAME_PROVINCE_ADDRESS)["postal"]
    assert postal["expected_by"] == "2026-02-23T23:59:59+07:00"  # Fri 13/02, then Mon 23/02


def test_service_levels_are_configurable(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTCUA_POSTAL_SERVICE_LEVELS", "same_commune=3")
    assert dispatched(world)["postal"]["expected_by"] == "2026-03-05T23:59:59+07:00"


def test_a_broken_service_level_setting_is_reported_not_guessed(world: World,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    code = ready_for_post(world)
    monkeypatch.setenv("MOTCUA_POSTAL_SERVICE_LEVELS", "same_commune=soon")
    response = world.client.post(f"/api/v1/dossiers/{code}/actions/dispatch_postal", json={},
                                 headers=world.as_("receiver"))
    assert response.status_code == 503
    assert response.json()["code"] == "POSTAL_CONFIG_INVALID"
    assert get(world, code)["status"] == "result_ready"


def test_dispatch_notifies_the_applicant_of_the_tracking_number_and_postage(world: World) -> None:
    dossier = dispatched(world)
    notes = notifications(world, dossier["code"])
    assert any(dossier["postal"]["tracking_number"] in n.body and "15.000 đồng" in n.body for n in notes)


def test_dispatch_is_only_for_postal_results(world: World) -> None:
    dossier = world.submit()
    world.act(dossier["code"], "assign", "receiver", {"assignee": "chuyenvien"})
    world.act(dossier["code"], "approve", "approver")
    world.act(dossier["code"], "dispatch_postal", "receiver", expect=409)


# ---------------------------------------------------------------- 3. the webhook


def test_delivered_returns_the_dossier(world: World) -> None:
    dossier = dispatched(world)
    tn = dossier["postal"]["tracking_number"]
    world.set_clock("2026-03-03T16:00:00+07:00")
    response = post_event(world.client, event(tn, "delivered", "2026-03-03T10:15:00+07:00"))
    assert response.status_code == 200, response.text
    assert response.json() == {"tracking_number": tn, "event": "delivered", "at": "2026-03-03T10:15:00+07:00",
                               "outcome": "applied", "shipment_status": "delivered"}
    after = get(world, dossier["code"])
    assert after["status"] == "returned"
    assert after["national_status_code"] == 10
    assert after["returned_at"] == "2026-03-03T10:15:00+07:00"
    assert after["postal"]["status"] == "delivered"
    assert after["postal"]["delivered_at"] == "2026-03-03T10:15:00+07:00"
    assert after["postal"]["carrier_late"] is False
    last = history(world, dossier["code"])[-1]
    assert (last["action"], last["actor"], last["from_status"], last["to_status"]) == (
        "confirm_delivery", "buudien", "in_transit", "returned")
    assert world.client.get(f"/api/v1/dossiers/{dossier['code']}/history/verify",
                            headers=world.as_("receiver")).json()["valid"] is True


def test_failed_brings_the_result_back_to_the_counter_and_notifies_the_applicant(world: World) -> None:
    dossier = dispatched(world)
    tn = dossier["postal"]["tracking_number"]
    world.set_clock("2026-03-03T16:00:00+07:00")
    response = post_event(world.client, event(tn, "failed", "2026-03-03T11:00:00+07:00"))
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "applied"
    after = get(world, dossier["code"])
    assert after["status"] == "result_ready"
    assert after["result_delivery"] == "counter"
    assert after["postal"]["status"] == "failed"
    assert after["postal"]["failed_at"] == "2026-03-03T11:00:00+07:00"
    last = history(world, dossier["code"])[-1]
    assert (last["action"], last["actor"], last["to_status"]) == (
        "delivery_failed", "buudien", "result_ready")
    assert "đã thông báo cho người nộp hồ sơ" in last["note"]
    subjects = [n.subject for n in notifications(world, dossier["code"])]
    assert "Chuyển phát kết quả không thành công" in subjects
    # The applicant collects the result at the desk.
    assert world.act(dossier["code"], "return_result", "receiver")["status"] == "returned"


BAD_SIGNATURES: list[str | bytes] = [
    sign("not-the-secret", b"x"),
    "sha256=" + "0" * 64,
    "sha256=",
    "sha1=0123456789abcdef0123456789abcdef01234567",
    "garbage",
    "sha256=đ".encode(),
    "sha256=" + "a" * 500,
]


def test_a_bad_signature_is_401_and_changes_nothing(world: World) -> None:
    dossier = dispatched(world)
    body = event(dossier["postal"]["tracking_number"], "delivered", MONDAY)
    for signature in BAD_SIGNATURES:
        response = post_event(world.client, body, signature=signature)
        assert (response.status_code, response.json()["code"]) == (401, "INVALID_SIGNATURE"), signature
    assert get(world, dossier["code"])["status"] == "in_transit"
    with _db(world).transaction(read_only=True) as session:
        assert session.exec(select(PostalEvent)).first() is None


def test_a_signature_with_the_wrong_secret_or_none_at_all_is_401(world: World) -> None:
    dossier = dispatched(world)
    body = event(dossier["postal"]["tracking_number"], "delivered", MONDAY)
    assert post_event(world.client, body, secret="another-secret").status_code == 401
    assert post_event(world.client, body, omit_signature=True).status_code == 401
    assert get(world, dossier["code"])["status"] == "in_transit"


def test_the_signature_covers_the_raw_bytes(world: World) -> None:
    dossier = dispatched(world)
    tn = dossier["postal"]["tracking_number"]
    signed = json.dumps(event(tn, "failed", MONDAY)).encode()
    tampered = signed.replace(b"failed", b"delivered")
    assert post_event(world.client, tampered, signature=sign(WEBHOOK_SECRET, signed)).status_code == 401
    # Same JSON, different bytes (spacing): the signature no longer matches either.
    respaced = json.dumps(event(tn, "failed", MONDAY), indent=2).encode()
    assert post_event(world.client, respaced, signature=sign(WEBHOOK_SECRET, signed)).status_code == 401
    # Any byte layout is fine when it is the one signed; upper-case hex is accepted.
    upper = "sha256=" + sign(WEBHOOK_SECRET, respaced).removeprefix("sha256=").upper()
    assert post_event(world.client, respaced, signature=upper).status_code == 200
    assert get(world, dossier["code"])["status"] == "result_ready"


def test_a_signed_but_malformed_body_is_422(world: World) -> None:
    dossier = dispatched(world)
    tn = dossier["postal"]["tracking_number"]
    for raw in (b"not json", json.dumps(event(tn, "lost", MONDAY)).encode(),
                json.dumps(event(tn, "delivered", "2026-03-02T08:00:00")).encode(),
                json.dumps({"tracking_number": tn, "event": "delivered"}).encode()):
        response = post_event(world.client, raw)
        assert response.status_code == 422, raw
        assert response.json()["code"] == "VALIDATION_ERROR"
    assert get(world, dossier["code"])["status"] == "in_transit"


def test_an_unknown_tracking_number_is_404(world: World) -> None:
    dispatched(world)
    response = post_event(world.client, event("EB000000000VN", "delivered", MONDAY))
    assert response.status_code == 404
    assert response.json()["code"] == "SHIPMENT_NOT_FOUND"


def test_the_same_event_twice_has_one_effect(world: World) -> None:
    dossier = dispatched(world)
    tn = dossier["postal"]["tracking_number"]
    world.set_clock("2026-03-03T16:00:00+07:00")
    first = post_event(world.client, event(tn, "delivered", "2026-03-03T10:00:00+07:00"))
    before = history(world, dossier["code"])
    version = get(world, dossier["code"])["version"]
    again = post_event(world.client, event(tn, "delivered", "2026-03-03T10:00:00+07:00"))
    same_instant = post_event(world.client, event(tn, "delivered", "2026-03-03T03:00:00Z"))
    assert first.json()["outcome"] == "applied"
    assert (again.status_code, again.json()["outcome"]) == (200, "duplicate")
    assert (same_instant.status_code, same_instant.json()["outcome"]) == (200, "duplicate")
    assert history(world, dossier["code"]) == before
    assert get(world, dossier["code"])["version"] == version


def test_a_failed_event_replayed_does_not_notify_twice(world: World) -> None:
    dossier = dispatched(world)
    body = event(dossier["postal"]["tracking_number"], "failed", "2026-03-02T15:00:00+07:00")
    world.set_clock("2026-03-02T16:00:00+07:00")
    for _ in range(3):
        assert post_event(world.client, body).status_code == 200
    failures = [n for n in notifications(world, dossier["code"]) if "không thành công" in n.subject]
    assert len(failures) == 1


def test_a_late_failed_after_delivered_does_not_undo_the_delivery(world: World) -> None:
    dossier = dispatched(world)
    tn = dossier["postal"]["tracking_number"]
    world.set_clock("2026-03-03T16:00:00+07:00")
    first = post_event(world.client, event(tn, "delivered", "2026-03-03T10:00:00+07:00"))
    assert first.json()["outcome"] == "applied"
    late = post_event(world.client, event(tn, "failed", "2026-03-03T09:00:00+07:00"))
    assert (late.status_code, late.json()["outcome"], late.json()["shipment_status"]) == (
        200, "ignored", "delivered")
    after = get(world, dossier["code"])
    assert after["status"] == "returned"
    assert after["result_delivery"] == "postal"
    assert after["postal"]["status"] == "delivered"
    assert after["postal"]["failed_at"] is None
    assert [h["action"] for h in history(world, dossier["code"])][-1] == "confirm_delivery"


def test_a_delivered_after_failed_is_kept_on_record_but_the_result_stays_at_the_desk(world: World) -> None:
    dossier = dispatched(world)
    tn = dossier["postal"]["tracking_number"]
    world.set_clock("2026-03-03T16:00:00+07:00")
    post_event(world.client, event(tn, "failed", "2026-03-03T10:00:00+07:00"))
    late = post_event(world.client, event(tn, "delivered", "2026-03-03T11:00:00+07:00"))
    assert (late.status_code, late.json()["outcome"]) == (200, "ignored")
    assert get(world, dossier["code"])["status"] == "result_ready"
    with world.client.app.state.context.db.transaction(read_only=True) as session:  # type: ignore[attr-defined]
        outcomes = sorted((e.event, e.outcome) for e in session.exec(select(PostalEvent)))
    assert outcomes == [("delivered", "ignored"), ("failed", "applied")]


def test_an_event_dated_before_dispatch_or_in_the_future_is_422(world: World) -> None:
    dossier = dispatched(world)
    tn = dossier["postal"]["tracking_number"]
    for at, code in (("2026-03-01T10:00:00+07:00", "POSTAL_EVENT_BEFORE_DISPATCH"),
                     ("2026-03-02T09:00:00+07:00", "POSTAL_EVENT_IN_FUTURE")):
        response = post_event(world.client, event(tn, "delivered", at))
        assert response.status_code == 422
        assert response.json()["code"] == code
    assert get(world, dossier["code"])["status"] == "in_transit"


def test_the_webhook_is_refused_when_no_secret_is_configured(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"postal_webhook_secret": ""}))
    with TestClient(app, raise_server_exceptions=False) as client:
        body = event("EB123456785VN", "delivered", MONDAY)
        response = post_event(client, body, secret="")
        assert response.status_code == 503
        assert response.json()["code"] == "POSTAL_WEBHOOK_DISABLED"


def test_a_receiver_confirming_by_hand_closes_the_shipment_too(world: World) -> None:
    dossier = dispatched(world)
    world.set_clock("2026-03-04T09:00:00+07:00")
    done = world.act(dossier["code"], "confirm_delivery", "receiver", {"at": "2026-03-04T08:30:00+07:00"})
    assert done["status"] == "returned"
    assert done["postal"]["status"] == "delivered"
    assert done["postal"]["carrier_late"] is True  # J+1 ended on Tue 03/03
    late = post_event(world.client, event(dossier["postal"]["tracking_number"], "delivered",
                                          "2026-03-04T08:00:00+07:00"))
    assert late.json()["outcome"] == "ignored"


def test_a_receiver_cannot_date_a_delivery_before_its_dispatch(world: World) -> None:
    dossier = dispatched(world)
    response = world.client.post(f"/api/v1/dossiers/{dossier['code']}/actions/confirm_delivery",
                                 json={"at": "2026-03-01T08:00:00+07:00"}, headers=world.as_("receiver"))
    assert response.status_code == 422
    assert response.json()["code"] == "POSTAL_EVENT_BEFORE_DISPATCH"
    assert get(world, dossier["code"])["status"] == "in_transit"


def test_concurrent_copies_of_one_event_apply_once(world: World) -> None:
    dossier = dispatched(world)
    world.set_clock("2026-03-03T16:00:00+07:00")
    body = event(dossier["postal"]["tracking_number"], "delivered", "2026-03-03T10:00:00+07:00")
    results: list[Any] = []
    barrier = threading.Barrier(4)

    def send() -> None:
        barrier.wait()
        results.append(post_event(world.client, body))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in results) == [200] * 4
    assert sorted(r.json()["outcome"] for r in results) == ["applied", "duplicate", "duplicate", "duplicate"]
    assert [h["action"] for h in history(world, dossier["code"])].count("confirm_delivery") == 1


# ---------------------------------------------------------------- 5. transit never counts against the agency


def test_postal_transit_never_counts_against_the_agency(world: World) -> None:
    dossier = dispatched(world)
    assert dossier["due_at"] == "2026-03-05T08:00:00+07:00"
    timeliness = dossier["timeliness"]
    world.set_clock("2026-03-20T09:00:00+07:00")  # two weeks on, long past due_at
    assert get(world, dossier["code"])["overdue"] is False
    tn = dossier["postal"]["tracking_number"]
    post_event(world.client, event(tn, "delivered", "2026-03-13T10:00:00+07:00"))
    after = get(world, dossier["code"])
    assert after["status"] == "returned"
    assert (after["timeliness"], after["overdue"], after["due_at"]) == (timeliness, False, dossier["due_at"])
    assert after["finished_at"] == dossier["finished_at"]
    assert after["postal"]["carrier_late"] is True


# ---------------------------------------------------------------- 4. the simulated carrier


def _db(world: World) -> Any:
    return world.client.app.state.context.db  # type: ignore[attr-defined]


def test_the_simulated_carrier_delivers_what_is_due_within_the_level(world: World) -> None:
    near = dispatched(world, SAME_COMMUNE_ADDRESS)  # J+1: Tue 03/03
    far = dispatched(world, OTHER_PROVINCE_ADDRESS)  # J+4: Fri 06/03
    world.set_clock("2026-03-04T07:00:00+07:00")
    run = run_carrier(_db(world), None, 0.0, random.Random(1), effects=compose_effects(None))
    assert (run.delivered, run.failed, run.late) == (1, 0, 0)
    done = get(world, near["code"])
    assert done["status"] == "returned"
    assert near["postal"]["dispatched_at"] < done["postal"]["delivered_at"] <= near["postal"]["expected_by"]
    assert done["postal"]["carrier_late"] is False
    assert history(world, near["code"])[-1]["actor"] == "buudien"
    assert get(world, far["code"])["status"] == "in_transit"
    # A second pass finds nothing new to do.
    assert run_carrier(_db(world), None, 0.0, random.Random(1), effects=compose_effects(None)).delivered == 0


def test_the_simulated_carrier_fails_and_runs_late_at_the_configured_rates(world: World) -> None:
    codes = [dispatched(world)["code"] for _ in range(3)]
    world.set_clock("2026-03-05T12:00:00+07:00")
    run = run_carrier(_db(world), None, 1.0, random.Random(2), effects=compose_effects(None), late_rate=1.0)
    assert (run.delivered, run.failed, run.late) == (0, 3, 3)
    for code in codes:
        after = get(world, code)
        assert (after["status"], after["result_delivery"]) == ("result_ready", "counter")
        assert after["postal"]["carrier_late"] is True
        assert "2026-03-03T23:59:59+07:00" < after["postal"]["failed_at"] <= "2026-03-05T12:00:00+07:00"
        assert any("không thành công" in n.subject for n in notifications(world, code))


def test_the_carrier_command_uses_the_database_clock(world: World, settings: Settings,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    dossier = dispatched(world)
    world.set_clock("2026-03-06T09:00:00+07:00")
    assert carrier.main(["--database-url", settings.database_url, "--failure-rate", "0", "--seed", "3"]) == 0
    assert "2026-03-06T09:00:00+07:00 delivered=1 failed=0" in capsys.readouterr().out
    assert get(world, dossier["code"])["status"] == "returned"


# ---------------------------------------------------------------- 5. the statistics figure


def _four_shipments(world: World) -> list[str]:
    tns = [dispatched(world)["postal"]["tracking_number"] for _ in range(4)]  # all J+1: Tue 03/03 23:59:59
    world.set_clock("2026-03-03T12:00:00+07:00")
    post_event(world.client, event(tns[0], "delivered", "2026-03-03T09:00:00+07:00"))
    post_event(world.client, event(tns[1], "failed", "2026-03-03T10:00:00+07:00"))
    world.set_clock("2026-03-05T09:00:00+07:00")
    post_event(world.client, event(tns[2], "delivered", "2026-03-04T15:00:00+07:00"))
    return tns


def test_postal_statistics_report_the_carriers_lateness(world: World) -> None:
    _four_shipments(world)
    response = stats(world, **{"from": "2026-03-01", "to": "2026-03-31"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["as_of"] == "2026-03-05T09:00:00+07:00"
    total = body["total"]
    assert {k: total[k] for k in ("dispatched", "delivered", "delivered_on_time", "delivered_late", "failed",
                                  "in_transit", "in_transit_overdue", "postage_vnd_total")} == {
        "dispatched": 4, "delivered": 2, "delivered_on_time": 1, "delivered_late": 1, "failed": 1,
        "in_transit": 1, "in_transit_overdue": 1, "postage_vnd_total": 60_000}
    assert total["carrier_on_time_rate"] == 50.0
    assert [row["key"] for row in body["rows"]] == ["same_commune"]


def test_a_past_period_report_never_changes(world: World) -> None:
    _four_shipments(world)
    body = stats(world, **{"from": "2026-03-02", "to": "2026-03-03"}).json()
    assert body["as_of"] == "2026-03-04T00:00:00+07:00"
    total = body["total"]
    # The late delivery on 04/03 happened after the period: as of its end, that item was still travelling.
    assert (total["delivered"], total["failed"], total["in_transit"], total["in_transit_overdue"]) == (
        1, 1, 2, 2)
    assert total["carrier_on_time_rate"] == 100.0


def test_postal_statistics_are_scoped_to_the_staff_agency(world: World) -> None:
    _four_shipments(world)
    period = {"from": "2026-03-01", "to": "2026-03-31"}
    assert stats(world, "receiver", **period).json()["total"]["dispatched"] == 4
    other = stats(world, "receiver.ql", **period).json()
    assert (other["agency_code"], other["total"]["dispatched"], other["total"]["carrier_on_time_rate"]) == (
        "000.00.62.H49", 0, None)
    assert stats(world, "receiver.ql", agency_code=COMMUNE, **period).status_code == 403
    assert stats(world, "citizen", **period).status_code == 403
    assert stats(world, "admin", agency_code="000.00.62.H49", **period).json()["total"]["dispatched"] == 0
    reversed_period = stats(world, **{"from": "2026-03-31", "to": "2026-03-01"})
    assert reversed_period.status_code == 422 and reversed_period.json()["code"] == "PERIOD_INVALID"
    # The same scope rule as every report: an admin naming an unknown agency gets 404.
    unknown = stats(world, "admin", agency_code="000.00.99.H49", **period)
    assert unknown.status_code == 404 and unknown.json()["code"] == "AGENCY_NOT_FOUND"
    assert world.client.get("/api/v1/stats/postal", params=period).status_code == 401


# ---------------------------------------------------------------- helpers reading the database


def notifications(world: World, code: str) -> list[Notification]:
    from service.models import Dossier

    with _db(world).transaction(read_only=True) as session:
        dossier_id = session.exec(select(Dossier.id).where(Dossier.code == code)).one()
        return list(session.exec(select(Notification).where(Notification.dossier_id == dossier_id)))
