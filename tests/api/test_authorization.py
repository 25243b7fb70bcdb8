"""Who may see and act on which dossier (issue 4 §4), and the contract's order of checks.

Citizens see and act only on their own dossiers, staff only on their agency's; anything else is a 404 that
looks exactly like an unknown code. Checks run in this order: token 401, visibility 404, role 403, state 409,
version 412, body 422.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.builders import OTHER_CITIZEN_ID, OTHER_COMMUNE, World, build_world

OTHER_PROC = "1.001193.000.00.62.H49"
PDF = b"%PDF-1.7\n%%EOF\n"


@pytest.fixture
def world(client: TestClient) -> World:
    return build_world(client)


def api(world: World, method: str, path: str, who: str | None, **kwargs: Any) -> Any:
    headers = {**(world.as_(who) if who else {}), **kwargs.pop("headers", {})}
    return world.client.request(method, f"/api/v1{path}", headers=headers, **kwargs)


def reads(code: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("GET", f"/dossiers/{code}", {}),
        ("GET", f"/dossiers/{code}/history", {}),
        ("GET", f"/dossiers/{code}/history/verify", {}),
    ]


def writes(code: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("POST", f"/dossiers/{code}/actions/withdraw", {"json": {}}),
        ("POST", f"/dossiers/{code}/actions/assign", {"json": {"assignee": "chuyenvien"}}),
        ("PUT", f"/dossiers/{code}/documents/TP01", {"files": {"file": ("a.pdf", PDF, "application/pdf")}}),
    ]


def assert_hidden(world: World, code: str, who: str) -> None:
    """Every route answers for ``code`` exactly as for a code that does not exist."""
    for (method, path, kwargs), (_, ghost_path, ghost_kwargs) in zip(
        reads(code) + writes(code),
        reads("000.00.61.H49-260302-9999") + writes("000.00.61.H49-260302-9999"),
        strict=True,
    ):
        seen, ghost = (
            api(world, method, path, who, **kwargs),
            api(world, method, ghost_path, who, **ghost_kwargs),
        )
        assert seen.status_code == ghost.status_code == 404, (who, method, path, seen.text)
        assert seen.json()["code"] == ghost.json()["code"] == "DOSSIER_NOT_FOUND"
        assert seen.json()["detail"].replace(code, "X") == ghost.json()["detail"].replace(
            "000.00.61.H49-260302-9999", "X"
        )


def test_citizen_sees_only_their_own_dossiers(world: World) -> None:
    own_online = world.submit("citizen", channel="online", applicant=None)["code"]
    own_counter = world.submit()["code"]  # lodged at the desk, linked to the citizen by national id
    theirs = world.submit("other_citizen", channel="online", applicant=None)["code"]
    for code in (own_online, own_counter):
        assert api(world, "GET", f"/dossiers/{code}", "citizen").status_code == 200
    assert_hidden(world, theirs, "citizen")
    assert_hidden(world, own_online, "other_citizen")
    listed = api(world, "GET", "/dossiers", "citizen").json()["items"]
    assert {d["code"] for d in listed} == {own_online, own_counter}
    # Filtering by someone else's national id does not widen a citizen's view.
    filtered = api(world, "GET", "/dossiers", "citizen", params={"applicant_national_id": OTHER_CITIZEN_ID})
    assert {d["code"] for d in filtered.json()["items"]} <= {own_online, own_counter}


def test_staff_see_only_their_agency(world: World) -> None:
    here = world.submit()["code"]
    there = world.submit("receiver.ql", procedure_code=OTHER_PROC)["code"]
    for who in ("receiver", "processor", "approver"):
        assert api(world, "GET", f"/dossiers/{here}", who).status_code == 200
        assert_hidden(world, there, who)
        assert {d["code"] for d in api(world, "GET", "/dossiers", who).json()["items"]} == {here}
        # Asking for another agency's list gives nothing rather than an error that confirms anything.
        other = api(world, "GET", "/dossiers", who, params={"agency_code": OTHER_COMMUNE}).json()
        assert other["items"] == []
    for who in ("receiver.ql", "processor.ql", "approver.ql"):
        assert_hidden(world, here, who)
    # The other desk cannot move this commune's dossier either: 404, and nothing changed.
    assert api(world, "GET", f"/dossiers/{here}", "receiver").json()["status"] == "received"


def test_admin_sees_everything_but_acts_on_nothing(world: World) -> None:
    here, there = world.submit()["code"], world.submit("receiver.ql", procedure_code=OTHER_PROC)["code"]
    assert {d["code"] for d in api(world, "GET", "/dossiers", "admin").json()["items"]} == {here, there}
    assert api(world, "GET", f"/dossiers/{there}/history/verify", "admin").json()["valid"] is True
    response = world.act(here, "assign", "admin", {"assignee": "chuyenvien"}, expect=403)
    assert response["code"] == "FORBIDDEN_ROLE"


def test_citizen_acts_only_as_applicant(world: World) -> None:
    code = world.submit("citizen", channel="online", applicant=None)["code"]
    # The applicant may withdraw but not receive their own dossier.
    assert world.act(code, "receive", "citizen", expect=403)["code"] == "FORBIDDEN_ROLE"
    assert world.act(code, "withdraw", "other_citizen", expect=404)["code"] == "DOSSIER_NOT_FOUND"
    assert world.act(code, "withdraw", "citizen")["status"] == "withdrawn"


def test_token_is_checked_first(world: World) -> None:
    code = world.submit()["code"]
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic YWRtaW46YWRtaW4="}):
        for method, path, kwargs in reads(code) + writes(code) + reads("nope") + [("GET", "/dossiers", {})]:
            response = api(world, method, path, None, headers=headers, **kwargs)
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["code"] == "UNAUTHORIZED"
            assert response.headers["WWW-Authenticate"] == "Bearer"


# Each step fixes one more problem of the same request; the answer is always the first remaining problem.
BAD_BODY: list[Any] = [{"assignee": 12, "bogus": True}, [1, 2, 3]]


@pytest.mark.parametrize("bad_body", BAD_BODY, ids=["bad-fields", "not-an-object"])
def test_checks_run_in_the_contract_order(world: World, bad_body: Any) -> None:
    code = world.submit()["code"]  # a counter dossier: received on the spot
    version = api(world, "GET", f"/dossiers/{code}", "receiver").headers["ETag"]
    stale = {"If-Match": '"999"'}

    def attempt(who: str | None, action: str, *, if_match: dict[str, str], body: Any) -> Any:
        return api(world, "POST", f"/dossiers/{code}/actions/{action}", who, headers=if_match, json=body)

    # 401: no token, although everything else is wrong too (invisible, wrong role, state, version, body).
    assert attempt(None, "approve", if_match=stale, body=bad_body).status_code == 401
    # 404: the other commune's approver cannot see the dossier.
    assert attempt("approver.ql", "approve", if_match=stale, body=bad_body).status_code == 404
    # 403: a processor of the agency sees it, but only approvers approve.
    response = attempt("processor", "approve", if_match=stale, body=bad_body)
    assert (response.status_code, response.json()["code"]) == (403, "FORBIDDEN_ROLE")
    # 409: an approver may approve, but not a dossier that is only received.
    response = attempt("approver", "approve", if_match=stale, body=bad_body)
    assert (response.status_code, response.json()["code"]) == (409, "INVALID_TRANSITION")
    # 412: assign is allowed now, but the version is stale.
    response = attempt("receiver", "assign", if_match=stale, body=bad_body)
    assert (response.status_code, response.json()["code"]) == (412, "VERSION_MISMATCH")
    # 422: right version, wrong body.
    response = attempt("receiver", "assign", if_match={"If-Match": version}, body=bad_body)
    assert (response.status_code, response.json()["code"]) == (422, "VALIDATION_ERROR")
    assert response.json()["errors"]
    # Nothing was applied by any of the refused attempts.
    view = api(world, "GET", f"/dossiers/{code}", "receiver")
    assert view.headers["ETag"] == version and view.json()["status"] == "received"
    ok = attempt("receiver", "assign", if_match={"If-Match": version}, body={"assignee": "chuyenvien"})
    assert ok.status_code == 200 and ok.json()["status"] == "processing"


def test_weak_and_listed_etags_are_accepted(world: World) -> None:
    code = world.submit()["code"]
    version = api(world, "GET", f"/dossiers/{code}", "receiver").json()["version"]
    tags = f'"{version + 5}", W/"{version}"'
    assert (
        world.act(code, "assign", "receiver", {"assignee": "chuyenvien"}, **{"If-Match": tags})["status"]
        == "processing"
    )
