"""End to end in a real browser (Debian's Chromium) against a served copy: the QR lookup, the desk's worklist
changing after an action, the statistics charts, and Swagger UI with every other host unreachable."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from tests.builders import PASSWORD, World, build_world
from tests.conftest import ADMIN
from tests.e2e.conftest import screenshot


@pytest.fixture(scope="module")
def world(served: str) -> Iterator[World]:
    with httpx.Client(base_url=served, timeout=30) as client:
        yield build_world(client)  # type: ignore[arg-type]  # the same calls as a TestClient


@pytest.fixture
def page(browser: Any, served: str) -> Iterator[Any]:
    """A phone-sized page whose requests to any other host fail, as with the network off."""
    context = browser.new_context(viewport={"width": 412, "height": 860}, locale="vi-VN")
    context.route(re.compile(r"^(?!" + re.escape(served) + r")https?://.*"), lambda route: route.abort())
    opened = context.new_page()
    yield opened
    context.close()


def sign_in(page: Any, served: str, path: str, username: str, password: str) -> None:
    page.goto(f"{served}{path}")
    assert "/dang-nhap" in page.url
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{served}{path}")


def test_a_citizen_opens_the_qr_link_of_the_receipt(world: World, page: Any, served: str) -> None:
    created = world.submit()
    pdf = world.client.get(f"/api/v1/dossiers/{created['code']}/receipt", headers=world.as_("receiver")).content
    text = "".join("".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages).split())
    link = re.search(r"https?://[^/]+/tra-cuu\?code=[^&]+&secret=[A-Za-z0-9_-]{24}", text)
    assert link, text
    page.goto(link.group(0))
    assert page.get_by_role("heading", name=re.compile(re.escape(created["code"]))).is_visible()
    assert page.locator(".status").inner_text() == "Đã tiếp nhận"
    assert page.locator("ol.steps li").count() == 2
    screenshot(page, "tra-cuu")


def test_an_officer_sees_the_worklist_change_after_receiving(world: World, page: Any, served: str) -> None:
    online = world.submit("citizen", channel="online", applicant=None)
    sign_in(page, served, "/mot-cua", "tiepnhan", PASSWORD)
    to_receive = page.locator('[data-count="to_receive"]')
    to_assign = page.locator('[data-count="to_assign"]')
    before = int(to_receive.inner_text()), int(to_assign.inner_text())
    assert before[0] >= 1
    row = page.locator(f'tr[data-code="{online["code"]}"]')
    assert row.get_attribute("data-status") == "submitted"
    row.get_by_role("button", name=f"Tiếp nhận hồ sơ {online['code']}").click()
    page.wait_for_url(re.compile(r"/mot-cua\?done="))
    assert page.get_by_role("status").inner_text().startswith("Đã cập nhật hồ sơ")
    assert (int(to_receive.inner_text()), int(to_assign.inner_text())) == (before[0] - 1, before[1] + 1)
    assert page.locator(f'tr[data-code="{online["code"]}"]').get_attribute("data-status") == "received"
    screenshot(page, "mot-cua")


def test_an_admin_sees_the_charts_render(world: World, page: Any, served: str) -> None:
    code = world.submit()["code"]
    world.act(code, "assign", "receiver", {"assignee": "chuyenvien"})
    world.act(code, "approve", "approver")
    world.set_clock("2026-04-06T09:00:00+07:00")
    world.act(world.submit("citizen", channel="online", applicant=None)["code"], "receive", "receiver")
    sign_in(page, served, "/thong-ke", *ADMIN)
    charts = page.locator("svg.bar-chart")
    assert charts.count() == 2
    on_time, online = charts.nth(0), charts.nth(1)
    assert on_time.locator("rect.bar").count() == 1 and online.locator("rect.bar").count() == 2
    box = on_time.locator("rect.bar").first.bounding_box()
    assert box is not None and box["width"] > 5 and box["height"] > 5  # drawn, not just present
    screenshot(page, "thong-ke")


def test_swagger_ui_renders_with_other_hosts_unreachable(page: Any, served: str) -> None:
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{served}/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20000)
    assert not problems, problems
    assert "Một Cửa API" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.locator(".opblock").count() > 20
    screenshot(page, "docs", full_page=False)
    page.goto(f"{served}/redoc")
    page.wait_for_selector("h1", timeout=20000)
    assert "Một Cửa API" in page.locator("h1").first.inner_text()
