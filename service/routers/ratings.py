"""``/dossiers/{code}/rating``: the applicant's satisfaction rating (Decision 766/QĐ-TTg indicator 5.4)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, status

from service.deps import CurrentUser, LockedDossier, NowDep, SessionDep, VisibleDossier
from service.operations import ratings
from service.schemas.common import Problem
from service.schemas.dossiers import RatingOut

router = APIRouter(prefix="/dossiers", tags=["dossiers"])

ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": Problem} for code in (401, 403, 404, 409, 422)}
RATING_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/RatingIn"}}}}}
"""Declared for the document (a generated client gets a typed body); parsed by the operation, after the checks the
contract puts first."""


@router.post("/{code}/rating", status_code=status.HTTP_201_CREATED, responses=ERRORS, openapi_extra=RATING_BODY)
def rate_dossier(
    dossier: LockedDossier, user: CurrentUser, session: SessionDep, now: NowDep,
    payload: Annotated[dict[str, Any] | None, Body()] = None,
) -> RatingOut:
    """The applicant citizen rates the handling of their dossier, once, after the result was returned
    (409 ``DOSSIER_NOT_RETURNED`` before, 409 ``ALREADY_RATED`` the second time). The body
    (``{"satisfied": bool, "comment"?}``) is checked last, as the contract orders."""
    return ratings.rate(session, user=user, dossier=dossier, payload=payload, now=now)


@router.get("/{code}/rating", responses=ERRORS)
def read_rating(dossier: VisibleDossier, session: SessionDep) -> RatingOut:
    """The rating of a dossier the caller may see; 404 ``RATING_NOT_FOUND`` when not rated yet."""
    return ratings.read(session, dossier=dossier)
