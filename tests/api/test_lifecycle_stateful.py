"""A Hypothesis state machine that drives random action sequences through the API (issue 4 §10).

Random actors (including wrong roles, other agencies and other citizens), random bodies (sometimes incomplete)
and random advances of the simulated clock. After every step the API must agree with a small model of the
contract, and these invariants must hold for every dossier:

* terminal states absorb (rejected, refused, withdrawn, returned never change again);
* ``finished_at ≥ received_at``;
* the control slip verifies, has one row per successful transition, and ends in the current status;
* timeliness agrees with ``due_at``: late iff ``finished_at > due_at``, early iff an earlier local date;
* ``national_status_code`` is the contract's table; ``overdue`` follows the contract's definition;
* a refused request changes nothing, and no response is ever a 5xx.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.builders import CITIZEN_ID, COMMUNE, OTHER_CITIZEN_ID, World, build_world, procedure_body

VN = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2026, 3, 2, 8, 0, tzinfo=VN)
LEVEL4 = "1.001193.000.00.00.H49"  # from build_world: level 4, restart policy, 3 working days, postal allowed
LEVEL3 = "1.000013.000.00.61.H49"  # level 3, pause policy, 10 working days, postal allowed

# The contract's tables, written out independently of the implementation.
NATIONAL = {
    "submitted": 1,
    "received": 2,
    "rejected": 3,
    "processing": 4,
    "awaiting_supplement": 5,
    "awaiting_payment": 6,
    "refused": 8,
    "withdrawn": 8,
    "result_ready": 9,
    "in_transit": 9,
    "returned": 10,
}
TERMINAL = {"rejected", "refused", "withdrawn", "returned"}
OPEN = {"submitted", "received", "processing", "awaiting_supplement", "awaiting_payment"}
TABLE: dict[str, tuple[set[str], str | None, set[str]]] = {
    "receive": ({"submitted"}, "received", {"receiver"}),
    "reject": ({"submitted"}, "rejected", {"receiver"}),
    "assign": ({"received"}, "processing", {"receiver"}),
    "request_supplement": ({"processing"}, "awaiting_supplement", {"processor"}),
    "supplement": ({"awaiting_supplement"}, "processing", {"citizen", "receiver"}),
    "request_payment": ({"processing"}, "awaiting_payment", {"processor"}),
    "pay": ({"awaiting_payment"}, "processing", {"citizen", "receiver"}),
    "extend": ({"processing"}, None, {"approver"}),
    "approve": ({"processing"}, "result_ready", {"approver"}),
    "refuse": ({"processing"}, "refused", {"approver"}),
    "withdraw": (OPEN, "withdrawn", {"citizen", "receiver"}),
    "return_result": ({"result_ready"}, "returned", {"receiver"}),
    "dispatch_postal": ({"result_ready"}, "in_transit", {"receiver"}),
    "confirm_delivery": ({"in_transit"}, "returned", {"receiver"}),
    "delivery_failed": ({"in_transit"}, "result_ready", {"receiver"}),
}
ROLE = {
    "citizen": "citizen",
    "other_citizen": "citizen",
    "receiver": "receiver",
    "processor": "processor",
    "approver": "approver",
    "admin": "admin",
    "receiver.ql": "receiver",
    "approver.ql": "approver",
}
ACTORS = sorted(ROLE)


def instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


@dataclass
class Model:
    code: str
    owner: str  # the citizen account that is the applicant
    level: int
    delivery: str
    status: str
    events: int
    extended: bool = False
    due_at: str | None = None


def good_body(action: str, model: Model, days: int) -> dict[str, Any]:
    if action in ("reject", "refuse"):
        return {"reason": "Không đủ điều kiện theo quy định."}
    if action == "assign":
        return {"assignee": "chuyenvien"}
    if action == "request_supplement":
        return {"reason": "Thiếu giấy chứng sinh.", "missing_documents": ["TP02"]}
    if action == "request_payment":
        return {"amount_vnd": 25_000}
    if action == "extend":
        due = instant(model.due_at) or START
        new_due = (due.astimezone(VN) + timedelta(days=days)).replace(
            hour=16, minute=0, second=0, microsecond=0
        )
        return {"new_due_at": new_due.isoformat(), "reason": "Cần xác minh thêm tại địa phương."}
    return {}


class DossierMachine(RuleBasedStateMachine):
    world: ClassVar[World]
    dossiers = Bundle("dossiers")

    def __init__(self) -> None:
        super().__init__()
        self.models: dict[str, Model] = {}
        self.now = START

    # -- helpers ---------------------------------------------------------------------------------------------

    @property
    def client(self) -> TestClient:
        return self.world.client

    def call(self, method: str, path: str, who: str | None, **kwargs: Any) -> Any:
        headers = self.world.as_(who) if who else {}
        response = self.client.request(method, f"/api/v1{path}", headers=headers, **kwargs)
        assert response.status_code < 500, f"{method} {path} as {who}: {response.status_code} {response.text}"
        return response

    def visible(self, model: Model, actor: str) -> bool:
        if ROLE[actor] == "citizen":
            return actor == model.owner
        return actor == "admin" or not actor.endswith(".ql")

    def set_clock(self, moment: datetime) -> None:
        response = self.call("PUT", "/sim/clock", "admin", json={"now": moment.isoformat()})
        assert response.status_code == 200, response.text
        self.now = moment

    def slip(self, code: str) -> list[dict[str, Any]]:
        response = self.call("GET", f"/dossiers/{code}/history", "admin")
        assert response.status_code == 200
        return response.json()  # type: ignore[no-any-return]

    # -- rules -----------------------------------------------------------------------------------------------

    @initialize()
    def start(self) -> None:
        self.set_clock(START)

    @precondition(lambda self: len(self.models) < 3)
    @rule(
        target=dossiers,
        channel=st.sampled_from(["online", "online-other", "counter", "postal"]),
        level=st.sampled_from([4, 3]),
        delivery=st.sampled_from(["counter", "postal", "online"]),
    )
    def submit(self, channel: str, level: int, delivery: str) -> str:
        if delivery == "online" and level < 4:
            delivery = "counter"
        body: dict[str, Any] = {
            "procedure_code": LEVEL4 if level == 4 else LEVEL3,
            "channel": "online" if channel.startswith("online") else channel,
            "result_delivery": delivery,
            "documents": [{"code": "TP01"}, {"code": "TP02"}],
        }
        if delivery == "postal":
            body["delivery_address"] = "Số 1 đường Trần Phú, xã Tiên Yên, Quảng Ninh"
        who, owner = {
            "online": ("citizen", "citizen"),
            "online-other": ("other_citizen", "other_citizen"),
        }.get(channel, ("receiver", "citizen"))
        if who == "receiver":
            body["applicant"] = {"national_id": CITIZEN_ID, "full_name": "Lê Văn Hùng"}
        response = self.call("POST", "/dossiers", who, json=body)
        assert response.status_code == 201, response.text
        created = response.json()
        expected = "submitted" if body["channel"] == "online" else "received"
        assert created["status"] == expected
        assert created["applicant"]["national_id"] == (
            OTHER_CITIZEN_ID if owner == "other_citizen" else CITIZEN_ID
        )
        self.models[created["code"]] = Model(
            created["code"],
            owner,
            level,
            delivery,
            expected,
            events=1 if expected == "submitted" else 2,
            due_at=created["due_at"],
        )
        return created["code"]  # type: ignore[no-any-return]

    @rule(
        code=dossiers,
        action=st.sampled_from(sorted(TABLE)),
        actor=st.sampled_from(ACTORS),
        complete=st.sampled_from([True, True, True, False]),
        days=st.integers(min_value=1, max_value=12),
    )
    def act(self, code: str, action: str, actor: str, complete: bool, days: int) -> None:
        """Any action by anyone: mostly refused, which is the point (404, 403, 409, in that order)."""
        self.attempt(code, action, actor, complete, days)

    @rule(
        code=dossiers,
        picks=st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=4),
        complete=st.sampled_from([True] * 5 + [False]),
        days=st.integers(min_value=1, max_value=12),
    )
    def progress(self, code: str, picks: list[int], complete: bool, days: int) -> None:
        """A few actions the current status allows, each by an actor of a role that may do it: moves the
        dossier along its life (dead ends — withdraw, reject, refuse — only a quarter of the time)."""
        for pick in picks:
            model = self.models[code]
            moves = [
                (action, actor)
                for action, (sources, _, roles) in sorted(TABLE.items())
                if model.status in sources
                for actor in ("receiver", "processor", "approver", model.owner)
                if ROLE[actor] in roles
            ]
            forward = [m for m in moves if m[0] not in ("withdraw", "reject", "refuse")]
            if forward and pick % 4:
                moves = forward
            if moves:
                self.attempt(code, *moves[(pick // 4) % len(moves)], complete, days)

    def attempt(self, code: str, action: str, actor: str, complete: bool, days: int) -> None:
        model = self.models[code]
        body = good_body(action, model, days) if complete else {}
        before = self.call("GET", f"/dossiers/{code}", "admin").json()
        response = self.call("POST", f"/dossiers/{code}/actions/{action}", actor, json=body)
        status, answer = response.status_code, response.json()
        sources, target, roles = TABLE[action]

        if not self.visible(model, actor):
            assert status == 404, (actor, action, answer)
        elif ROLE[actor] not in roles:
            assert (status, answer["code"]) == (403, "FORBIDDEN_ROLE"), (actor, action, answer)
        elif model.status not in sources:
            assert (status, answer["code"]) == (409, "INVALID_TRANSITION"), (
                actor,
                action,
                model.status,
                answer,
            )
        else:
            allowed = self.allowed_outcomes(model, action, actor, body, complete)
            outcome = status if status == 200 else (status, answer["code"])
            assert outcome in allowed, (actor, action, model.status, body, answer, allowed)

        after = self.call("GET", f"/dossiers/{code}", "admin").json()
        if status == 200:
            assert answer["status"] == (target or model.status)
            assert answer == after
            assert after["version"] == before["version"] + 1
            model.status, model.events, model.due_at = after["status"], model.events + 1, after["due_at"]
            model.extended = model.extended or action == "extend"
            if action == "delivery_failed":  # the applicant now collects at the counter
                assert after["result_delivery"] == "counter"
            model.delivery = after["result_delivery"]
            rows = self.slip(code)
            assert rows[-1]["action"] == action and rows[-1]["to_status"] == model.status
            assert rows[-1]["at"] == self.now.isoformat()
        else:
            # A refused request changes nothing at all.
            assert after == before, (actor, action, answer)
        assert len(self.slip(code)) == model.events
        verify = self.call("GET", f"/dossiers/{code}/history/verify", "admin").json()
        assert verify == {"valid": True, "entries": model.events}

    def allowed_outcomes(
        self, model: Model, action: str, actor: str, body: dict[str, Any], complete: bool
    ) -> set[Any]:
        needs_body = action in (
            "reject",
            "refuse",
            "assign",
            "request_supplement",
            "request_payment",
            "extend",
        )
        if action == "pay" and ROLE[actor] == "citizen" and model.level < 4:
            return {(409, "ONLINE_PAYMENT_NOT_OFFERED")}
        if action == "extend" and model.extended:
            return {(409, "ALREADY_EXTENDED")}
        if action == "return_result" and model.delivery == "postal":
            return {(409, "INVALID_TRANSITION")}
        if action == "dispatch_postal" and model.delivery != "postal":
            return {(409, "INVALID_TRANSITION")}
        allowed: set[Any] = set()
        if action == "request_supplement":
            allowed.add((409, "SUPPLEMENT_WINDOW_CLOSED"))
        if action == "extend":
            allowed.add((409, "EXTENSION_TOO_LATE"))
            if complete:
                allowed.add((422, "EXTENSION_DATE_INVALID"))  # the drawn date may fall on a day off
        if needs_body and not complete:
            return allowed | {(422, "FIELD_REQUIRED")}
        if action in ("dispatch_postal", "confirm_delivery", "delivery_failed"):
            allowed.add((422, "VALIDATION_ERROR"))  # the postal engineer's shipment rules may ask for more
        return allowed | {200}

    @rule(code=dossiers, actor=st.sampled_from(ACTORS))
    def read(self, code: str, actor: str) -> None:
        response = self.call("GET", f"/dossiers/{code}", actor)
        assert response.status_code == (200 if self.visible(self.models[code], actor) else 404)

    @rule(
        step=st.sampled_from(
            [
                timedelta(minutes=5),
                timedelta(hours=1),
                timedelta(hours=4),
                timedelta(days=1),
                timedelta(days=3),
                timedelta(days=8),
            ]
        )
    )
    def advance_clock(self, step: timedelta) -> None:
        self.set_clock(self.now + step)

    # -- invariants ------------------------------------------------------------------------------------------

    @invariant()
    def every_dossier_agrees_with_the_contract(self) -> None:
        if not self.models:
            return
        listed = self.call("GET", "/dossiers", "admin", params={"limit": 200}).json()["items"]
        views = {d["code"]: d for d in listed if d["code"] in self.models}
        assert set(views) == set(self.models)
        for code, view in views.items():
            model = self.models[code]
            assert view["status"] == model.status  # terminal states absorb: the model never leaves them
            assert view["national_status_code"] == NATIONAL[view["status"]]
            received, due = instant(view["received_at"]), instant(view["due_at"])
            finished = instant(view["finished_at"])
            if view["status"] in ("submitted", "rejected") or (
                view["status"] == "withdrawn" and received is None
            ):
                assert received is None and due is None
            else:
                assert received is not None and due is not None
            if finished is not None:
                assert received is not None and finished >= received
                assert due is not None
                late = finished > due
                assert (view["timeliness"] == "late") is late
                if not late:
                    early = finished.astimezone(VN).date() < due.astimezone(VN).date()
                    assert view["timeliness"] == ("early" if early else "on_time")
                assert view["overdue"] is late
            else:
                assert view["timeliness"] is None
                running = view["status"] in ("received", "processing")
                assert view["overdue"] is (running and due is not None and self.now > due)
            if view["status"] in ("result_ready", "in_transit", "returned", "refused"):
                assert finished is not None
            if view["status"] == "returned":
                assert view["returned_at"] is not None
            if view["original_due_at"] is not None:
                assert view["extension_count"] == 1 and due is not None
                if view["supplement_count"] == 0:
                    # A supplement under the restart policy recomputes the deadline from zero (Decree 61/2018
                    # Art. 19(4)), which may land before the pre-extension date; otherwise it only moves later.
                    assert due > instant(view["original_due_at"])  # type: ignore[operator]


def test_random_action_sequences_keep_the_invariants(client: TestClient) -> None:
    world = build_world(client, now=START.isoformat())
    body = procedure_body(
        LEVEL3,
        agency_code=COMMUNE,
        service_level=3,
        supplement_policy="pause",
        processing_time={"value": 10, "unit": "working_days"},
    )
    assert client.post("/api/v1/procedures", json=body, headers=world.as_("admin")).status_code == 201
    DossierMachine.world = world
    run_state_machine_as_test(
        DossierMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
