"""One documented path per lifecycle action: ``POST /dossiers/{code}/actions/receive``, ``…/assign`` and so on.

Each is the contract's ``POST /dossiers/{code}/actions/{action}`` with ``action`` fixed, described with its own
request schema (:mod:`service.schemas.actions`), so a generated client gets a typed body for every action. They
all run :func:`service.routers.dossiers.perform_action`; the body is still checked only after visibility, role,
state and version (the contract's order), which is why it is declared for the document rather than parsed by
FastAPI up front.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from service.deps import CurrentUser, IdempotencyKey, SessionDep
from service.domain.lifecycle import Action
from service.routers import dossiers
from service.routers.dossiers import ERRORS, IfMatch
from service.schemas.actions import ACTION_BODIES, ACTION_DOCS
from service.schemas.dossiers import DossierOut

router = APIRouter(prefix="/dossiers", tags=["dossier actions"])


def _handler(action: Action) -> Callable[..., Response]:
    def act(code: str, user: CurrentUser, session: SessionDep, request: Request,
            payload: Annotated[Any, Body()] = None, if_match: IfMatch = None,
            idempotency_key: IdempotencyKey = None) -> Response:
        return dossiers.perform_action(code, action.value, user, session, request, payload, if_match,
                                       idempotency_key)

    act.__name__ = f"{action.value}_dossier"
    return act


def _request_body(action: Action) -> dict[str, Any]:
    model = ACTION_BODIES[action]
    return {"requestBody": {"required": False, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}}


for _action in Action:
    _summary, _description = ACTION_DOCS[_action]
    router.add_api_route(
        f"/{{code}}/actions/{_action.value}", _handler(_action), methods=["POST"], response_model=DossierOut,
        responses=ERRORS, summary=_summary, operation_id=f"{_action.value}_dossier",
        description=_description + "\n\nOptional `If-Match: \"<version>\"` (412 on mismatch) and "
                                   "`Idempotency-Key` (a repeat returns the first answer). An empty body is `{}`.",
        openapi_extra=_request_body(_action),
    )
