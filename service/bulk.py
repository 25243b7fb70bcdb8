"""Bulk generator: N realistic dossiers with full, valid histories, written straight into the database.

For benchmarks and demos (``python -m service.bulk --help``). Every dossier is driven through the real rules —
:func:`service.domain.lifecycle.guard` and :func:`~service.domain.lifecycle.apply` with the agency's working
calendar — so due dates, pauses, restarts, extensions and timeliness are exactly what the API would have
computed. Each action is decided by :func:`service.domain.lifecycle.decide` and written by
:func:`service.dossiers.persist.persist` (the generator is its writer), so every control-slip row has the values
and hash chain the API would have written and ``GET /dossiers/{code}/history/verify`` says ``valid``.

Rows go in per batch and table, one transaction per batch: ``COPY`` on PostgreSQL, one ``executemany`` on SQLite
(with ``synchronous=OFF`` on that connection for the load); worker processes (``--workers``) play the dossiers
and convert their rows to driver values while the main process writes.

What it writes: dossiers, their papers (uploaded ones point at one shared placeholder scan), control-slip rows
(submit, receive, upload_document, assign, request_supplement, supplement, request_payment, pay, extend,
approve/refuse, withdraw, reject, return_result), electronic results of approved dossiers (a shared
placeholder PDF labelled as simulated, certificate serial ``SIMULATED``), ratings by citizen applicants, the
applicant's notices (``notification`` rows, one per channel, exactly those :func:`~service.dossiers.persist.persist`
decides; recorded only: notices recorded before a sender was configured are never sent), the events of the
slip rows, and the agencies' daily code sequences. Not written: postal shipments (results are returned at
the counter or online). Run it on a database nobody else is writing to: dossier codes are numbered from the
daily sequences read at the start.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import random
import sys
import time as timer
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, text
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from service import tablewriter
from service.db import SQLITE_PAGE_CACHE_KIB, Database
from service.domain import lifecycle
from service.domain.calendar import VN_TZ, WorkingCalendar
from service.domain.errors import DomainError
from service.domain.legal_time import utc_now
from service.domain.lifecycle import Action, ActionInput, Assignee, DossierState, Status
from service.domain.names import fold_name
from service.domain.roles import Role
from service.dossiers import search_index, slip
from service.dossiers.actions import change_of
from service.dossiers.effects import Outcome
from service.dossiers.numbering import DailyNumbers
from service.dossiers.persist import Change, persist
from service.dossiers.slip import NO_ROWS, SlipHead, SlipRow, as_tuple
from service.dossiers.submission import lodging_changes, secret_hash
from service.events import outbox
from service.models import (
    Blob,
    Dossier,
    DossierDocument,
    DossierEvent,
    DossierSearchKey,
    Notification,
    Procedure,
    Rating,
    ResultDocument,
    User,
)
from service.operations.calendars import calendar_for
from service.operations.uploads import upload_change

log = logging.getLogger("motcua.bulk")

__all__ = ["BulkResult", "generate", "main"]

PLACEHOLDER_SCAN = (b"%PDF-1.4\n% Ban scan mo phong (du lieu sinh tu dong) - simulated scan, generated data\n"
                    b"%%EOF\n")
PLACEHOLDER_RESULT = (b"%PDF-1.4\n% Ket qua mo phong, khong co chu ky so - simulated result, not signed\n"
                      b"%%EOF\n")
SIMULATED_SERIAL = "SIMULATED"
NO_INPUT = ActionInput()
BULK_PASSWORD = "Demo@123456"

FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ",
          "Ngô", "Dương", "Lý")
MIDDLE_M = ("Văn", "Hữu", "Đức", "Minh", "Quốc", "Thành", "Công", "Xuân")
MIDDLE_F = ("Thị", "Ngọc", "Thu", "Thanh", "Mai", "Kim", "Hồng", "Phương")
GIVEN_M = ("Hùng", "Dũng", "Nam", "Tuấn", "Long", "Hải", "Sơn", "Thắng", "Bảo", "Khánh", "Phúc", "Trung")
GIVEN_F = ("Hà", "Lan", "Hương", "Linh", "Trang", "Huyền", "Nga", "Yến", "Thảo", "Anh", "Vy", "Hạnh")
SUPPLEMENT_REASONS = ("Thiếu bản sao giấy tờ tùy thân", "Tờ khai chưa đủ chữ ký",
                      "Giấy tờ chưa được chứng thực",
                      "Thông tin trên tờ khai không khớp với giấy tờ kèm theo")
REFUSAL_REASONS = ("Không đủ điều kiện theo quy định", "Hồ sơ không thuộc thẩm quyền giải quyết")
REJECT_REASONS = ("Hồ sơ nộp trùng", "Thủ tục không thuộc thẩm quyền của cơ quan")
EXTENSION_REASONS = ("Cần xác minh thêm thông tin với cơ quan liên quan", "Chờ ý kiến của cơ quan phối hợp")


# ---------------------------------------------------------------------------------------------------- world


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    full_name: str
    national_id: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Desk:
    receiver: Person
    processor: Person
    approver: Person


@dataclass(frozen=True)
class ProcedureInfo:
    id: int
    code: str
    version: int
    agency_code: str
    service_level: int
    value: int
    unit: str
    fee_vnd: int
    postal_allowed: bool
    policy: str
    documents: tuple[tuple[str, str, bool], ...]
    weight: float


@dataclass
class World:
    procedures: list[ProcedureInfo]
    desks: dict[str, Desk]
    citizens: list[Person]
    calendars: dict[str, WorkingCalendar]
    late_propensity: dict[str, float]
    scan_sha: str
    result_sha: str


def _ensure_user(session: Session, username: str, full_name: str, role: str, agency_code: str | None,
                 password_hash: Callable[[], str], now: datetime, national_id: str | None = None) -> Person:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        user = User(username=username, password_hash=password_hash(), full_name=full_name, role=role,
                    agency_code=agency_code, national_id=national_id, identity_verified=True, created_at=now)
        session.add(user)
        session.flush()
    assert user.id is not None
    return Person(user.id, user.username, user.full_name, user.national_id, user.phone, user.email)


def prepare_world(session: Session, *, at: datetime, rng: random.Random, citizens: int = 200) -> World:
    """Procedures in force with their agencies' desks, a pool of citizen accounts and the calendars.

    An empty database first gets the demo catalogue (``service.demo``), dated ``at``. Agencies with procedures
    but no receiver/processor/approver get generated staff accounts (password ``Demo@123456``).
    """
    from service.demo import load, read_catalogue

    if not session.exec(select(Procedure.id)).first():
        load(session, read_catalogue(), now=at)
    cached: list[str] = []

    def password_hash() -> str:
        if not cached:
            from service.security.passwords import hash_password

            cached.append(hash_password(BULK_PASSWORD))
        return cached[0]

    procedures = list(session.exec(select(Procedure).where(col(Procedure.superseded_at).is_(None))
                                   .order_by(col(Procedure.code))))
    if not procedures:
        raise SystemExit("no procedure in force: load a catalogue first")
    desks: dict[str, Desk] = {}
    for agency_code in sorted({p.agency_code for p in procedures}):
        people = []
        for role, prefix in ((Role.RECEIVER, "tiepnhan"), (Role.PROCESSOR, "chuyenvien"),
                             (Role.APPROVER, "lanhdao")):
            found = session.exec(select(User).where(User.agency_code == agency_code, User.role == role,
                                                    col(User.active).is_(True))
                                 .order_by(col(User.id))).first()
            if found is not None:
                people.append(Person(found.id, found.username, found.full_name))  # type: ignore[arg-type]
            else:
                suffix = agency_code.replace(".", "").lower()
                people.append(_ensure_user(session, f"{prefix}.{suffix}", _name(rng), role, agency_code,
                                           password_hash, at))
        desks[agency_code] = Desk(*people)
    pool = session.exec(select(User).where(User.role == Role.CITIZEN, col(User.national_id).is_not(None),
                                           col(User.identity_verified).is_(True))
                        .order_by(col(User.id)).limit(citizens)).all()
    people = [Person(u.id or 0, u.username, u.full_name, u.national_id, u.phone, u.email) for u in pool]
    for _ in range(len(people), citizens):
        national_id = f"0229{rng.randrange(10**8):08d}"
        people.append(_ensure_user(session, national_id, _name(rng), Role.CITIZEN, None, password_hash, at,
                                   national_id=national_id))
    calendars = {code: calendar_for(session, code) for code in desks}
    weights = {p.code: rng.paretovariate(1.2) for p in procedures}
    infos = [ProcedureInfo(
        p.id or 0, p.code, p.version, p.agency_code, p.service_level, p.processing_value, p.processing_unit,
        p.fee_vnd, p.postal_allowed, p.supplement_policy,
        tuple((d["code"], d["name"], bool(d.get("mandatory", True))) for d in p.required_documents),
        weights[p.code]) for p in procedures]
    late = {code: rng.uniform(0.02, 0.14) for code in desks}
    scan_sha = _ensure_blob(session, PLACEHOLDER_SCAN, at)
    result_sha = _ensure_blob(session, PLACEHOLDER_RESULT, at)
    return World(infos, desks, people, calendars, late, scan_sha, result_sha)


def _ensure_blob(session: Session, content: bytes, at: datetime) -> str:
    digest = hashlib.sha256(content).hexdigest()
    if session.get(Blob, digest) is None:
        session.add(Blob(sha256=digest, content_type="application/pdf", size_bytes=len(content),
                         content=content, created_at=at))
        session.flush()
    return digest


def _name(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE_M)} {rng.choice(GIVEN_M)}"
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE_F)} {rng.choice(GIVEN_F)}"


# ------------------------------------------------------------------------------------------------ one dossier


class _Stop(Exception):
    """The next step would happen after ``until``: the dossier stays as it is."""


@dataclass
class Simulated:
    """One generated dossier: its final state and what happened to it."""

    procedure: ProcedureInfo
    channel: str
    result_delivery: str
    submitted_at: datetime
    submitter: Person
    submitter_role: str
    citizen: Person | None
    applicant_name: str
    applicant_national_id: str
    applicant_phone: str | None
    state: DossierState
    events: list[SlipRow] = field(default_factory=list)
    uploads: dict[str, tuple[datetime, str]] = field(default_factory=dict)
    documents: list[tuple[str, str]] = field(default_factory=list)
    version: int = 1
    assignee: Person | None = None
    result_at: datetime | None = None
    result_signer: Person | None = None
    rating: tuple[datetime, bool, str | None] | None = None
    id: int = 0
    code: str = ""
    head: SlipHead = NO_ROWS
    outbox: list[tuple[Any, ...]] = field(default_factory=list)
    """The events of its slip rows (:data:`service.events.outbox.EVENT_COLUMNS` order)."""
    search_keys: list[str] = field(default_factory=list)
    search_words: list[str] = field(default_factory=list)
    notices: list[dict[str, Any]] = field(default_factory=list)
    """The ``notification`` rows :func:`~service.dossiers.persist.persist` decided, as the API writes them."""

    @property
    def agency_code(self) -> str:
        return self.procedure.agency_code

    @property
    def procedure_code(self) -> str:
        return self.procedure.code

    @property
    def applicant_name_normalised(self) -> str:
        return fold_name(self.applicant_name)


def _local_seconds(moment: datetime) -> datetime:
    return moment.astimezone(VN_TZ).replace(microsecond=0)


class DossierSimulator:
    """Plays one dossier's life with the real lifecycle rules, stopping at ``until``; the
    :class:`~service.dossiers.persist.DossierWriter` of :func:`~service.dossiers.persist.persist` for it (the
    rows, the applicant's notices included, are kept on the :class:`Simulated`)."""

    def __init__(self, world: World, rng: random.Random, until: datetime) -> None:
        self.world, self.rng, self.until = world, rng, until
        self._recorded_at = utc_now()

    # -- the writer
    def head(self, sim: Simulated) -> SlipHead:
        return sim.head

    def write_dossier(self, sim: Simulated, change: Change) -> None:
        sim.state = change.state
        if change.bump_version:
            sim.version += 1

    def write_notification(self, sim: Simulated, values: dict[str, Any]) -> None:
        sim.notices.append(values)

    def write_slip_row(self, sim: Simulated, row: SlipRow) -> None:
        sim.events.append(row)
        sim.head = row.head

    def write_search_keys(self, sim: Simulated, keys: list[str], words: list[str]) -> None:
        sim.search_keys, sim.search_words = keys, words

    def date_search_keys(self, sim: Simulated, keys: list[str], received_at: datetime) -> None:
        """Nothing to do: the keys are written with the dossier's final state (:func:`_rows_of`)."""

    def write_event(self, sim: Simulated, values: dict[str, Any]) -> None:
        sim.outbox.append(outbox.row_tuple(values))

    def applicant_email(self, sim: Simulated) -> str | None:
        """The address of the applicant's account (an online applicant), as the API reads it."""
        return sim.citizen.email if sim.citizen is not None else None

    def recorded_at(self) -> datetime:
        return self._recorded_at

    # -- helpers
    def _later(self, cal: WorkingCalendar, start: datetime, minutes: float) -> datetime:
        return _local_seconds(cal.add_working_minutes(start, max(1, int(minutes))))

    def _persist(self, sim: Simulated, change: Change) -> None:
        if change.at > self.until:
            raise _Stop
        persist(self, sim, change)

    def _do(self, sim: Simulated, cal: WorkingCalendar, action: Action, actor: Person, role: str,
            at: datetime, data_in: ActionInput | None = None) -> None:
        if at > self.until:
            raise _Stop
        decision = lifecycle.decide(sim.state, action, data_in or NO_INPUT, code=sim.code, role=role, now=at,
                                    calendar=cal)
        self._persist(sim, change_of(decision, actor=actor.username, actor_role=role, now=at, outcome=Outcome(),
                                     assignee=None))

    def _upload(self, sim: Simulated, code: str, actor: Person, role: str, at: datetime) -> None:
        name = f"{code.lower()}-{sim.applicant_national_id[-4:]}.pdf"
        self._persist(sim, upload_change(actor=actor.username, actor_role=role, state=sim.state,
                                         document_code=code, filename=name, sha256=self.world.scan_sha,
                                         size_bytes=len(PLACEHOLDER_SCAN), now=at))
        sim.uploads[code] = (at, name)

    # -- the life of a dossier
    def simulate(self, procedure: ProcedureInfo, submitted_at: datetime, *, dossier_id: int, code: str
                 ) -> Simulated:
        rng, world = self.rng, self.world
        cal = world.calendars[procedure.agency_code]
        desk = world.desks[procedure.agency_code]
        online_share = {4: 0.55, 3: 0.35}.get(procedure.service_level, 0.0)
        draw = rng.random()
        if draw < online_share:
            channel = "online"
        elif procedure.postal_allowed and draw < online_share + 0.06:
            channel = "postal"
        else:
            channel = "counter"
        citizen = rng.choice(world.citizens) if channel == "online" else None
        if citizen is not None:
            name, phone = citizen.full_name, citizen.phone
            national_id = citizen.national_id or citizen.username
            submitter, submitter_role = citizen, Role.CITIZEN
        else:
            name, national_id = _name(rng), f"022{rng.randrange(10**9):09d}"
            phone = f"09{rng.randrange(10**8):08d}" if rng.random() < 0.8 else None
            submitter, submitter_role = desk.receiver, Role.RECEIVER
        delivery = "online" if channel == "online" and procedure.service_level >= 4 and rng.random() < 0.6 \
            else "counter"
        documents = [(c, n) for c, n, mandatory in procedure.documents if mandatory or rng.random() < 0.3]
        state = DossierState(status=Status.SUBMITTED, channel=channel, result_delivery=delivery,
                             service_level=procedure.service_level, supplement_policy=procedure.policy,
                             processing_value=procedure.value, processing_unit=procedure.unit)
        sim = Simulated(procedure, channel, delivery, submitted_at, submitter, submitter_role, citizen, name,
                        national_id, phone, state, documents=documents, id=dossier_id, code=code)
        with contextlib.suppress(_Stop):
            self._life(sim, cal, desk)
        return sim

    def _life(self, sim: Simulated, cal: WorkingCalendar, desk: Desk) -> None:
        rng = self.rng
        t = sim.submitted_at
        for change in lodging_changes(sim.submitter.username, sim.submitter_role, sim.channel, sim.state, None,
                                      code=sim.code, now=t, calendar=cal):
            self._persist(sim, change)
        applicant = sim.citizen
        if sim.channel == "online":
            assert applicant is not None
            for i, (code, _) in enumerate(sim.documents):
                self._upload(sim, code, applicant, Role.CITIZEN, t + timedelta(seconds=20 * (i + 1)))
            t += timedelta(seconds=20 * len(sim.documents))
            draw = rng.random()
            if draw < 0.015:
                self._do(sim, cal, Action.WITHDRAW, applicant, Role.CITIZEN,
                         _local_seconds(t + timedelta(minutes=rng.randint(30, 2880))))
                return
            t = self._later(cal, t, rng.uniform(10, 600))
            if draw < 0.045:
                reason = rng.choice(REJECT_REASONS)
                self._do(sim, cal, Action.REJECT, desk.receiver, Role.RECEIVER, t, ActionInput(reason=reason))
                return
            self._do(sim, cal, Action.RECEIVE, desk.receiver, Role.RECEIVER, t)
        else:
            if rng.random() < 0.5:
                for i, (code, _) in enumerate(sim.documents):
                    self._upload(sim, code, desk.receiver, Role.RECEIVER, t + timedelta(minutes=2 * (i + 1)))
                t += timedelta(minutes=2 * len(sim.documents))
        t = self._later(cal, t, rng.uniform(5, 120))
        sim.assignee = desk.processor
        self._do(sim, cal, Action.ASSIGN, desk.receiver, Role.RECEIVER, t,
                 ActionInput(assignee=Assignee(desk.processor.username, desk.processor.full_name)))
        returner = applicant if applicant is not None else desk.receiver
        returner_role = Role.CITIZEN if applicant is not None else Role.RECEIVER

        # Supplementation: at most twice, each within 3 working days of the latest clock start.
        rounds = 0
        while rounds < 2 and rng.random() < (0.08 if rounds == 0 else 0.12):
            assert sim.state.clock_started_at is not None
            window = 24 * 60 - cal.working_minutes_between(sim.state.clock_started_at, t)
            if window < 15:
                break
            t = self._later(cal, t, rng.uniform(10, window - 5))
            missing = [rng.choice(sim.documents)[0]] if sim.documents else ["TP01"]
            reason = rng.choice(SUPPLEMENT_REASONS)
            self._do(sim, cal, Action.REQUEST_SUPPLEMENT, desk.processor, Role.PROCESSOR, t,
                     ActionInput(reason=reason, missing_documents=missing))
            rounds += 1
            draw = rng.random()
            if draw < 0.05:
                self._do(sim, cal, Action.WITHDRAW, returner, returner_role,
                         self._later(cal, t, rng.uniform(480, 5 * 480)))
                return
            if draw < 0.09:
                return  # the applicant never comes back
            t = self._later(cal, t, rng.uniform(120, 8 * 480))
            self._do(sim, cal, Action.SUPPLEMENT, returner, returner_role, t)

        if sim.procedure.fee_vnd > 0 and rng.random() < 0.6:
            t = self._later(cal, t, rng.uniform(10, 240))
            amount = sim.procedure.fee_vnd
            self._do(sim, cal, Action.REQUEST_PAYMENT, desk.processor, Role.PROCESSOR, t,
                     ActionInput(amount_vnd=amount))
            online_payer = applicant is not None and sim.procedure.service_level >= 4 and rng.random() < 0.75
            t = self._later(cal, t, rng.uniform(10, 2 * 480))
            self._do(sim, cal, Action.PAY, returner if online_payer else desk.receiver,
                     Role.CITIZEN if online_payer else Role.RECEIVER, t)

        if rng.random() < 0.01:
            self._do(sim, cal, Action.WITHDRAW, returner, returner_role,
                     self._later(cal, t, rng.uniform(30, 960)))
            return

        finish = self._finish_time(sim, cal, desk, t)
        if rng.random() < 0.03:
            reason = rng.choice(REFUSAL_REASONS)
            self._do(sim, cal, Action.REFUSE, desk.approver, Role.APPROVER, finish, ActionInput(reason=reason))
            return
        self._do(sim, cal, Action.APPROVE, desk.approver, Role.APPROVER, finish)
        sim.result_at, sim.result_signer = finish, desk.approver
        if sim.result_delivery == "online":
            returned = finish + timedelta(minutes=rng.randint(1, 30))
        elif rng.random() < 0.97:
            returned = self._later(cal, finish, rng.uniform(30, 5 * 480))
        else:
            return  # the result is still waiting at the desk
        self._do(sim, cal, Action.RETURN_RESULT, desk.receiver, Role.RECEIVER, returned)
        if applicant is not None and rng.random() < 0.35:
            at = _local_seconds(returned + timedelta(minutes=rng.randint(5, 4320)))
            satisfied = rng.random() < (0.5 if sim.state.timeliness == "late" else 0.93)
            if at <= self.until:
                sim.rating = (at, satisfied, None if satisfied else "Thời gian giải quyết chưa đúng hẹn")

    def _finish_time(self, sim: Simulated, cal: WorkingCalendar, desk: Desk, t: datetime) -> datetime:
        """When the approver decides: mostly before the due date, sometimes on the due day, sometimes late; a
        dossier heading for lateness is extended (once, at least a working day ahead) a third of the time."""
        rng = self.rng
        due = sim.state.due_at
        assert due is not None
        draw = rng.random()
        p_late = self.world.late_propensity[sim.procedure.agency_code]
        if draw < p_late:
            remaining = cal.working_minutes_between(t, due)
            if remaining >= 8 * 60 + 10 and rng.random() < 0.35:
                at = self._later(cal, t, rng.uniform(5, remaining - 8 * 60 - 5))
                new_due = _local_seconds(cal.add_working_minutes(due, rng.randint(1, 5) * 480))
                reason = rng.choice(EXTENSION_REASONS)
                try:
                    self._do(sim, cal, Action.EXTEND, desk.approver, Role.APPROVER, at,
                             ActionInput(reason=reason, new_due_at=new_due))
                    t, due = at, new_due
                except DomainError:
                    pass
                else:
                    if rng.random() < 0.8:
                        return self._before(cal, t, due)
            return max(self._later(cal, due, rng.uniform(5, 3 * 480)), t + timedelta(minutes=1))
        if draw < p_late + 0.22:
            return self._on_due_day(cal, t, due)
        return self._before(cal, t, due)

    def _before(self, cal: WorkingCalendar, t: datetime, due: datetime) -> datetime:
        day_start = cal.working_sessions(due.astimezone(VN_TZ).date())[0][0]
        room = cal.working_minutes_between(t, day_start)
        if room <= 5:
            return self._on_due_day(cal, t, due)
        return max(self._later(cal, t, self.rng.uniform(0.05, 0.95) * room), t + timedelta(minutes=1))

    def _on_due_day(self, cal: WorkingCalendar, t: datetime, due: datetime) -> datetime:
        day_start = cal.working_sessions(due.astimezone(VN_TZ).date())[0][0]
        start = max(t, day_start)
        room = cal.working_minutes_between(start, due)
        if room <= 1:
            return max(_local_seconds(due), t + timedelta(minutes=1))
        return max(self._later(cal, start, self.rng.uniform(0, room - 1)), t + timedelta(minutes=1))


# --------------------------------------------------------------------------------------------------- arrivals


def arrivals(rng: random.Random, calendar: WorkingCalendar, first: date, last: date,
             n: int) -> list[datetime]:
    """``n`` submission instants over the working days ``first``..``last`` (Monday peak, mornings busier),
    sorted. Online submissions are later spread over evenings by :func:`_online_shift`."""
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    days = [d for d in days if calendar.is_working_day(d)]
    if not days:
        raise SystemExit("no working day in the period")
    weights = [1.35 if d.weekday() == 0 else 1.0 for d in days]
    chosen = rng.choices(days, weights=weights, k=n)
    out = []
    for day in chosen:
        sessions = calendar.working_sessions(day)
        s, e = sessions[0] if rng.random() < 0.62 or len(sessions) == 1 else sessions[-1]
        span = (e - s).total_seconds()
        out.append(s + timedelta(seconds=int(rng.random() * span)))
    out.sort()
    return out


# ---------------------------------------------------------------------------------------------------- rows


@dataclass
class BulkResult:
    dossiers: int = 0
    events: int = 0
    documents: int = 0
    results: int = 0
    ratings: int = 0
    notifications: int = 0
    seconds: float = 0.0
    first_code: str | None = None
    last_code: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


TABLES: dict[str, Any] = {
    "dossier": Dossier.__table__,  # type: ignore[attr-defined]
    "dossier_document": DossierDocument.__table__,  # type: ignore[attr-defined]
    "dossier_event": DossierEvent.__table__,  # type: ignore[attr-defined]
    "dossier_search_key": DossierSearchKey.__table__,  # type: ignore[attr-defined]
    "result_document": ResultDocument.__table__,  # type: ignore[attr-defined]
    "rating": Rating.__table__,  # type: ignore[attr-defined]
    "notification": Notification.__table__,  # type: ignore[attr-defined]
    "event": outbox.EVENT_TABLE,
}
COLUMNS: dict[str, tuple[str, ...]] = {
    name: tuple(c.name for c in table.columns if not (name != "dossier" and c.name == "id"))
    for name, table in TABLES.items()
}
COLUMNS["event"] = outbox.EVENT_COLUMNS
"""Insert order of each table's columns (dossier ids are reserved up front; other tables number their own)."""


@dataclass(frozen=True)
class Job:
    dossier_id: int
    code: str
    procedure: int
    submitted_at: datetime


@dataclass
class Rows:
    """Rows of one batch, per table, as tuples in :data:`COLUMNS` order with plain Python values."""

    tables: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: {name: [] for name in TABLES})
    words: set[str] = field(default_factory=set)
    """Search vocabulary words of the batch (the writing process adds those it has not added yet)."""


