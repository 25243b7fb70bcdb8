"""Load the demo catalogue (agencies, procedures, accounts) from ``service/data/demo_catalogue.json``.

Idempotent: rows that already exist are left as they are, so ``make run`` can load it on every start.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from importlib import resources
from typing import Any

from sqlmodel import Session, select

from service.clock import LegalClock
from service.db import Database
from service.models import Agency, Procedure, User
from service.operations import catalogue, reference
from service.schemas.catalogue import ProcedureIn
from service.security.passwords import hash_password

log = logging.getLogger("motcua.demo")


def read_catalogue() -> dict[str, Any]:
    text = resources.files("service.data").joinpath("demo_catalogue.json").read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def load(session: Session, data: dict[str, Any], *, now: Any) -> dict[str, int]:
    created = {"agencies": 0, "procedures": 0, "accounts": 0}
    for agency in [data["province"], *data["agencies"]]:
        if session.get(Agency, agency["code"]) is None:
            session.add(Agency(code=agency["code"], name=agency["name"], level=agency["level"],
                               parent_code=agency.get("parent_code"), office_hours=agency.get("office_hours"),
                               valid_from=_day(agency.get("valid_from")), valid_to=_day(agency.get("valid_to")),
                               succeeded_by=agency.get("succeeded_by"), created_at=now))
            session.flush()
            reference.changed(session)
            created["agencies"] += 1
    for raw in data["procedures"]:
        if session.exec(select(Procedure.id).where(Procedure.code == raw["code"])).first() is None:
            catalogue.create_procedure(session, ProcedureIn.model_validate(raw), now=now)
            created["procedures"] += 1
    for account in data["accounts"]:
        if session.exec(select(User.id).where(User.username == account["username"])).first() is None:
            session.add(User(username=account["username"], password_hash=hash_password(account["password"]),
                             full_name=account["full_name"], role=account["role"],
                             agency_code=account.get("agency_code"), national_id=account.get("national_id"),
                             phone=account.get("phone"), identity_verified=True, created_at=now))
            created["accounts"] += 1
    session.flush()
    return created


def load_demo(database_url: str, *, simulation: bool = True) -> dict[str, int]:
    db = Database(database_url)
    try:
        with db.transaction() as session:
            return load(session, read_catalogue(), now=LegalClock(simulation=simulation).now(session))
    finally:
        db.dispose()
