from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from service.deps import ContextDep
from service.errors import ServiceUnavailable

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]


@router.get("/health", response_model=Health, responses={503: {"description": "Database unreachable"}})
def health(context: ContextDep) -> Health:
    try:
        context.db.ping()
    except Exception as exc:
        raise ServiceUnavailable("Cơ sở dữ liệu không phản hồi.", code="DATABASE_UNAVAILABLE") from exc
    return Health(status="ok")
