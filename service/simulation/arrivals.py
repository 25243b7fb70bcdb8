"""When citizens arrive, by which channel, for which procedure.

The daily volume follows the working calendar (``service.domain.calendar``):

* counter and postal dossiers arrive only on working days (a make-up Saturday counts, at a lower rate);
* online dossiers arrive every day, fewer at weekends and very few on public holidays (Tết is quiet);
* a weekday factor gives the Monday peak; the last working days before the Tết break see a rush, and the
  working days after it a surge that decays linearly (the reference's "post-Tết peaks");
* at the counter, most people come in the morning, early in each session; online submissions follow a daytime
  curve with an evening shoulder; dossiers helped by the community digital team are submitted during office
  hours on working days.

The number of arrivals of a day is Poisson-distributed around ``rate × factor``, where the rate spreads
``dossiers_per_year`` over the factors of the scenario's reference calendar year, so that a shorter period
(a test) receives its share of the year. Everything is drawn from the ``random.Random`` given, day by day, so
the same seed gives the same arrivals.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import accumulate

from service.domain.calendar import VN_TZ, WEEKEND_NAME, WEEKLY_REST_NAME, WorkingCalendar
from service.simulation.scenario import Scenario

TET_NAME = "Tết Nguyên Đán"
PRE_TET_DAYS = 5
ONLINE_HOURS = (0.3, 0.15, 0.1, 0.1, 0.1, 0.3, 1.0, 2.5, 5.0, 6.0, 6.0, 4.0,
                2.5, 3.0, 5.0, 5.0, 4.5, 3.0, 2.5, 3.0, 3.5, 3.0, 2.0, 1.0)
"""Relative online submissions per local hour 00–23 (office-hours peaks, an evening shoulder)."""


@dataclass(frozen=True)
class ProcedureMix:
    """A procedure as the arrival model sees it."""

    code: str
    weight: float
    online: bool
    """Offers online submission (level ≥ 3)."""
    postal: bool


@dataclass(frozen=True)
class Arrival:
    at: datetime
    channel: str
    procedure: int
    """Index into the procedure list."""
    assisted: bool = False


def tet_breaks(calendar: WorkingCalendar, first: date, last: date) -> list[tuple[date, date]]:
    """The Tết breaks overlapping ``first``..``last`` (± a month): maximal runs of days off that contain a
    Tết Nguyên Đán holiday."""
    day, stop = first - timedelta(days=40), last + timedelta(days=40)
    breaks: list[tuple[date, date]] = []
    run: list[date] = []
    while day <= stop:
        if calendar.is_working_day(day):
            if run and any(TET_NAME in (calendar.day_info(d).name or "") for d in run):
                breaks.append((run[0], run[-1]))
            run = []
        else:
            run.append(day)
        day += timedelta(days=1)
    return breaks


class DayFactors:
    """The (offline, online) arrival factors of each day."""

    def __init__(self, scenario: Scenario, calendar: WorkingCalendar, first: date, last: date) -> None:
        self.scenario, self.calendar = scenario, calendar
        self.arrivals = scenario.arrivals
        self.breaks = tet_breaks(calendar, first, last)
        self._season: dict[date, float] = {}
        for start, end in self.breaks:
            # Pre-Tết rush: the PRE_TET_DAYS working days before the break.
            day, n = start - timedelta(days=1), 0
            while n < PRE_TET_DAYS:
                if calendar.is_working_day(day):
                    self._season[day] = self.arrivals.pre_tet_rush
                    n += 1
                day -= timedelta(days=1)
            # Post-Tết surge, decaying linearly over post_tet_days working days.
            days = self.arrivals.post_tet_days
            day, k = end + timedelta(days=1), 0
            while k < days:
                if calendar.is_working_day(day):
                    self._season[day] = 1 + (self.arrivals.post_tet_surge - 1) * (1 - k / days)
                    k += 1
                day += timedelta(days=1)

    def in_tet(self, day: date) -> bool:
        return any(start <= day <= end for start, end in self.breaks)

    def factors(self, day: date) -> tuple[float, float]:
        a = self.arrivals
        if self.calendar.is_working_day(day):
            base = a.weekday[day.weekday()] if day.weekday() < 5 else a.makeup_saturday
            f = base * self._season.get(day, 1.0)
            return f, f
        name = self.calendar.day_info(day).name
        holiday = self.in_tet(day) or name not in (WEEKEND_NAME, WEEKLY_REST_NAME)
        return 0.0, (a.holiday_online if holiday else a.weekend_online)


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth below 30, a rounded normal approximation above)."""
    if mean <= 0:
        return 0
    if mean < 30:
        limit, k, p = math.exp(-mean), 0, 1.0
        while True:
            p *= rng.random()
            if p <= limit:
                return k
            k += 1
    return max(0, round(rng.gauss(mean, math.sqrt(mean))))


