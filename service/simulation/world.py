"""The world a simulation run shares: the catalogue loaded, the procedures simulated, the desks' calendars, the pool
of citizens with accounts (:func:`prepare_world`, once per run, before its shards are set up:
:mod:`service.simulation.shards`)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from service.domain.calendar import VN_TZ, WorkingCalendar
from service.domain.roles import Role
from service.dossiers.numbering import DailyNumbers
from service.models import Dossier, Procedure, User
from service.simulation import people
from service.simulation.scenario import Scenario

SIM_PASSWORD = "Demo@123456"
"""Password of the staff and citizen accounts the simulator creates (as the demo catalogue's)."""


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=VN_TZ)


@dataclass(frozen=True)
class Proc:
    index: int
    code: str
    name: str
    agency_code: str
    service_level: int
    fee_vnd: int
    postal_allowed: bool
    mandatory: tuple[str, ...]
    optional: tuple[str, ...]
    weight: float
    slow: float
    obligation: float
    supplement: float
    anywhere: bool = False
    """Flagged ``anywhere_in_province``: may be lodged at another desk (``channels.lodged_elsewhere``)."""
    steps: tuple[str, ...] = ()
    """The agencies of an inter-agency procedure's steps, in order (empty for a one-agency procedure)."""


@dataclass
class World:
    """What every shard of a run shares, read or created once (:func:`prepare_world`): the catalogue, the
    procedures simulated, the desks' calendars, the pool of citizens with accounts, and the ledger's inputs."""

    scenario: Scenario
    seed: int
    procs: list[Proc]
    procedures: list[Procedure]
    calendars: dict[str, WorkingCalendar]
    national: WorkingCalendar
    origins: dict[str, Any]
    citizens: list[User]
    citizen_ids: dict[str, int]
    numbers: dict[tuple[str, date], int]
    """The daily dossier numbers stored before the run (empty on a fresh database)."""
    password_hash: str
    created_at: datetime
    hashes: dict[str, str] = field(default_factory=dict)

    @property
    def agencies(self) -> list[str]:
        """Every agency with a desk: those of the procedures simulated and of their inter-agency steps."""
        return sorted(self.calendars)

    def daily(self, agency_code: str, weight: float) -> float:
        """Dossiers a working day at ``agency_code`` for ``weight`` of the scenario's procedure weights."""
        total = sum(p.weight * len(p.steps or (p.agency_code,)) for p in self.procs)
        calendar = self.calendars[agency_code]
        january_first = date(self.scenario.first_day.year, 1, 1)
        working_days = sum(1 for i in range(365) if calendar.is_working_day(january_first + timedelta(days=i)))
        return self.scenario.dossiers_per_year * weight / total / max(working_days, 1)


