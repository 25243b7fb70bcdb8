"""Scenarios: what world the simulator plays, as data (TOML), with a seed.

A scenario names the agencies of the catalogue that take part, how many dossiers a year arrive and how they
arrive (weekday and Monday peaks, morning peaks, the surge after Tết, quiet holidays), which channels citizens
choose, how many officers work at each desk and how fast, and how applicants and officers behave (supplements,
financial obligations, withdrawals, extensions, ratings). The two shipped scenarios live in
``service/scenarios/*.toml``; any other TOML file with the same keys works (``motcua simulate --scenario
path.toml``). Every key is optional except ``name``; unknown keys are refused, so a typo never goes unnoticed.

The same scenario and seed give the same dossiers and the same statistics (on a fresh database).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

SHIPPED = ("commune", "province")


class ScenarioError(ValueError):
    """The scenario file is not valid (unknown key, value out of range, …)."""


@dataclass(frozen=True)
class Channels:
    """How dossiers arrive. ``online`` is the share of *all* dossiers submitted online (procedures without
    online service, level < 3, take none, so the others take proportionally more, capped at 100 %);
    ``postal`` the share lodged by public postal service (procedures that allow it); the rest come to the
    counter."""

    online: float = 0.40
    postal: float = 0.03
    assisted: float = 0.25
    """Share of online dossiers submitted with the help of the community digital technology team (Tổ công nghệ
    số cộng đồng): the dossier's ``assisted`` flag."""
    registered: float = 0.5
    """Share of counter and postal applicants who hold a citizen account (and can therefore rate)."""
    lodged_elsewhere: float = 0.0
    """Share of counter dossiers of procedures flagged ``anywhere_in_province`` lodged at another desk of the
    province (Decree 118/2025, phi địa giới hành chính): the dossier stays the competent agency's and records
    the receiving desk (``received_by_agency_code``)."""
    digital_team: float = 0.0
    """Share of counter applicants of procedures offered online (level ≥ 3) whom the community digital
    technology team (Tổ công nghệ số cộng đồng; MIC guidance 793/BTTTT-THH of 2022; Thanh Hóa had ~4,300 teams)
    helps lodge online instead, on the spot: the dossier is online and ``assisted``. This is how the teams raise
    the online rate; ``assisted`` above is the share of self-chosen online dossiers they help with. 0: no draw,
    so scenarios without it replay as before."""


@dataclass(frozen=True)
class Results:
    """How results go back (Decree 61/2018 Art. 20)."""

    online: float = 0.6
    """Online dossiers of level-4 procedures whose applicant asks for the electronic result online."""
    postal: float = 0.06
    """Other dossiers (of procedures that allow post) whose result is sent by post; postal-channel dossiers
    ask for it 85 % of the time."""
    collect_days: float = 1.5
    """Mean working days before a counter result is collected."""
    never_collected: float = 0.01
    sign: bool = False
    """Issue every approved result as an electronic document signed with the approver's certificate (Decree
    45/2020/NĐ-CP Art. 14(3); Decision 766 indicator 4.1), through the app's own ``approve`` effect — it needs
    the app's signing settings (``MOTCUA_ENV=dev`` or the secret key and CA passphrase). Rendering and signing
    one result PDF costs ~40–90 ms and ~70 KB: fine for a commune year, hours for a province year."""


@dataclass(frozen=True)
class Arrivals:
    weekday: tuple[float, float, float, float, float] = (1.35, 1.1, 1.0, 0.95, 0.85)
    """Monday … Friday factors (Monday peak)."""
    makeup_saturday: float = 0.7
    """A make-up working Saturday (ngày làm bù)."""
    morning_share: float = 0.65
    """Share of counter arrivals in the morning session (morning peak)."""
    weekend_online: float = 0.35
    """Online submissions on a weekend day, relative to an ordinary working day."""
    holiday_online: float = 0.08
    """Online submissions on a public holiday (Tết, National Day…): quiet."""
    post_tet_surge: float = 1.8
    """Factor on the first working day after the Tết break, decaying linearly to 1."""
    post_tet_days: int = 15
    """Working days the post-Tết surge lasts."""
    pre_tet_rush: float = 1.2
    """Factor on the 5 working days before the Tết break."""


@dataclass(frozen=True)
class AgencyStaff:
    receivers: int | None = None
    processors: int | str | None = None
    approvers: int | str | None = None
    processor_capacity: float | None = None
    approver_capacity: float | None = None