def _dossier_row(sim: Simulated, dossier_id: int, code: str) -> tuple[Any, ...]:
    state = sim.state
    p = sim.procedure
    row: dict[str, Any] = {name: getattr(state, name) for name in DossierState.__dataclass_fields__}
    row["status"] = state.status.value
    row.update(
        id=dossier_id, code=code, procedure_id=p.id, procedure_code=p.code, procedure_version=p.version,
        agency_code=p.agency_code, received_by_agency_code=p.agency_code, current_step=None,
        channel=sim.channel, result_delivery=state.result_delivery,
        delivery_address=None, applicant_user_id=sim.citizen.id if sim.citizen else None,
        applicant_national_id=sim.applicant_national_id, applicant_full_name=sim.applicant_name,
        applicant_name_normalised=fold_name(sim.applicant_name),
        applicant_phone=sim.applicant_phone, applicant_address=None, submitted_at=sim.submitted_at,
        fee_vnd=p.fee_vnd, assisted=False, digitised=bool(sim.uploads),
        assignee_id=sim.assignee.id if sim.assignee else None,
        tracking_secret_hash=secret_hash(f"bulk:{code}:{dossier_id}"), created_by_id=sim.submitter.id,
        version=sim.version, created_at=sim.submitted_at, updated_at=sim.events[-1].at,
        slip_rows=sim.head[0], slip_head=sim.head[1],
    )
    return tuple(row[c] for c in COLUMNS["dossier"])


