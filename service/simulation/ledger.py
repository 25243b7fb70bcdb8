"""The simulator's ledger: the dossier slice's decisions, persisted in batches.

A year of a province is half a million dossiers and five million actions; persisting each through the ORM
(a row object, a flush, a control-slip object, another flush…) costs ~10 ms an action, hours in all. The ledger
keeps the open dossiers in memory and takes the API's own path, with a batching writer:

* submission: :func:`service.dossiers.submission.check_lodging` (channel, agency, procedure terms, postal
  hand-over record), :func:`~service.dossiers.submission.applicant_of`,
  :func:`~service.dossiers.submission.lodged_values`, the first slip rows by
  :func:`~service.dossiers.submission.lodging_changes`, the dossier code's daily sequence;
* actions: :func:`service.dossiers.actions.decide_action` (the same checks and refusals, then the pure
  :func:`service.domain.lifecycle.decide`) and :func:`~service.dossiers.actions.change_of`;
* effects: the postal ones done natively (:func:`service.operations.postal.plan_dispatch`,
  :func:`~service.operations.postal.conclude_shipment`, the carrier's draw
  :func:`~service.operations.postal.carrier_outcome` and its notes); any other effect of the app's table (result
  signing on ``approve``, when the simulator signs) runs through the ORM on the written row (write-through);
* writing: :func:`service.dossiers.persist.persist` with the ledger as its
  :class:`~service.dossiers.persist.DossierWriter` — the same row values (slip rows and their hash chain
  included) as the API's, held as tuples.

Rows are then written with :mod:`service.tablewriter` (``executemany`` on SQLite, ``COPY`` on PostgreSQL) when
the simulator commits (:meth:`Ledger.flush`). ``tests/simulation/test_ledger.py`` drives the same requests
through :func:`service.dossiers.submission.submit` / :func:`service.dossiers.actions.act` and through the ledger
and compares every row.
"""

from __future__ import annotations

import hashlib
import marshal
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Protocol

from sqlmodel import Session

from service import tablewriter
from service.domain import lifecycle
from service.domain import postal as postal_rules
from service.domain import steps as step_rules
from service.domain.calendar import WorkingCalendar
from service.domain.legal_time import to_legal_time, utc_now
from service.domain.lifecycle import SYSTEM_ROLE, Action, Decision, DossierState, Status
from service.domain.postal import EventKind, Origin, ServiceLevels, ShipmentStatus
from service.domain.steps import StepClock
from service.dossiers import search_index, slip, submission
from service.dossiers.actions import change_of, decide_action
from service.dossiers.effects import EffectCall, Effects, Outcome, effect_name, run_effects
from service.dossiers.numbering import DailyNumbers
from service.dossiers.persist import Change, persist
from service.dossiers.slip import NO_ROWS, SlipHead, SlipRow, as_tuple
from service.errors import Unprocessable
from service.events import outbox
from service.models import (
    Blob,
    Dossier,
    DossierDocument,
    DossierEvent,
    DossierSearchKey,
    DossierStep,
    Notification,
    PostalEvent,
    Procedure,
    Rating,
    Shipment,
    User,
)
from service.operations import catalogue, interagency, postal, ratings, uploads
from service.schemas.dossiers import ActionIn, DossierIn

TABLE = {name: model.__table__ for name, model in (  # type: ignore[attr-defined]
    ("dossier", Dossier), ("dossier_document", DossierDocument), ("dossier_event", DossierEvent),
    ("dossier_search_key", DossierSearchKey), ("notification", Notification), ("shipment", Shipment),
    ("postal_event", PostalEvent), ("rating", Rating), ("blob", Blob), ("dossier_step", DossierStep))}
COLUMNS = {name: tuple(c.name for c in table.columns
                       if not (c.name == "id" and name not in ("dossier", "shipment", "dossier_step")))
           for name, table in TABLE.items()}
"""Insert order of each table's columns: dossiers and shipments get their ids up front (children reference them
in the same batch); the other tables number their own rows."""
assert COLUMNS["dossier_event"] == slip.COLUMNS
STATE_FIELDS = tuple(DossierState.__dataclass_fields__)
UPDATED_DOSSIER = (*STATE_FIELDS, "version", "updated_at", "assignee_id", "slip_rows", "slip_head", "digitised",
                   "current_step")
