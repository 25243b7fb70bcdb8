"""Inter-agency (liên thông) procedures: the split of the legal time between agencies, and each step's clock.

Legal basis: Decree 61/2018/NĐ-CP Art. 19(6) (same level: the lead agency forwards the dossier with a *Phiếu
chuyển xử lý* naming each agency's task and deadline) and Art. 19(7) (across levels: the higher agency returns
the result to the receiving desk) [verified]. Decree 118/2025 keeps the liên thông mechanism in its title; how it
splits deadlines is not verified, so these rules are the 61/2018 ones for both rule sets.

The model: a procedure declares its steps in order, each with an agency and its share of the processing time in
the procedure's unit; the shares add up to the total (422 ``STEP_TIMES_INVALID`` otherwise). The dossier keeps one
overall due instant (the official one, counted at the competent agency); each step has its own due instant,
computed in the step agency's working time **when the step starts**, so an early commune never lends its spare
time to the department. A pause (supplement, payment) stops the current step's clock with the dossier's. The
receiving agency may be sent the dossier back for correction once per step, within that step's time; the step
that sent it back waits with its clock stopped, and the reopened step resumes with the time it had left.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, astuple, dataclass, replace
from datetime import datetime
from itertools import pairwise

from service.domain import deadlines, timeliness
from service.domain.calendar import WorkingCalendar
from service.domain.errors import RuleConflict, RuleViolation
from service.domain.legal_time import to_legal_time

SPLITTABLE_UNITS = frozenset({"working_days", "working_hours", "calendar_days"})


@dataclass(frozen=True)
class StepShare:
    """A procedure's step: the agency that holds it and its share of the processing time."""

    agency_code: str
    value: int


def check_step_times(total_value: int, unit: str, shares: Sequence[StepShare]) -> None:
    """At least two steps, consecutive steps at different agencies, every share positive, in a unit that can be
    split (not ``same_day``), adding up to the procedure's processing time (422 ``STEP_TIMES_INVALID``)."""
    def invalid(detail: str) -> RuleViolation:
        return RuleViolation(detail, code="STEP_TIMES_INVALID")

    if len(shares) < 2:
        raise invalid("Thủ tục liên thông cần ít nhất hai bước.")
    if unit not in SPLITTABLE_UNITS:
        raise invalid("Không chia được thời hạn giải quyết tính theo 'same_day' cho nhiều cơ quan.")
    if any(share.value < 1 for share in shares):
        raise invalid("Thời hạn của mỗi bước phải từ 1 trở lên.")
    if any(a.agency_code == b.agency_code for a, b in pairwise(shares)):
        raise invalid("Hai bước liền nhau phải do hai cơ quan khác nhau thực hiện.")
    total = sum(share.value for share in shares)
    if total != total_value:
        raise invalid(f"Tổng thời hạn các bước ({total}) phải bằng thời hạn giải quyết của thủ tục "
                      f"({total_value}).")


@dataclass(frozen=True)
class StepClock:
    """One step of a dossier as the rules see it. Instants are aware datetimes."""

    seq: int
    agency_code: str
    share_value: int
    share_unit: str
    started_at: datetime | None = None
    due_at: datetime | None = None
    paused_at: datetime | None = None
    paused_remaining_minutes: float | None = None
    finished_at: datetime | None = None
    timeliness: str | None = None
    returned_for_correction: bool = False

    @property
    def running(self) -> bool:
        return self.started_at is not None and self.finished_at is None and self.paused_at is None


def start(step: StepClock, now: datetime, calendar: WorkingCalendar) -> StepClock:
    """The step starts now: its due instant is its share in working time (the agency's calendar) from now."""
    due = deadlines.compute_due(calendar, now, step.share_value, step.share_unit)
    return replace(step, started_at=now, due_at=due.due_at, paused_at=None, paused_remaining_minutes=None,
                   finished_at=None, timeliness=None)


def pause(step: StepClock, now: datetime, calendar: WorkingCalendar) -> StepClock:
    """The clock stops (supplement, payment, or the dossier sent back for correction); the working time left
    (negative when already late) is kept."""
    assert step.due_at is not None
    return replace(step, paused_at=now,
                   paused_remaining_minutes=deadlines.remaining_working_minutes(calendar, now, step.due_at))