@dataclass(frozen=True)
class Staff:
    """Officers of each desk. ``processors = "auto"`` (and ``approvers = "auto"``) sizes each agency's team to
    its expected volume so that they are busy ``utilisation`` of their time on an average working day: Mondays
    and the weeks after Tết then overflow into a backlog."""

    receivers: int = 2
    processors: int | str = "auto"
    approvers: int | str = 1
    processor_capacity: float = 40.0
    """Dossiers one processor appraises per working day."""
    approver_capacity: float = 200.0
    """Dossiers one approver signs per working day."""
    approver_away: float = 0.04
    """Probability that an approver signs nothing on a given working day (meetings, missions)."""
    utilisation: float = 0.8
    team_share: float = 1.0
    """A desk (with the desks of its inter-agency procedures) receiving more than this share of all dossiers is
    organised in teams, each with its own processors and approvers and an equal share of the desk's dossiers,
    so that the teams can be simulated in parallel (:mod:`service.simulation.shards`); 1 never splits."""
    agencies: dict[str, AgencyStaff] = field(default_factory=dict)

    def for_agency(self, code: str) -> AgencyStaff:
        own = self.agencies.get(code, AgencyStaff())
        return AgencyStaff(
            receivers=own.receivers if own.receivers is not None else self.receivers,
            processors=own.processors if own.processors is not None else self.processors,
            approvers=own.approvers if own.approvers is not None else self.approvers,
            processor_capacity=own.processor_capacity or self.processor_capacity,
            approver_capacity=own.approver_capacity or self.approver_capacity,
        )


@dataclass(frozen=True)
class Behaviour:
    """Probabilities (0–1) of what happens to a dossier."""

    intake_reject: float = 0.03
    """Online dossiers refused at intake (Mẫu 03)."""
    supplement: float = 0.07
    """Dossiers for which the processor requests a supplement (Mẫu 02), within 3 working days of receipt."""
    second_supplement: float = 0.1
    abandon: float = 0.06
    """Applicants asked for a supplement who never come back."""
    withdraw: float = 0.008
    refuse: float = 0.015
    slow: float = 0.04
    """Dossiers whose appraisal needs longer than the deadline (consultation, site visit): late unless
    extended."""
    extend: float = 0.4
    """Of the slow dossiers, those the approver re-schedules in time with an apology letter (Mẫu 04)."""
    financial_obligation: float = 0.1
    """Dossiers of fee-charging procedures put on hold for a financial obligation (status 6)."""
    online_payment: float = 0.7
    """Registered applicants of level-4 procedures who pay online."""
    rating: float = 0.3
    """Applicants with an account who rate the service once the result is returned."""
    satisfied_on_time: float = 0.95
    satisfied_late: float = 0.55
    """Applicants who rate "satisfied" when their result came on time / late (the index's 5.4 counts the
    dislikes, Decision 766 formula: 100 % − late rate − dislike rate)."""
    return_for_correction: float = 0.0
    """Of inter-agency dossiers, those the next step's agency sends back once to the previous one for correction
    (``return_for_correction``, within its own step time; Decree 61/2018 Art. 19(6))."""
    upload_online: float = 0.0
    """Online dossiers whose applicant attaches a scan of each paper while lodging (Decree 45/2020 Art. 9:
    an online dossier's components are electronic). 0: no draw."""
    scan_counter: float = 0.0
    """Counter and postal dossiers whose papers the receiver scans at reception (digitisation of dossiers at
    the one-stop desk, Decree 45/2020 Art. 15; Decision 766 indicator 4.2). 0: no draw."""


@dataclass(frozen=True)
class ProcedureBehaviour:
    slow: float | None = None
    financial_obligation: float | None = None
    supplement: float | None = None


