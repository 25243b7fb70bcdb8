"""Response examples for the OpenAPI document, recorded from the real app on the demo data.

``python -m service.api_examples`` migrates a scratch SQLite database, loads the demo (a commune of Quảng Ninh,
its desk, two citizens), walks one dossier through its life and calls the main reads (dossier, lists, worklist,
events, subscriptions, statistics) and a few failing calls, and writes what the app answered to
``openapi/examples.json``: per response schema, one body; per error status, one ``problem+json`` body.
:mod:`service.apidoc` attaches them to every response of that schema or status. Being answers of the app
itself, the examples cannot drift from the schemas (``tests/test_openapi.py`` validates each one); run this
again after changing a response shape, then ``python -m service.openapi``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

EXAMPLES_PATH = Path(__file__).resolve().parent.parent / "openapi" / "examples.json"
ROOT = EXAMPLES_PATH.parent.parent
NOW = "2026-03-02T08:00:00+07:00"
PROCEDURE = "1.001612.000.00.00.H49"
RECEIVER = "https://motcua.tienyen.quangninh.gov.vn/webhooks/su-kien"
APPLICANT = {"national_id": "022090001234", "full_name": "Lê Văn Hùng", "phone": "0912345678",
             "address": "Khu phố 2, thị trấn Tiên Yên, tỉnh Quảng Ninh"}


def load() -> dict[str, Any]:
    """The recorded examples (empty when the file is missing)."""
    if not EXAMPLES_PATH.exists():
        return {"schemas": {}, "problems": {}}
    return json.loads(EXAMPLES_PATH.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def record() -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from service.main import create_app
    from service.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/examples.db"
        env = {**os.environ, "MOTCUA_DATABASE_URL": url, "MOTCUA_ENV": "dev", "MOTCUA_SIMULATION": "true"}
        for command in (["alembic", "upgrade", "head"], ["service.cli", "demo"]):
            subprocess.run([sys.executable, "-m", *command], cwd=ROOT, env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        settings = Settings(env="dev", simulation=True, database_url=url, secret_key="examples-" + "x" * 40,
                            ca_key_passphrase="examples-passphrase-0123456789", upload_dir=f"{tmp}/uploads",
                            webhook_allow_private=True)
        with TestClient(create_app(settings)) as client:
            return _walk(client)


def _walk(client: Any) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    problems: dict[str, Any] = {}

    def sign_in(username: str, password: str = "Demo@123456") -> dict[str, str]:
        answer = client.post("/api/v1/auth/login", json={"username": username, "password": password})
        schemas.setdefault("TokenOut", answer.json())
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def keep(name: str, answer: Any, status: int = 200) -> Any:
        assert answer.status_code == status, (name, answer.status_code, answer.text)
        schemas[name] = answer.json()
        return answer.json()

    def problem(answer: Any, status: int) -> None:
        assert answer.status_code == status, (status, answer.status_code, answer.text)
        body = answer.json()
        body.pop("request_id", None)  # a request's own id: nothing an example should fix
        problems[str(status)] = body

    admin, desk = sign_in("admin", "Admin@123456"), sign_in("tiepnhan")
    processor, approver, citizen = sign_in("chuyenvien"), sign_in("lanhdao"), sign_in("022090001234")
    client.put("/api/v1/sim/clock", json={"now": NOW}, headers=admin)
    body = {"procedure_code": PROCEDURE, "channel": "counter", "result_delivery": "counter", "applicant": APPLICANT,
            "documents": [{"code": "TP01"}]}
    created = keep("DossierCreated", client.post("/api/v1/dossiers", json=body, headers=desk), 201)
    code = created["code"]
    subscribed = keep("SubscriptionOut", client.post("/api/v1/subscriptions", headers=admin, json={
        "url": "http://127.0.0.1:9/hooks/mot-cua", "secret": "bi-mat-webhook-0123456789abcdef"}), 201)
    subscribed["url"] = RECEIVER  # recorded against a loopback address (no DNS here), shown with a real-looking one
    client.post(f"/api/v1/dossiers/{code}/actions/assign", json={"assignee": "chuyenvien"}, headers=desk)
    keep("DossierOut", client.get(f"/api/v1/dossiers/{code}", headers=processor))
    problem(client.post(f"/api/v1/dossiers/{code}/actions/receive", json={}, headers=desk), 409)
    problem(client.post(f"/api/v1/dossiers/{code}/actions/approve", json={}, headers={**approver,
                                                                                      "If-Match": '"1"'}), 412)
    client.post(f"/api/v1/dossiers/{code}/actions/approve", json={}, headers=approver)
    client.put("/api/v1/sim/clock", json={"now": "2026-03-04T09:30:00+07:00"}, headers=admin)
    second = client.post("/api/v1/dossiers", json=body, headers=desk).json()["code"]
    client.post(f"/api/v1/dossiers/{second}/actions/assign", json={"assignee": "chuyenvien"}, headers=desk)
    page = keep("Page_DossierOut_", client.get("/api/v1/dossiers", params={"limit": 2}, headers=desk))
    page["items"] = page["items"][:1]
    keep("WorklistOut", client.get("/api/v1/worklist", params={"limit": 2}, headers=desk))
    events = keep("EventPage", client.get("/api/v1/events", params={"limit": 2}, headers=desk))
    assert events["items"]
    schemas["HistoryEntry"] = client.get(f"/api/v1/dossiers/{code}/history", headers=desk).json()[:2]
    keep("PublicDossier", client.get(f"/api/v1/public/dossiers/{code}",
                                     params={"secret": created["tracking_secret"]}))
    period = {"from": "2026-03-01", "to": "2026-03-31"}
    keep("ProcessingReportOut", client.get("/api/v1/stats/processing", params=period, headers=admin))
    keep("ServiceIndexOut", client.get("/api/v1/stats/index", params=period, headers=admin))
    keep("RankingOut", client.get("/api/v1/stats/ranking", params=period, headers=admin))
    keep("PostalStatsOut", client.get("/api/v1/stats/postal", params=period, headers=admin))
    keep("DeliveryPage", client.get(f"/api/v1/subscriptions/{subscribed['id']}/deliveries", params={"limit": 2},
                                    headers=admin))
    schemas["PaperOut"] = client.get(f"/api/v1/dossiers/{code}/documents", headers=desk).json()
    schemas["NotificationOut"] = client.get(f"/api/v1/dossiers/{code}/notifications", headers=desk).json()[:2]
    keep("ChainCheck", client.get(f"/api/v1/dossiers/{code}/history/verify", headers=desk))
    keep("AgencyOut", client.get("/api/v1/agencies/000.00.61.H49", headers=desk))
    agencies = keep("Page_AgencyOut_", client.get("/api/v1/agencies", params={"limit": 2}, headers=desk))
    agencies["items"] = agencies["items"][:2]
    keep("ProcedureOut", client.get(f"/api/v1/procedures/{PROCEDURE}"))
    procedures = keep("Page_ProcedureOut_", client.get("/api/v1/procedures", params={"limit": 1}))
    procedures["items"] = procedures["items"][:1]
    keep("UserOut", client.get("/api/v1/auth/me", headers=desk))
    keep("ClockOut", client.get("/api/v1/sim/clock"))
    keep("Health", client.get("/health"))
    keep("DueDateOut", client.get("/api/v1/calendar/due-date",
                                  params={"start": NOW, "value": 3, "unit": "working_days"}))
    schemas["CalendarDayOut"] = client.get("/api/v1/calendar/days",
                                           params={"from": "2026-04-30", "to": "2026-05-02"}).json()
    _walk_papers_and_results(client, keep, schemas, code=code, second=second, desk=desk, citizen=citizen)
    keep("RuleSetOut", client.get("/api/v1/rules", params={"on": "2025-07-01"}))
    users = keep("Page_UserOut_", client.get("/api/v1/users", params={"limit": 2}, headers=admin))
    users["items"] = users["items"][:2]
    certificates = keep("Page_CertificateOut_", client.get("/api/v1/pki/certificates", params={"limit": 2},
                                                           headers=admin))
    certificates["items"] = certificates["items"][:2]
    schemas["CertificateOut"] = certificates["items"][0]
    keep("OverrideOut", client.put("/api/v1/calendar/overrides/2026-04-25", headers=admin, json={
        "kind": "workday", "name": "Làm bù ngày nghỉ 30/4",
        "legal_basis": "Thông báo của Bộ Nội vụ về lịch nghỉ lễ năm 2026 (ví dụ)"}))
    problem(client.get("/api/v1/dossiers"), 401)
    problem(client.get("/api/v1/stats/processing", params=period, headers=citizen), 403)
    problem(client.get("/api/v1/dossiers/000.00.61.H49-260302-9999", headers=desk), 404)
    problem(client.post("/api/v1/dossiers", json={**body, "channel": "fax"}, headers=desk), 422)
    for _ in range(6):  # the sign-in limit per username (the sixth failure in a row is refused)
        answer = client.post("/api/v1/auth/login", json={"username": "chuyenvien.stp", "password": "sai-mat-khau"})
    problem(answer, 429)
    return {"schemas": dict(sorted(schemas.items())), "problems": dict(sorted(problems.items()))}


def _walk_papers_and_results(client: Any, keep: Any, schemas: dict[str, Any], *, code: str, second: str,
                             desk: dict[str, str], citizen: dict[str, str]) -> None:
    """The approved dossier's result, its signed forms and their verification, a paper uploaded to the second
    dossier, and the applicant's rating once the result was handed over."""
    keep("ResultOut", client.get(f"/api/v1/dossiers/{code}/result", headers=desk))
    schemas["FormOut"] = client.get(f"/api/v1/dossiers/{code}/forms", headers=desk).json()[:2]
    signed = client.get(f"/api/v1/dossiers/{code}/result/document", headers=desk)
    keep("VerificationOut", client.post("/api/v1/signatures/verify",
                                        files={"file": ("ket-qua.pdf", signed.content, "application/pdf")}))
    paper = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    keep("DocumentOut", client.put(f"/api/v1/dossiers/{second}/documents/TP01", headers=desk,
                                   files={"file": ("Giấy đề nghị đăng ký.pdf", paper, "application/pdf")}))
    client.post(f"/api/v1/dossiers/{code}/actions/return_result", json={}, headers=desk)
    keep("RatingOut", client.post(f"/api/v1/dossiers/{code}/rating", headers=citizen, json={
        "satisfied": True, "comment": "Cán bộ hướng dẫn tận tình, trả kết quả đúng hẹn."}), 201)


def main() -> int:
    EXAMPLES_PATH.write_text(json.dumps(record(), indent=2, ensure_ascii=False, sort_keys=True) + "\n",
                             encoding="utf-8")
    print(f"wrote {EXAMPLES_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
