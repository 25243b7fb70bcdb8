"""The simulation engine: a discrete-event simulation on the legal clock, through the real rules.

Every change to a dossier is decided by the code the API uses, through the simulator's
:class:`~service.simulation.ledger.Ledger`: submissions by :func:`service.dossiers.submission.check_lodging`
and the receipt rules, actions by :func:`service.dossiers.actions.decide_action` (and through it
:func:`service.domain.lifecycle.decide`, :mod:`~service.domain.deadlines`, the working calendar), postal
shipments by
:func:`service.operations.postal.plan_dispatch` and the carrier's :func:`~service.operations.postal.carrier_outcome`
— with ``now`` set by the simulated clock. Nothing writes a number directly: due dates, pauses, restarts,
extensions, timeliness, codes and the hash-chained control slip are what the API would have produced for the
same requests at the same instants (``tests/simulation/test_ledger.py`` compares every row with the ORM path).

The world
---------
* Citizens arrive (:mod:`service.simulation.arrivals`): online (some helped by the community digital team),
  at the counter, or by post with a hand-over record.
* Each agency's desk has receivers (intake of online dossiers, assignment, return of results), processors and
  approvers. Processors and approvers work through their queues in order, in working time, at a capacity of
  so many dossiers per working day; approvers are sometimes away for a day. Demand above capacity (Mondays,
  after Tết) builds a backlog, and backlogs make dossiers late.
* A dossier may be refused at intake, need one or two supplements (requested within 3 working days, the rules
  permitting), wait for a financial obligation, be withdrawn, need longer than its deadline (the approver then
  sometimes re-schedules it in time with an apology letter), be refused or approved.
* Results go back at the counter (collected after a few working days, a few never), online, or by post through
  the simulated carrier (which delivers, fails now and then, or is late); applicants with an account rate
  the service.

Batching and speed
------------------
The ledger holds the open dossiers in memory and writes rows in batches (``executemany`` on SQLite, ``COPY`` on
PostgreSQL) when a simulated day of its shard ends with at least ``batch_size`` actions since the last commit,
each batch in one transaction (written by the main process when the shards play in worker processes), so a
year is a few hundred transactions, not millions. On SQLite the simulation database runs with
``synchronous=OFF``, a large page cache and its journal in memory (:func:`tuned_sqlite`): a crash mid-run can
corrupt it — it is a throwaway, run the scenario again.

Result signing
--------------
Signing a result PDF costs ~100 ms, far too slow for a year of a province, so the ledger is given the app's
effects (:func:`service.bootstrap.compose_effects`) without those of ``approve`` unless ``sign_results`` is set;
then the ledger writes the approved dossier and runs the signing effect through the ORM in the same transaction
(write-through), and the summary says so.

Determinism and shards
----------------------
A run is played in shards (:mod:`service.simulation.shards`): parts of the scenario that share no dossier and no
officer, each a :class:`Simulation` with its own five random streams (arrivals, behaviour, people, carrier,
postal item numbers) seeded from the scenario, the seed and the shard's key, and its own lanes of ids and dossier
numbers. Within a shard events are ordered by (instant, sequence number); iteration is over lists and
insertion-ordered dicts only. On a fresh database the same scenario and seed give the same dossiers (codes,
ids, statuses, due dates, postal item numbers) and the same statistics, whether one process plays the shards in
turn or several play them in parallel (``workers``); only the tracking secrets (``secrets``) differ between runs,
and no statistic depends on them.
"""

from __future__ import annotations

import heapq
import logging
import math
import random
import sys
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import event
from sqlmodel import Session, col, select

from service.db import Database
from service.domain.calendar import VN_TZ, WorkingCalendar
from service.domain.errors import DomainError, NotPermitted
from service.domain.lifecycle import Action, Status
from service.domain.roles import Role
from service.dossiers.effects import Effects, effect_name, without
from service.dossiers.numbering import DailyNumbers
from service.errors import AppError
from service.models import Agency, User
from service.schemas.dossiers import ApplicantIn, DocumentRef, DossierIn, PostalHandoverIn
from service.simulation import people
from service.simulation.arrivals import Arrival, ArrivalModel, ProcedureMix
from service.simulation.ledger import Entry, Ledger
from service.simulation.scenario import Scenario
from service.simulation.world import Proc, Shard, World, local_midnight

log = logging.getLogger("motcua.simulate")


SUPPLEMENT_REASONS = ("Thiếu bản sao giấy tờ tùy thân", "Tờ khai chưa đủ chữ ký của người yêu cầu",
                      "Giấy tờ chưa được chứng thực theo quy định",
                      "Thông tin trên tờ khai không khớp với giấy tờ kèm theo")
REJECT_REASONS = ("Hồ sơ nộp trùng", "Thủ tục không thuộc thẩm quyền giải quyết của cơ quan",
                  "Tệp đính kèm không đọc được")
REFUSAL_REASONS = ("Không đủ điều kiện theo quy định của pháp luật",
                   "Kết quả xác minh không phù hợp với nội dung đề nghị")
EXTENSION_REASONS = ("Cần xác minh thêm thông tin với cơ quan liên quan", "Chờ ý kiến của cơ quan phối hợp",
                     "Cần kiểm tra thực địa")
