"""The simulated legal clock. Mounted only with ``MOTCUA_SIMULATION=true``; otherwise the path is a 404."""

from fastapi import APIRouter
from pydantic import BaseModel, StrictBool

from service.deps import AdminUser, ContextDep, NowDep, SessionDep
from service.models import SimClock
from service.schemas.common import ApiModel, LocalDateTime, Problem, RequestDateTime

router = APIRouter(prefix="/sim", tags=["simulation"])


class ClockOut(BaseModel):
    now: LocalDateTime
    running: bool


class ClockIn(ApiModel):
    now: RequestDateTime
    running: StrictBool = False


@router.get("/clock")
def read_clock(now: NowDep, session: SessionDep) -> ClockOut:
    row = session.get(SimClock, 1)
    return ClockOut(now=now, running=bool(row and row.running))


@router.put("/clock", responses={403: {"model": Problem}})
def set_clock(data: ClockIn, context: ContextDep, session: SessionDep, _: AdminUser) -> ClockOut:
    """Set the legal clock (frozen by default; ``running: true`` lets it advance in real time from there)."""
    return ClockOut(now=context.clock.set(session, data.now, running=data.running), running=data.running)
