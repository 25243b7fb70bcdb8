"""GET /dossiers?q=: code substring, the applicant's name without diacritics or case (đ/Đ too), the exact
national id; due ranges; sort by due date; visibility inside the query."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.builders import CITIZEN_ID, World, build_world


def found(world: World, who: str, **params: Any) -> list[str]:
    response = world.client.get("/api/v1/dossiers", params={"limit": 200, **params}, headers=world.as_(who))
    assert response.status_code == 200, response.text
    return [item["code"] for item in response.json()["items"]]


def found_page_by_page(world: World, who: str, *, limit: int, **params: Any) -> list[str]:
    """The codes of every page, following each ``next_cursor`` until there is none."""
    codes: list[str] = []
    cursor = None
    while True:
        response = world.client.get("/api/v1/dossiers", headers=world.as_(who),
                                    params={**params, "limit": limit, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        codes += [item["code"] for item in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return codes


@pytest.fixture
def scene(client: TestClient) -> tuple[World, dict[str, str]]:
    world = build_world(client)
    s: dict[str, str] = {}
    s["hung"] = world.submit()["code"]  # Lê Văn Hùng, due Thu 05/03 08:00
    world.set_clock("2026-03-03T10:00:00+07:00")
    s["dang"] = world.submit(applicant={"national_id": "001190000777", "full_name": "Đặng Thị Ánh"})["code"]
    world.set_clock("2026-03-02T15:00:00+07:00")  # the clock may go back: received earlier, due earlier
    s["thuy"] = world.submit(applicant={"national_id": "001190000888", "full_name": "Trần Thị Thủy"})["code"]
    s["elsewhere"] = world.submit("receiver.ql", procedure_code="1.001193.000.00.62.H49")["code"]  # Lê Văn Hùng
    return world, s


def test_name_without_diacritics_or_case(scene: tuple[World, dict[str, str]]) -> None:
    world, s = scene
    assert found(world, "receiver", q="dang") == [s["dang"]]
    assert found(world, "receiver", q="ĐẶNG THỊ") == [s["dang"]]
    assert found(world, "receiver", q="  thi anh ") == [s["dang"]]
    assert found(world, "receiver", q="le van hung") == [s["hung"]]
    assert found(world, "receiver", q="thuy") == [s["thuy"]]
    assert found(world, "receiver", q="thị") == [s["dang"], s["thuy"]]  # newest received first
    assert found(world, "receiver", q="%") == []  # a wildcard is a character like any other


def test_code_substring_and_exact_national_id(scene: tuple[World, dict[str, str]]) -> None:
    world, s = scene
    assert found(world, "receiver", q=s["dang"][-11:].lower()) == [s["dang"]]
    assert found(world, "receiver", q=CITIZEN_ID) == [s["hung"]]
    assert found(world, "receiver", q=CITIZEN_ID[:-1]) == []  # national ids match exactly


def test_visibility_is_part_of_the_search(scene: tuple[World, dict[str, str]]) -> None:
    world, s = scene
    assert found(world, "receiver.ql", q="hung") == [s["elsewhere"]]
    assert found(world, "receiver", q="hung") == [s["hung"]]
    assert found(world, "other_citizen", q="hung") == []
    assert set(found(world, "admin", q="hung")) == {s["hung"], s["elsewhere"]}


def test_sort_by_due_date_and_due_ranges(scene: tuple[World, dict[str, str]]) -> None:
    world, s = scene
    # Due: hung Thu 05/03 08:00; thuy (received Mon 15:00) Thu 15:00; dang (Tue 10:00) Fri 06/03 10:00.
    assert found(world, "receiver", sort="due_at") == [s["hung"], s["thuy"], s["dang"]]
    assert found(world, "receiver") == [s["dang"], s["thuy"], s["hung"]]  # -received_at by default
    assert found(world, "receiver", sort="due_at", due_after="2026-03-05T12:00:00+07:00") == [s["thuy"], s["dang"]]
    assert found(world, "receiver", due_before="2026-03-05T12:00:00+07:00") == [s["hung"]]
    pages, cursor = [], None
    while True:
        params = {"sort": "due_at", "limit": 1, **({"cursor": cursor} if cursor else {})}
        response = world.client.get("/api/v1/dossiers", params=params, headers=world.as_("receiver"))
        pages += [item["code"] for item in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert pages == [s["hung"], s["thuy"], s["dang"]]


@pytest.mark.parametrize(("params", "code", "mentions"), [
    ({"q": "x" * 101}, "VALIDATION_ERROR", "q"),
    ({"sort": "name"}, "VALIDATION_ERROR", "due_at"),
    ({"due_before": "2026-03-05T12:00:00"}, "VALIDATION_ERROR", "due_before"),
])
def test_bad_search_input(scene: tuple[World, dict[str, str]], params: dict[str, str], code: str,
                          mentions: str) -> None:
    world, _ = scene
    response = world.client.get("/api/v1/dossiers", params=params, headers=world.as_("receiver"))
    assert response.status_code == 422, response.text
    body = response.json()
    # the field is named in errors[].loc (stable); the detail names it in Vietnamese or lists the accepted values
    assert body["code"] == code
    assert mentions in body["detail"] or any(mentions in e["loc"] for e in body["errors"])


def test_a_cursor_of_one_order_is_refused_in_another(scene: tuple[World, dict[str, str]]) -> None:
    world, _ = scene
    first = world.client.get("/api/v1/dossiers", params={"limit": 1, "sort": "due_at"}, headers=world.as_("receiver"))
    cursor = first.json()["next_cursor"]
    response = world.client.get("/api/v1/dossiers", params={"cursor": cursor}, headers=world.as_("receiver"))
    assert response.status_code == 422 and response.json()["code"] == "INVALID_CURSOR"


def test_pieces_inside_words_are_found(scene: tuple[World, dict[str, str]]) -> None:
    world, s = scene
    nhung = world.submit(applicant={"national_id": "001190000999", "full_name": "Phạm Thị Nhung"})["code"]
    assert found(world, "receiver", q="hung") == [nhung, s["hung"]]  # Nhung too: a piece, not a word
    assert found(world, "receiver", q="an hu") == [s["hung"]]  # from inside "van" to inside "hung"
    assert found(world, "receiver", q="ham thi nh") == [nhung]
    assert found(world, "receiver", q="thi nhung pham") == []  # the words, not in this order
    assert found(world, "receiver", q=nhung[-9:]) == [nhung]  # from inside the date to the number's end


QUERIES = ("hung", "an hu", "thi", "le van hung", "h", "0001", "-0001", "260302-", "H49-2603", "%", "x y z", "6")


def test_the_index_and_the_scan_give_the_same_answers(scene: tuple[World, dict[str, str]],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Searches the index narrows, and the same searches with the index declining (as for a common piece)."""
    from service.dossiers import search_index

    world, _ = scene
    world.submit(applicant={"national_id": "001190000999", "full_name": "Phạm Thị Nhung"})
    through_index = {(who, q): found(world, who, q=q) for who in ("receiver", "admin") for q in QUERIES}
    assert any(through_index.values())
    monkeypatch.setattr(search_index, "WORDS_MAX", -1)
    scanned = {(who, q): found(world, who, q=q) for who in ("receiver", "admin") for q in QUERIES}
    assert through_index == scanned


