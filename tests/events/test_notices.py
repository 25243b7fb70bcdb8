"""Notices reach the applicant: e-mail through a real SMTP server, SMS through a gateway's signed webhook."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from service.main import create_app
from service.settings import Settings
from tests.builders import PASSWORD, World, build_world
from tests.conftest import bearer, make_settings
from tests.events.receivers import Receiver, free_port, running, wait_until
from tests.events.workers import workers

GATEWAY_SECRET = "sms-gateway-secret-0123456789"


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


class SmsGateway(Receiver):
    """Records the gateway's JSON bodies (the receiver helper parses JSON and checks the signature)."""


def test_notices_go_out_by_email_and_sms_once_senders_are_configured(
        settings: Settings, tmp_path: Path, mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    with running(SmsGateway(GATEWAY_SECRET)) as gateway:
        configured = make_settings(settings.database_url, tmp_path, smtp_url=f"smtp://127.0.0.1:{port}",
                                   sms_gateway_url=gateway.url, sms_gateway_secret=GATEWAY_SECRET,
                                   worker_poll_seconds=0.05, scan_interval_seconds=60)
        with TestClient(create_app(configured), raise_server_exceptions=False) as client:
            world = build_world(client)
            register = client.post("/api/v1/auth/register", json={
                "national_id": "022000000077", "full_name": "Phạm Thu Hà", "password": PASSWORD,
                "email": "thuha@example.vn"})
            assert register.status_code == 201, register.text
            world.headers["ha"] = bearer(client, "022000000077", PASSWORD)
            with workers(configured, count=1):
                code = world.submit("ha", channel="online", result_delivery="counter",
                                    applicant={"national_id": "022000000077", "full_name": "Phạm Thu Hà",
                                               "phone": "0987654321"})["code"]
                world.act(code, "receive", "receiver")
                wait_until(lambda: box.messages and gateway.arrivals, seconds=20)
                notices = wait_until(lambda: all(n["sent_at"] for n in listed(world, code, "ha"))
                                     and listed(world, code, "ha"), seconds=20)
    assert [(n["channel"], n["recipient"]) for n in notices] == [("sms", "0987654321"),
                                                                 ("email", "thuha@example.vn")]
    [message] = box.messages
    assert message["To"] == "thuha@example.vn"
    assert message["Subject"] == "Giấy tiếp nhận hồ sơ và hẹn trả kết quả (Mẫu 01)"
    assert f"Hồ sơ {code} đã được tiếp nhận" in message.get_content()
    [sms] = gateway.arrivals
    assert sms.signature_ok and sms.event["to"] == "0987654321"
    assert sms.event["text"].startswith("Giấy tiếp nhận hồ sơ và hẹn trả kết quả")


def listed(world: World, code: str, who: str) -> list[dict[str, Any]]:
    response = world.client.get(f"/api/v1/dossiers/{code}/notifications", headers=world.as_(who))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_failing_gateway_is_recorded_and_retried(settings: Settings, tmp_path: Path) -> None:
    down = make_settings(settings.database_url, tmp_path, sms_gateway_url="http://127.0.0.1:9/sms",
                         sms_gateway_secret=GATEWAY_SECRET, worker_poll_seconds=0.05, scan_interval_seconds=60)
    with TestClient(create_app(down), raise_server_exceptions=False) as client:
        world = build_world(client)
        with workers(down, count=1):
            code = world.submit()["code"]
            [notice] = wait_until(lambda: [n for n in listed(world, code, "receiver") if n["send_error"]],
                                  seconds=20)
    assert notice["sent_at"] is None and notice["channel"] == "sms"
    assert "ConnectError" in notice["send_error"]

