"""Named effects of actions: what an action does besides changing the dossier (sign the result on ``approve``,
create the shipment on ``dispatch_postal``, close it on ``confirm_delivery`` / ``delivery_failed``).

An :data:`Effects` table maps each action to its effects, by name. It is composed once, at start-up, with each
effect's dependencies passed in (:func:`service.bootstrap.compose_effects`), and handed to
:func:`service.dossiers.actions.act` by whoever calls it — nothing registers itself at import time. An effect
runs inside the action's transaction, after the decision and before :func:`~service.dossiers.persist.persist`
writes the control-slip row, because what it produced (the signed result's hash, the postal item number) is part
of what that row records; if an effect fails, the whole action rolls back.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from service.domain.lifecycle import Action, Decision, Notice
from service.models import Dossier, User
from service.schemas.dossiers import ActionIn


@dataclass(frozen=True)
class EffectCall:
    """What an effect is given: the transaction, the dossier (before its row is updated), who acts, the
    action's body and the decision."""

    session: Session
    dossier: Dossier
    actor: User
    body: ActionIn
    decision: Decision
    now: datetime


@dataclass(frozen=True)
class Outcome:
    """What an effect adds to the action's control-slip row (``data``) and to the applicant's notices."""

    data: dict[str, Any] = field(default_factory=dict)
    notices: tuple[Notice, ...] = ()

    def __add__(self, other: Outcome) -> Outcome:
        return Outcome({**self.data, **other.data}, self.notices + other.notices)


Effect = Callable[[EffectCall], Outcome]
Effects = Mapping[Action, tuple[Effect, ...]]
NO_EFFECTS: Effects = {}


def run_effects(effects: Effects, call: EffectCall) -> Outcome:
    """Run the effects of ``call.decision.action``, in the table's order."""
    outcome = Outcome()
    for effect in effects.get(call.decision.action, ()):
        outcome = outcome + effect(call)
    return outcome


def effect_name(effect: Callable[..., Any]) -> str:
    """``module.function`` of an effect (through :func:`functools.partial`)."""
    while isinstance(effect, functools.partial):
        effect = effect.func
    return f"{effect.__module__}.{getattr(effect, '__qualname__', repr(effect))}"


def without(effects: Effects, *actions: Action) -> dict[Action, tuple[Effect, ...]]:
    """``effects`` minus those of ``actions``."""
    return {action: found for action, found in effects.items() if action not in actions}
