"""The simulator's ledger: the dossier application layer's decisions, persisted in batches.

A year of a province is half a million dossiers and five million actions; persisting each through the ORM
(:func:`service.operations.dossiers.act`: a row object, a flush, a control-slip object, another flush…) costs
~10 ms an action, hours in all. The ledger keeps the open dossiers in memory and makes every decision with the
very functions the API's operations use:

* submission: :func:`~service.operations.dossiers.check_lodging` (channel, agency, procedure terms, postal
  hand-over record), :func:`~service.operations.dossiers.applicant_of`,
  :func:`~service.operations.dossiers.lodged_values`, the receipt on the spot by
  :func:`service.domain.lifecycle.start_clock`, the dossier code's daily sequence;
* actions: :func:`service.domain.lifecycle.authorize` and :func:`~service.domain.lifecycle.guard` (the same
  refusals: a supplement after the 3-working-day window, a second extension…), then
  :func:`~service.operations.dossiers.plan_action` (required fields, :func:`~service.domain.lifecycle.apply`
  with the agency's working calendar, the control-slip note and data, the applicant's notice);
* the postal hooks' decisions: :func:`service.operations.postal.plan_dispatch` and
  :func:`~service.operations.postal.conclude_shipment`, the carrier's draw
  :func:`~service.operations.postal.carrier_outcome` and its notes;
* the control slip: :func:`~service.operations.dossiers.event_content` hashed with
  :func:`service.domain.audit.entry_hash`, chained per dossier exactly as
  :func:`~service.operations.dossiers.record_event` chains it (``/history/verify`` says ``valid``).

Rows are then written with :mod:`service.tablewriter` (``executemany`` on SQLite, ``COPY`` on PostgreSQL) when
the simulator commits (:meth:`Ledger.flush`). ``tests/simulation/test_ledger.py`` drives the same requests
through :func:`~service.operations.dossiers.submit` / :func:`~service.operations.dossiers.act` and through the
ledger and compares every row. Other hooks attached to an action (result signing on ``approve``) run through
the ORM on the written row when they are not skipped (:meth:`Ledger.act`, write-through).
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from service import tablewriter
from service.domain import audit, lifecycle
from service.domain import postal as postal_rules
from service.domain.calendar import WorkingCalendar
from service.domain.lifecycle import SYSTEM_ROLE, Action, DossierState, Status
from service.domain.postal import EventKind, Origin, ServiceLevels, ShipmentStatus
from service.models import (
    Dossier,
    DossierDocument,
    DossierEvent,
    Notification,
    PostalEvent,
    Procedure,
    Rating,
    Shipment,
    User,
)
from service.operations import catalogue, postal, ratings
from service.operations import dossiers as ops
from service.operations.dossiers import ACTION_HOOKS, Notice, action_hooks_skipped_now
from service.schemas.dossiers import ActionIn, DossierIn
from service.timezone import to_local, utc_now

TABLE = {name: model.__table__ for name, model in (  # type: ignore[attr-defined]
    ("dossier", Dossier), ("dossier_document", DossierDocument), ("dossier_event", DossierEvent),
    ("notification", Notification), ("shipment", Shipment), ("postal_event", PostalEvent), ("rating", Rating))}
COLUMNS = {name: tuple(c.name for c in table.columns if not (c.name == "id" and name not in ("dossier", "shipment")))
           for name, table in TABLE.items()}
"""Insert order of each table's columns: dossiers and shipments get their ids up front (children reference them
in the same batch); the other tables number their own rows."""
STATE_FIELDS = tuple(DossierState.__dataclass_fields__)
UPDATED_DOSSIER = (*STATE_FIELDS, "version", "updated_at", "assignee_id")
UPDATED_SHIPMENT = ("status", "delivered_at", "failed_at", "carrier_late")
NATIVE_HOOKS = {Action.DISPATCH_POSTAL: postal.create_shipment, Action.CONFIRM_DELIVERY: postal.shipment_delivered,
                Action.DELIVERY_FAILED: postal.shipment_failed}
"""Hooks whose decisions the ledger persists itself (the postal shipment); other actions' hooks run through the
ORM (write-through). Any other hook attached to these actions makes the ledger refuse to start rather than
skip it silently."""


class Entry:
    """One dossier held by the ledger: its state as the rules see it, and what the rows need besides."""

    __slots__ = ("agency_code", "applicant_user_id", "assignee_id", "code", "delivery_address", "head", "id",
                 "national_id", "phone", "rated", "shipment", "state", "updated_at", "values", "version")

    def __init__(self, dossier_id: int, code: str, values: dict[str, Any], state: DossierState) -> None:
        self.id, self.code, self.values, self.state = dossier_id, code, values, state
        self.agency_code: str = values["agency_code"]
        self.delivery_address: str | None = values["delivery_address"]
        self.applicant_user_id: int | None = values["applicant_user_id"]
        self.phone: str | None = values["applicant_phone"]
        self.national_id: str = values["applicant_national_id"]
        self.version, self.updated_at, self.assignee_id = 1, values["updated_at"], None
        self.head: tuple[int, str] = (0, audit.GENESIS)
        self.shipment: dict[str, Any] | None = None
        self.rated = False

    @property
    def status(self) -> Status:
        return self.state.status


@dataclass(frozen=True)
class CarrierReport:
    entry: Entry
    event: EventKind
    at: datetime
    carrier_late: bool


class Ledger:
    """Dossiers in memory, rows in batches. ``session()`` returns the simulator's open transaction (for ids,
    write-through hooks and :meth:`flush`); ``procedures`` are the versions in force by code, ``staff`` the
    officers by username, ``calendars`` and ``origins`` per agency, ``calendar`` the national one (the carrier's
    working days), ``citizens`` the citizen account ids by national id."""

    def __init__(self, session: Callable[[], Session], *, procedures: dict[str, Procedure], staff: dict[str, User],
                 calendars: dict[str, WorkingCalendar], origins: dict[str, Origin], calendar: WorkingCalendar,
                 citizens: dict[str, int], levels: ServiceLevels, rng: random.Random,
                 numbers: ops.DailyNumbers | None = None) -> None:
        foreign = [f"{hook.__module__}.{hook.__qualname__}" for action, native in NATIVE_HOOKS.items()
                   for hook in ACTION_HOOKS.get(action, ()) if hook is not native]
        if foreign:
            raise RuntimeError(f"the simulator's ledger does not know how to persist the hooks {foreign}")
        self.session, self.procedures, self.staff = session, procedures, staff
        self.calendars, self.origins, self.calendar, self.citizens = calendars, origins, calendar, citizens
        self.levels, self.rng = levels, rng
        self.numbers = numbers or ops.DailyNumbers({})
        self._dossier_ids = tablewriter.IdAllocator(TABLE["dossier"])
        self._shipment_ids = tablewriter.IdAllocator(TABLE["shipment"])
        self._tracking: set[str] = set()
        self._new: list[Entry] = []
        self._dirty: dict[int, Entry] = {}
        self._new_shipments: list[dict[str, Any]] = []
        self._dirty_shipments: dict[int, dict[str, Any]] = {}
        self._rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in TABLE}
        self.in_transit: dict[int, Entry] = {}
        self.events = 0

    # -- submission --------------------------------------------------------------------------------------------

    def submit(self, *, user: User, data: DossierIn, now: datetime) -> Entry:
        """As :func:`service.operations.dossiers.submit`."""
        procedure = self.procedures.get(data.procedure_code)
        if procedure is None:
            raise catalogue.procedure_not_found(data.procedure_code)
        handover = ops.check_lodging(procedure, user, data, now)
        applicant_user_id, applicant = ops.applicant_of(user, data, self.citizens.get)
        values = ops.lodged_values(procedure, user, data, applicant_user_id=applicant_user_id,
                                   applicant=applicant, now=now)
        values["code"] = code = self.numbers.next(procedure.agency_code, now)
        values["tracking_secret_hash"] = ops.secret_hash(secrets.token_urlsafe(18))
        values["id"] = dossier_id = self._dossier_ids.next(self.session())
        state = DossierState(status=Status.SUBMITTED, **{
            name: values[name] for name in STATE_FIELDS if name != "status" and name in values})
        entry = Entry(dossier_id, code, values, state)
        self._new.append(entry)
        for doc_code, name in ops.documents_of(procedure, data):
            self._rows["dossier_document"].append(self._row("dossier_document", {
                "dossier_id": dossier_id, "code": doc_code, "name": name, "created_at": now}))
        self._record(entry, "submit", user.username, user.role, None, ops.submit_note(data.channel), now, {})
        if data.channel != "online":
            entry.state = lifecycle.start_clock(entry.state, now=now, calendar=self.calendars[entry.agency_code])
            note, receipt_data = ops.receipt_note(handover)
            self._record(entry, "receive", user.username, user.role, Status.SUBMITTED.value, note, now,
                         receipt_data or {})
        return entry

    # -- actions -----------------------------------------------------------------------------------------------

    def act(self, entry: Entry, *, user: User, action: Action, payload: dict[str, Any] | ActionIn | None,
            now: datetime, actor_role: str | None = None, actor_name: str | None = None) -> None:
        """As :func:`service.operations.dossiers.act` (without ``If-Match``: the simulator holds the latest
        version). Raises the same errors; nothing changes when it does."""
        role = actor_role or user.role
        lifecycle.authorize(action, role)
        calendar = self.calendars[entry.agency_code]
        lifecycle.guard(entry.state, action, role=role, now=now, calendar=calendar)
        body = payload if isinstance(payload, ActionIn) else ops.parse_body(payload)
        assignee = ops.check_assignee(self.staff.get(ops.required(body.assignee, "assignee")),
                                      entry.agency_code) if action is Action.ASSIGN else None
        step = ops.plan_action(entry.state, action, body, code=entry.code, role=role, now=now, calendar=calendar,
                               assignee=assignee)
        notices = [step.notice] if step.notice else []
        data = dict(step.data)
        shipment_changes: dict[str, Any] | None = None
        if action is Action.DISPATCH_POSTAL:
            plan = postal.plan_dispatch(code=entry.code, address=entry.delivery_address,
                                        origin=self.origins[entry.agency_code], body=body, now=now,
                                        calendar=self.calendar, levels=self.levels,
                                        tracking_number=self._tracking_number())
            notices.append(plan.notice)
            data.update(plan.data)
        elif action in (Action.CONFIRM_DELIVERY, Action.DELIVERY_FAILED) and entry.shipment is not None \
                and entry.shipment["status"] == ShipmentStatus.IN_TRANSIT.value:
            s = entry.shipment
            status = ShipmentStatus.DELIVERED if action is Action.CONFIRM_DELIVERY else ShipmentStatus.FAILED
            shipment_changes, shipment_data = postal.conclude_shipment(
                s["tracking_number"], s["dispatched_at"], s["expected_by"], at=body.at or now, now=now,
                status=status)
            data.update(shipment_data)

        # Nothing has failed: apply.
        from_status = entry.state.status.value
        entry.state = step.state
        if assignee is not None:
            entry.assignee_id = assignee.id
        entry.version += 1
        entry.updated_at = now
        self._touch(entry)
        if action is Action.DISPATCH_POSTAL:
            shipment = {"id": self._shipment_ids.next(self.session()), "dossier_id": entry.id, **plan.shipment}
            entry.shipment = shipment
            self._new_shipments.append(shipment)
            self.in_transit[entry.id] = entry
        if shipment_changes is not None:
            assert entry.shipment is not None
            entry.shipment.update(shipment_changes)
            if not any(s is entry.shipment for s in self._new_shipments):
                self._dirty_shipments[entry.shipment["id"]] = entry.shipment
            self.in_transit.pop(entry.id, None)
        for notice in notices:
            self._notify(entry, notice, now)
        if action not in NATIVE_HOOKS and ACTION_HOOKS.get(action) and action not in action_hooks_skipped_now():
            data.update(self._write_through(entry, action, user, now, body))
        self._record(entry, action.value, actor_name or user.username, role, from_status, step.note, now, data)

    def _write_through(self, entry: Entry, action: Action, user: User, now: datetime,
                       body: ActionIn) -> dict[str, Any]:
        """Run the ORM hooks of ``action`` on the written row (result signing): flush everything first, so the
        hooks read what the API would have had."""
        session = self.session()
        self.flush(session)
        row = session.get(Dossier, entry.id, populate_existing=True)
        assert row is not None
        data: dict[str, Any] = {}
        for hook in ACTION_HOOKS[action]:
            data.update(hook(session, dossier=row, user=user, now=now, body=body) or {})
        session.flush()
        session.expunge(row)
        return data

    def _tracking_number(self) -> str:
        """An S10 item number drawn from the simulation's own random stream (so runs are reproducible), unique
        in this run (the database held no shipment when it started)."""
        while True:
            candidate = postal_rules.make_tracking_number(self.rng.randrange(100_000_000))
            if candidate not in self._tracking:
                self._tracking.add(candidate)
                return candidate

    # -- the carrier and the applicants ------------------------------------------------------------------------

    def run_carrier(self, now: datetime, *, failure_rate: float, late_rate: float,
                    rng: random.Random) -> list[CarrierReport]:
        """As :func:`service.operations.postal.run_carrier`: every item past its J+n level is delivered or
        fails, reported through the same actions, notes and ``postal_event`` rows as the webhook's."""
        due = sorted((e for e in self.in_transit.values() if e.shipment and e.shipment["expected_by"] <= now),
                     key=lambda e: (e.shipment["expected_by"], e.shipment["id"]))  # type: ignore[index]
        reports = []
        carrier = postal.carrier_user(now)
        for entry in due:
            s = entry.shipment
            assert s is not None
            kind, at = postal.carrier_outcome(rng, self.calendar, s["dispatched_at"], s["expected_by"], now,
                                              failure_rate=failure_rate, late_rate=late_rate)
            action = Action.CONFIRM_DELIVERY if kind is EventKind.DELIVERED else Action.DELIVERY_FAILED
            self.act(entry, user=carrier, action=action, payload={
                "at": to_local(at).isoformat(),
                "note": postal.EVENT_NOTES[kind].format(tn=s["tracking_number"])},
                now=now, actor_role=SYSTEM_ROLE, actor_name=postal.CARRIER_ACTOR)
            self._rows["postal_event"].append(self._row("postal_event", {
                "key": postal_rules.event_key(s["tracking_number"], kind.value, at), "shipment_id": s["id"],
                "tracking_number": s["tracking_number"], "event": kind.value, "at": at, "outcome": "applied",
                "source": "simulator", "received_at": now, "recorded_at": utc_now()}))
            reports.append(CarrierReport(entry, kind, at, bool(s["carrier_late"])))
        return reports

    def rate(self, entry: Entry, *, user: User, satisfied: bool, comment: str | None, now: datetime) -> None:
        """As :func:`service.operations.ratings.rate`."""
        ratings.check_may_rate(user, applicant_user_id=entry.applicant_user_id, status=entry.state.status.value,
                               rated=entry.rated)
        entry.rated = True
        self._rows["rating"].append(self._row("rating", {"dossier_id": entry.id, "satisfied": satisfied,
                                                         "comment": comment, "at": now}))

    # -- rows --------------------------------------------------------------------------------------------------

    @staticmethod
    def _row(table: str, values: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(values.get(c) for c in COLUMNS[table])

    def _touch(self, entry: Entry) -> None:
        if entry.values is None:  # already written: update it at the next flush
            self._dirty[entry.id] = entry

    def _notify(self, entry: Entry, notice: Notice, now: datetime) -> None:
        channel, recipient = ops.notice_recipient(entry.phone, entry.national_id)
        self._rows["notification"].append(self._row("notification", {
            "dossier_id": entry.id, "channel": channel, "recipient": recipient, "subject": notice.subject,
            "body": notice.body, "at": now}))

    def _record(self, entry: Entry, action: str, actor: str, actor_role: str, from_status: str | None,
                note: str | None, now: datetime, data: dict[str, Any]) -> None:
        """One control-slip row, chained to the dossier's previous one (as ``record_event``)."""
        seq, prev = entry.head
        event = ops.SlipRow(seq=seq + 1, at=now, action=action, actor=actor, actor_role=actor_role,
                            from_status=from_status, to_status=entry.state.status.value, note=note, data=data,
                            due_at=entry.state.due_at)
        digest = audit.entry_hash(prev, ops.event_content(entry.code, event))
        entry.head = (event.seq, digest)
        self._rows["dossier_event"].append((entry.id, event.seq, now, utc_now(), action, actor, actor_role,
                                            from_status, event.to_status, note, data, event.due_at, prev, digest))
        self.events += 1

    def flush(self, session: Session) -> None:
        """Write everything held since the last flush into ``session``'s transaction (the caller commits)."""
        new = []
        for entry in self._new:
            values = entry.values
            assert values is not None
            values.update({name: getattr(entry.state, name) for name in STATE_FIELDS},
                          status=entry.state.status.value, version=entry.version, updated_at=entry.updated_at,
                          assignee_id=entry.assignee_id)
            new.append(self._row("dossier", values))
            entry.values = None
        tablewriter.insert_rows(session, TABLE["dossier"], COLUMNS["dossier"], new)
        tablewriter.update_rows(session, TABLE["dossier"], "id", UPDATED_DOSSIER, [
            (*(_plain(getattr(e.state, name)) for name in STATE_FIELDS), e.version, e.updated_at, e.assignee_id,
             e.id) for e in self._dirty.values()])
        tablewriter.insert_rows(session, TABLE["dossier_document"], COLUMNS["dossier_document"],
                                self._rows["dossier_document"])
        tablewriter.insert_rows(session, TABLE["shipment"], COLUMNS["shipment"],
                                [self._row("shipment", s) for s in self._new_shipments])
        tablewriter.update_rows(session, TABLE["shipment"], "id", UPDATED_SHIPMENT, [
            (*(s[name] for name in UPDATED_SHIPMENT), s["id"]) for s in self._dirty_shipments.values()])
        for table in ("dossier_event", "notification", "postal_event", "rating"):
            tablewriter.insert_rows(session, TABLE[table], COLUMNS[table], self._rows[table])
        self.numbers.store(session)
        self._new, self._dirty, self._new_shipments, self._dirty_shipments = [], {}, [], {}
        self._rows = {name: [] for name in TABLE}


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Status) else value


__all__ = ["CarrierReport", "Entry", "Ledger"]
