"""Across agencies: where a dossier may be lodged, who sees it, who acts on it, and its inter-agency steps.

* Lodging anywhere in the province (Decree 118/2025, phi địa giới hành chính): a receiver of any agency under the
  same province may lodge a procedure flagged ``anywhere_in_province``; the dossier stays the competent agency's
  (its code, its statistics) and records ``received_by_agency_code``; that desk's staff see it and return its
  result at their counter.
* Inter-agency steps (:mod:`service.domain.steps`): the step rows, opened at receipt, moved by ``transfer`` and
  ``return_for_correction``, paused and resumed with the dossier's clock, finished by the decision.

Nothing here commits: the rows change in the caller's transaction with the dossier and its control-slip row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, exists, or_, text
from sqlmodel import Session, col, select

from service.domain import rulebook
from service.domain import steps as rules
from service.domain.errors import NotPermitted
from service.domain.legal_time import to_legal_time
from service.domain.lifecycle import Action, Status
from service.errors import NotFound, Unprocessable
from service.models import Agency, Dossier, DossierStep, User
from service.models.dossier import LODGED_FOR_ANOTHER
from service.operations import reference
from service.operations.calendars import calendar_for
from service.operations.reference import AgencyFacts, AnyProcedure

RECEIVER_ACTIONS = frozenset({Action.RECEIVE, Action.REJECT, Action.ASSIGN, Action.SUPPLEMENT, Action.PAY,
                              Action.WITHDRAW, Action.RETURN_RESULT, Action.DISPATCH_POSTAL,
                              Action.CONFIRM_DELIVERY, Action.DELIVERY_FAILED})


# ---------------------------------------------------------------- the province and lodging


def province_of(session: Session, agency_code: str) -> str | None:
    """The province-level ancestor of an agency (itself for a province), or ``None`` outside any province."""
    code: str | None = agency_code
    seen: set[str] = set()
    while code is not None and code not in seen:
        seen.add(code)
        agency: AgencyFacts | Agency | None = reference.agency(session, code) or session.get(Agency, code)
        if agency is None:
            return None
        if agency.level == "province":
            return agency.code
        code = agency.parent_code
    return None


def receiving_desk(session: Session, procedure: AnyProcedure, user: User, now: datetime) -> str:
    """The agency whose desk lodges the dossier: the receiver's own, when it is the competent agency or, for a
    procedure flagged ``anywhere_in_province`` under the rule set in force (Decree 118/2025, from 2025-07-01),
    another agency of the same province, or for an inter-agency procedure the first step's agency (the commune
    that receives for the department); otherwise 422 ``PROCEDURE_OUTSIDE_AGENCY``. Citizens lodge online with
    the competent agency."""
    desk = _desk_for(session, procedure, user, now)
    check_in_force(session, desk, to_legal_time(now).date())
    return desk


def check_in_force(session: Session, agency_code: str, day: date) -> None:
    """An administrative unit merged away (``valid_to`` passed) or not yet formed lodges nothing (422
    ``AGENCY_NOT_IN_FORCE``); its earlier dossiers keep its code."""
    # Kept across requests (service.operations.reference); an agency added in this transaction and not flushed
    # is found through the session (as service.operations.calendars.calendar_for finds it).
    agency: AgencyFacts | Agency | None = reference.agency(session, agency_code) or session.get(Agency, agency_code)
    if agency is not None and ((agency.valid_to and day > agency.valid_to)
                               or (agency.valid_from and day < agency.valid_from)):
        successor = f"; đơn vị kế thừa: {agency.succeeded_by}" if agency.succeeded_by else ""
        raise Unprocessable(f"Đơn vị {agency.name} không còn (hoặc chưa) hoạt động vào ngày {day:%d/%m/%Y}"
                            f"{successor}.", code="AGENCY_NOT_IN_FORCE")


def _desk_for(session: Session, procedure: AnyProcedure, user: User, now: datetime) -> str:
    first_step = procedure.steps[0]["agency_code"] if procedure.steps else None
    if first_step is not None and (user.role != "receiver" or user.agency_code == first_step):
        return first_step  # an inter-agency procedure is lodged with its first step's agency (online too)
    if user.role != "receiver" or user.agency_code == procedure.agency_code:
        return procedure.agency_code
    assert user.agency_code is not None
    in_force = rulebook.rule_set_on(to_legal_time(now).date())
    if procedure.anywhere_in_province and in_force.allows("lodging.place"):
        province = province_of(session, procedure.agency_code)
        if province is not None and province == province_of(session, user.agency_code):
            return user.agency_code
        raise Unprocessable("Thủ tục chỉ được tiếp nhận tại Bộ phận Một cửa trong cùng tỉnh với cơ quan có "
                            "thẩm quyền.", code="PROCEDURE_OUTSIDE_AGENCY")
    if procedure.anywhere_in_province:
        raise Unprocessable(f"Trước ngày 01/07/2025 ({in_force.name}), hồ sơ chỉ được nộp tại Bộ phận Một cửa của "
                            "cơ quan có thẩm quyền.", code="PROCEDURE_OUTSIDE_AGENCY")
    raise Unprocessable("Thủ tục không thuộc thẩm quyền tiếp nhận của đơn vị bạn.", code="PROCEDURE_OUTSIDE_AGENCY")


# ---------------------------------------------------------------- visibility and the acting agency


def staff_visibility(agency_code: str | None) -> Any:
    """Staff see their agency's dossiers, those their desk lodged, and those one of whose steps their agency has
    started (while it holds the step and afterwards, read-only)."""
    held_a_step = exists().where(DossierStep.dossier_id == Dossier.id, DossierStep.agency_code == agency_code,
                                 col(DossierStep.started_at).is_not(None))
    return or_(col(Dossier.agency_code) == agency_code, col(Dossier.received_by_agency_code) == agency_code,
               and_interagency(held_a_step))


@dataclass(frozen=True)
class VisibilityBranch:
    condition: Any
    own_agency: bool
    """The branch of the agency's own dossiers (the search index holds them by agency)."""
    from_steps: bool = False
    """The branch of the inter-agency dossiers one of whose steps the agency started (read from the steps:
    :func:`service.dossiers.queries.interagency_part`)."""


