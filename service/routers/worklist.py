"""The staff worklist: counts per step, the due-soon and overdue buckets, items most urgent first."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from service.deps import ContextDep, NowDep, SessionDep, require_roles
from service.domain.roles import Role
from service.dossiers import presenter
from service.models import User
from service.operations import worklist
from service.schemas.common import CursorParam, Problem
from service.schemas.dossiers import WorklistOut

router = APIRouter(tags=["worklist"])

Staff = Annotated[User, Depends(require_roles(Role.RECEIVER, Role.PROCESSOR, Role.APPROVER))]
Bucket = Literal["to_receive", "to_assign", "processing", "awaiting_supplement", "awaiting_payment", "to_return",
                 "due_soon", "overdue", "mine"]
ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": Problem} for code in (401, 403, 422)}
assert set(Bucket.__args__) == set(worklist.BUCKETS)  # type: ignore[attr-defined]


@router.get("/worklist", responses=ERRORS,
            summary="The desk's worklist: counts per bucket and the most urgent dossiers")
def get_worklist(
    user: Staff, session: SessionDep, now: NowDep, context: ContextDep,
    bucket: Annotated[Bucket | None, Query(description="Only the items of this bucket")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: CursorParam = None,
) -> WorklistOut:
    """The desk's day for the caller's agency, as of the legal clock: counts per step (``to_receive``
    submitted online, ``to_assign`` received, ``processing``, ``awaiting_supplement``, ``awaiting_payment``,
    ``to_return`` result ready), ``due_soon`` (running, more than zero and at most MOTCUA_DUE_SOON_WORKING_HOURS
    of working time left), ``overdue`` (running, past due) and ``mine`` (a processor's own dossiers). Items are
    the agency's open dossiers (or one bucket's), soonest due first, keyset-paginated."""
    hours = context.settings.due_soon_working_hours
    page = worklist.worklist(session, user=user, now=now, bucket=bucket, limit=limit, cursor=cursor,
                             due_soon_hours=hours)
    return WorklistOut(counts=page.counts, items=presenter.present(session, page.items, now=now,
                                                                   due_soon_hours=hours),
                       next_cursor=page.next_cursor)
