from dataclasses import asdict
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from service.deps import NowDep
from service.domain import rulebook
from service.domain.legal_time import to_legal_time
from service.schemas.common import IsoDate, Problem
from service.schemas.rules import RuleOut, RuleSetOut

router = APIRouter(tags=["rules"])


@router.get("/rules", responses={422: {"model": Problem}}, summary="List the rule set in force on a date")
def rules_in_force(now: NowDep, on: Annotated[IsoDate | None, Query(description="YYYY-MM-DD; default today")] = None,
                   ) -> RuleSetOut:
    """The one-stop rule set in force on a date, each rule with its legal basis and how sure we are of it.

    Dossiers received before 2025-07-01 keep Decree 61/2018 (as amended by Decree 107/2021); from then on Decree
    118/2025 applies. Rules the 118/2025 text could not be checked for are the 61/2018 ones, flagged
    ``carried_over`` with confidence ``unverified``. Public, like the procedure catalogue."""
    day: date = on or to_legal_time(now).date()
    found = rulebook.rule_set_on(day)
    return RuleSetOut(on=day, code=found.code, name=found.name, valid_from=found.valid_from,
                      valid_to=found.valid_to, instruments=list(found.instruments),
                      rules=[RuleOut(**asdict(rule)) for rule in found.rules])