class ArrivalModel:
    """Draws each day's arrivals; :meth:`day` must be called for consecutive days for a given seed."""

    def __init__(self, scenario: Scenario, calendar: WorkingCalendar, procedures: Sequence[ProcedureMix],
                 rng: random.Random, *, share: Sequence[float] | None = None) -> None:
        """``share``: the fraction of each procedure's arrivals this model draws (a shard of the scenario:
        :mod:`service.simulation.shards`); the channel shares stay those of the whole scenario, and the
        shards' models together draw the whole model's expected arrivals (a sum of independent Poisson draws
        is the Poisson draw of the sum)."""
        if not procedures:
            raise ValueError("no procedure to simulate")
        self.scenario, self.calendar, self.rng = scenario, calendar, rng
        first, last = scenario.first_day, scenario.last_day
        year_end = max(last, date(first.year, 12, 31))
        self.days = DayFactors(scenario, calendar, date(first.year, 1, 1), year_end)
        total_weight = sum(p.weight for p in procedures) or 1.0
        channels = scenario.channels
        # Online probability per procedure: the target share over all dossiers, carried by the procedures that
        # offer online service (capped at 1).
        online_weight = sum(p.weight for p in procedures if p.online)
        q = min(1.0, channels.online * total_weight / online_weight) if online_weight else 0.0
        self.online_p = [q if p.online else 0.0 for p in procedures]
        offline_postal_weight = sum(p.weight * (1 - self.online_p[i])
                                    for i, p in enumerate(procedures) if p.postal)
        r = min(1.0, channels.postal * total_weight / offline_postal_weight) if offline_postal_weight else 0.0
        self.postal_p = [r if p.postal else 0.0 for p in procedures]
        taken = share or [1.0] * len(procedures)
        on_w = [p.weight * taken[i] * self.online_p[i] for i, p in enumerate(procedures)]
        off_w = [p.weight * taken[i] * (1 - self.online_p[i]) for i, p in enumerate(procedures)]
        self._on_cum = list(accumulate(on_w))
        self._off_cum = list(accumulate(off_w))
        self.procedures = list(procedures)
        per_year_online = scenario.dossiers_per_year * sum(on_w) / total_weight
        per_year_offline = scenario.dossiers_per_year * sum(off_w) / total_weight
        year = [date(first.year, 1, 1) + timedelta(days=i)
                for i in range((date(first.year + 1, 1, 1) - date(first.year, 1, 1)).days)]
        sums = [sum(f) for f in zip(*(self.days.factors(d) for d in year), strict=True)]
        self.rate_offline = per_year_offline / sums[0] if sums[0] else 0.0
        self.rate_online = per_year_online / sums[1] if sums[1] else 0.0
        # Assisted submissions happen on working days in office hours: raise their probability there so that
        # the share over all online dossiers meets the scenario's.
        working_online = sum(self.days.factors(d)[1] for d in year if calendar.is_working_day(d))
        self.assisted_p = min(1.0, channels.assisted * sums[1] / working_online) if working_online else 0.0
        self.team_p = channels.digital_team
        self._hour_cum = list(accumulate(ONLINE_HOURS))

    def expected(self, first: date, last: date) -> float:
        """Expected arrivals over ``first``..``last``."""
        total, day = 0.0, first
        while day <= last:
            off, on = self.days.factors(day)
            total += off * self.rate_offline + on * self.rate_online
            day += timedelta(days=1)
        return total

    # -- times of day

    def _counter_time(self, day: date) -> datetime:
        sessions = self.calendar.working_sessions(day)
        rng = self.rng
        if len(sessions) > 1:
            start, end = sessions[0] if rng.random() < self.scenario.arrivals.morning_share else \
                rng.choice(sessions[1:])
        else:
            start, end = sessions[0]
        span = (end - start).total_seconds()
        # Early in the session: a triangular shape peaking at a quarter of it, never in the last 5 minutes.
        offset = rng.triangular(0, max(span - 300, 1), span * 0.25)
        return (start + timedelta(seconds=int(offset))).replace(microsecond=0)

    def _online_time(self, day: date) -> datetime:
        hour = self.rng.choices(range(24), cum_weights=self._hour_cum)[0]
        return datetime.combine(day, time(hour, self.rng.randrange(60), self.rng.randrange(60)), tzinfo=VN_TZ)

    # -- one day

    def day(self, day: date) -> list[Arrival]:
        """The arrivals of ``day``, in time order."""
        rng = self.rng
        off_f, on_f = self.days.factors(day)
        out: list[Arrival] = []
        n_off = poisson(rng, self.rate_offline * off_f)
        n_on = poisson(rng, self.rate_online * on_f)
        working = off_f > 0 or self.calendar.is_working_day(day)
        for _ in range(n_off):
            index = rng.choices(range(len(self.procedures)), cum_weights=self._off_cum)[0]
            channel = "postal" if rng.random() < self.postal_p[index] else "counter"
            if channel == "counter" and self.team_p and self.procedures[index].online \
                    and rng.random() < self.team_p:
                # The community digital technology team helps this applicant lodge online, on the spot.
                out.append(Arrival(self._counter_time(day), "online", index, assisted=True))
                continue
            out.append(Arrival(self._counter_time(day), channel, index))
        for _ in range(n_on):
            index = rng.choices(range(len(self.procedures)), cum_weights=self._on_cum)[0]
            if working and rng.random() < self.assisted_p:
                out.append(Arrival(self._counter_time(day), "online", index, assisted=True))
            else:
                out.append(Arrival(self._online_time(day), "online", index))
        out.sort(key=lambda a: (a.at, a.channel, a.procedure))
        return out