assert COLUMNS["dossier_event"] == slip.COLUMNS
assert COLUMNS["dossier_search_key"] == search_index.KEY_COLUMNS


def _rows_of(sim: Simulated, job: Job, world: World, rows: Rows) -> None:
    t = rows.tables
    t["dossier"].append(_dossier_row(sim, job.dossier_id, job.code))
    t["dossier_event"].extend(as_tuple(row) for row in sim.events)
    t["event"].extend(sim.outbox)
    t["dossier_search_key"].extend(search_index.key_rows(job.dossier_id, sim.procedure.agency_code,
                                                         sim.state.received_at, sim.search_keys))
    rows.words.update(sim.search_words)
    columns = COLUMNS["notification"]
    t["notification"].extend(tuple(values.get(c) for c in columns) for values in sim.notices)
    for doc_code, name in sim.documents:
        upload = sim.uploads.get(doc_code)
        values = {"dossier_id": job.dossier_id, "code": doc_code, "name": name,
                  "created_at": sim.submitted_at, "filename": upload[1] if upload else None,
                  "content_type": "application/pdf" if upload else None,
                  "size_bytes": len(PLACEHOLDER_SCAN) if upload else None,
                  "sha256": world.scan_sha if upload else None,
                  "storage_key": world.scan_sha if upload else None,
                  "uploaded_at": upload[0] if upload else None}
        t["dossier_document"].append(tuple(values[c] for c in COLUMNS["dossier_document"]))
    if sim.result_at is not None and sim.result_signer is not None:
        values = {"dossier_id": job.dossier_id, "code": f"{job.code}-KQ1", "blob_sha256": world.result_sha,
                  "signed_by": sim.result_signer.full_name, "signer_username": sim.result_signer.username,
                  "signed_at": sim.result_at, "certificate_serial": SIMULATED_SERIAL}
        t["result_document"].append(tuple(values[c] for c in COLUMNS["result_document"]))
    if sim.rating is not None:
        at, satisfied, comment = sim.rating
        values = {"dossier_id": job.dossier_id, "satisfied": satisfied, "comment": comment, "at": at}
        t["rating"].append(tuple(values[c] for c in COLUMNS["rating"]))


