"""The web pages (contract Version 2, "Web pages"), through the ASGI app: what a citizen and an officer see."""

from __future__ import annotations

import io
import re

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from service.main import create_app
from service.settings import Settings
from tests.builders import CITIZEN_ID, PASSWORD, World, build_world, procedure_body

XSS = "<script>alert('x')</script>"


@pytest.fixture
def world(client: TestClient) -> World:
    return build_world(client)


def sign_in(client: TestClient, username: str, password: str = PASSWORD, next_path: str = "/mot-cua"):  # type: ignore[no-untyped-def]
    form = client.get("/dang-nhap")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    return client.post("/dang-nhap", data={"username": username, "password": password, "csrf_token": token,
                                           "next": next_path}, follow_redirects=False)


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def qr_link(pdf: bytes) -> str:
    text = "".join("".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages).split())
    match = re.search(r"/tra-cuu\?code=[^&]+&secret=[A-Za-z0-9_-]{24}", text)
    assert match, text
    return match.group(0)


def test_the_receipt_qr_link_opens_the_dossier_status_without_personal_data(world: World) -> None:
    created = world.submit(applicant={"national_id": CITIZEN_ID, "full_name": "Lê Văn Hùng",
                                      "phone": "0912345678", "address": "Thôn Đông, xã Tiên Yên"})
    receipt = world.client.get(f"/api/v1/dossiers/{created['code']}/receipt", headers=world.as_("receiver"))
    link = qr_link(receipt.content)
    assert link.endswith(created["tracking_secret"])
    page = world.client.get(link)  # no token, no cookie
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert created["code"] in html and "Đã tiếp nhận" in html and "Đăng ký khai sinh" in html
    assert "08:00, 05/03/2026" in html  # the due date, in legal time
    assert "Nộp hồ sơ" in html and "Tiếp nhận hồ sơ" in html  # the steps
    for personal in ("Lê Văn Hùng", CITIZEN_ID, "0912345678", "Thôn Đông", "tiepnhan"):
        assert personal not in html


def test_a_wrong_secret_shows_the_same_page_as_an_unknown_code(world: World) -> None:
    created = world.submit()
    other = world.submit()
    rid = {"X-Request-ID": "same-request"}
    wrong = world.client.get("/tra-cuu", params={"code": created["code"], "secret": other["tracking_secret"]},
                             headers=rid)
    unknown = world.client.get("/tra-cuu", params={"code": "000.00.61.H49-260302-9999",
                                                   "secret": created["tracking_secret"]}, headers=rid)
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.content == unknown.content
    assert "Không tìm thấy hồ sơ hoặc mã tra cứu không đúng" in wrong.text


def test_the_lookup_page_and_the_api_share_one_rate_limit(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"public_rate_limit": 2}))) as client:
        world = build_world(client)
        created = world.submit()
        params = {"code": created["code"], "secret": created["tracking_secret"]}
        assert client.get(f"/api/v1/public/dossiers/{created['code']}", params={"secret": params["secret"]}
                          ).status_code == 200
        assert client.get("/tra-cuu", params=params).status_code == 200
        limited = client.get("/tra-cuu", params=params)
        assert limited.status_code == 429 and "Tra cứu quá nhiều lần" in limited.text
        assert client.get(f"/api/v1/public/dossiers/{created['code']}",
                          params={"secret": params["secret"]}).status_code == 429


def test_values_from_the_database_render_as_text(world: World) -> None:
    admin = world.as_("admin")
    body = procedure_body("9.000001.000.00.00.H49", name=f"Thủ tục {XSS}")
    assert world.client.post("/api/v1/procedures", json=body, headers=admin).status_code == 201
    created = world.submit(procedure_code="9.000001.000.00.00.H49",
                           applicant={"national_id": CITIZEN_ID, "full_name": f"Ông {XSS}"})
    lookup = world.client.get("/tra-cuu", params={"code": created["code"], "secret": created["tracking_secret"]})
    assert "Thủ tục &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in lookup.text
    assert sign_in(world.client, "tiepnhan").status_code == 303
    desk = world.client.get("/mot-cua")
    assert "Ông &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in desk.text
    for page in (lookup.text, desk.text):
        assert XSS not in page and "<script" not in page
    echoed = world.client.get("/tra-cuu", params={"code": XSS})
    assert XSS not in echoed.text and "&lt;script&gt;" in echoed.text