def staff_visibility_branches(agency_code: str) -> list[VisibilityBranch]:
    """:func:`staff_visibility` as branches whose ``OR`` it is, each readable in list order from an index of its
    own (a branch may repeat rows of another; the union is the same set): the agency's dossiers, those its desk
    lodged for another agency (``ix_dossier_lodged_for_another``, whose condition is repeated word for word), and
    those one of whose steps it started (``condition`` is that branch as a plain filter; the list reads it from
    the steps)."""
    return [
        VisibilityBranch(col(Dossier.agency_code) == agency_code, own_agency=True),
        VisibilityBranch(and_(col(Dossier.received_by_agency_code) == agency_code, text(LODGED_FOR_ANOTHER)),
                         own_agency=False),
        VisibilityBranch(and_interagency(col(Dossier.id).in_(started_steps(agency_code))), own_agency=False,
                         from_steps=True),
    ]


def started_steps(agency_code: str) -> Any:
    """The ids of the dossiers one of whose steps ``agency_code`` started (repeated if it started several),
    from ``ix_dossier_step_agency_code_received_at`` (whose condition, ``started_at IS NOT NULL``, it repeats)."""
    return select(col(DossierStep.dossier_id)).where(DossierStep.agency_code == agency_code,
                                                      col(DossierStep.started_at).is_not(None))


def and_interagency(condition: Any) -> Any:
    """Only inter-agency dossiers have steps: skip the sub-query for the others."""
    return and_(col(Dossier.current_step).is_not(None), condition)


