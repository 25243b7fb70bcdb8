"""Lifecycle actions: ``POST /dossiers/{code}/actions/{action}``, one explicit path.

1. **decide** — :func:`decide_action` runs the checks in the contract's order (role 403 and state 409 by
   :func:`service.domain.lifecycle.check`, version 412, body 422, the assignee), then the pure
   :func:`service.domain.lifecycle.decide` returns the :class:`~service.domain.lifecycle.Decision`;
2. **effects** — the action's named effects from the :data:`~service.dossiers.effects.Effects` table composed at
   start-up (sign the result, create or close the shipment), each returning what the slip row records;
3. **persist** — :func:`service.dossiers.persist.persist` writes the dossier row, the notices and the
   control-slip row.

The simulator's ledger takes the same path (:func:`decide_action`, :func:`change_of`, ``persist``) with its own
writer and its own, batched, versions of the postal effects.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, select
from sqlmodel import Session

from service.domain import lifecycle
from service.domain.calendar import WorkingCalendar
from service.domain.lifecycle import Action, ActionInput, Assignee, Decision, DossierState
from service.domain.roles import Role
from service.dossiers.effects import EffectCall, Effects, Outcome, run_effects
from service.dossiers.persist import Change, SessionWriter, persist, state_of
from service.errors import NotFound, Unprocessable, VersionMismatch
from service.models import Dossier, Procedure, User
from service.operations import interagency
from service.operations.calendars import calendar_for
from service.schemas.dossiers import ActionIn
from service.validation import parse_body


def parse_action(name: str) -> Action:
    try:
        return Action(name)
    except ValueError:
        raise NotFound(f"Không có thao tác '{name}'.", code="ACTION_NOT_FOUND") from None


def check_version(version: int, if_match: str | None) -> None:
    """412 ``VERSION_MISMATCH`` when ``If-Match`` names none of the dossier's current version (``*`` matches
    any)."""
    if if_match is None:
        return
    wanted = {tag.strip().removeprefix("W/").strip('"') for tag in if_match.split(",")}
    if "*" not in wanted and str(version) not in wanted:
        raise VersionMismatch()


class Account(Protocol):
    """What an action reads of the account it assigns a dossier to (a :class:`~service.models.User`, or the
    columns of :data:`_ASSIGNEE`)."""

    @property
    def id(self) -> int | None: ...
    @property
    def username(self) -> str: ...
    @property
    def full_name(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def agency_code(self) -> str | None: ...


_ACCOUNTS = User.__table__  # type: ignore[attr-defined]
_ASSIGNEE = select(_ACCOUNTS.c.id, _ACCOUNTS.c.username, _ACCOUNTS.c.full_name, _ACCOUNTS.c.role,
                   _ACCOUNTS.c.agency_code).where(_ACCOUNTS.c.username == bindparam("username"))
"""The assignee's columns, built once and read on the connection: an ORM load of the whole account (statement
built, rows made into a ``User``, the session autoflushed) was a tenth of an ``assign`` request's CPU."""


def find_assignee(session: Session, username: str) -> Account | None:
    return session.connection().execute(_ASSIGNEE, {"username": username}).first()


def check_assignee(assignee: Account | None, agency_code: str) -> Account:
    """Only a processor of the agency that handles the dossier can be given it (422 ``ASSIGNEE_INVALID``)."""
    if assignee is None or assignee.role != Role.PROCESSOR or assignee.agency_code != agency_code:
        raise Unprocessable("Người được giao phải là chuyên viên xử lý của cơ quan giải quyết hồ sơ.",
                            code="ASSIGNEE_INVALID")
    return assignee


def decide_action(state: DossierState, action: Action, payload: Any, *, code: str, agency_code: str, role: str,
                  now: datetime, calendar: WorkingCalendar, find_user: Callable[[str], Account | None],
                  version: int | None = None, if_match: str | None = None
                  ) -> tuple[ActionIn, Decision, Account | None]:
    """Check and decide ``action`` (see the module docstring): the parsed body, the decision and, for
    ``assign``, the processor. ``find_user`` looks an account up by username. Nothing is written."""
    lifecycle.check(state, action, role=role, now=now, calendar=calendar)
    if version is not None:
        check_version(version, if_match)
    body = payload if isinstance(payload, ActionIn) else parse_body(ActionIn, payload)
    assignee = check_assignee(find_user(lifecycle.required(body.assignee, "assignee")), agency_code) \
        if action is Action.ASSIGN else None
    data = ActionInput(reason=body.reason, new_due_at=body.new_due_at, amount_vnd=body.amount_vnd, at=body.at,
                       note=body.note, missing_documents=body.missing_documents,
                       assignee=Assignee(assignee.username, assignee.full_name) if assignee else None)
    return body, lifecycle.decide(state, action, data, code=code, role=role, now=now, calendar=calendar), assignee


def change_of(decision: Decision, *, actor: str, actor_role: str, now: datetime, outcome: Outcome,
              assignee: Account | None) -> Change:
    """The :class:`~service.dossiers.persist.Change` an action makes: the decision plus its effects' outcome."""
    return Change(action=decision.action.value, actor=actor, actor_role=actor_role,
                  from_status=decision.from_status.value, at=now, state=decision.state, note=decision.note,
                  data={**decision.data, **outcome.data},
                  columns={"assignee_id": assignee.id} if assignee is not None else {},
                  notices=decision.notices + outcome.notices)


def act(session: Session, *, user: User, dossier: Dossier, action: Action, payload: Any, if_match: str | None,
        now: datetime, effects: Effects, actor_role: str | None = None, actor_name: str | None = None) -> Decision:
    """Apply one lifecycle action: decide → effects → persist. ``dossier`` must have been loaded for update
    (visibility, 404, is the caller's check). Never commits."""
    role = actor_role or user.role
    calendar = calendar_for(session, dossier.agency_code)
    state = state_of(dossier)
    # Across agencies (service.operations.interagency): after the role (403) the acting agency (403), after the
    # state (409) the steps' rules (409), all before the version (412) and the body (422).
    lifecycle.authorize(action, role)
    if actor_role is None:
        interagency.check_acting_agency(session, dossier, user, action)
    lifecycle.guard(state, action, role=role, now=now, calendar=calendar)
    step_rows = interagency.guard(session, dossier, action, now)
    body, decision, assignee = decide_action(
        state, action, payload, code=dossier.code, agency_code=interagency.holding_agency(session, dossier),
        role=role, now=now, calendar=calendar,
        find_user=lambda username: find_assignee(session, username),
        version=dossier.version, if_match=if_match)
    outcome = run_effects(effects, EffectCall(session, dossier, user, body, decision, now))
    if action is Action.RECEIVE:
        procedure = session.get(Procedure, dossier.procedure_id)
        assert procedure is not None
        outcome = outcome + Outcome(interagency.open_steps(session, dossier, procedure, now))
    else:
        outcome = outcome + Outcome(interagency.follow(session, dossier, step_rows, action, now=now))
    persist(SessionWriter(session), dossier, change_of(decision, actor=actor_name or user.username,
                                                       actor_role=role, now=now, outcome=outcome,
                                                       assignee=assignee))
    return decision
