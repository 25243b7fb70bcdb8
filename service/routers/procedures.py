from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from service.deps import AdminUser, NowDep, SessionDep
from service.operations import catalogue
from service.schemas.catalogue import ProcedureIn, ProcedureOut
from service.schemas.common import CursorParam, Page, Problem

router = APIRouter(prefix="/procedures", tags=["procedures"])


@router.post("", status_code=status.HTTP_201_CREATED,
             responses={403: {"model": Problem}, 404: {"model": Problem}, 409: {"model": Problem}})
def create_procedure(data: ProcedureIn, session: SessionDep, now: NowDep, _: AdminUser,
                     response: Response) -> ProcedureOut:
    procedure = catalogue.create_procedure(session, data, now=now)
    response.headers["Location"] = f"/api/v1/procedures/{procedure.code}"
    return catalogue.to_public(procedure)


@router.put("/{code}", responses={403: {"model": Problem}, 404: {"model": Problem}})
def publish_version(code: str, data: ProcedureIn, session: SessionDep, now: NowDep, _: AdminUser) -> ProcedureOut:
    """Publish a new version of the procedure; dossiers already created keep their version."""
    return catalogue.to_public(catalogue.publish_new_version(session, code, data, now=now))


@router.get("")
def search_procedures(
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=200, description="Words to find, with or without diacritics")] = None,
    service_level: Annotated[int | None, Query(ge=2, le=4)] = None,
    agency_code: Annotated[str | None, Query(max_length=35)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: CursorParam = None,
) -> Page[ProcedureOut]:
    rows, next_cursor = catalogue.search(session, q=q, service_level=service_level, agency_code=agency_code,
                                         limit=limit, cursor=cursor)
    return Page(items=[catalogue.to_public(p) for p in rows], next_cursor=next_cursor)


@router.get("/{code}", responses={404: {"model": Problem}})
def get_procedure(code: str, session: SessionDep) -> ProcedureOut:
    return catalogue.to_public(catalogue.current_version(session, code))
