from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from service.deps import ContextDep
from service.errors import ServiceUnavailable

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]


@router.get("/health", response_model=Health, responses={503: {"description": "Database unreachable"}})
def health(context: ContextDep) -> Health:
    try:
        with context.db.transaction(read_only=True) as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:
        raise ServiceUnavailable("Cơ sở dữ liệu không phản hồi.", code="DATABASE_UNAVAILABLE") from exc
    return Health(status="ok")