# ---------------------------------------------------------------------------------------------------- workers

_SHARED: dict[str, Any] = {}
"""The world and ``until``, set before the worker processes fork (they inherit it)."""


def _build(task: tuple[list[Job], int]) -> Rows:
    """Simulate one batch (in a worker process, or inline): deterministic for its seed."""
    jobs, seed = task
    world: World = _SHARED["world"]
    simulator = DossierSimulator(world, random.Random(seed), _SHARED["until"])
    rows = Rows()
    for job in jobs:
        sim = simulator.simulate(world.procedures[job.procedure], job.submitted_at, dossier_id=job.dossier_id,
                                 code=job.code)
        _rows_of(sim, job, world, rows)
    dialect = _SHARED["dialect"]
    for name, table_rows in rows.tables.items():  # driver values, here rather than in the writing process
        rows.tables[name] = tablewriter.convert(table_rows,
                                                tablewriter.converters(dialect, TABLES[name], COLUMNS[name]))
    return rows


# ---------------------------------------------------------------------------------------------------- writing


def _write(session: Session, rows: Rows, sequences: DailyNumbers, result: BulkResult, words: set[str]) -> None:
    """Insert one batch (:func:`service.tablewriter.insert_rows`), the search words not in ``words`` (those
    written so far), then the touched daily sequences."""
    if rows.tables["event"]:
        outbox.lock(session)
    for name, table_rows in rows.tables.items():
        tablewriter.insert_rows(session, TABLES[name], COLUMNS[name], table_rows, converted=True)
    search_index.write_words(session, rows.words - words)
    words |= rows.words
    sequences.store(session)
    t = rows.tables
    result.dossiers += len(t["dossier"])
    result.events += len(t["dossier_event"])
    result.documents += len(t["dossier_document"])
    result.results += len(t["result_document"])
    result.ratings += len(t["rating"])
    result.notifications += len(t["notification"])
    if t["dossier"]:
        first, last = t["dossier"][0], t["dossier"][-1]
        code_at = COLUMNS["dossier"].index("code")
        result.first_code = result.first_code or first[code_at]
        result.last_code = last[code_at]