STEP_CLOCK = ("started_at", "due_at", "paused_at", "paused_remaining_minutes", "finished_at", "timeliness",
              "returned_for_correction")
STEP_ACTIONS = frozenset({Action.TRANSFER, Action.RETURN_FOR_CORRECTION, Action.APPROVE, Action.REFUSE})
UPDATED_SHIPMENT = ("status", "delivered_at", "failed_at", "carrier_late")
NATIVE_EFFECTS = {Action.DISPATCH_POSTAL: postal.create_shipment,
                  Action.CONFIRM_DELIVERY: postal.close_shipment_delivered,
                  Action.DELIVERY_FAILED: postal.close_shipment_failed}
"""The effects the ledger does itself, in memory (the postal shipment). Other effects of the app's table run
through the ORM (write-through); any other effect attached to these actions makes the ledger refuse to start
rather than skip it silently."""


def _unwrapped(effect: Any) -> Any:
    return getattr(effect, "func", effect)


class Entry:
    """One dossier held by the ledger: its state as the rules see it, and what the rows need besides."""

    __slots__ = ("agency_code", "applicant_name_normalised", "applicant_national_id", "applicant_phone",
                 "applicant_user_id", "assignee_id", "code", "current_step", "delivery_address", "digitised", "head",
                 "id", "procedure_code", "rated", "shipment", "state", "steps", "updated_at", "values", "version")

    def __init__(self, dossier_id: int, code: str, values: dict[str, Any] | None, state: DossierState) -> None:
        assert values is not None
        self.id, self.code, self.values, self.state = dossier_id, code, values, state
        self.agency_code: str = values["agency_code"]
        self.procedure_code: str = values["procedure_code"]
        self.delivery_address: str | None = values["delivery_address"]
        self.applicant_user_id: int | None = values["applicant_user_id"]
        self.applicant_phone: str | None = values["applicant_phone"]
        self.applicant_national_id: str = values["applicant_national_id"]
        self.applicant_name_normalised: str = values["applicant_name_normalised"]
        self.version, self.updated_at, self.assignee_id = 1, values["updated_at"], None
        self.head: SlipHead = NO_ROWS
        self.shipment: dict[str, Any] | None = None
        self.rated = False
        self.digitised = False
        self.current_step: int | None = None
        self.steps: list[tuple[int, StepClock]] = []
        """The inter-agency steps (row id, clock), in order; empty for a one-agency dossier."""

    @property
    def holder(self) -> str:
        """The agency acting on the dossier now: the current step's, else the competent agency."""
        return self.steps[self.current_step - 1][1].agency_code if self.current_step else self.agency_code

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
    write-through effects and :meth:`flush`); ``procedures`` are the versions in force by code, ``staff`` the
    officers by username, ``calendars`` and ``origins`` per agency, ``calendar`` the national one (the carrier's
    working days), ``citizens`` the citizen account ids by national id, ``effects`` the app's table of effects
    to reproduce (:func:`service.bootstrap.compose_effects`, without those the simulator skips)."""

    def __init__(self, session: Callable[[], Session], *, procedures: dict[str, Procedure], staff: dict[str, User],
                 calendars: dict[str, WorkingCalendar], origins: dict[str, Origin], calendar: WorkingCalendar,
                 citizens: dict[str, int], levels: ServiceLevels, rng: random.Random, effects: Effects,
                 numbers: DailyNumbers | None = None, emails: dict[int, str] | None = None,
                 ids: dict[str, IdSource] | None = None, lane: tuple[int, int] = (0, 1)) -> None:
        foreign = [effect_name(effect) for action, native in NATIVE_EFFECTS.items()
                   for effect in effects.get(action, ()) if _unwrapped(effect) is not native]
        if foreign:
            raise RuntimeError(f"the simulator's ledger does not know how to persist the effects {foreign}")
        self.write_through: Effects = {action: found for action, found in effects.items()
                                       if action not in NATIVE_EFFECTS and found}
        self.session, self.procedures, self.staff = session, procedures, staff
        self.calendars, self.origins, self.calendar, self.citizens = calendars, origins, calendar, citizens
        self.levels, self.rng = levels, rng
        self.emails = emails or {}
        """The citizens' account e-mail addresses by user id (their notices get an e-mail copy, as in the API)."""
        self.numbers = numbers or DailyNumbers({})
        ids = ids or {}
        self._dossier_ids = ids.get("dossier") or _Allocated(TABLE["dossier"], session)
        self._shipment_ids = ids.get("shipment") or _Allocated(TABLE["shipment"], session)
        self._step_ids = ids.get("dossier_step") or _Allocated(TABLE["dossier_step"], session)
        self.lane = lane
        """(lane, lanes): this ledger's share of the postal item numbers, beside other ledgers writing the same
        database (the simulator's shards)."""
        self._new_steps: dict[int, tuple[int, StepClock]] = {}
        self._dirty_steps: dict[int, StepClock] = {}
        self._receipts: dict[int, datetime] = {}
        """The receipt instant of each dossier whose new steps are held (``dossier_step.received_at``)."""
        self._tracking: set[str] = set()
        self._new: list[Entry] = []
        self._dirty: dict[int, Entry] = {}
        self._new_shipments: list[dict[str, Any]] = []
        self._dirty_shipments: dict[int, dict[str, Any]] = {}
        self._rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in TABLE}
        self._documents: dict[tuple[int, str], dict[str, Any]] = {}
        """The papers of the dossiers lodged since the last flush (an upload fills in their file)."""
        self._blobs: set[str] = set()
        self._events: list[tuple[Any, ...]] = []
        self._new_words: set[str] = set()
        self._new_keys: dict[int, tuple[Entry, list[str]]] = {}
        """The search keys of the dossiers lodged since the last flush."""
        self._dated_keys: list[tuple[str, int, datetime]] = []
        """Receipt instants of dossiers whose keys were written at an earlier flush."""
        self.in_transit: dict[int, Entry] = {}
        self.events = 0

    # -- submission --------------------------------------------------------------------------------------------

    def submit(self, *, user: User, data: DossierIn, now: datetime, desk: str | None = None) -> Entry:
        """As :func:`service.dossiers.submission.submit`; ``desk``: another desk of the province lodging a
        procedure flagged ``anywhere_in_province`` (the caller picks it within the province)."""
        procedure = self.procedures.get(data.procedure_code)
        if procedure is None:
            raise catalogue.procedure_not_found(data.procedure_code)
        first_step = procedure.steps[0]["agency_code"] if procedure.steps else None
        if first_step is not None and (user.role != "receiver" or user.agency_code == first_step):
            desk = first_step  # as interagency.receiving_desk: lodged with the first step's agency
        elif desk is not None and not procedure.anywhere_in_province:
            raise Unprocessable("Thủ tục không thuộc thẩm quyền tiếp nhận của đơn vị bạn.",
                                code="PROCEDURE_OUTSIDE_AGENCY")
        handover = submission.check_lodging(procedure, user, data, now, desk=desk)
        applicant_user_id, applicant = submission.applicant_of(user, data, self.citizens.get)
        values = submission.lodged_values(procedure, user, data, applicant_user_id=applicant_user_id,
                                          applicant=applicant, now=now, received_by=desk)
        values["code"] = code = self.numbers.next(procedure.agency_code, now)
        values["tracking_secret_hash"] = submission.secret_hash(secrets.token_urlsafe(18))
        values["id"] = dossier_id = self._dossier_ids.next()
        state = DossierState(status=Status.SUBMITTED, **{
            name: values[name] for name in STATE_FIELDS if name != "status" and name in values})
        entry = Entry(dossier_id, code, values, state)
        self._new.append(entry)
        for doc_code, name in submission.documents_of(procedure, data):
            self._documents[(dossier_id, doc_code)] = {
                "dossier_id": dossier_id, "code": doc_code, "name": name, "created_at": now}
        changes = submission.lodging_changes(user.username, str(user.role), data.channel, state, handover, code=code,
                                             now=now, calendar=self.calendars[entry.agency_code])
        if data.channel != "online":  # received on the spot: an inter-agency dossier's first step starts now
            changes[-1] = replace(changes[-1], data={**changes[-1].data, **self._open_steps(entry, procedure, now)})
        for change in changes:
            persist(self, entry, change)
        return entry

    # -- papers ------------------------------------------------------------------------------------------------

    def upload(self, entry: Entry, *, user: User, document_code: str, filename: str, content: bytes,
               content_type: str, now: datetime) -> None:
        """As :func:`service.operations.uploads.attach` (same checks, same paper row, blob and control-slip row),
        for a paper declared at submission and not yet written (the simulator scans papers when the dossier is
        lodged)."""
        from service.errors import Conflict

        if entry.state.status.value not in uploads.UPLOAD_STATUSES:
            raise Conflict("Không thể bổ sung tệp khi hồ sơ đã kết thúc xử lý.", code="INVALID_TRANSITION")
        if not content.startswith(uploads.ALLOWED_TYPES[content_type]):
            raise Unprocessable("Nội dung tệp không khớp với kiểu tệp khai báo.", code="FILE_TYPE_MISMATCH")
        document = self._documents.get((entry.id, document_code))
        if document is None:
            raise Unprocessable(f"Thành phần hồ sơ {document_code} không thuộc thủ tục này.",
                                code="UNKNOWN_DOCUMENT")
        digest = hashlib.sha256(content).hexdigest()
        if digest not in self._blobs:
            self._blobs.add(digest)
            self._rows["blob"].append(self._row("blob", {"sha256": digest, "content_type": content_type,
                                                         "size_bytes": len(content), "content": content,
                                                         "created_at": now}))
        name = filename[:255] or document_code
        document.update(filename=name, content_type=content_type, size_bytes=len(content), sha256=digest,
                        storage_key=digest, uploaded_at=now)
        persist(self, entry, uploads.upload_change(
            actor=user.username, actor_role=str(user.role), state=entry.state, document_code=document_code,
            filename=name, sha256=digest, size_bytes=len(content), now=now))

    # -- actions -----------------------------------------------------------------------------------------------

    def act(self, entry: Entry, *, user: User, action: Action, payload: dict[str, Any] | ActionIn | None,
            now: datetime, actor_role: str | None = None, actor_name: str | None = None) -> None:
        """As :func:`service.dossiers.actions.act` (without ``If-Match``: the simulator holds the latest
        version). Raises the same errors; nothing changes when it does."""
        role = actor_role or user.role
        if action in STEP_ACTIONS:  # as interagency.guard, before the body
            lifecycle.authorize(action, role)
            lifecycle.guard(entry.state, action, role=role, now=now, calendar=self.calendars[entry.agency_code])
            step_rules.check_action([clock for _, clock in entry.steps], entry.current_step, action.value, now)
        body, decision, assignee = decide_action(
            entry.state, action, payload, code=entry.code, agency_code=entry.holder, role=role, now=now,
            calendar=self.calendars[entry.agency_code], find_user=self.staff.get)
        if action is Action.DISPATCH_POSTAL:
            outcome = self._dispatch(entry, body, now)
        elif action in (Action.CONFIRM_DELIVERY, Action.DELIVERY_FAILED):
            outcome = self._conclude(entry, action, body, now)
        elif action in self.write_through:
            outcome = self._write_through(entry, user, body, decision, now)
        else:
            outcome = Outcome()
        if action is Action.RECEIVE:
            outcome = outcome + Outcome(self._open_steps(entry, self.procedures[entry.procedure_code], now))
        elif entry.steps:
            outcome = outcome + Outcome(self._follow(entry, action, decision.state, now))
        persist(self, entry, change_of(decision, actor=actor_name or user.username, actor_role=str(role), now=now,
                                       outcome=outcome, assignee=assignee))

    def _calendar_of(self, agency_code: str) -> WorkingCalendar:
        return self.calendars.get(agency_code, self.calendar)

    def _open_steps(self, entry: Entry, procedure: Procedure, now: datetime) -> dict[str, Any]:
        """As :func:`service.operations.interagency.open_steps`, in memory."""
        shares = interagency.step_shares(procedure)
        if shares is None:
            return {}
        move = step_rules.open_steps(shares, procedure.processing_unit, now, self._calendar_of)
        entry.steps = [(self._step_ids.next(), clock) for clock in move.clocks]
        for step_id, clock in entry.steps:
            self._new_steps[step_id] = (entry.id, clock)
        self._receipts[entry.id] = now
        self._set_current_step(entry, move.current)
        return dict(move.data)

    def _follow(self, entry: Entry, action: Action, state: DossierState, now: datetime) -> dict[str, Any]:
        """As :func:`service.operations.interagency.follow`, in memory."""
        move = step_rules.follow([clock for _, clock in entry.steps], entry.current_step, action.value,
                                 restart_on_supplement=state.supplement_policy == "restart", now=now,
                                 calendar_of=self._calendar_of)
        for i, ((step_id, before), after) in enumerate(zip(entry.steps, move.clocks, strict=True)):
            if after != before:
                entry.steps[i] = (step_id, after)
                if step_id in self._new_steps:
                    self._new_steps[step_id] = (entry.id, after)
                else:
                    self._dirty_steps[step_id] = after
        if move.handed_over:
            self._set_current_step(entry, move.current)
            entry.assignee_id = None
        return dict(move.data)

    def _set_current_step(self, entry: Entry, step: int | None) -> None:
        entry.current_step = step
        if entry.values is None:
            self._dirty[entry.id] = entry

    def _dispatch(self, entry: Entry, body: ActionIn, now: datetime) -> Outcome:
        """As :func:`service.operations.postal.create_shipment`, in memory."""
        plan = postal.plan_dispatch(code=entry.code, address=entry.delivery_address,
                                    origin=self.origins[entry.agency_code], body=body, now=now,
                                    calendar=self.calendar, levels=self.levels,
                                    tracking_number=self._tracking_number())
        shipment = {"id": self._shipment_ids.next(), "dossier_id": entry.id, **plan.shipment}
        entry.shipment = shipment
        self._new_shipments.append(shipment)
        self.in_transit[entry.id] = entry
        return Outcome(plan.data, (plan.notice,))

    def _conclude(self, entry: Entry, action: Action, body: ActionIn, now: datetime) -> Outcome:
        """As :func:`service.operations.postal.close_shipment_delivered` / ``close_shipment_failed``."""
        s = entry.shipment
        if s is None or s["status"] != ShipmentStatus.IN_TRANSIT.value:
            return Outcome()
        status = ShipmentStatus.DELIVERED if action is Action.CONFIRM_DELIVERY else ShipmentStatus.FAILED
        changes, data = postal.conclude_shipment(s["tracking_number"], s["dispatched_at"], s["expected_by"],
                                                 at=body.at or now, now=now, status=status)
        s.update(changes)
        if not any(new is s for new in self._new_shipments):
            self._dirty_shipments[s["id"]] = s
        self.in_transit.pop(entry.id, None)
        return Outcome(data)

    def _write_through(self, entry: Entry, user: User, body: ActionIn, decision: Decision,
                       now: datetime) -> Outcome:
        """Run the app's effects of the action (result signing) through the ORM on the written row, as the API
        runs them: flush everything first, so they read what the API would have had."""
        session = self.session()
        self.flush(session)
        row = session.get(Dossier, entry.id, populate_existing=True)
        assert row is not None
        outcome = run_effects(self.write_through, EffectCall(session, row, user, body, decision, now))
        session.flush()
        session.expunge(row)
        return outcome

    def _tracking_number(self) -> str:
        """An S10 item number drawn from the simulation's own random stream (so runs are reproducible), unique
        in this run (the database held no shipment when it started)."""
        lane, lanes = self.lane
        while True:
            candidate = postal_rules.make_tracking_number(self.rng.randrange(100_000_000 // lanes) * lanes + lane)
            if candidate not in self._tracking:
                self._tracking.add(candidate)
                return candidate

    # -- the writer of :func:`service.dossiers.persist.persist` -----------------------------------------------

    def head(self, entry: Entry) -> SlipHead:
        return entry.head

    def write_dossier(self, entry: Entry, change: Change) -> None:
        entry.state = change.state
        if change.columns.get("digitised"):
            entry.digitised = True
        if "assignee_id" in change.columns:
            entry.assignee_id = change.columns["assignee_id"]
        if change.bump_version:
            entry.version += 1
            entry.updated_at = change.at
            if entry.values is None:  # already written: update it at the next flush
                self._dirty[entry.id] = entry

    def write_notification(self, entry: Entry, values: dict[str, Any]) -> None:
        self._rows["notification"].append(self._row("notification", values))

    def write_slip_row(self, entry: Entry, row: SlipRow) -> None:
        entry.head = row.head  # the dossier's anchor (slip_rows, slip_head), written with the dossier row
        if entry.values is None:  # already written: update it at the next flush
            self._dirty[entry.id] = entry
        self._rows["dossier_event"].append(as_tuple(row))
        self.events += 1

    def write_search_keys(self, entry: Entry, keys: list[str], words: list[str]) -> None:
        self._new_keys[entry.id] = (entry, keys)  # written at the flush, with the receipt instant then known
        self._new_words.update(words)

    def date_search_keys(self, entry: Entry, keys: list[str], received_at: datetime) -> None:
        if entry.id not in self._new_keys:  # already written: update them at the next flush
            self._dated_keys.extend((key, entry.id, received_at) for key in keys)

    def write_event(self, entry: Entry, values: dict[str, Any]) -> None:
        self._events.append(outbox.row_tuple(values))

    def applicant_email(self, entry: Entry) -> str | None:
        return self.emails.get(entry.applicant_user_id) if entry.applicant_user_id is not None else None

    def recorded_at(self) -> datetime:
        return utc_now()

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
                "at": to_legal_time(at).isoformat(),
                "note": postal.EVENT_NOTES[kind].format(tn=s["tracking_number"])},
                now=now, actor_role=SYSTEM_ROLE.value, actor_name=postal.CARRIER_ACTOR)
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
        return tuple(map(values.get, COLUMNS[table]))

    def flush(self, session: Session) -> None:
        """Write everything held since the last flush into ``session``'s transaction (the caller commits)."""
        write_batch(session, self.take(session.get_bind().dialect.name))

    def take(self, dialect: str) -> Batch:
        """Everything held since the last call, as driver values of ``dialect`` (so that a worker process can
        hand it to the one writing the database: :func:`write_batch`)."""
        batch = Batch(dialect)
        new = []
        for entry in self._new:
            values = entry.values
            assert values is not None
            values.update({name: getattr(entry.state, name) for name in STATE_FIELDS},
                          status=entry.state.status.value, version=entry.version, updated_at=entry.updated_at,
                          assignee_id=entry.assignee_id, slip_rows=entry.head[0], slip_head=entry.head[1],
                          digitised=entry.digitised, current_step=entry.current_step)
            new.append(self._row("dossier", values))
            entry.values = None
        batch.insert("dossier", new)
        batch.update("dossier", UPDATED_DOSSIER, [
            (*(_plain(getattr(e.state, name)) for name in STATE_FIELDS), e.version, e.updated_at, e.assignee_id,
             *e.head, e.digitised, e.current_step, e.id) for e in self._dirty.values()])
        batch.insert("dossier_step", [self._row("dossier_step", {
            "id": step_id, "dossier_id": dossier_id, "seq": clock.seq, "agency_code": clock.agency_code,
            "share_value": clock.share_value, "share_unit": clock.share_unit, "received_at": self._receipts[dossier_id],
            **{name: getattr(clock, name) for name in STEP_CLOCK}})
            for step_id, (dossier_id, clock) in self._new_steps.items()])
        batch.update("dossier_step", STEP_CLOCK, [
            (*(getattr(clock, name) for name in STEP_CLOCK), step_id) for step_id, clock in self._dirty_steps.items()])
        self._new_steps, self._dirty_steps, self._receipts = {}, {}, {}
        batch.insert("blob", self._rows["blob"])
        batch.insert("dossier_document", [self._row("dossier_document", d) for d in self._documents.values()])
        self._documents = {}
        batch.insert("shipment", [self._row("shipment", s) for s in self._new_shipments])
        batch.update("shipment", UPDATED_SHIPMENT, [
            (*(s[name] for name in UPDATED_SHIPMENT), s["id"]) for s in self._dirty_shipments.values()])
        for table in ("dossier_event", "notification", "postal_event", "rating"):
            batch.insert(table, self._rows[table])
        batch.insert("dossier_search_key", [
            row for entry, keys in self._new_keys.values()
            for row in search_index.key_rows(entry.id, entry.agency_code, entry.state.received_at, keys)])
        batch.dated_keys, self._dated_keys = self._dated_keys, []
        batch.words, self._new_words, self._new_keys = self._new_words, set(), {}
        batch.events = tablewriter.convert(self._events, tablewriter.converters(
            dialect, outbox.EVENT_TABLE, outbox.EVENT_COLUMNS))
        self._events = []
        batch.numbers = self.numbers.take()
        self._new, self._dirty, self._new_shipments, self._dirty_shipments = [], {}, [], {}
        self._rows = {name: [] for name in TABLE}
        return batch