def test_staff_pages_without_a_session_redirect_to_sign_in(client: TestClient) -> None:
    for path in ("/mot-cua", "/thong-ke"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/dang-nhap?next={path}"
    forged = client.post("/mot-cua/ho-so/X", data={"action": "receive"}, follow_redirects=False)
    assert forged.status_code == 303 and forged.headers["location"].startswith("/dang-nhap")


def test_sign_in_sets_an_httponly_samesite_cookie_and_shares_the_failure_limit(world: World) -> None:
    client = world.client
    signed = sign_in(client, "tiepnhan")
    assert signed.status_code == 303 and signed.headers["location"] == "/mot-cua"
    cookie = next(v for v in signed.headers.get_list("set-cookie") if v.startswith("motcua_session="))
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    client.cookies.clear()
    for _ in range(5):
        assert sign_in(client, "chuyenvien", "wrong-password").status_code == 401
    limited = sign_in(client, "chuyenvien")  # right password, but the limit is reached
    assert limited.status_code == 429 and "Đăng nhập sai quá nhiều lần" in limited.text
    api = client.post("/api/v1/auth/token", data={"username": "chuyenvien", "password": PASSWORD})
    assert api.status_code == 429


def test_sign_in_without_the_form_token_is_refused(world: World) -> None:
    client = world.client
    client.get("/dang-nhap")
    response = client.post("/dang-nhap", data={"username": "tiepnhan", "password": PASSWORD,
                                               "csrf_token": "forged"}, follow_redirects=False)
    assert response.status_code == 403 and "motcua_session" not in response.headers.get("set-cookie", "")


def test_a_citizen_cannot_sign_in_to_the_staff_pages(world: World) -> None:
    response = sign_in(world.client, CITIZEN_ID)
    assert response.status_code == 403 and "dành cho cán bộ" in response.text


def test_the_worklist_changes_after_a_desk_action_and_refuses_a_missing_csrf_token(world: World) -> None:
    online = world.submit("citizen", channel="online", applicant=None)
    assert sign_in(world.client, "tiepnhan").status_code == 303
    before = world.client.get("/mot-cua")
    assert 'data-count="to_receive">1<' in before.text and 'data-count="to_assign">0<' in before.text
    forged = world.client.post(f"/mot-cua/ho-so/{online['code']}", data={"action": "receive", "version": "1",
                                                                         "csrf_token": "nope"})
    assert forged.status_code == 403
    assert world.client.get(f"/api/v1/dossiers/{online['code']}",
                            headers=world.as_("receiver")).json()["status"] == "submitted"
    done = world.client.post(f"/mot-cua/ho-so/{online['code']}",
                             data={"action": "receive", "version": str(online["version"]),
                                   "csrf_token": csrf_of(before.text)})
    assert done.status_code == 200 and "Đã cập nhật hồ sơ" in done.text
    assert 'data-count="to_receive">0<' in done.text and 'data-count="to_assign">1<' in done.text
    history = world.client.get(f"/api/v1/dossiers/{online['code']}/history", headers=world.as_("receiver")).json()
    assert [row["action"] for row in history] == ["submit", "receive"] and history[-1]["actor"] == "tiepnhan"


def test_a_stale_page_gets_the_version_conflict(world: World) -> None:
    online = world.submit("citizen", channel="online", applicant=None)
    assert sign_in(world.client, "tiepnhan").status_code == 303
    page = world.client.get("/mot-cua")
    world.act(online["code"], "receive", "receiver")
    stale = world.client.post(f"/mot-cua/ho-so/{online['code']}",
                              data={"action": "receive", "version": str(online["version"]),
                                    "csrf_token": csrf_of(page.text)})
    assert stale.status_code in (409, 412) and 'role="alert"' in stale.text


def test_due_soon_and_overdue_buckets_follow_the_legal_clock(world: World) -> None:
    created = world.submit()  # received 2026-03-02 08:00, due 2026-03-05 08:00 (3 working days)
    assert sign_in(world.client, "tiepnhan").status_code == 303
    world.set_clock("2026-03-04T09:00:00+07:00")  # 7 working hours left
    soon = world.client.get("/mot-cua?bucket=due_soon").text
    assert 'data-count="due_soon">1<' in soon and 'data-count="overdue">0<' in soon and created["code"] in soon
    world.set_clock("2026-03-05T09:00:00+07:00")
    late = world.client.get("/mot-cua?bucket=overdue").text
    assert 'data-count="due_soon">0<' in late and 'data-count="overdue">1<' in late and "Quá hạn" in late


def test_the_statistics_page_draws_one_bar_per_month_with_data(world: World) -> None:
    world.submit("citizen", channel="online", applicant=None)
    code = world.submit()["code"]
    world.act(code, "assign", "receiver", {"assignee": "chuyenvien"})
    world.act(code, "approve", "approver")
    world.set_clock("2026-04-10T09:00:00+07:00")
    world.submit()
    assert sign_in(world.client, "admin", "Admin@123456", "/thong-ke").headers["location"] == "/thong-ke"
    page = world.client.get("/thong-ke")
    assert page.status_code == 200
    charts = re.findall(r'<svg[^>]*class="bar-chart" data-bars="(\d+)"', page.text)
    assert charts == ["1", "2"]  # on time: only March resolved something; online: March and April received
    assert page.text.count('<rect class="bar"') == 3
    assert "Tỷ lệ hồ sơ giải quyết đúng hạn theo tháng" in page.text and "Quyết định 766" in page.text


def test_the_statistics_page_shows_the_ranking_of_the_api(world: World) -> None:
    """The page's ranking table is ``GET /stats/ranking`` for the page's year: every agency for an admin (with
    its rank and the change since the year before), only their own agency's row for staff."""
    code = world.submit()["code"]
    world.act(code, "assign", "receiver", {"assignee": "chuyenvien"})
    world.act(code, "approve", "approver")
    world.set_clock("2026-04-10T09:00:00+07:00")
    answer = world.client.get("/api/v1/stats/ranking", params={"from": "2026-01-01", "to": "2026-04-10"},
                              headers=world.as_("admin")).json()
    api, previous = answer["rows"], answer["previous"]
    assert len(api) >= 2 and api[0]["rank"] == 1
    sign_in(world.client, "admin", "Admin@123456", "/thong-ke")
    page = world.client.get("/thong-ke?nam=2026").text
    table = page[page.index('<table class="numbers ranking"'):]
    table = table[:table.index("</table>")]
    shown = re.findall(r'<tr><td>([^<]+)</td>\s*<th scope="row">[^<]*<span class="code">([^<]+)</span>', table)
    assert shown == [(str(r["rank"]) if r["rank"] is not None else "—", r["agency_code"]) for r in api]
    since = "/".join(reversed(previous["from"].split("-"))) + " – " + "/".join(reversed(previous["to"].split("-")))
    assert "Xếp hạng các cơ quan theo Bộ chỉ số" in page and f"So với kỳ trước: {since}" in page
    world.client.cookies.clear()
    sign_in(world.client, "tiepnhan", next_path="/thong-ke")
    staff = world.client.get("/thong-ke?nam=2026").text
    staff_table = staff[staff.index('<table class="numbers ranking"'):staff.index("</table>", staff.index(
        '<table class="numbers ranking"'))]
    assert staff_table.count('<th scope="row">') == 1


def test_docs_and_redoc_load_nothing_from_another_host(client: TestClient) -> None:
    for path in ("/docs", "/redoc"):
        html = client.get(path).text
        assets = re.findall(r'(?:src|href)=["\']([^"\']+)', html) + re.findall(r"url: '([^']+)'", html)
        assert assets and all(a.startswith("/") for a in assets), assets
        for asset in assets:
            assert client.get(asset).status_code == 200, asset


def test_every_page_declares_vietnamese_and_a_phone_viewport(client: TestClient) -> None:
    for path in ("/", "/tra-cuu", "/dang-nhap"):
        html = client.get(path).text
        assert '<html lang="vi">' in html and 'name="viewport"' in html
        assert path == "/" or "<label" in html
