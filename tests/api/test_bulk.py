"""The bulk generator writes what the API would: each generated dossier's notices are those its history calls
for (Decree 61/2018 Arts. 16–20), one copy per channel, and they are read through the API like any other."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from fastapi.testclient import TestClient
from sqlmodel import Session

from service import bulk
from service.models import User
from tests.conftest import ADMIN, bearer

# The notice each action sends the applicant (service.domain.lifecycle.decide), written out here by hand.
NOTICE_OF_ACTION = {
    "receive": "Giấy tiếp nhận hồ sơ và hẹn trả kết quả (Mẫu 01)",
    "reject": "Phiếu từ chối tiếp nhận hồ sơ (Mẫu 03)",
    "request_payment": "Thông báo thực hiện nghĩa vụ tài chính",
    "refuse": "Thông báo từ chối giải quyết hồ sơ",
    "extend": "Phiếu xin lỗi và hẹn lại ngày trả kết quả",
    "request_supplement": "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (Mẫu 02)",
    "approve": "Hồ sơ đã có kết quả",
}
EMAIL = "cong.dan.bulk@example.vn"


def test_generated_dossiers_carry_the_notices_their_history_calls_for(client: TestClient) -> None:
    database = client.app.state.context.db  # type: ignore[attr-defined]
    with Session(database.engine) as session:  # an online applicant whose account has an e-mail address
        session.add(User(username="022095000777", password_hash="x", full_name="Trần Thị Mai", role="citizen",
                         national_id="022095000777", identity_verified=True, email=EMAIL,
                         created_at=datetime(2025, 1, 1, tzinfo=UTC)))
        session.commit()
    until = datetime.fromisoformat("2025-04-01T00:00:00+07:00")
    result = bulk.generate(database, 300, first=date(2025, 1, 1), last=date(2025, 2, 28), until=until, seed=11,
                           batch_size=100)
    assert result.notifications > result.dossiers  # a receipt for nearly every dossier, and more
    admin = bearer(client, *ADMIN)
    assert client.put("/api/v1/sim/clock", json={"now": "2025-04-02T10:00:00+07:00"},
                      headers=admin).status_code == 200

    items = client.get("/api/v1/dossiers", params={"limit": 200}, headers=admin).json()["items"]
    assert len(items) == 200
    seen_channels: Counter[str] = Counter()
    for item in items:
        code = item["code"]
        dossier = client.get(f"/api/v1/dossiers/{code}", headers=admin).json()
        history = client.get(f"/api/v1/dossiers/{code}/history", headers=admin).json()
        actions = [row["action"] for row in (history["entries"] if isinstance(history, dict) else history)]
        notices = client.get(f"/api/v1/dossiers/{code}/notifications", headers=admin).json()
        expected_subjects = [NOTICE_OF_ACTION[a] for a in actions if a in NOTICE_OF_ACTION]
        channels = []
        if dossier["applicant"].get("phone"):
            channels.append("sms")
        if dossier["applicant"]["national_id"] == "022095000777":
            channels.append("email")
        channels = channels or ["portal"]
        assert sorted(n["subject"] for n in notices) == sorted(s for s in expected_subjects for _ in channels), code
        assert Counter(n["channel"] for n in notices) == Counter(
            c for _ in expected_subjects for c in channels), code
        for notice in notices:
            assert code in notice["body"]
            if notice["channel"] == "sms":
                assert notice["recipient"] == dossier["applicant"]["phone"]
            elif notice["channel"] == "email":
                assert notice["recipient"] == EMAIL
        seen_channels.update(n["channel"] for n in notices)
    assert seen_channels["sms"] and seen_channels["portal"]


def test_generated_dossiers_are_found_by_search_like_the_apis(client: TestClient) -> None:
    """The generator writes the search keys persist decides: a piece of a name or code finds its dossiers."""
    from service.domain.names import fold_name

    database = client.app.state.context.db  # type: ignore[attr-defined]
    until = datetime.fromisoformat("2025-04-01T00:00:00+07:00")
    bulk.generate(database, 120, first=date(2025, 1, 1), last=date(2025, 2, 28), until=until, seed=5,
                  batch_size=50)
    admin = bearer(client, *ADMIN)
    items = client.get("/api/v1/dossiers", params={"limit": 200}, headers=admin).json()["items"]
    for item in items[::10]:
        dossier = client.get(f"/api/v1/dossiers/{item['code']}", headers=admin).json()
        name = fold_name(dossier["applicant"]["full_name"])
        for q in (name, name.split(" ", 1)[1], item["code"][-8:]):
            listed = client.get("/api/v1/dossiers", params={"q": q, "limit": 200}, headers=admin).json()["items"]
            codes = {d["code"] for d in listed}
            assert item["code"] in codes, q
            everyone = {d["code"] for d in items
                        if q in fold_name(d["applicant"]["full_name"]) or q.upper() in d["code"]}
            assert codes == everyone, q