class IdSource(Protocol):
    """Hands out a table's primary keys before its rows are written (from the database by default, or a shard's
    own lane of ids: :class:`service.simulation.shards.LaneIds`)."""

    def next(self) -> int: ...


class _Allocated:
    """:class:`service.tablewriter.IdAllocator` in the ledger's transaction."""

    def __init__(self, table: Any, session: Callable[[], Session]) -> None:
        self.allocator, self.session = tablewriter.IdAllocator(table), session

    def next(self) -> int:
        return self.allocator.next(self.session())


@dataclass
class Batch:
    """The rows of one flush, as driver values of ``dialect``, in the order they are written."""

    dialect: str
    writes: list[tuple[str, str, tuple[str, ...], list[tuple[Any, ...]]]] = field(default_factory=list)
    """(``insert`` or ``update``, table, columns, rows): an update's rows end with the row's id."""
    words: set[str] = field(default_factory=set)
    dated_keys: list[tuple[str, int, datetime]] = field(default_factory=list)
    """Receipt instants of search keys written at an earlier flush (:func:`service.dossiers.search_index.date`)."""
    events: list[tuple[Any, ...]] = field(default_factory=list)
    numbers: dict[tuple[str, date], int] = field(default_factory=dict)

    def insert(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            columns = COLUMNS[table]
            self.writes.append(("insert", table, columns, tablewriter.convert(
                rows, tablewriter.converters(self.dialect, TABLE[table], columns))))

    def update(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        if rows:
            self.writes.append(("update", table, columns, tablewriter.convert(
                rows, tablewriter.converters(self.dialect, TABLE[table], (*columns, "id")))))

    def __getstate__(self) -> dict[str, Any]:
        """A batch crosses from a worker process to the writing one pickled; its rows (a million values for a
        few thousand dossiers) go as one :mod:`marshal` string instead. Pickle remembers every object it writes
        (to write it once): measured on 350,000 of the province's rows, ``pickle.dumps`` took 1.36 s and
        ``marshal.dumps`` 0.18 s (in the worker), ``loads`` 0.56 s and 0.44 s (in the writer), for the same
        bytes. Marshal knows only plain values (SQLite's driver values); rows holding others (PostgreSQL's
        datetimes) are pickled as they are."""
        try:
            rows = marshal.dumps((self.writes, self.events))
        except ValueError:
            return self.__dict__
        return {**self.__dict__, "writes": None, "events": None, "rows": rows}

    def __setstate__(self, state: dict[str, Any]) -> None:
        rows = state.pop("rows", None)
        if rows is not None:
            state["writes"], state["events"] = marshal.loads(rows)
        self.__dict__.update(state)


def write_batch(session: Session, batch: Batch) -> None:
    """Write ``batch`` into ``session``'s transaction (the caller commits)."""
    for kind, table, columns, rows in batch.writes:
        if kind == "insert":
            tablewriter.insert_rows(session, TABLE[table], columns, rows, converted=True)
        else:
            tablewriter.update_rows(session, TABLE[table], "id", columns, rows, converted=True)
    search_index.date(session, batch.dated_keys)
    search_index.write_words(session, batch.words)
    if batch.events:
        outbox.lock(session)
        tablewriter.insert_rows(session, outbox.EVENT_TABLE, outbox.EVENT_COLUMNS, batch.events, converted=True)
    tablewriter.store_daily_sequences(session, batch.numbers)


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Status) else value


__all__ = ["Batch", "CarrierReport", "Entry", "IdSource", "Ledger", "write_batch"]