@contextlib.contextmanager
def _bulk_load(connection: Connection) -> Iterator[None]:
    """SQLite settings for a bulk load on this connection, restored afterwards: no fsync per batch (a crash
    mid-way loses a generated, reproducible data set, never a citizen's dossier) and a 64 MiB page cache, so
    the indexes being filled stay in memory."""
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.dbapi_connection  # outside SQLAlchemy's transaction: pragmas need none open
    assert raw is not None
    raw.execute("PRAGMA synchronous=OFF")
    raw.execute("PRAGMA cache_size=-65536")
    try:
        yield
    finally:
        connection.rollback()  # nothing left open (the session committed), so the settings can change back
        raw.execute("PRAGMA synchronous=NORMAL")
        raw.execute(f"PRAGMA cache_size=-{SQLITE_PAGE_CACHE_KIB}")  # the pool's setting (service.db)


def _reserve_ids(session: Session, count: int) -> list[int]:
    if session.get_bind().dialect.name == "postgresql":
        return list(session.execute(text(
            "SELECT nextval(pg_get_serial_sequence('dossier', 'id')) FROM generate_series(1, :n)"),
            {"n": count}).scalars())
    start = (session.execute(sa_select(func.max(Dossier.id))).scalar() or 0) + 1
    return list(range(start, start + count))