WITHDRAW_REASON = "Người nộp hồ sơ đề nghị rút hồ sơ"
CORRECTION_REASONS = ("Hồ sơ chưa được kiểm tra đủ thành phần theo quy định",
                      "Thiếu ý kiến xác nhận của Ủy ban nhân dân cấp xã",
                      "Thông tin thửa đất chưa khớp với hồ sơ địa chính")
DISSATISFIED_COMMENTS = ("Thời gian giải quyết chưa đúng hẹn", "Phải đi lại nhiều lần",
                         "Cán bộ hướng dẫn chưa rõ ràng", None)
SATISFIED_COMMENTS = (None, None, None, "Cán bộ nhiệt tình, chu đáo", "Thủ tục nhanh gọn")


# ------------------------------------------------------------------------------------------------ the world


class Worker:
    """A processor or an approver: works through a FIFO queue in working time."""

    __slots__ = ("_away", "away_p", "busy", "index", "minutes", "queue", "seed", "user")

    def __init__(self, user: User, index: int, minutes: float, away_p: float = 0.0, seed: str = "") -> None:
        self.user, self.index, self.minutes = user, index, minutes
        self.queue: deque[Case] = deque()
        self.busy = False
        self.away_p, self.seed = away_p, seed
        self._away: dict[date, bool] = {}

    @property
    def load(self) -> int:
        return len(self.queue) + self.busy

    def away(self, day: date) -> bool:
        """Whether this officer is away (signs nothing) on ``day``: a draw of its own, so it does not depend
        on the order of events."""
        if not self.away_p:
            return False
        known = self._away.get(day)
        if known is None:
            known = self._away[day] = random.Random(f"{self.seed}:{day.isoformat()}").random() < self.away_p
        return known


@dataclass
class Desk:
    code: str
    name: str
    calendar: WorkingCalendar
    receivers: list[User]
    processors: list[Worker]
    approvers: list[Worker]
    home_commune: str | None
    province: str
    day_minutes: int
    turn: int = 0
    assign_turn: int = 0

    def receiver(self) -> User:
        self.turn += 1
        return self.receivers[self.turn % len(self.receivers)]


class Case:
    """What the simulator knows of one dossier besides its row: who is involved and what is planned."""

    __slots__ = (
        "channel",
        "citizen",
        "closed",
        "delivery",
        "desk",
        "documents",
        "entry",
        "extended",
        "home",
        "obligation",
        "paid",
        "proc",
        "processor",
        "processors",
        "slow",
        "supplements",
    )

    def __init__(self, proc: Proc, desk: Desk, channel: str, delivery: str, citizen: User | None,
                 documents: list[str]) -> None:
        self.proc, self.desk, self.channel = proc, desk, channel
        self.home = desk
        """The desk that lodged the dossier (and gives the result back); ``desk`` is the one holding it now."""
        self.processors: dict[str, Worker] = {}
        """An inter-agency dossier's processor at each agency of its steps."""
        self.delivery, self.citizen = delivery, citizen
        self.documents = documents
        self.entry: Entry | None = None
        self.processor: Worker | None = None
        self.closed = False
        self.supplements = 0
        self.obligation = False
        self.paid = False
        self.slow = False
        self.extended = False


@dataclass
class RunResult:
    """What a run did (the statistics themselves are read back from the database by the summary)."""

    scenario: Scenario
    seed: int
    first_day: date
    last_day: date
    end: datetime
    dialect: str
    submitted: int = 0
    actions: int = 0
    refused_by_rules: int = 0
    """Attempts the rules refused (a supplement after the 3-day window, an extension too late…): the officer
    then carries on, as at a real desk."""
    assisted: int = 0
    uploads: int = 0
    """Papers uploaded (scanned) as dossiers were lodged."""
    ratings: int = 0
    carrier_delivered: int = 0
    carrier_failed: int = 0
    carrier_late: int = 0
    transactions: int = 0
    seconds: float = 0.0
    setup_seconds: float = 0.0
    signing: str = "skipped"
    """``skipped`` (the effects of approve not run), ``signed`` (run), or ``none`` (approve has no effect)."""
    skipped_effects: list[str] = field(default_factory=list)
    staff: dict[str, dict[str, int]] = field(default_factory=dict)
    expected: float = 0.0
    limited: bool = False

    @property
    def dossiers_per_second(self) -> float:
        return self.submitted / self.seconds if self.seconds else 0.0

    @property
    def actions_per_second(self) -> float:
        return self.actions / self.seconds if self.seconds else 0.0


# ---------------------------------------------------------------------------------------------------- helpers


