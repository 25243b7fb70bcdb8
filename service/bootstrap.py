"""The composition root: what each action does besides changing the dossier, wired once at start-up.

:func:`compose_effects` is the one table of named effects (a reader looking for "what does ``approve`` do?"
finds it here), each given its dependencies explicitly: the settings for signing, the J+n levels and the source
of postal item numbers for shipments. The app (:class:`service.context.AppContext`), the simulated carrier and
the simulator each compose it once and pass it to :func:`service.dossiers.actions.act`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from sqlmodel import Session

from service.domain.lifecycle import Action
from service.domain.postal import ServiceLevels
from service.dossiers.effects import Effect
from service.operations import postal, results
from service.settings import Settings


def compose_effects(
    settings: Settings | None, *, levels: Callable[[], ServiceLevels] = postal.service_levels,
    tracking_numbers: Callable[[Session], str] = postal.new_tracking_number,
) -> dict[Action, tuple[Effect, ...]]:
    """The effects of each action. ``settings`` signs results (``None``: approving answers 503
    ``SIGNING_UNAVAILABLE``); ``levels`` gives the carrier's J+n levels in force at each dispatch;
    ``tracking_numbers`` draws a fresh S10 item number."""
    return {
        Action.APPROVE: (partial(results.sign_result, settings=settings),),
        Action.DISPATCH_POSTAL: (partial(postal.create_shipment, levels=levels, tracking_numbers=tracking_numbers),),
        Action.CONFIRM_DELIVERY: (postal.close_shipment_delivered,),
        Action.DELIVERY_FAILED: (postal.close_shipment_failed,),
    }