def holding_agency(session: Session, dossier: Dossier) -> str:
    """The agency whose staff process the dossier now: the current step's, else the competent agency."""
    if dossier.current_step is None:
        return dossier.agency_code
    step = session.exec(select(DossierStep.agency_code).where(
        DossierStep.dossier_id == dossier.id, DossierStep.seq == dossier.current_step)).one()
    return step


def check_acting_agency(session: Session, dossier: Dossier, user: User, action: Action) -> None:
    """403 ``AGENCY_NOT_HOLDING`` when a staff member sees the dossier but their agency does not act on it now:
    processors and approvers act only for the agency holding it; receivers for the competent agency, the desk
    that lodged it, or the holding agency."""
    if user.role not in ("receiver", "processor", "approver"):
        return
    holder = holding_agency(session, dossier)
    allowed = {holder}
    if user.role == "receiver" and action in RECEIVER_ACTIONS:
        allowed |= {dossier.agency_code, dossier.received_by_agency_code or dossier.agency_code}
    if user.agency_code not in allowed:
        raise NotPermitted("Cơ quan của bạn không giữ hồ sơ ở bước này; chỉ được xem.", code="AGENCY_NOT_HOLDING")


# ---------------------------------------------------------------- steps


def step_shares(procedure: AnyProcedure) -> list[rules.StepShare] | None:
    if not procedure.steps:
        return None
    return [rules.StepShare(s["agency_code"], int(s["value"])) for s in procedure.steps]


def check_procedure_steps(session: Session, *, agency_code: str, value: int, unit: str,
                          steps: list[rules.StepShare] | None) -> None:
    """The steps of a procedure being published: their agencies exist (404), the competent agency is one of
    them and the shares add up (422 ``STEP_TIMES_INVALID``)."""
    if steps is None:
        return
    for share in steps:
        if session.get(Agency, share.agency_code) is None:
            raise NotFound(f"Không tìm thấy cơ quan có mã {share.agency_code}.", code="AGENCY_NOT_FOUND")
    rules.check_step_times(value, unit, steps)
    if agency_code not in {share.agency_code for share in steps}:
        raise Unprocessable("Cơ quan có thẩm quyền của thủ tục phải thực hiện một bước.",
                            code="STEP_TIMES_INVALID")


def load_steps(session: Session, dossier: Dossier) -> list[DossierStep]:
    return list(session.exec(select(DossierStep).where(DossierStep.dossier_id == dossier.id)
                             .order_by(col(DossierStep.seq))))


def _clock(row: DossierStep) -> rules.StepClock:
    return rules.StepClock(**{name: getattr(row, name) for name in rules.StepClock.__dataclass_fields__})


def _store(row: DossierStep, clock: rules.StepClock) -> None:
    for name, value in asdict(clock).items():
        if getattr(row, name) != value:
            setattr(row, name, value)


def plan_steps(session: Session, procedure: AnyProcedure, now: datetime) -> rules.StepMove | None:
    """The steps an inter-agency dossier of ``procedure`` opens when received at ``now``
    (:func:`service.domain.steps.open_steps`): the first one started; ``None`` for a single-agency procedure."""
    shares = step_shares(procedure)
    if shares is None:
        return None
    return rules.open_steps(shares, procedure.processing_unit, now, lambda code: calendar_for(session, code))


def store_steps(session: Session, dossier_id: int, move: rules.StepMove, now: datetime) -> None:
    """One row per step of ``move`` (:func:`plan_steps`), each carrying the receipt instant ``now`` (the
    dossier's ``received_at``) for staff visibility's third branch in list order."""
    rows = [DossierStep(dossier_id=dossier_id, seq=clock.seq, agency_code=clock.agency_code,
                        share_value=clock.share_value, share_unit=clock.share_unit, received_at=now)
            for clock in move.clocks]
    for row, clock in zip(rows, move.clocks, strict=True):
        _store(row, clock)
    session.add_all(rows)