@contextmanager
def tuned_sqlite(db: Database, *, cache_mib: int = 256) -> Iterator[None]:
    """Make a SQLite simulation database fast while the block runs: ``synchronous=OFF`` (no fsync; a crash may
    corrupt the file — acceptable for a generated throwaway database), a large page cache, and the rollback
    journal in memory instead of the write-ahead log. In WAL mode every commit appends each page it changed to
    the log and a checkpoint then copies it again into the file (with random keys — event ids, blob hashes,
    search keys — nearly a page per row): for the province year ~6 GB written twice, 16 % of the writing
    process's time. With the journal in memory each page is written once, into the file, at commit; a
    transaction still rolls back (the journal's pages are in memory), only a crash loses the file.

    Leaving WAL needs the file to itself: when another connection has it open (a server reading it), the
    switch is refused and the run keeps WAL. On the way out the file is put back in WAL, which the server and
    its readers expect."""
    if db.dialect != "sqlite":
        yield
        return

    def fast(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute(f"PRAGMA cache_size=-{cache_mib * 1024}")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.execute("PRAGMA journal_mode=MEMORY")  # after the engine's own WAL; refused when shared
        cursor.close()

    db.dispose()  # connections opened before the block get none of this
    for engine in db.engines:  # the reading engine and, on a file, the writing one
        event.listen(engine, "connect", fast)
    try:
        yield
    finally:
        for engine in db.engines:
            event.remove(engine, "connect", fast)
        db.dispose()  # the next connection sets WAL again (the engine's own pragmas)
        with db.engine.connect():
            pass
        db.engine.dispose()


def scanned_paper(dossier_code: str, document_code: str) -> bytes:
    """A small, valid one-page PDF standing for the scan of one paper of one dossier (distinct per paper, so
    each upload stores its own content-addressed blob, as real scans would)."""
    text = f"Ban scan mo phong {dossier_code} {document_code}".encode("ascii")
    content = b"BT /F1 10 Tf 40 800 Td (" + text + b") Tj ET"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += str(number).encode() + b" 0 obj\n" + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 " + str(len(objects) + 1).encode() + b"\n0000000000 65535 f \n"
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += b"trailer\n<< /Size " + str(len(objects) + 1).encode() + b" /Root 1 0 R >>\nstartxref\n"
    return bytes(out + str(xref).encode() + b"\n%%EOF\n")



def _seconds(moment: datetime) -> datetime:
    return moment.astimezone(VN_TZ).replace(microsecond=0)


def _strip_prefix(name: str) -> str:
    for prefix in ("Ủy ban nhân dân ", "UBND "):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


# ---------------------------------------------------------------------------------------------------- engine

# Event kinds.
SUBMIT, INTAKE, ASSIGN, REQ_SUPP, SUPP, READY, PROCESSED, PAY, SIGNED, EXTEND, WITHDRAW, RETURN, DISPATCH, \
    RATE, CARRIER, CORRECT = range(16)


class Sink:
    """Where a shard's rows go when its simulation commits: straight into the database (:class:`DatabaseSink`),
    or to the process writing it (:mod:`service.simulation.shards`)."""

    def session(self) -> Session:
        raise RuntimeError("this shard writes no row itself: signing results needs --workers 1")

    def begin(self) -> None:
        """Start the shard's first transaction."""

    def commit(self, ledger: Ledger) -> None:
        raise NotImplementedError

    def end(self, ledger: Ledger, *, failed: bool) -> None:
        """The shard is done: write what is left (unless ``failed``)."""
        if not failed:
            self.commit(ledger)


class DatabaseSink(Sink):
    """Rows go into the database, one transaction per commit; the ledger may use the open session (result
    signing writes through the ORM)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._stack: ExitStack | None = None
        self._session: Session | None = None

    def session(self) -> Session:
        assert self._session is not None, "the ledger writes inside the simulator's transaction"
        return self._session

    def begin(self) -> None:
        self._stack = ExitStack()
        self._session = self._stack.enter_context(self.db.transaction())

    def commit(self, ledger: Ledger) -> None:
        self.end(ledger, failed=False)
        self.begin()

    def end(self, ledger: Ledger, *, failed: bool) -> None:
        stack, session = self._stack, self._session
        self._stack, self._session = None, None
        assert stack is not None and session is not None
        if failed:
            stack.__exit__(*sys.exc_info())  # rolls the open transaction back
            return
        ledger.flush(session)
        stack.close()


class Simulation:
    """One shard of a run (:mod:`service.simulation.shards`; the whole scenario is one shard when it is not
    split): its own arrivals, desks' teams, random streams and ledger. ``setup()`` makes its desks, ``play()``
    plays it."""

    def __init__(self, world: World, shard: Shard, *, sign_results: bool = False, batch_size: int = 5000,
                 effects: Effects | None = None) -> None:
        self.world, self.scenario, self.shard = world, world.scenario, shard
        self.effects: Effects = effects or {}
        """What the app does on each action; signing results (``sign_results``) runs those of approve."""
        self.seed = world.seed
        self.sign_results, self.batch_size = sign_results, batch_size
        seed_text = f"{self.scenario.name}:{self.seed}:{shard.key}"
        self.rng_arrivals = random.Random(f"{seed_text}:arrivals")
        self.rng = random.Random(f"{seed_text}:behaviour")
        self.rng_people = random.Random(f"{seed_text}:people")
        self.rng_carrier = random.Random(f"{seed_text}:carrier")
        self.seed_text = seed_text
        self.first_day, self.last_day = self.scenario.first_day, self.scenario.last_day
        self.result = RunResult(self.scenario, self.seed, self.first_day, self.last_day,
                                local_midnight(self.last_day + timedelta(days=1)), "")
        self._heap: list[tuple[datetime, int, int, Case | None, Any]] = []
        self._seq = 0
        self._since_commit = 0
        self.in_transit: dict[int, Case] = {}
        self.desks: dict[str, Desk] = {}
        self.procs = world.procs
        self.citizens = world.citizens
        self._handlers = self._handler_table()
        self.sink: Sink = Sink()
        self.last_day_cap: int | None = None
        """How many of the last day's arrivals to take (``--limit``); all when ``None``."""
        self.ledger: Ledger  # made by setup, once the desks exist

    # -- set-up ---------------------------------------------------------------------------------------------

    def setup(self, session: Session, taken: dict[tuple[str, str], int], ids: dict[str, Any],
              numbers: DailyNumbers) -> None:
        """Make this shard's desks — every agency's receivers, and its own team of processors and approvers
        where it has dossiers, the officers after those ``taken`` by earlier shards (updated) — and its
        ledger, drawing ``ids`` and ``numbers`` in its own lanes."""
        from service.operations import postal

        for code in self.world.agencies:
            self.desks[code] = self._desk(session, code, taken)
        staff = {w.user.username: w.user for desk in self.desks.values() for w in desk.processors}
        w = self.world
        self.ledger = Ledger(lambda: self.sink.session(), procedures={p.code: p for p in w.procedures},
                             staff=staff, calendars=dict(w.calendars), origins=dict(w.origins),
                             calendar=w.national, citizens=w.citizen_ids, levels=postal.service_levels(),
                             rng=random.Random(f"{self.seed_text}:postal-items"),
                             effects=self.effects if self.sign_results else without(self.effects, Action.APPROVE),
                             numbers=numbers, ids=ids, lane=(self.shard.index, self.shard.of))

    def _desk(self, session: Session, code: str, taken: dict[tuple[str, str], int]) -> Desk:
        s, w = self.scenario, self.world
        staff = s.staff.for_agency(code)
        agency = session.get(Agency, code)
        assert agency is not None
        root = agency
        while root.parent_code:
            parent = session.get(Agency, root.parent_code)
            if parent is None:
                break
            root = parent
        processor_capacity = float(staff.processor_capacity or s.staff.processor_capacity)
        approver_capacity = float(staff.approver_capacity or s.staff.approver_capacity)
        weight = self.shard.load.get(code, 0.0)
        daily = w.daily(code, weight)
        team, teams = self.shard.team, self.shard.teams

        def size(value: int | str | None, capacity: float) -> int:
            if not weight:
                return 0  # this shard brings no dossier to the agency: its receivers only (lodged elsewhere)
            if value == "auto" or value is None:
                return max(1, math.ceil(daily / (capacity * s.staff.utilisation)))
            return int(value) // teams + (1 if team < int(value) % teams else 0)  # the desk's own, in teams

        counts = {Role.RECEIVER: int(staff.receivers or 1),
                  Role.PROCESSOR: size(staff.processors, processor_capacity),
                  Role.APPROVER: size(staff.approvers, approver_capacity)}
        users: dict[str, list[User]] = {}
        # New accounts get their role as the text a loaded one holds (not the enum): it goes into every control-slip
        # row they write, and the rows a worker hands over are pickled (an enum member is pickled by reference,
        # several times slower than a string).
        for role, prefix in ((Role.RECEIVER, "tiepnhan"), (Role.PROCESSOR, "chuyenvien"),
                             (Role.APPROVER, "lanhdao")):
            first = 0 if role == Role.RECEIVER else taken.get((code, role), 0)  # receivers serve every team
            found = list(session.exec(select(User).where(User.agency_code == code, User.role == role,
                                                         col(User.active).is_(True)).order_by(col(User.id))))
            for i in range(len(found), first + counts[role]):
                user = User(username=f"{prefix}{i + 1}.{code.lower()}", password_hash=w.password_hash,
                            full_name=people.full_name(self.rng_people), role=role.value, agency_code=code,
                            phone=people.phone(self.rng_people), identity_verified=True, created_at=w.created_at)
                session.add(user)
                found.append(user)
            session.flush()
            users[role] = found[first:first + counts[role]]
            if role != Role.RECEIVER:
                taken[(code, role)] = first + counts[role]
        minutes = w.calendars[code].office_hours.working_day_minutes
        self.result.staff[code] = {role.value: n for role, n in counts.items()}
        first_approver = taken[(code, Role.APPROVER)] - counts[Role.APPROVER]
        return Desk(
            code=code, name=agency.name, calendar=w.calendars[code], receivers=users[Role.RECEIVER],
            processors=[Worker(u, i, minutes / processor_capacity) for i, u in enumerate(users[Role.PROCESSOR])],
            approvers=[Worker(u, i, minutes / approver_capacity, s.staff.approver_away,
                              f"{s.name}:{self.seed}:away:{code}:{first_approver + i}")
                       for i, u in enumerate(users[Role.APPROVER])],
            home_commune=_strip_prefix(agency.name) if agency.level == "commune" else None,
            province=_strip_prefix(root.name), day_minutes=minutes,
        )

    # -- events ---------------------------------------------------------------------------------------------

    def _at(self, when: datetime, kind: int, case: Case | None, extra: Any = None) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (_seconds(when), self._seq, kind, case, extra))

    def _dossier(self, case: Case) -> Entry:
        assert case.entry is not None
        return case.entry

    def _act(self, case: Case, user: User, action: Action, now: datetime,
             payload: dict[str, Any] | None = None, *, role: str | None = None) -> bool:
        """Apply ``action`` through the ledger (:meth:`service.simulation.ledger.Ledger.act`, the decisions of
        :func:`service.dossiers.actions.act`); ``False`` when the rules refuse it (checked before any
        change)."""
        try:
            self.ledger.act(self._dossier(case), user=user, action=action, payload=payload, now=now,
                            actor_role=role)
        except (NotPermitted, AppError):
            raise  # a role the action never allows, a failed effect: a bug or an outage, not a desk's situation
        except DomainError:
            self.result.refused_by_rules += 1
            return False
        self.result.actions += 1
        self._since_commit += 1
        return True

    def _status(self, case: Case) -> Status:
        return self._dossier(case).state.status

    def _working(self, case: Case, start: datetime, minutes: float) -> datetime:
        return case.desk.calendar.add_working_minutes(start, max(1.0, minutes))

    # -- handlers -------------------------------------------------------------------------------------------

    def _elsewhere(self, proc: Proc, channel: str) -> str | None:
        """Another desk of the province that lodges this counter dossier, drawn with the scenario's
        ``channels.lodged_elsewhere`` share (no draw at all when it is zero, so older scenarios replay as before).
        The demo catalogue's agencies are all of one province."""
        share = self.scenario.channels.lodged_elsewhere
        others = [code for code in sorted(self.desks) if code != proc.agency_code]
        if share <= 0 or channel != "counter" or not proc.anywhere or not others or self.rng.random() >= share:
            return None
        return self.rng.choice(others)

    def _submit(self, now: datetime, arrival: Arrival) -> None:
        rng, s = self.rng, self.scenario
        proc = self.procs[arrival.procedure]
        desk = self.desks[proc.steps[0] if proc.steps else proc.agency_code]
        channel = arrival.channel
        citizen: User | None = None
        if channel == "online" or rng.random() < s.channels.registered:
            citizen = rng.choice(self.citizens)
        if channel == "online":
            if proc.service_level >= 4 and rng.random() < s.results.online:
                delivery = "online"
            elif proc.postal_allowed and rng.random() < s.results.postal:
                delivery = "postal"
            else:
                delivery = "counter"
        elif channel == "postal":
            delivery = "postal" if rng.random() < 0.85 else "counter"
        else:
            delivery = "postal" if proc.postal_allowed and rng.random() < s.results.postal else "counter"
        documents = list(proc.mandatory) + [c for c in proc.optional if rng.random() < 0.3]
        address = people.address(rng, home_commune=desk.home_commune, province=desk.province) \
            if delivery == "postal" else None
        if citizen is not None:
            applicant = ApplicantIn(national_id=citizen.national_id or citizen.username,
                                    full_name=citizen.full_name, phone=citizen.phone, address=address)
        else:
            person = people.person(self.rng_people, reference_year=now.year)
            applicant = ApplicantIn(national_id=person.national_id, full_name=person.full_name,
                                    phone=person.phone, address=address)
        handover = None
        if channel == "postal":
            handover = PostalHandoverIn(receipt_number=f"BBGN-{now:%y%m%d}-{rng.randrange(10**5):05d}",
                                        posted_at=_seconds(now - timedelta(hours=rng.uniform(20, 72))))
        data = DossierIn(procedure_code=proc.code, channel=channel, result_delivery=delivery,
                         delivery_address=address, applicant=applicant,
                         documents=[DocumentRef(code=c) for c in documents], assisted=arrival.assisted,
                         postal_handover=handover)
        submitter = citizen if channel == "online" else desk.receiver()
        elsewhere = None if proc.steps else self._elsewhere(proc, channel)
        if elsewhere is not None:
            submitter = self.desks[elsewhere].receiver()
        assert submitter is not None
        case = Case(proc, desk, channel, delivery, citizen, documents)
        if elsewhere is not None:
            case.home = self.desks[elsewhere]
        case.entry = self.ledger.submit(user=submitter, data=data, now=now, desk=elsewhere)
        self.result.submitted += 1
        self.result.actions += 1
        self._since_commit += 1
        self.result.assisted += arrival.assisted
        self._scan(now, case, submitter)
        if channel == "online":
            self._at(self._working(case, now, rng.uniform(5, 240)), INTAKE, case)
        else:
            self._at(self._working(case, now, rng.uniform(3, 90)), ASSIGN, case)

    def _scan(self, now: datetime, case: Case, submitter: User) -> None:
        """Digitise the dossier's papers as it is lodged: the online applicant attaches a scan of each paper
        (``behaviour.upload_online``), or the receiver scans the papers brought to the desk
        (``behaviour.scan_counter``), each upload through the API's rules (one control-slip row a paper)."""
        b = self.scenario.behaviour
        share = b.upload_online if case.channel == "online" else b.scan_counter
        if share <= 0 or not case.documents or self.rng.random() >= share:
            return
        entry = self._dossier(case)
        for i, code in enumerate(case.documents):
            at = now + timedelta(seconds=20 * (i + 1))
            self.ledger.upload(entry, user=submitter, document_code=code, filename=f"{entry.code}-{code}.pdf",
                               content=scanned_paper(entry.code, code), content_type="application/pdf", now=at)
            self.result.uploads += 1
            self.result.actions += 1
            self._since_commit += 1

    def _intake(self, now: datetime, case: Case) -> None:
        rng = self.rng
        receiver = case.desk.receiver()
        if rng.random() < self.scenario.behaviour.intake_reject:
            if self._act(case, receiver, Action.REJECT, now, {"reason": rng.choice(REJECT_REASONS)}):
                case.closed = True
            return
        if self._act(case, receiver, Action.RECEIVE, now):
            self._at(self._working(case, now, rng.uniform(3, 90)), ASSIGN, case)

    def _assign(self, now: datetime, case: Case) -> None:
        rng, b = self.rng, self.scenario.behaviour
        desk = case.desk
        desk.assign_turn += 1
        worker = desk.processors[desk.assign_turn % len(desk.processors)]
        if not self._act(case, desk.receiver(), Action.ASSIGN, now, {"assignee": worker.user.username}):
            return
        case.processor = worker
        if case.proc.steps:
            case.processors[desk.code] = worker
        case.slow = rng.random() < case.proc.slow
        case.obligation = rng.random() < case.proc.obligation
        state = self._dossier(case).state
        if rng.random() < b.withdraw:
            assert state.due_at is not None
            span = max(60.0, desk.calendar.working_minutes_between(now, state.due_at))
            self._at(self._working(case, now, rng.uniform(0.05, 1.2) * span), WITHDRAW, case)
        if rng.random() < case.proc.supplement:
            self._plan_supplement(now, case)
        else:
            self._to_appraisal(now, case)

    def _plan_supplement(self, now: datetime, case: Case) -> None:
        state = self._dossier(case).state
        calendar = case.desk.calendar
        assert state.clock_started_at is not None
        window = 3 * case.desk.day_minutes - calendar.working_minutes_between(state.clock_started_at, now)
        self._at(self._working(case, now, self.rng.uniform(10, max(20.0, window - 15))), REQ_SUPP, case)

    def _to_appraisal(self, now: datetime, case: Case) -> None:
        """The dossier is complete: it becomes ready for its processor's decision after its own work time (a
        fraction of the allowed time; more than all of it for a slow one)."""
        rng = self.rng
        entry = self._dossier(case)
        state = entry.state
        assert state.due_at is not None
        calendar = case.desk.calendar
        # An inter-agency dossier's work at each agency takes a fraction of that step's own time.
        due = entry.steps[entry.current_step - 1][1].due_at if entry.current_step else state.due_at
        assert due is not None
        allowed = max(30.0, calendar.working_minutes_between(now, due))
        fraction = rng.uniform(1.1, 2.0) if case.slow else rng.uniform(0.0, 0.45)
        ready = self._working(case, now, fraction * allowed)
        self._at(ready, READY, case)
        if entry.current_step is not None and entry.current_step < len(entry.steps):
            return  # an earlier step: handed over when done (no extension asked there)
        if case.slow and not case.extended and rng.random() < self.scenario.behaviour.extend:
            case.extended = True
            at = calendar.add_working_minutes(state.due_at, -(case.desk.day_minutes + rng.uniform(15, 180)))
            at = max(at, self._working(case, now, 5))
            promised = calendar.add_working_minutes(ready, rng.uniform(60, 2 * case.desk.day_minutes))
            new_due = calendar.close_of_business(promised.astimezone(VN_TZ).date())
            self._at(at, EXTEND, case, new_due)

    def _start(self, worker: Worker, now: datetime, kind: int, case_desk: Desk) -> None:
        """Let an idle ``worker`` take the next dossier of its queue."""
        calendar = case_desk.calendar
        while worker.queue:
            case = worker.queue.popleft()
            if case.closed:
                continue
            start = calendar.next_working_instant(now)
            while worker.away(start.astimezone(VN_TZ).date()):
                start = calendar.next_working_instant(local_midnight(start.astimezone(VN_TZ).date()
                                                                     + timedelta(days=1)))
            finish = calendar.add_working_minutes(start, worker.minutes * self.rng.uniform(0.5, 1.5))
            worker.busy = True
            self._at(finish, kind, case, worker)
            return
        worker.busy = False

    def _enqueue(self, worker: Worker, case: Case, now: datetime, kind: int) -> None:
        worker.queue.append(case)
        if not worker.busy:
            self._start(worker, now, kind, case.desk)

    def _ready(self, now: datetime, case: Case) -> None:
        if case.closed or self._status(case) is not Status.PROCESSING:
            return
        assert case.processor is not None
        self._enqueue(case.processor, case, now, PROCESSED)

    def _processed(self, now: datetime, case: Case, worker: Worker) -> None:
        worker.busy = False
        self._start(worker, now, PROCESSED, case.desk)
        if case.closed or self._status(case) is not Status.PROCESSING:
            return
        entry = self._dossier(case)
        if entry.current_step is not None and entry.current_step < len(entry.steps):
            self._transfer(now, case, worker)
            return
        if case.obligation and not case.paid and self._act(case, worker.user, Action.REQUEST_PAYMENT, now,
                                                           {"amount_vnd": case.proc.fee_vnd}):
            rng = self.rng
            online = (case.citizen is not None and case.proc.service_level >= 4
                      and rng.random() < self.scenario.behaviour.online_payment)
            at = now + timedelta(hours=rng.uniform(0.5, 96)) if online else \
                self._working(case, now, rng.uniform(30, 4 * case.desk.day_minutes))
            self._at(at, PAY, case, online)
            return
        self._to_approver(now, case)

    def _transfer(self, now: datetime, case: Case, worker: Worker) -> None:
        """Hand the dossier to the next step's agency (Decree 61/2018 Art. 19(6)); that agency's processor then
        appraises it in its own step time, or — ``behaviour.return_for_correction`` — sends it back once to the
        previous agency, within its step, which corrects and hands it over again."""
        if not self._act(case, worker.user, Action.TRANSFER, now, {"note": "Chuyển xử lý bước tiếp theo"}):
            return
        entry = self._dossier(case)
        case.desk = desk = self.desks[entry.holder]
        worker = case.processors.get(desk.code) or self._next_processor(desk)
        case.processors[desk.code] = case.processor = worker
        case.slow = self.rng.random() < case.proc.slow
        if entry.steps[entry.current_step - 1][1].returned_for_correction is False \
                and self.rng.random() < self.scenario.behaviour.return_for_correction:
            self._at(self._working(case, now, self.rng.uniform(30, 2 * desk.day_minutes)), CORRECT, case)
            return
        self._to_appraisal(now, case)

    def _next_processor(self, desk: Desk) -> Worker:
        desk.assign_turn += 1
        return desk.processors[desk.assign_turn % len(desk.processors)]

    def _correct(self, now: datetime, case: Case) -> None:
        """The next agency sends the dossier back to the previous one for correction (once per step, within its
        step time: the rules refuse it later and the processor appraises what it has)."""
        if case.closed or self._status(case) is not Status.PROCESSING:
            return
        assert case.processor is not None
        if not self._act(case, case.processor.user, Action.RETURN_FOR_CORRECTION, now,
                         {"reason": self.rng.choice(CORRECTION_REASONS)}):
            self._to_appraisal(now, case)
            return
        entry = self._dossier(case)
        case.desk = desk = self.desks[entry.holder]
        case.processor = case.processors.get(desk.code) or self._next_processor(desk)
        self._to_appraisal(now, case)

    def _to_approver(self, now: datetime, case: Case) -> None:
        worker = min(case.desk.approvers, key=lambda w: (w.load, w.index))
        self._enqueue(worker, case, now, SIGNED)

    def _pay(self, now: datetime, case: Case, online: bool) -> None:
        if case.closed or self._status(case) is not Status.AWAITING_PAYMENT:
            return
        payer = case.citizen if online and case.citizen is not None else case.desk.receiver()
        if self._act(case, payer, Action.PAY, now):
            case.paid = True
            self._to_approver(now, case)

    def _signed(self, now: datetime, case: Case, worker: Worker) -> None:
        worker.busy = False
        self._start(worker, now, SIGNED, case.desk)
        if case.closed or self._status(case) is not Status.PROCESSING:
            return
        rng = self.rng
        if rng.random() < self.scenario.behaviour.refuse:
            if self._act(case, worker.user, Action.REFUSE, now, {"reason": rng.choice(REFUSAL_REASONS)}):
                case.closed = True
            return
        if not self._act(case, worker.user, Action.APPROVE, now):
            return
        self._plan_return(now, case)

    def _plan_return(self, now: datetime, case: Case) -> None:
        rng, r = self.rng, self.scenario.results
        if case.delivery == "online":
            self._at(now + timedelta(minutes=rng.uniform(2, 30)), RETURN, case)
        elif case.delivery == "postal":
            self._at(self._working(case, now, rng.uniform(10, 240)), DISPATCH, case)
        elif rng.random() < r.never_collected:
            case.closed = True  # the result waits at the desk
        else:
            delay = rng.expovariate(1 / (r.collect_days * case.desk.day_minutes))
            self._at(self._working(case, now, 5 + delay), RETURN, case)

    def _extend(self, now: datetime, case: Case, new_due: datetime) -> None:
        if case.closed or self._status(case) is not Status.PROCESSING:
            return
        approver = case.desk.approvers[0].user
        self._act(case, approver, Action.EXTEND, now,
                  {"reason": self.rng.choice(EXTENSION_REASONS), "new_due_at": new_due})

    def _withdraw(self, now: datetime, case: Case) -> None:
        if case.closed or self._status(case) not in (Status.RECEIVED, Status.PROCESSING,
                                                     Status.AWAITING_SUPPLEMENT, Status.AWAITING_PAYMENT):
            return
        by_citizen = case.citizen is not None and case.channel == "online"
        user = case.citizen if by_citizen and case.citizen is not None else case.desk.receiver()
        if self._act(case, user, Action.WITHDRAW, now, {"reason": WITHDRAW_REASON}):
            case.closed = True

    def _request_supplement(self, now: datetime, case: Case) -> None:
        if case.closed or self._status(case) is not Status.PROCESSING:
            return
        rng, b = self.rng, self.scenario.behaviour
        assert case.processor is not None
        missing = [rng.choice(case.documents)] if case.documents else ["TP01"]
        if not self._act(case, case.processor.user, Action.REQUEST_SUPPLEMENT, now,
                         {"reason": rng.choice(SUPPLEMENT_REASONS), "missing_documents": missing}):
            self._to_appraisal(now, case)  # too late to ask: the processor decides on what is there
            return
        case.supplements += 1
        if rng.random() < b.abandon:
            case.closed = True  # never comes back: the dossier stays paused
            return
        online = case.citizen is not None and case.channel == "online"
        at = now + timedelta(hours=rng.uniform(2, 144)) if online else \
            self._working(case, now, rng.uniform(60, 6 * case.desk.day_minutes))
        self._at(at, SUPP, case, online)

    def _supplement(self, now: datetime, case: Case, online: bool) -> None:
        if case.closed or self._status(case) is not Status.AWAITING_SUPPLEMENT:
            return
        user = case.citizen if online and case.citizen is not None else case.desk.receiver()
        if not self._act(case, user, Action.SUPPLEMENT, now):
            return
        if case.supplements < 2 and self.rng.random() < self.scenario.behaviour.second_supplement:
            self._plan_supplement(now, case)
        else:
            self._to_appraisal(now, case)

    def _return(self, now: datetime, case: Case) -> None:
        if self._status(case) is not Status.RESULT_READY:
            return
        if self._act(case, case.home.receiver(), Action.RETURN_RESULT, now):
            self._maybe_rate(now, case)
        case.closed = True

    def _dispatch(self, now: datetime, case: Case) -> None:
        if self._status(case) is not Status.RESULT_READY:
            return
        if self._act(case, case.home.receiver(), Action.DISPATCH_POSTAL, now):
            self.in_transit[self._dossier(case).id] = case

    def _carrier(self, now: datetime) -> None:
        if not self.in_transit:
            return
        p = self.scenario.postal
        for report in self.ledger.run_carrier(now, failure_rate=p.failure_rate, late_rate=p.late_rate,
                                              rng=self.rng_carrier):
            case = self.in_transit.pop(report.entry.id, None)
            self.result.actions += 1
            self._since_commit += 1
            self.result.carrier_late += report.carrier_late
            if case is None:
                continue
            if report.event == "delivered":
                self.result.carrier_delivered += 1
                self._maybe_rate(report.at, case)
            else:
                self.result.carrier_failed += 1
                delay = self.rng.expovariate(1 / (self.scenario.results.collect_days * case.desk.day_minutes))
                self._at(self._working(case, now, 5 + delay), RETURN, case)

    def _maybe_rate(self, now: datetime, case: Case) -> None:
        if case.citizen is not None and self.rng.random() < self.scenario.behaviour.rating:
            self._at(now + timedelta(minutes=self.rng.uniform(5, 4320)), RATE, case)

    def _rate(self, now: datetime, case: Case) -> None:
        assert case.citizen is not None
        b, rng = self.scenario.behaviour, self.rng
        entry = self._dossier(case)
        late = entry.state.timeliness == "late"
        satisfied = rng.random() < (b.satisfied_late if late else b.satisfied_on_time)
        comment = rng.choice(SATISFIED_COMMENTS if satisfied else DISSATISFIED_COMMENTS)
        self.ledger.rate(entry, user=case.citizen, satisfied=satisfied, comment=comment, now=now)
        self.result.ratings += 1
        self.result.actions += 1
        self._since_commit += 1

    def _dispatch_event(self, now: datetime, kind: int, case: Case | None, extra: Any) -> None:
        if kind == SUBMIT:
            self._submit(now, extra)
            return
        if kind == CARRIER:
            self._carrier(now)
            return
        assert case is not None
        handler: Callable[..., None] = self._handlers[kind]
        if kind in (PROCESSED, SIGNED, EXTEND, PAY, SUPP):
            handler(now, case, extra)
        else:
            handler(now, case)

    def _handler_table(self) -> dict[int, Callable[..., None]]:
        return {INTAKE: self._intake, ASSIGN: self._assign, REQ_SUPP: self._request_supplement,
                SUPP: self._supplement, READY: self._ready, PROCESSED: self._processed, PAY: self._pay,
                SIGNED: self._signed, EXTEND: self._extend, WITHDRAW: self._withdraw, RETURN: self._return,
                DISPATCH: self._dispatch, RATE: self._rate, CORRECT: self._correct}

    # -- the run --------------------------------------------------------------------------------------------

    def arrivals(self) -> ArrivalModel:
        """This shard's arrival model (a fresh one draws the same arrivals from the start)."""
        calendar = self.world.calendars[self.world.agencies[0]]
        return ArrivalModel(self.scenario, calendar, [
            ProcedureMix(p.code, p.weight, p.service_level >= 3, p.postal_allowed) for p in self.procs],
            random.Random(f"{self.seed_text}:arrivals"), share=[self.shard.share(p) for p in self.procs])

    def play(self, last: date, sink: Sink, on_day: Callable[[date], None] | None = None) -> RunResult:
        """Play the shard's days up to ``last``, committing through ``sink`` when a day ends with at least
        ``batch_size`` actions since the last commit, and once at the end."""
        effects = [effect_name(effect) for effect in self.effects.get(Action.APPROVE, ())]
        if not effects:
            self.result.signing = "none"
        elif self.sign_results:
            self.result.signing = "signed"
        else:
            self.result.signing, self.result.skipped_effects = "skipped", effects
        model = self.arrivals()
        self.result.expected = model.expected(self.first_day, self.last_day)
        self.sink = sink
        sink.begin()
        self.result.transactions += 1
        try:
            day = self.first_day
            while day <= last:
                arrivals = model.day(day)
                if day == last and self.last_day_cap is not None:
                    arrivals = arrivals[:self.last_day_cap]
                for arrival in arrivals:
                    self._at(arrival.at, SUBMIT, None, arrival)
                self._at(datetime.combine(day, time(23, 0), tzinfo=VN_TZ), CARRIER, None)
                cut = local_midnight(day + timedelta(days=1))
                while self._heap and self._heap[0][0] < cut:
                    when, _, kind, case, extra = heapq.heappop(self._heap)
                    self._dispatch_event(when, kind, case, extra)
                if self._since_commit >= self.batch_size:
                    sink.commit(self.ledger)
                    self._since_commit = 0
                    self.result.transactions += 1
                if on_day:
                    on_day(day)
                day += timedelta(days=1)
        except BaseException:
            sink.end(self.ledger, failed=True)
            raise
        sink.end(self.ledger, failed=False)
        return self.result