def resume(step: StepClock, now: datetime, calendar: WorkingCalendar) -> StepClock:
    assert step.paused_remaining_minutes is not None
    return replace(step, due_at=deadlines.resume_due(calendar, now, step.paused_remaining_minutes),
                   paused_at=None, paused_remaining_minutes=None)


def restart(step: StepClock, now: datetime, calendar: WorkingCalendar) -> StepClock:
    """``restart`` supplement policy: the dossier's time counts again from zero, and so does the step's share."""
    return start(step, now, calendar)


def finish(step: StepClock, now: datetime) -> StepClock:
    assert step.due_at is not None
    return replace(step, finished_at=now, timeliness=timeliness.classify(now, step.due_at))


def reopen(step: StepClock, now: datetime, calendar: WorkingCalendar) -> StepClock:
    """A finished step sent back for correction: it runs again with the working time it had left when it
    handed the dossier over (none, or less than none, when it handed it over late)."""
    assert step.finished_at is not None and step.due_at is not None
    left = deadlines.remaining_working_minutes(calendar, step.finished_at, step.due_at)
    return replace(step, due_at=deadlines.resume_due(calendar, now, left), finished_at=None, timeliness=None,
                   paused_at=None, paused_remaining_minutes=None)


def check_transfer(steps: Sequence[StepClock], current: int | None) -> None:
    """``transfer`` needs an inter-agency dossier with a step after the current one (409)."""
    if current is None:
        raise RuleConflict("Hồ sơ không thuộc thủ tục liên thông; không có cơ quan để chuyển tiếp.",
                           code="NOT_INTERAGENCY")
    if current >= len(steps):
        raise RuleConflict("Đây là bước cuối; cơ quan này phê duyệt hoặc từ chối giải quyết hồ sơ.",
                           code="NO_NEXT_STEP")


def check_return_for_correction(steps: Sequence[StepClock], current: int | None, now: datetime) -> None:
    """Sending the dossier back to the previous step's agency: once per step, within the step's time (409)."""
    if current is None:
        raise RuleConflict("Hồ sơ không thuộc thủ tục liên thông.", code="NOT_INTERAGENCY")
    if current <= 1:
        raise RuleConflict("Bước đầu tiên không có cơ quan trước để trả lại.", code="NO_PREVIOUS_STEP")
    step = steps[current - 1]
    if step.returned_for_correction:
        raise RuleConflict("Mỗi bước chỉ được trả lại cơ quan trước một lần.", code="CORRECTION_ALREADY_RETURNED")
    assert step.due_at is not None
    if now > step.due_at:
        raise RuleConflict("Đã hết thời hạn của bước này; không được trả lại cơ quan trước.",
                           code="STEP_TIME_OVER")


def check_final_step(steps: Sequence[StepClock], current: int | None) -> None:
    """Approve or refuse only at the last step of an inter-agency dossier (409 ``STEPS_REMAINING``)."""
    if current is not None and current < len(steps):
        raise RuleConflict("Hồ sơ liên thông còn bước của cơ quan khác; hãy chuyển tiếp ('transfer').",
                           code="STEPS_REMAINING")


def is_late(step: StepClock, now: datetime) -> bool:
    """Finished late, or running (not paused) past its due instant."""
    if step.finished_at is not None:
        return step.timeliness == "late"
    return step.running and step.due_at is not None and now > step.due_at