def test_a_dossier_received_later_moves_up_the_search(scene: tuple[World, dict[str, str]]) -> None:
    """Not yet received: listed after every received match; once received, the newest (the search index's rows
    carry the receipt instant, the list is read from them)."""
    world, s = scene
    world.set_clock("2026-03-04T09:00:00+07:00")
    online = world.submit("citizen", channel="online", applicant=None)["code"]  # the citizen is Lê Văn Hùng
    assert found(world, "receiver", q="le van hung") == [s["hung"], online]
    world.act(online, "receive", "receiver")
    assert found(world, "receiver", q="le van hung") == [online, s["hung"]]
    assert found(world, "receiver", q=online[-11:]) == [online]


@pytest.mark.parametrize("params", [{"q": "thi"}, {"q": "h"}, {"q": "260302-"}, {}, {"sort": "due_at"},
                                    {"q": "thi", "sort": "due_at"}, {"q": CITIZEN_ID}])
def test_pages_of_a_search_join_up_to_the_whole_list(scene: tuple[World, dict[str, str]],
                                                     params: dict[str, str]) -> None:
    """Page by page (a cursor each time), staff get the same dossiers in the same order as in one page."""
    world, _ = scene
    world.submit(applicant={"national_id": "001190000999", "full_name": "Phạm Thị Nhung"})
    world.submit("citizen", channel="online", applicant=None)  # not yet received: no receipt instant
    whole = found(world, "receiver", **params)
    assert whole
    assert found_page_by_page(world, "receiver", limit=1, **params) == whole


def test_a_name_holding_the_piece_several_times_is_listed_once(scene: tuple[World, dict[str, str]]) -> None:
    """"An Văn An" holds "an" three times (in "an", "van" and "an" again): one dossier in the answer, at its place
    in every page, however the pages are cut."""
    world, s = scene
    an = world.submit(applicant={"national_id": "001190000555", "full_name": "An Văn An"})["code"]
    world.set_clock("2026-03-05T09:00:00+07:00")
    newer = world.submit(applicant={"national_id": "001190000556", "full_name": "Võ Thanh Lan"})["code"]
    whole = found(world, "receiver", q="an")
    assert whole.count(an) == 1 and whole[0] == newer and {s["hung"], s["dang"]} <= set(whole)
    for limit in (1, 2, 3):
        assert found_page_by_page(world, "receiver", limit=limit, q="an") == whole
