from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from service.domain.rulebook import Confidence


class RuleOut(BaseModel):
    key: str
    title: str
    summary: str
    legal_basis: str
    confidence: Confidence
    carried_over: bool = Field(description="Kept from Decree 61/2018 because the newer text was not verified")
    parameters: dict[str, Any]


class RuleSetOut(BaseModel):
    on: date
    code: str = Field(description="The rule set's code, as in a dossier's rule_set")
    name: str
    valid_from: date
    valid_to: date | None
    instruments: list[str]
    rules: list[RuleOut]