@dataclass(frozen=True)
class Postal:
    failure_rate: float = 0.04
    late_rate: float = 0.03


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str = ""
    description: str = ""
    year: int = 2025
    start: date | None = None
    end: date | None = None
    dossiers_per_year: int = 20_000
    seed: int = 1
    agencies: tuple[str, ...] = ()
    """Agencies of the catalogue whose procedures receive dossiers (empty: all)."""
    citizens: int = 3000
    """Citizen accounts in the pool (online applicants and registered counter applicants)."""
    procedures: dict[str, float] = field(default_factory=dict)
    """Relative weights by procedure code; ``default`` for the others (1.0 unless given)."""
    channels: Channels = Channels()
    results: Results = Results()
    arrivals: Arrivals = Arrivals()
    staff: Staff = Staff()
    behaviour: Behaviour = Behaviour()
    procedure_behaviour: dict[str, ProcedureBehaviour] = field(default_factory=dict)
    postal: Postal = Postal()

    @property
    def first_day(self) -> date:
        return self.start or date(self.year, 1, 1)

    @property
    def last_day(self) -> date:
        return self.end or date(self.year, 12, 31)

    def with_year(self, year: int) -> Scenario:
        """The same scenario over another calendar year (explicit ``start``/``end`` move with it)."""
        shift = year - self.year
        start = self.start.replace(year=self.start.year + shift) if self.start else None
        end = self.end.replace(year=self.end.year + shift) if self.end else None
        return replace(self, year=year, start=start, end=end)

    def weight(self, procedure_code: str) -> float:
        return self.procedures.get(procedure_code, self.procedures.get("default", 1.0))

    def behaviour_for(self, procedure_code: str, name: str) -> float:
        own = self.procedure_behaviour.get(procedure_code)
        value = getattr(own, name, None) if own else None
        return float(value if value is not None else getattr(self.behaviour, name))


# ---------------------------------------------------------------------------------------------------- loading


