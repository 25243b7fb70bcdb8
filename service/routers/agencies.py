from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response, status

from service.deps import AdminUser, IdentityVerifier, NowDep, SessionDep
from service.operations import accounts
from service.schemas.common import CursorParam, Page, Problem
from service.schemas.people import AgencyIn, AgencyOut, MergeIn, UserIn, UserOut, VerifyIdentityIn

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
    cursor: CursorParam = None,
    parent_code: Annotated[str | None, Query(max_length=35)] = None,
) -> Page[AgencyOut]:
    """Agencies in code order, keyset-paginated."""
    rows, next_cursor = accounts.list_agencies(session, limit=limit, cursor=cursor, parent_code=parent_code)
    return Page(items=[AgencyOut.model_validate(a, from_attributes=True) for a in rows], next_cursor=next_cursor)


@router.get("/agencies/{code}", responses={404: {"model": Problem}})
def get_agency(code: str, session: SessionDep) -> AgencyOut:
    return AgencyOut.model_validate(accounts.get_agency(session, code), from_attributes=True)


@router.post("/agencies/{code}/merge", responses={403: {"model": Problem}, 404: {"model": Problem},
                                                  422: {"model": Problem}},
             summary="Merge an administrative unit into its successor (admin)")
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


@router.post("/users/{username}/verify-identity",
             responses={403: {"model": Problem}, 404: {"model": Problem}, 422: {"model": Problem}},
             summary="Record a citizen's verified identity (receiver or admin)")
def verify_identity(username: Annotated[str, Path(max_length=64)], user: IdentityVerifier, session: SessionDep,
                    now: NowDep, _: Annotated[VerifyIdentityIn | None, Body()] = None) -> UserOut:
    """A receiver or an admin who has checked the person's identity papers verifies their citizen account: from
    now on dossiers a desk lodges under that national id are linked to it, and so are the earlier ones."""
    return UserOut.model_validate(accounts.verify_identity(session, username, verifier=user, now=now),
                                  from_attributes=True)


@router.get("/users", responses={403: {"model": Problem}})
def list_users(
    session: SessionDep,
    _: AdminUser,
    limit: Limit = 100,
    cursor: CursorParam = None,
    agency_code: Annotated[str | None, Query(max_length=35)] = None,
    role: Annotated[str | None, Query(max_length=16)] = None,
) -> Page[UserOut]:
    """Accounts in username order, keyset-paginated."""
    rows, next_cursor = accounts.list_users(session, limit=limit, cursor=cursor, agency_code=agency_code, role=role)
    return Page(items=[UserOut.model_validate(u, from_attributes=True) for u in rows], next_cursor=next_cursor)
