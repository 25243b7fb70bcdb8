from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlmodel import select

from service.deps import AdminUser, NowDep, SessionDep
from service.models import Agency, User
from service.operations import accounts
from service.schemas.common import Page, Problem
from service.schemas.people import AgencyIn, AgencyOut, MergeIn, UserIn, UserOut

router = APIRouter(tags=["agencies"])

Limit = Annotated[int, Query(ge=1, le=200)]


@router.post("/agencies", status_code=status.HTTP_201_CREATED,
             responses={403: {"model": Problem}, 404: {"model": Problem}, 409: {"model": Problem}})
def create_agency(data: AgencyIn, session: SessionDep, now: NowDep, _: AdminUser, response: Response) -> AgencyOut:
    agency = accounts.create_agency(session, data, now=now)
    response.headers["Location"] = f"/api/v1/agencies/{agency.code}"
    return AgencyOut.model_validate(agency, from_attributes=True)


@router.get("/agencies")
def list_agencies(
    session: SessionDep,
    limit: Limit = 100,
    cursor: Annotated[str | None, Query(max_length=35)] = None,
    parent_code: Annotated[str | None, Query(max_length=35)] = None,
) -> Page[AgencyOut]:
    """Agencies in code order, keyset-paginated (``cursor`` is the last code of the previous page)."""
    query = select(Agency).order_by(Agency.code).limit(limit + 1)
    if cursor:
        query = query.where(Agency.code > cursor)
    if parent_code:
        query = query.where(Agency.parent_code == parent_code)
    rows = list(session.exec(query))
    items = [AgencyOut.model_validate(a, from_attributes=True) for a in rows[:limit]]
    return Page(items=items, next_cursor=rows[limit - 1].code if len(rows) > limit else None)


@router.get("/agencies/{code}", responses={404: {"model": Problem}})
def get_agency(code: str, session: SessionDep) -> AgencyOut:
    return AgencyOut.model_validate(accounts.get_agency(session, code), from_attributes=True)


@router.post("/agencies/{code}/merge", responses={403: {"model": Problem}, 404: {"model": Problem},
                                                  422: {"model": Problem}})
def merge_agency(code: str, data: MergeIn, session: SessionDep, _: AdminUser) -> AgencyOut:
    """Record that the unit ceased after ``valid_to`` and was merged into ``succeeded_by`` (e.g. the 2025
    rearrangement of communes). Its dossiers keep its code; statistics after the merger roll it into the
    successor."""
    agency = accounts.merge_agency(session, code, succeeded_by=data.succeeded_by, valid_to=data.valid_to)
    return AgencyOut.model_validate(agency, from_attributes=True)


@router.post("/users", status_code=status.HTTP_201_CREATED,
             responses={403: {"model": Problem}, 404: {"model": Problem}, 409: {"model": Problem}})
def create_user(data: UserIn, session: SessionDep, now: NowDep, _: AdminUser) -> UserOut:
    return UserOut.model_validate(accounts.create_user(session, data, now=now), from_attributes=True)


@router.get("/users", responses={403: {"model": Problem}})
def list_users(
    session: SessionDep,
    _: AdminUser,
    limit: Limit = 100,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    agency_code: Annotated[str | None, Query(max_length=35)] = None,
    role: Annotated[str | None, Query(max_length=16)] = None,
) -> Page[UserOut]:
    query = select(User).order_by(User.username).limit(limit + 1)
    if cursor:
        query = query.where(User.username > cursor)
    if agency_code:
        query = query.where(User.agency_code == agency_code)
    if role:
        query = query.where(User.role == role)
    rows = list(session.exec(query))
    items = [UserOut.model_validate(u, from_attributes=True) for u in rows[:limit]]
    return Page(items=items, next_cursor=rows[limit - 1].username if len(rows) > limit else None)