def prepare_world(session: Session, scenario: Scenario, seed: int, *, force: bool = False) -> World:
    """Load the demo catalogue and its accounts, create the pool of citizens, and read what the shards share.
    Refuses a database that already holds dossiers unless ``force``."""
    from service.demo import load, read_catalogue
    from service.operations import postal
    from service.operations.calendars import calendar_for
    from service.security.passwords import hash_password

    s = scenario
    existing = session.exec(select(func.count()).select_from(Dossier)).one()
    if existing and not force:
        raise SystemExit(f"the database already holds {existing} dossiers: simulate on a fresh database "
                         "(the same scenario and seed give the same dossiers only from an empty one)")
    catalogue_at = local_midnight(s.first_day - timedelta(days=1))
    catalogue = read_catalogue()
    load(session, {**catalogue, "accounts": []}, now=catalogue_at)
    hashes: dict[str, str] = {}
    for account in catalogue["accounts"]:  # as the loader does, hashing each distinct password once
        if session.exec(select(User.id).where(User.username == account["username"])).first() is None:
            password = account["password"]
            hashes[password] = hashes.get(password) or hash_password(password)
            session.add(User(username=account["username"], password_hash=hashes[password],
                             full_name=account["full_name"], role=account["role"],
                             agency_code=account.get("agency_code"),
                             national_id=account.get("national_id"), phone=account.get("phone"),
                             identity_verified=True,
                             created_at=catalogue_at))
    session.flush()
    query = select(Procedure).where(col(Procedure.superseded_at).is_(None)).order_by(col(Procedure.code))
    if s.agencies:
        query = query.where(col(Procedure.agency_code).in_(s.agencies))
    rows = [p for p in session.exec(query) if s.weight(p.code) > 0]
    if not rows:
        raise SystemExit(f"scenario {s.name}: no procedure in force for agencies "
                         f"{list(s.agencies) or 'all'}")
    procs = [Proc(
        index=i, code=p.code, name=p.name, agency_code=p.agency_code, service_level=p.service_level,
        fee_vnd=p.fee_vnd, postal_allowed=p.postal_allowed,
        mandatory=tuple(d["code"] for d in p.required_documents if d.get("mandatory", True)),
        optional=tuple(d["code"] for d in p.required_documents if not d.get("mandatory", True)),
        weight=s.weight(p.code), slow=s.behaviour_for(p.code, "slow"),
        obligation=s.behaviour_for(p.code, "financial_obligation") if p.fee_vnd > 0 else 0.0,
        supplement=s.behaviour_for(p.code, "supplement"), anywhere=p.anywhere_in_province,
        steps=tuple(step["agency_code"] for step in p.steps or ()),
    ) for i, p in enumerate(rows)]
    password_hash = hashes.get(SIM_PASSWORD) or hash_password(SIM_PASSWORD)
    agencies = sorted({code for p in procs for code in p.steps or (p.agency_code,)})
    rng_people = random.Random(f"{s.name}:{seed}:people")
    citizens = _citizens(session, s, rng_people, password_hash, catalogue_at)
    citizen_ids = {national_id: user_id for national_id, user_id in session.exec(
        select(User.national_id, User.id).where(User.role == Role.CITIZEN, col(User.national_id).is_not(None),
                                                col(User.identity_verified).is_(True)))
        if national_id and user_id is not None}
    return World(scenario=s, seed=seed, procs=procs, procedures=rows,
                 calendars={code: calendar_for(session, code) for code in agencies},
                 national=calendar_for(session), origins={code: postal.origin_of(session, code) for code in agencies},
                 citizens=citizens, citizen_ids=citizen_ids, numbers=DailyNumbers.load(session).last,
                 password_hash=password_hash, created_at=catalogue_at, hashes=hashes)


def _citizens(session: Session, scenario: Scenario, rng: random.Random, password_hash: str,
              at: datetime) -> list[User]:
    from sqlalchemy import insert

    wanted = scenario.citizens
    citizens = select(User).where(User.role == Role.CITIZEN, col(User.national_id).is_not(None)) \
        .order_by(col(User.id)).limit(wanted)
    pool = list(session.exec(citizens))
    taken = set(session.exec(select(User.national_id).where(col(User.national_id).is_not(None))))
    taken |= {u.username for u in pool}
    fresh = people.people(rng, max(0, wanted - len(pool)), reference_year=scenario.first_day.year,
                          taken={t for t in taken if t})
    if fresh:
        session.execute(insert(User), [
            {"username": p.national_id, "password_hash": password_hash, "full_name": p.full_name,
             "role": Role.CITIZEN.value, "national_id": p.national_id, "phone": p.phone, "active": True,
             "identity_verified": True, "created_at": at} for p in fresh])
        pool = list(session.exec(citizens))
    return pool


@dataclass(frozen=True)
class Shard:
    """One shard of a run (:mod:`service.simulation.shards`): the procedures it plays, its team and its load."""

    index: int
    of: int
    """How many shards the run has."""
    key: str
    """Names the shard in its random streams: the unit's agencies, and the team (``/2``) when split."""
    procedures: frozenset[str]
    team: int
    teams: int
    load: dict[str, float] = field(default_factory=dict)
    """The procedure weight the shard brings to each agency (its desks' teams are sized for it)."""

    @property
    def weight(self) -> float:
        return sum(self.load.values())

    def share(self, proc: Proc) -> float:
        """The share of ``proc``'s arrivals this shard receives."""
        return 1.0 / self.teams if proc.code in self.procedures else 0.0