@dataclass
class StepCounts:
    """Steps attributed to the agency that held them, for one report row (``/stats/processing``): the official
    columns count each dossier once at the competent agency; these say where the time was lost."""

    step_resolved_total: int = 0
    """Steps the agency ended in the period (handed over by ``transfer``, or decided)."""
    step_resolved_late: int = 0
    step_in_progress_total: int = 0
    """Steps the agency held at the period's end."""
    step_in_progress_overdue: int = 0

    def __add__(self, other: StepCounts) -> StepCounts:
        return StepCounts(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def count_step(counts: StepCounts, step: StepClock, *, start: datetime, cut: datetime, as_of: datetime,
               dossier_ended_at: datetime | None) -> None:
    """Add one step to ``counts`` as of the period ``[start, cut)``: resolved when it ended in the period; in
    progress when it had started and not ended by the cut, unless the dossier ended (withdrawn) before it.
    Overdue is judged at ``as_of`` on the step's latest due instant (a step paused at the period's end and
    resumed later is judged on the due instant it has now: an approximation, stated in the README)."""
    if step.started_at is None or step.started_at >= cut:
        return
    if step.finished_at is not None and step.finished_at < cut:
        if step.finished_at >= start:
            counts.step_resolved_total += 1
            counts.step_resolved_late += step.timeliness == "late"
        return
    if dossier_ended_at is not None and dossier_ended_at < cut:
        return
    counts.step_in_progress_total += 1
    counts.step_in_progress_overdue += step.due_at is not None and step.due_at < as_of and step.paused_at is None


# ---------------------------------------------------------------- moving the steps with the dossier


@dataclass(frozen=True)
class StepMove:
    """The steps after an action: their clocks, the current step, what the control-slip row records of it, and
    whether the dossier changed hands (its assignee is then cleared)."""

    clocks: tuple[StepClock, ...]
    current: int | None
    data: dict[str, object]
    handed_over: bool = False


def open_steps(shares: Sequence[StepShare], unit: str, now: datetime,
               calendar_of: Callable[[str], WorkingCalendar]) -> StepMove:
    """At receipt of an inter-agency dossier: one clock per step, the first one started now."""
    clocks = [StepClock(seq, share.agency_code, share.value, unit) for seq, share in enumerate(shares, start=1)]
    clocks[0] = start(clocks[0], now, calendar_of(clocks[0].agency_code))
    assert clocks[0].due_at is not None
    return StepMove(tuple(clocks), 1, {"step": 1, "step_agency": clocks[0].agency_code,
                                       "step_due_at": to_legal_time(clocks[0].due_at).isoformat()})


def check_action(steps: Sequence[StepClock], current: int | None, action: str, now: datetime) -> None:
    """The step rules of a lifecycle action (409), before anything changes."""
    if action == "transfer":
        check_transfer(steps, current)
    elif action == "return_for_correction":
        check_return_for_correction(steps, current, now)
    elif action in ("approve", "refuse"):
        check_final_step(steps, current)


def follow(steps: Sequence[StepClock], current: int | None, action: str, *, restart_on_supplement: bool,
           now: datetime, calendar_of: Callable[[str], WorkingCalendar]) -> StepMove:
    """Move the current step's clock with the dossier's (after the state change): a pause stops it, a
    supplement or payment resumes it (restarts it under the ``restart`` policy), a decision finishes it;
    ``transfer`` finishes it and starts (or resumes) the next agency's, ``return_for_correction`` stops it
    and reopens the previous agency's (Decree 61/2018 Art. 19(6)–(7))."""
    clocks = list(steps)
    if current is None or not clocks:
        return StepMove(tuple(clocks), current, {})
    step = clocks[current - 1]
    calendar = calendar_of(step.agency_code)
    data: dict[str, object] = {}
    handed_over = False
    if action in ("request_supplement", "request_payment") and step.running:
        step = pause(step, now, calendar)
    elif action == "supplement" and step.paused_at is not None:
        step = restart(step, now, calendar) if restart_on_supplement else resume(step, now, calendar)
    elif action == "pay" and step.paused_at is not None:
        step = resume(step, now, calendar)
    elif action in ("approve", "refuse"):
        step = finish(step, now)
        data = {"step": step.seq, "step_agency": step.agency_code, "step_timeliness": step.timeliness}
    elif action == "transfer":
        step = finish(step, now)
        nxt = clocks[step.seq]
        next_calendar = calendar_of(nxt.agency_code)
        nxt = resume(nxt, now, next_calendar) if nxt.paused_at is not None else start(nxt, now, next_calendar)
        assert nxt.due_at is not None
        clocks[nxt.seq - 1] = nxt
        current, handed_over = nxt.seq, True
        data = {"from_agency": step.agency_code, "to_agency": nxt.agency_code, "step": nxt.seq,
                "step_timeliness": step.timeliness, "step_due_at": to_legal_time(nxt.due_at).isoformat()}
    elif action == "return_for_correction":
        step = replace(pause(step, now, calendar), returned_for_correction=True)
        previous = reopen(clocks[step.seq - 2], now, calendar_of(clocks[step.seq - 2].agency_code))
        assert previous.due_at is not None
        clocks[previous.seq - 1] = previous
        current, handed_over = previous.seq, True
        data = {"from_agency": step.agency_code, "to_agency": previous.agency_code, "step": previous.seq,
                "step_due_at": to_legal_time(previous.due_at).isoformat()}
    clocks[step.seq - 1] = step
    return StepMove(tuple(clocks), current, data, handed_over)