def open_steps(session: Session, dossier: Dossier, procedure: AnyProcedure, now: datetime) -> dict[str, Any]:
    """At receipt of a stored inter-agency dossier: its steps (:func:`plan_steps`, :func:`store_steps`) and its
    current step; returns what the control slip records of them."""
    move = plan_steps(session, procedure, now)
    if move is None:
        return {}
    assert dossier.id is not None
    store_steps(session, dossier.id, move, now)
    dossier.current_step = move.current
    return move.data


def guard(session: Session, dossier: Dossier, action: Action, now: datetime) -> list[DossierStep]:
    """The step rules of ``action`` (409), before anything changes. Returns the dossier's step rows."""
    if action not in (Action.TRANSFER, Action.RETURN_FOR_CORRECTION, Action.APPROVE, Action.REFUSE):
        return [] if dossier.current_step is None else load_steps(session, dossier)
    rows = load_steps(session, dossier)
    rules.check_action([_clock(r) for r in rows], dossier.current_step, action.value, now)
    return rows


def follow(session: Session, dossier: Dossier, rows: list[DossierStep], action: Action, *,
           now: datetime) -> dict[str, Any]:
    """Move the current step's clock with the dossier's (after the state change; see
    :func:`service.domain.steps.follow`); returns what the control slip records of it. ``transfer`` and
    ``return_for_correction`` hand the dossier to another agency."""
    if dossier.current_step is None or not rows:
        return {}
    move = rules.follow([_clock(r) for r in rows], dossier.current_step, action.value,
                        restart_on_supplement=dossier.supplement_policy == "restart", now=now,
                        calendar_of=lambda code: calendar_for(session, code))
    for row, clock in zip(rows, move.clocks, strict=True):
        _store(row, clock)
    if move.handed_over:
        dossier.current_step, dossier.assignee_id = move.current, None
    session.add_all(rows)
    return dict(move.data)


def steps_by_dossier(session: Session, dossier_ids: list[int]) -> dict[int, list[DossierStep]]:
    found: dict[int, list[DossierStep]] = {}
    if not dossier_ids:
        return found
    for row in session.exec(select(DossierStep).where(col(DossierStep.dossier_id).in_(dossier_ids))
                            .order_by(col(DossierStep.dossier_id), col(DossierStep.seq))):
        found.setdefault(row.dossier_id, []).append(row)
    return found


def step_is_overdue(row: DossierStep, now: datetime, dossier_status: str) -> bool:
    if Status(dossier_status) in (Status.WITHDRAWN, Status.REJECTED):
        return False
    return rules.is_late(_clock(row), now)


# ---------------------------------------------------------------- statistics


def step_counts(session: Session, *, start: datetime, cut: datetime, as_of: datetime,
                agencies: str | Sequence[str] | None) -> dict[str, rules.StepCounts]:
    """Per agency that held them (``agencies``: one, several, or all), the steps of inter-agency dossiers ended
    in ``[start, cut)`` or open at ``cut`` (see :func:`service.domain.steps.count_step`)."""
    query = (select(DossierStep, Dossier.withdrawn_at).join(Dossier, col(Dossier.id) == DossierStep.dossier_id)
             .where(col(DossierStep.started_at) < cut,
                    or_(col(DossierStep.finished_at).is_(None), col(DossierStep.finished_at) >= start)))
    if isinstance(agencies, str):
        query = query.where(DossierStep.agency_code == agencies)
    elif agencies is not None:
        query = query.where(col(DossierStep.agency_code).in_(list(agencies)))
    found: dict[str, rules.StepCounts] = {}
    for row, withdrawn_at in session.exec(query):
        counts = found.setdefault(row.agency_code, rules.StepCounts())
        rules.count_step(counts, _clock(row), start=start, cut=cut, as_of=as_of, dossier_ended_at=withdrawn_at)
    return found