def _section(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ScenarioError(f"[{where}] must be a table")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ScenarioError(f"[{where}] unknown key(s): {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, value in data.items():
        if isinstance(value, list):
            value = tuple(value)
        values[name] = value
    try:
        return cls(**values)
    except TypeError as exc:  # pragma: no cover - dataclass signature mismatch
        raise ScenarioError(f"[{where}] {exc}") from None


def _probabilities(obj: Any, where: str, names: tuple[str, ...]) -> None:
    for name in names:
        value = getattr(obj, name)
        if value is None:
            continue
        if not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
            raise ScenarioError(f"[{where}] {name} must be a probability between 0 and 1, not {value!r}")


def _positive(obj: Any, where: str, names: tuple[str, ...], *, allow_zero: bool = False) -> None:
    for name in names:
        value = getattr(obj, name)
        if value is None:
            continue
        ok = isinstance(value, int | float) and (value >= 0 if allow_zero else value > 0)
        if not ok:
            raise ScenarioError(f"[{where}] {name} must be a {'non-negative' if allow_zero else 'positive'} "
                                f"number, not {value!r}")


def _date(value: Any, key: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ScenarioError(f"{key} must be a date (YYYY-MM-DD), not {value!r}") from None


def parse(data: dict[str, Any], *, source: str = "<scenario>") -> Scenario:
    """A :class:`Scenario` from parsed TOML; raises :class:`ScenarioError` with the offending key."""
    data = dict(data)
    top = {f.name for f in fields(Scenario)} - {"procedure_behaviour"}
    unknown = sorted(set(data) - top)
    if unknown:
        raise ScenarioError(f"{source}: unknown key(s): {', '.join(unknown)}")
    if not isinstance(data.get("name"), str) or not data["name"]:
        raise ScenarioError(f"{source}: 'name' is required")
    try:
        staff_data = dict(data.pop("staff", {}))
        agencies_staff = {code: _section(AgencyStaff, values, f"staff.agencies.{code}")
                          for code, values in staff_data.pop("agencies", {}).items()}
        staff = _section(Staff, staff_data, "staff")
        staff = replace(staff, agencies=agencies_staff)
        behaviour_data = dict(data.pop("behaviour", {}))
        per_procedure = {code: _section(ProcedureBehaviour, values, f"behaviour.procedures.{code}")
                         for code, values in behaviour_data.pop("procedures", {}).items()}
        scenario = Scenario(
            name=data.pop("name"),
            title=data.pop("title", ""),
            description=data.pop("description", ""),
            year=int(data.pop("year", 2025)),
            start=_date(data.pop("start", None), "start"),
            end=_date(data.pop("end", None), "end"),
            dossiers_per_year=int(data.pop("dossiers_per_year", 20_000)),
            seed=int(data.pop("seed", 1)),
            agencies=tuple(data.pop("agencies", ())),
            citizens=int(data.pop("citizens", 3000)),
            procedures={str(k): float(v) for k, v in data.pop("procedures", {}).items()},
            channels=_section(Channels, data.pop("channels", {}), "channels"),
            results=_section(Results, data.pop("results", {}), "results"),
            arrivals=_section(Arrivals, data.pop("arrivals", {}), "arrivals"),
            staff=staff,
            behaviour=_section(Behaviour, behaviour_data, "behaviour"),
            procedure_behaviour=per_procedure,
            postal=_section(Postal, data.pop("postal", {}), "postal"),
        )
    except ScenarioError as exc:
        raise ScenarioError(f"{source}: {exc}") from None
    validate(scenario, source)
    return scenario


def validate(s: Scenario, source: str = "<scenario>") -> None:
    try:
        if s.first_day > s.last_day:
            raise ScenarioError("start is after end")
        if s.dossiers_per_year < 0 or s.citizens < 1:
            raise ScenarioError("dossiers_per_year must be ≥ 0 and citizens ≥ 1")
        if any(w < 0 for w in s.procedures.values()):
            raise ScenarioError("[procedures] weights must be ≥ 0")
        _probabilities(s.channels, "channels", ("online", "postal", "assisted", "registered", "lodged_elsewhere",
                                                "digital_team"))
        if s.channels.online + s.channels.postal > 1:
            raise ScenarioError("[channels] online + postal must not exceed 1")
        _probabilities(s.results, "results", ("online", "postal", "never_collected"))
        if not isinstance(s.results.sign, bool):
            raise ScenarioError("[results] sign must be true or false")
        _positive(s.results, "results", ("collect_days",))
        a = s.arrivals
        if len(a.weekday) != 5:
            raise ScenarioError("[arrivals] weekday needs five factors, Monday to Friday")
        if any(not isinstance(x, int | float) or x < 0 for x in a.weekday):
            raise ScenarioError("[arrivals] weekday factors must be ≥ 0")
        _probabilities(a, "arrivals", ("morning_share",))
        _positive(a, "arrivals", ("makeup_saturday", "weekend_online", "holiday_online", "post_tet_surge",
                                  "pre_tet_rush", "post_tet_days"), allow_zero=True)
        sections = [("staff", s.staff), *((f"staff.agencies.{c}", v) for c, v in s.staff.agencies.items())]
        for where, staff in sections:
            _positive(staff, where, ("processor_capacity", "approver_capacity"))
            receivers = staff.receivers
            if receivers is not None and (not isinstance(receivers, int) or receivers < 1):
                raise ScenarioError(f"[{where}] receivers must be a whole number ≥ 1")
            for name in ("processors", "approvers"):
                value = getattr(staff, name)
                if value is not None and value != "auto" and (not isinstance(value, int) or value < 1):
                    raise ScenarioError(f"[{where}] {name} must be a whole number ≥ 1 or \"auto\"")
        _probabilities(s.staff, "staff", ("approver_away", "utilisation"))
        if s.staff.utilisation <= 0:
            raise ScenarioError("[staff] utilisation must be > 0")
        if not 0 < s.staff.team_share <= 1:
            raise ScenarioError("[staff] team_share must be > 0 and at most 1")
        _probabilities(s.behaviour, "behaviour", tuple(f.name for f in fields(Behaviour)))
        for code, own in s.procedure_behaviour.items():
            _probabilities(own, f"behaviour.procedures.{code}",
                           tuple(f.name for f in fields(ProcedureBehaviour)))
        _probabilities(s.postal, "postal", ("failure_rate", "late_rate"))
    except ScenarioError as exc:
        raise ScenarioError(f"{source}: {exc}") from None


def load(name_or_path: str | Path) -> Scenario:
    """A shipped scenario by name (``commune``, ``province``) or a TOML file by path."""
    if isinstance(name_or_path, str) and name_or_path in SHIPPED:
        shipped = resources.files("service.scenarios").joinpath(f"{name_or_path}.toml")
        text = shipped.read_text(encoding="utf-8")
        source = f"service/scenarios/{name_or_path}.toml"
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise ScenarioError(f"no scenario '{name_or_path}': use {' or '.join(SHIPPED)}, "
                                "or a TOML file path")
        text, source = path.read_text(encoding="utf-8"), str(path)
    return loads(text, source=source)


def loads(text: str, *, source: str = "<scenario>") -> Scenario:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: {exc}") from None
    return parse(data, source=source)