# ----------------------------------------------------------------------------------------------- entry points


def _online_shift(rng: random.Random, submitted: datetime) -> datetime:
    """Online submissions also arrive in the evening and at weekends."""
    local = submitted.astimezone(VN_TZ)
    return local.replace(hour=rng.choice((6, 12, 18, 19, 20, 21, 22)), minute=rng.randrange(60)) + timedelta(
        days=rng.choice((0, 0, 0, 1, 2)))


def generate(
    target: Database | Engine | str, n: int, *, first: date, last: date, until: datetime | None = None,
    seed: int = 0, batch_size: int = 5000, workers: int = 1,
    progress: Callable[[BulkResult], None] | None = None,
) -> BulkResult:
    """Write ``n`` dossiers submitted over the working days ``first``..``last`` into ``target``, each life
    played up to ``until`` (default: 60 days after ``last``, or now if earlier). Deterministic for a given
    ``seed``, starting database and batch size, whatever the number of ``workers`` (processes that simulate
    and hash batches while the main process writes)."""
    if n < 0:
        raise ValueError("n must be ≥ 0")
    db = Database(target) if isinstance(target, str) else None
    engine: Engine = db.engine if db else (target.engine if isinstance(target, Database) else target)
    rng = random.Random(seed)
    started = timer.perf_counter()
    result = BulkResult()
    if until is None:
        until = min(datetime.combine(last + timedelta(days=61), time(0), tzinfo=VN_TZ),
                    datetime.now(UTC).astimezone(VN_TZ))
    until = until.astimezone(VN_TZ)
    try:
        with Session(engine) as session:
            world = prepare_world(session, at=datetime.combine(first, time(7, 0), tzinfo=VN_TZ), rng=rng)
            session.commit()
            sequences = DailyNumbers.load(session)
        default_calendar = next(iter(world.calendars.values()))
        weights = [p.weight for p in world.procedures]
        drawn = []
        for submitted in arrivals(rng, default_calendar, first, last, n):
            index = rng.choices(range(len(world.procedures)), weights=weights)[0]
            at = submitted
            if world.procedures[index].service_level >= 3 and rng.random() < 0.25:
                at = _online_shift(rng, submitted)
            if at <= until:
                drawn.append((_local_seconds(at), index))
        drawn.sort()
        with Session(engine) as session, session.begin():
            ids = _reserve_ids(session, len(drawn))
        jobs = [Job(dossier_id, sequences.next(world.procedures[index].agency_code, at), index, at)
                for dossier_id, (at, index) in zip(ids, drawn, strict=True)]
        tasks = [(jobs[i:i + batch_size], rng.randrange(2**63)) for i in range(0, len(jobs), batch_size)]
        _SHARED.update(world=world, until=until, dialect=engine.dialect.name)
        words: set[str] = set()

        def write(rows: Rows) -> None:
            # The daily sequences already hold their final numbers: the first batch stores them all.
            with engine.connect() as connection, _bulk_load(connection), Session(bind=connection) as session:
                _write(session, rows, sequences, result, words)
                session.commit()
            if progress:
                progress(result)

        if workers > 1 and len(tasks) > 1:
            import multiprocessing

            with multiprocessing.get_context("fork").Pool(workers) as pool:
                for rows in pool.imap(_build, tasks):
                    write(rows)
        else:
            for task in tasks:
                write(_build(task))
        tablewriter.analyze(engine, list(TABLES))
    finally:
        _SHARED.clear()
        if db is not None:
            db.dispose()
    result.seconds = round(timer.perf_counter() - started, 2)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.bulk",
                                     description="Write N realistic dossiers with full, valid histories.")
    parser.add_argument("-n", type=int, required=True, help="number of dossiers")
    parser.add_argument("--database-url", default=None, help="default: MOTCUA_DATABASE_URL")
    parser.add_argument("--from", dest="first", type=date.fromisoformat, required=True, help="first day")
    parser.add_argument("--to", dest="last", type=date.fromisoformat, required=True, help="last day")
    parser.add_argument("--until", type=datetime.fromisoformat, default=None,
                        help="play histories up to this instant (with offset); default: 60 days after --to")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=1, help="processes simulating batches (default 1)")
    args = parser.parse_args(argv)
    if args.until is not None and args.until.tzinfo is None:
        parser.error("--until needs an offset, e.g. 2026-03-01T00:00:00+07:00")
    url = args.database_url
    if url is None:
        from service.settings import Settings

        url = Settings().database_url
    began = timer.perf_counter()

    def report(r: BulkResult) -> None:
        rate = r.dossiers / max(timer.perf_counter() - began, 1e-9)
        print(f"  {r.dossiers:>9,} dossiers  {r.events:>10,} events  ({rate:,.0f} dossiers/s)",
              file=sys.stderr)

    result = generate(url, args.n, first=args.first, last=args.last, until=args.until, seed=args.seed,
                      batch_size=args.batch, workers=args.workers, progress=report)
    print(json.dumps(result.as_dict(), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
